//! The human format: an aligned table of published ports, then one of
//! networks, then notes. Colour marks exposure (red: every interface, yellow:
//! one address, green: loopback) and only when the caller says the output is
//! a terminal that wants colour; the words carry the meaning without it.

use super::Render;
use crate::{Exposure, FirewallStatus, IpVersion, PortState, StatusReport};
use comfy_table::{presets, Cell, CellAlignment, Color, ContentArrangement, Table};
use dockward_model::Reach;
use std::io;

pub struct Text {
    pub colour: bool,
}

impl Text {
    fn table(&self, header: &[&str]) -> Table {
        let mut t = Table::new();
        t.load_preset(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(header.iter().map(Cell::new));
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
        let mut t = self.table(&[
            "SERVICE",
            "PUBLISHED",
            "",
            "TARGET",
            "MODE",
            "REACHABLE FROM",
        ]);
        for p in &sw.services {
            let colour = match p.mode {
                dockward_model::PublishMode::Ingress => Color::Red,
                dockward_model::PublishMode::Host => Color::Yellow,
            };
            let name = match &p.stack {
                Some(s) => format!("{} (stack {s})", p.service),
                None => p.service.clone(),
            };
            t.add_row(vec![
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
            ]);
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
        } else {
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
                let colour = match p.exposure {
                    Exposure::AllInterfaces | Exposure::AllInterfacesIpv6 => Color::Red,
                    Exposure::OneAddress => Color::Yellow,
                    Exposure::Loopback => Color::Green,
                };
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
                    let colour = match f.verdict {
                        Reach::Public => Color::Red,
                        Reach::From(_) => Color::Yellow,
                        Reach::LocalOnly | Reach::Blocked => Color::Green,
                    };
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
        }
        writeln!(out)?;
        writeln!(out, "Networks")?;
        let mut t = self.table(&[
            "NETWORK",
            "DRIVER",
            "BRIDGE",
            "SUBNETS",
            "CONTAINERS REACH EACH OTHER",
            "CONTAINERS",
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
            writeln!(
                out,
                "Host-network containers (not filterable per container): {}",
                r.host_network_containers.join(", ")
            )?;
        }
        if let Some(sw) = &r.swarm {
            self.swarm(sw, out)?;
        }
        if !r.notes.is_empty() {
            writeln!(out)?;
            writeln!(out, "Notes")?;
            for n in &r.notes {
                writeln!(out, "  - {n}")?;
            }
        }
        Ok(())
    }
}
