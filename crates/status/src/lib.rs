//! `dockward status`: what a host publishes, on which address, and from where
//! it can be reached, as Docker leaves it.
//!
//! A pure function, [`report`], from an inventory to a [`StatusReport`], and
//! one renderer per output format in [`render`]. The report is what the JSON
//! output serialises, so its field names are a public, versioned contract
//! (docs/status-json.md, schema `dockward.status/v1`).
//!
//! How Docker decides exposure (moby's bridge driver and port mapper):
//! - `-p 8080:80` binds the daemon's default address (`--ip`, or the
//!   network's `com.docker.network.bridge.host_binding_ipv4`, by default
//!   `0.0.0.0`) and, since 20.10, also `::`; the `::` side is relayed by
//!   docker-proxy to the container's IPv4 address when the network has no
//!   IPv6, so ip6tables rules for the container never see it;
//! - the DNAT happens in `nat PREROUTING`, before the filter table's INPUT
//!   chain, which is why ufw/firewalld rules never apply to published ports;
//! - before Docker 28 nothing drops packets routed straight to a container's
//!   address from a neighbour, so even a loopback-only port is reachable by
//!   anyone on the same link who adds a route (moby#45610, fixed in 28.0 by
//!   raw-table rules);
//! - traffic from the host itself never crosses FORWARD and no firewall on
//!   this host can filter it per container; host-network containers share the
//!   host's ports and are not published at all.

mod note;
pub mod render;
mod swarm;

pub use note::Note;
pub use swarm::{ServiceRow, SwarmStatus};

use dockward_firewall::{KernelState, Verdict};
use dockward_model::{Container, Inventory, Protocol, PublishedPort};
use serde::Serialize;
use std::net::IpAddr;

/// The JSON schema identifier; bump on any incompatible change.
pub const SCHEMA: &str = "dockward.status/v1";

/// The first Docker major version that drops packets routed straight to a
/// container address from outside.
pub const DIRECT_ROUTING_FIXED_IN: u32 = 28;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusReport {
    pub schema: &'static str,
    pub daemon: DaemonStatus,
    pub ports: Vec<PortRow>,
    pub networks: Vec<NetworkRow>,
    /// Containers on the host's network stack: their listening ports are the
    /// host's own and are not filtered per container.
    pub host_network_containers: Vec<String>,
    /// dockward's own firewall, as the kernel has it.
    pub firewall: FirewallStatus,
    /// The last change to dockward's rules that `firewall watch` did not
    /// make, and repaired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_tamper: Option<dockward_firewall::tamper::Tamper>,
    /// This node's Swarm, when it is in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swarm: Option<SwarmStatus>,
    /// Plain-language warnings about what Docker leaves open.
    pub notes: Vec<Note>,
}

/// Whether `dockward firewall` is in force.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FirewallStatus {
    /// dockward's table is in the kernel; rows carry their verdicts.
    Installed,
    NotInstalled,
    /// The kernel could not be asked (not root, no nft): the reason.
    Unknown(String),
}

/// The verdict in force for one binding and the packets it has seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortFirewall {
    /// `public`, `local only`, `local + from <CIDRs>`, `blocked`.
    pub verdict: dockward_model::Reach,
    /// `entry`: the port's own entry; `fallback`: no entry yet (a stopped
    /// container, or one the watcher has not seen), the table's default.
    pub by: &'static str,
    /// Packets and bytes of new and established flows from clients that
    /// reached this entry (0 for the fallback).
    pub packets: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DaemonStatus {
    pub version: String,
    pub api_version: String,
    pub userns_remap: bool,
    pub firewall_backend: Option<String>,
    /// Docker before 28 lets neighbours reach container addresses directly.
    pub direct_routing_open: bool,
    /// Default bridge's icc, if there is a default bridge.
    pub default_bridge_icc: Option<bool>,
    /// Default bind address for published ports, if set on the default bridge.
    pub default_bind_address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortRow {
    pub container: String,
    pub container_id: String,
    /// `running` (the binding is live) or `stopped` (bound when started).
    pub state: PortState,
    /// The host address, as bound or as it will be bound: `0.0.0.0`, `::`,
    /// `127.0.0.1`, … For a stopped container without an address this is the
    /// default the daemon will use.
    pub host_address: String,
    /// `None` when Docker will choose a free port at start.
    pub host_port: Option<u16>,
    /// Last port of a range binding of a stopped container.
    pub host_port_end: Option<u16>,
    pub protocol: Protocol,
    pub container_port: u16,
    pub ip_version: IpVersion,
    pub networks: Vec<String>,
    pub exposure: Exposure,
    /// Who can reach it as Docker leaves it, in words.
    pub reachable_from: String,
    /// The port is also reachable by routing straight to the container's
    /// address from a neighbour (Docker < 28).
    pub direct_routing_open: bool,
    /// dockward's verdict in force for this binding, when its firewall is.
    pub firewall: Option<PortFirewall>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PortState {
    Running,
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IpVersion {
    Ipv4,
    Ipv6,
}

/// Where a binding listens, as Docker leaves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exposure {
    /// Every IPv4 interface (`0.0.0.0`): the world, unless something outside
    /// the host filters.
    AllInterfaces,
    /// Every IPv6 interface (`::`), relayed by docker-proxy.
    AllInterfacesIpv6,
    /// Loopback only (`127.0.0.0/8`, `::1`).
    Loopback,
    /// One address of the host.
    OneAddress,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkRow {
    pub name: String,
    pub id: String,
    pub driver: String,
    pub bridge: Option<String>,
    pub subnets: Vec<String>,
    pub internal: bool,
    /// Containers on this network can reach each other's ports
    /// (`com.docker.network.bridge.enable_icc`).
    pub icc: bool,
    pub containers: Vec<String>,
}

/// Build the status report for an inventory.
pub fn report(inv: &Inventory) -> StatusReport {
    let direct_routing_open = inv
        .daemon
        .major_version()
        .map(|v| v < DIRECT_ROUTING_FIXED_IN)
        .unwrap_or(false);
    let mut ports = Vec::new();
    let mut host_network_containers = Vec::new();
    for c in &inv.containers {
        if c.host_network() {
            host_network_containers.push(c.name.clone());
            continue;
        }
        for p in &c.ports {
            ports.extend(rows_for(inv, c, p, direct_routing_open));
        }
    }
    ports.sort_by(|a, b| {
        (&a.container, a.host_port, a.protocol, a.ip_version as u8).cmp(&(
            &b.container,
            b.host_port,
            b.protocol,
            b.ip_version as u8,
        ))
    });
    let networks = inv
        .networks
        .iter()
        .filter(|n| n.driver != "host" && n.driver != "null")
        .map(|n| {
            let mut containers: Vec<String> = inv
                .containers
                .iter()
                .filter(|c| {
                    c.networks.iter().any(|a| a.is_on(n))
                        || (n.name == "bridge" && c.network_mode == "default")
                })
                .map(|c| c.name.clone())
                .collect();
            containers.sort();
            containers.dedup();
            NetworkRow {
                name: n.name.clone(),
                id: n.id.clone(),
                driver: n.driver.clone(),
                bridge: n.bridge.clone(),
                subnets: n.subnets.iter().map(|s| s.cidr.clone()).collect(),
                internal: n.internal,
                icc: n.icc,
                containers,
            }
        })
        .collect();
    let mut notes = Vec::new();
    if ports
        .iter()
        .any(|p| p.exposure == Exposure::AllInterfaces || p.exposure == Exposure::AllInterfacesIpv6)
    {
        notes.push(Note::AllInterfaces);
    }
    if ports
        .iter()
        .any(|p| p.exposure == Exposure::AllInterfacesIpv6)
    {
        notes.push(Note::Ipv6Relay);
    }
    if direct_routing_open && !inv.containers.is_empty() {
        notes.push(Note::DirectRouting {
            version: inv.daemon.version.clone(),
            fixed_in: DIRECT_ROUTING_FIXED_IN,
        });
    }
    if !host_network_containers.is_empty() {
        notes.push(Note::HostNetwork);
    }
    if !ports.is_empty() {
        notes.push(Note::LocalTraffic);
    }
    for c in &inv.containers {
        for p in dockward_firewall::policy::label_problems(&c.labels) {
            notes.push(Note::Label {
                container: c.name.clone(),
                label: p.label,
                value: p.value,
                problem: p.problem,
            });
        }
    }
    StatusReport {
        schema: SCHEMA,
        daemon: DaemonStatus {
            version: inv.daemon.version.clone(),
            api_version: inv.daemon.api_version.clone(),
            userns_remap: inv.daemon.userns_remap,
            firewall_backend: inv.daemon.firewall_backend.clone(),
            direct_routing_open,
            default_bridge_icc: inv.daemon.default_bridge.as_ref().map(|b| b.icc),
            default_bind_address: inv
                .daemon
                .default_bridge
                .as_ref()
                .and_then(|b| b.host_binding_ipv4.clone()),
        },
        ports,
        networks,
        host_network_containers,
        firewall: FirewallStatus::NotInstalled,
        last_tamper: None,
        swarm: swarm::status(inv),
        notes,
    }
}

/// Add what dockward's firewall enforces to a report: per binding and IP
/// version, the verdict in force and its packet counter. Read from the
/// kernel's table, so it shows what filters packets, not what was meant.
/// The tampering `watch` last repaired, said first among the notes: a
/// third party changing the firewall is worth knowing before anything else.
pub fn with_tamper(
    mut r: StatusReport,
    t: dockward_firewall::tamper::Tamper,
    now: u64,
) -> StatusReport {
    r.notes.insert(
        0,
        Note::Tampered {
            ago: now.saturating_sub(t.at),
            what: t.what.clone(),
            repaired_in_ms: t.repaired_in_ms,
        },
    );
    r.last_tamper = Some(t);
    r
}

pub fn with_firewall(mut r: StatusReport, inv: &Inventory, k: &KernelState) -> StatusReport {
    let applied = k.as_ruleset();
    let words = |v: &Verdict| dockward_firewall::plan::describe(v, &applied.allow_lists);
    // An entry's verdict and counter, or the fallback's verdict.
    let in_force = |entry: Option<&dockward_firewall::kernel::Entry>| match entry {
        Some(e) => PortFirewall {
            verdict: words(&e.verdict),
            by: "entry",
            packets: e.counter.packets,
            bytes: e.counter.bytes,
        },
        None => PortFirewall {
            verdict: words(&applied.fallback),
            by: "fallback",
            packets: 0,
            bytes: 0,
        },
    };
    for row in &mut r.ports {
        let c = inv.containers.iter().find(|c| c.id == row.container_id);
        let entry = match row.ip_version {
            IpVersion::Ipv6 => c
                .filter(|c| c.is_running())
                .and_then(|c| {
                    c.networks
                        .iter()
                        .find_map(|a| a.ipv6.as_deref()?.parse().ok())
                })
                .and_then(|ip| k.pub6.get(&(ip, row.protocol, row.container_port)))
                .or_else(|| row.host_port.and_then(|p| k.proxy6.get(&(row.protocol, p)))),
            IpVersion::Ipv4 => c
                .filter(|c| c.is_running())
                .and_then(|c| {
                    c.networks
                        .iter()
                        .find_map(|a| a.ipv4.as_deref()?.parse().ok())
                })
                .and_then(|ip| k.pub4.get(&(ip, row.protocol, row.container_port))),
        };
        row.firewall = Some(in_force(entry));
        // dockward's forward chain drops new flows from outside to bridges.
        row.direct_routing_open = false;
    }
    // Swarm's ingress ports: DNATed to the sandbox, with the published
    // port unchanged.
    let sbox = inv.ingress_sbox();
    if let Some(sw) = r.swarm.as_mut() {
        for row in sw
            .services
            .iter_mut()
            .filter(|s| s.mode == dockward_model::PublishMode::Ingress)
        {
            let entry = sbox
                .zip(row.published_port)
                .and_then(|(ip, port)| k.pub4.get(&(ip, row.protocol, port)));
            row.firewall = Some(in_force(entry));
        }
    }
    r.firewall = FirewallStatus::Installed;
    // What the firewall now covers is no longer a warning.
    r.notes.retain(|n| {
        !matches!(
            n,
            Note::AllInterfaces | Note::DirectRouting { .. } | Note::Ipv6Relay
        )
    });
    r.notes.insert(0, Note::FirewallInForce);
    r
}

/// The addresses a binding listens on. A live binding has its own; a stopped
/// container's binding without one gets the default its network gives
/// (`host_binding_ipv4`, else the daemon's `0.0.0.0` and `::`).
fn resolved_addresses(inv: &Inventory, c: &Container, p: &PublishedPort) -> Vec<String> {
    if let Some(ip) = &p.host_ip {
        return vec![ip.clone()];
    }
    let network_default = c
        .networks
        .iter()
        .filter_map(|a| inv.network(&a.network))
        .chain(
            (c.network_mode == "default" || c.network_mode == "bridge")
                .then(|| inv.network("bridge"))
                .flatten(),
        )
        .find_map(|n| n.host_binding_ipv4.clone());
    match network_default {
        Some(a) if a != "0.0.0.0" => vec![a],
        _ => vec!["0.0.0.0".to_string(), "::".to_string()],
    }
}

fn rows_for(
    inv: &Inventory,
    c: &Container,
    p: &PublishedPort,
    direct_routing_open: bool,
) -> Vec<PortRow> {
    let mut networks: Vec<String> = c.networks.iter().map(|a| a.network.clone()).collect();
    if networks.is_empty() && !c.network_mode.is_empty() {
        networks.push(match c.network_mode.as_str() {
            "default" => "bridge".to_string(),
            m => m.to_string(),
        });
    }
    resolved_addresses(inv, c, p)
        .into_iter()
        .map(|addr| {
            let (exposure, ip_version) = classify(&addr);
            PortRow {
                container: c.name.clone(),
                container_id: c.id.clone(),
                state: if c.is_running() {
                    PortState::Running
                } else {
                    PortState::Stopped
                },
                reachable_from: reachable_from(exposure, &addr),
                host_address: addr,
                host_port: p.host_port,
                host_port_end: p.host_port_end,
                protocol: p.protocol,
                container_port: p.container_port,
                ip_version,
                networks: networks.clone(),
                exposure,
                direct_routing_open,
                firewall: None,
            }
        })
        .collect()
}

/// Classify a host address Docker binds to.
pub fn classify(addr: &str) -> (Exposure, IpVersion) {
    let trimmed = addr.trim_start_matches('[').trim_end_matches(']');
    match trimmed.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) if v4.is_unspecified() => (Exposure::AllInterfaces, IpVersion::Ipv4),
        Ok(IpAddr::V4(v4)) if v4.is_loopback() => (Exposure::Loopback, IpVersion::Ipv4),
        Ok(IpAddr::V4(_)) => (Exposure::OneAddress, IpVersion::Ipv4),
        Ok(IpAddr::V6(v6)) if v6.is_unspecified() => (Exposure::AllInterfacesIpv6, IpVersion::Ipv6),
        Ok(IpAddr::V6(v6)) if v6.is_loopback() => (Exposure::Loopback, IpVersion::Ipv6),
        Ok(IpAddr::V6(_)) => (Exposure::OneAddress, IpVersion::Ipv6),
        // Not an address dockerd produces; fail towards the worst case.
        Err(_) => (Exposure::AllInterfaces, IpVersion::Ipv4),
    }
}

fn reachable_from(exposure: Exposure, addr: &str) -> String {
    match exposure {
        Exposure::AllInterfaces => "anywhere (IPv4, every interface)".to_string(),
        Exposure::AllInterfacesIpv6 => "anywhere over IPv6 (docker-proxy)".to_string(),
        Exposure::Loopback => "this host only".to_string(),
        Exposure::OneAddress => format!("hosts that reach {addr}"),
    }
}

#[cfg(test)]
mod tests;
