//! The human format: an aligned table of published ports, then one of
//! networks, then notes. Colour marks exposure (red: every interface, yellow:
//! one address, green: loopback) and only when the caller says the output is
//! a terminal that wants colour; the words carry the meaning without it.
//!
//! Two layouts: the compact one (the default) fits 80 columns — the IPv4
//! and IPv6 bindings of one `-p` on one row, reach in a few words, cells
//! wrapped — and the wide one (`--wide`, or a terminal wide enough) keeps
//! every column. Scripts read `--format json`, which has everything.

use super::Render;
use crate::{Exposure, FirewallStatus, IpVersion, PortState, StatusReport};
use comfy_table::{presets, Cell, CellAlignment, Color, ContentArrangement, Table};
use dockward_model::Reach;
use std::io;

pub struct Text {
    pub colour: bool,
    /// Every column, however wide; else the compact 80-column layout.
    pub wide: bool,
}

/// The compact layout's width.
const COMPACT: u16 = 80;

impl Text {
    fn table(&self, header: &[&str]) -> Table {
        let mut t = Table::new();
        t.load_preset(presets::NOTHING)
            .set_header(header.iter().map(Cell::new));
        if self.wide {
            t.set_content_arrangement(ContentArrangement::Disabled);
        } else {
            t.set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(COMPACT);
        }
        if self.colour {
            t.enforce_styling();
        } else {
            t.force_no_tty();
        }
        t
    }

    /// The node, then (on a manager) every service port.
    fn swarm(&self, sw: &crate::SwarmStatus, out: &mut dyn io::Write) -> io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "Swarm: this node is a {} ({}, {}){}",
            sw.role,
            sw.node_addr,
            sw.state,
            match sw.nodes {
                Some(n) => format!(", {n} node(s)"),
                None => format!(", managers {}", sw.managers.join(", ")),
            }
        )?;
        if sw.services.is_empty() {
            return Ok(());
        }
        let fw = sw.services.iter().any(|p| p.firewall.is_some());
        let mut header = vec![
            "SERVICE",
            "PUBLISHED",
            "",
            "TARGET",
            "MODE",
            "REACHABLE FROM",
        ];
        if fw {
            header[5] = "AS SWARM LEAVES IT";
            header.push("FIREWALL (THIS NODE)");
        }
        let mut t = self.table(&header);
        for p in &sw.services {
            let colour = match p.mode {
                dockward_model::PublishMode::Ingress => Color::Red,
                dockward_model::PublishMode::Host => Color::Yellow,
            };
            let name = match &p.stack {
                Some(s) => format!("{} (stack {s})", p.service),
                None => p.service.clone(),
            };
            let mut row = vec![
                Cell::new(name),
                Cell::new(
                    p.published_port
                        .map_or("(pending)".into(), |x| x.to_string()),
                )
                .set_alignment(CellAlignment::Right),
                Cell::new("->"),
                Cell::new(format!("{}/{}", p.target_port, p.protocol.as_str())),
                self.coloured(
                    match p.mode {
                        dockward_model::PublishMode::Ingress => "ingress (every node)",
                        dockward_model::PublishMode::Host => "host (nodes with a task)",
                    }
                    .to_string(),
                    colour,
                ),
                Cell::new(p.reachable_from),
            ];
            if fw {
                row.push(match &p.firewall {
                    Some(f) if f.by == "fallback" => self.coloured(
                        format!("{} (no entry: the default)", f.verdict),
                        verdict_colour(&f.verdict),
                    ),
                    Some(f) => self.coloured(f.verdict.to_string(), verdict_colour(&f.verdict)),
                    None => Cell::new("(its tasks' rows)"),
                });
            }
            t.add_row(row);
        }
        writeln!(out, "{}", t.trim_fmt())
    }

    fn coloured(&self, text: String, colour: Color) -> Cell {
        let c = Cell::new(text);
        if self.colour {
            c.fg(colour)
        } else {
            c
        }
    }
}

fn exposure_words(e: Exposure) -> &'static str {
    match e {
        Exposure::AllInterfaces => "all interfaces",
        Exposure::AllInterfacesIpv6 => "all interfaces, IPv6 via docker-proxy",
        Exposure::Loopback => "loopback only",
        Exposure::OneAddress => "one address",
    }
}

fn host_side(addr: &str, v: IpVersion, port: Option<u16>, end: Option<u16>) -> String {
    let a = match v {
        IpVersion::Ipv6 => format!("[{addr}]"),
        IpVersion::Ipv4 => addr.to_string(),
    };
    match (port, end) {
        (Some(p), Some(e)) => format!("{a}:{p}-{e}"),
        (Some(p), None) => format!("{a}:{p}"),
        (None, _) => format!("{a}:(random)"),
    }
}

impl Render for Text {
    fn render(&self, r: &StatusReport, out: &mut dyn io::Write) -> io::Result<()> {
        let d = &r.daemon;
        writeln!(
            out,
            "Docker {} (API {}), user-namespace remapping {}{}",
            d.version,
            d.api_version,
            if d.userns_remap { "on" } else { "off" },
            d.firewall_backend
                .as_ref()
                .map(|b| format!(", firewall backend {b}"))
                .unwrap_or_default()
        )?;
        writeln!(out)?;
        if r.ports.is_empty() {
            writeln!(out, "No published ports.")?;
        } else if self.wide {
            self.ports_wide(r, out)?;
        } else {
            self.ports_compact(r, out)?;
        }
        writeln!(out)?;
        writeln!(out, "Networks")?;
        let mut t = self.table(&[
            "NETWORK",
            "DRIVER",
            "BRIDGE",
            "SUBNETS",
            if self.wide {
                "CONTAINERS REACH EACH OTHER"
            } else {
                "REACH EACH OTHER"
            },
            if self.wide { "CONTAINERS" } else { "N" },
        ]);
        for n in &r.networks {
            let icc = if n.icc {
                self.coloured("yes (icc on)".into(), Color::Yellow)
            } else {
                self.coloured("no (icc off)".into(), Color::Green)
            };
            let icc = if n.internal {
                let word = if n.icc {
                    "yes (icc on, internal)"
                } else {
                    "no (icc off, internal)"
                };
                self.coloured(
                    word.into(),
                    if n.icc { Color::Yellow } else { Color::Green },
                )
            } else {
                icc
            };
            t.add_row(vec![
                Cell::new(&n.name),
                Cell::new(&n.driver),
                Cell::new(n.bridge.as_deref().unwrap_or("-")),
                Cell::new(if n.subnets.is_empty() {
                    "-".to_string()
                } else {
                    n.subnets.join(",")
                }),
                icc,
                Cell::new(n.containers.len().to_string()),
            ]);
        }
        writeln!(out, "{}", t.trim_fmt())?;
        if !r.host_network_containers.is_empty() {
            writeln!(out)?;
            let line = format!(
                "Host-network containers (not filterable per container): {}",
                r.host_network_containers.join(", ")
            );
            if self.wide {
                writeln!(out, "{line}")?;
            } else {
                writeln!(out, "{}", wrap(&line, "", "  ", usize::from(COMPACT)))?;
            }
        }
        if let Some(sw) = &r.swarm {
            self.swarm(sw, out)?;
        }
        if !r.notes.is_empty() {
            writeln!(out)?;
            writeln!(out, "Notes")?;
            for n in &r.notes {
                if self.wide {
                    writeln!(out, "  - {n}")?;
                } else {
                    writeln!(
                        out,
                        "{}",
                        wrap(&n.to_string(), "  - ", "    ", usize::from(COMPACT))
                    )?;
                }
            }
        }
        if !self.wide && !r.ports.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "(compact view: --wide shows every column; --format json has everything)"
            )?;
        }
        Ok(())
    }
}

/// `text` wrapped at `width` on spaces, the first line after `first`, the
/// others after `rest`. A word longer than a line stays whole.
fn wrap(text: &str, first: &str, rest: &str, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    lines.push(line);
    lines.join("\n")
}

/// One compact row: the bindings of one container port that differ only
/// by address family.
struct Compact<'a> {
    first: &'a crate::PortRow,
    v4_all: bool,
    v6_all: bool,
    /// The most open firewall verdict of the rows.
    verdict: Option<&'a crate::PortFirewall>,
}

fn compact_rows(r: &StatusReport) -> Vec<Compact<'_>> {
    let mut out: Vec<Compact<'_>> = Vec::new();
    for p in &r.ports {
        let key = |q: &crate::PortRow| {
            (
                q.container_id.clone(),
                q.state,
                q.host_port,
                q.host_port_end,
                q.container_port,
                q.protocol,
            )
        };
        let all = matches!(
            p.exposure,
            Exposure::AllInterfaces | Exposure::AllInterfacesIpv6
        );
        let v6 = p.ip_version == IpVersion::Ipv6;
        let mergeable = |c: &Compact<'_>| {
            key(c.first) == key(p)
                && all
                && (c.v4_all || c.v6_all)
                && p.host_port.is_some()
                && ((v6 && !c.v6_all) || (!v6 && !c.v4_all))
        };
        if let Some(c) = out.iter_mut().rev().take(2).find(|c| mergeable(c)) {
            if v6 {
                c.v6_all = true;
            } else {
                c.v4_all = true;
            }
            if let Some(f) = &p.firewall {
                if c.verdict
                    .is_none_or(|g| f.verdict.openness() > g.verdict.openness())
                {
                    c.verdict = Some(f);
                }
            }
            continue;
        }
        out.push(Compact {
            first: p,
            v4_all: all && !v6,
            v6_all: all && v6,
            verdict: p.firewall.as_ref(),
        });
    }
    out
}

impl Text {
    fn ports_compact(&self, r: &StatusReport, out: &mut dyn io::Write) -> io::Result<()> {
        writeln!(out, "Published ports")?;
        let fw = r.firewall == FirewallStatus::Installed;
        let last = if fw { "FIREWALL" } else { "REACHABLE FROM" };
        let mut t = self.table(&["CONTAINER", "HOST", "PORT", last]);
        for c in compact_rows(r) {
            let p = c.first;
            let name = match p.state {
                PortState::Running => p.container.clone(),
                PortState::Stopped => format!("{} (stopped)", p.container),
            };
            let host = if c.v4_all && c.v6_all {
                host_side("*", IpVersion::Ipv4, p.host_port, p.host_port_end)
            } else {
                host_side(&p.host_address, p.ip_version, p.host_port, p.host_port_end)
            };
            let (reach, colour) = match (&c.verdict, fw) {
                (Some(f), true) => (
                    if f.by == "fallback" {
                        format!("{} (until its entry is in)", f.verdict)
                    } else {
                        f.verdict.to_string()
                    },
                    verdict_colour(&f.verdict),
                ),
                _ => {
                    let words = match p.exposure {
                        _ if c.v4_all && c.v6_all => "anywhere (IPv4 and IPv6)".to_string(),
                        Exposure::AllInterfaces => "anywhere (IPv4)".to_string(),
                        Exposure::AllInterfacesIpv6 => "anywhere (IPv6, docker-proxy)".to_string(),
                        Exposure::Loopback if p.direct_routing_open => {
                            "this host (+ direct routing, Docker < 28)".to_string()
                        }
                        Exposure::Loopback => "this host only".to_string(),
                        Exposure::OneAddress => p.reachable_from.clone(),
                    };
                    (words, exposure_colour(p.exposure))
                }
            };
            t.add_row(vec![
                Cell::new(name),
                Cell::new(host).set_alignment(CellAlignment::Right),
                Cell::new(format!("{}/{}", p.container_port, p.protocol)),
                self.coloured(reach, colour),
            ]);
        }
        writeln!(out, "{}", t.trim_fmt())
    }

    fn ports_wide(&self, r: &StatusReport, out: &mut dyn io::Write) -> io::Result<()> {
        writeln!(out, "Published ports")?;
        let fw = r.firewall == FirewallStatus::Installed;
        let mut header = vec![
            "CONTAINER",
            "STATE",
            "HOST",
            "",
            "CONTAINER PORT",
            "NETWORKS",
            "EXPOSURE",
            "REACHABLE FROM",
        ];
        if fw {
            header[7] = "AS DOCKER LEAVES IT";
            header.push("FIREWALL");
            header.push("PACKETS");
        }
        let mut t = self.table(&header);
        for p in &r.ports {
            let colour = exposure_colour(p.exposure);
            let state = match p.state {
                PortState::Running => "running",
                PortState::Stopped => "stopped (when started)",
            };
            let mut reach = p.reachable_from.clone();
            if p.direct_routing_open && p.exposure == Exposure::Loopback {
                reach.push_str(" (+ direct routing, Docker < 28)");
            }
            let mut row = vec![
                Cell::new(&p.container),
                Cell::new(state),
                Cell::new(host_side(
                    &p.host_address,
                    p.ip_version,
                    p.host_port,
                    p.host_port_end,
                ))
                .set_alignment(CellAlignment::Right),
                Cell::new("→"),
                Cell::new(format!("{}/{}", p.container_port, p.protocol)),
                Cell::new(p.networks.join(",")),
                self.coloured(exposure_words(p.exposure).to_string(), colour),
                Cell::new(reach),
            ];
            if let Some(f) = p.firewall.as_ref().filter(|_| fw) {
                let colour = verdict_colour(&f.verdict);
                let words = if f.by == "fallback" {
                    format!("{} (until its entry is in)", f.verdict)
                } else {
                    f.verdict.to_string()
                };
                row.push(self.coloured(words, colour));
                row.push(Cell::new(f.packets.to_string()).set_alignment(CellAlignment::Right));
            }
            t.add_row(row);
        }
        writeln!(out, "{}", t.trim_fmt())?;
        Ok(())
    }
}

fn exposure_colour(e: Exposure) -> Color {
    match e {
        Exposure::AllInterfaces | Exposure::AllInterfacesIpv6 => Color::Red,
        Exposure::OneAddress => Color::Yellow,
        Exposure::Loopback => Color::Green,
    }
}

fn verdict_colour(v: &Reach) -> Color {
    match v {
        Reach::Public => Color::Red,
        Reach::From(_) => Color::Yellow,
        Reach::LocalOnly | Reach::Blocked => Color::Green,
    }
}
