//! What `dockward firewall plan` shows: every published container port with
//! its verdict, where the verdict came from, and what is in force now.
//!
//! Pure: the CLI hands in the inventory, the resolved policy, the ruleset it
//! would apply and the kernel's current table, and renders the result.

use crate::kernel::KernelState;
use crate::policy::{Isolation, Resolved, Source, Stance};
use crate::ruleset::{Ruleset, Verdict};
use dockward_model::{Inventory, Protocol, Reach};
use ipnet::IpNet;
use serde::Serialize;
use std::net::IpAddr;

pub const SCHEMA: &str = "dockward.firewall-plan/v1";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub schema: &'static str,
    pub stance: Stance,
    /// Is dockward's table in the kernel now?
    pub table_present: bool,
    pub ports: Vec<PlanPort>,
    pub isolated: Vec<Isolation>,
    /// What no firewall on this host can filter, said plainly.
    pub unfilterable: Vec<String>,
    /// How many ports would change verdict.
    pub changes: usize,
    /// Labels that closed more than they asked for (bad values, or an
    /// image's labels that may not open anything); also printed as
    /// warnings on stderr.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanPort {
    pub container: String,
    pub running: bool,
    pub protocol: Protocol,
    pub container_port: u16,
    /// `0.0.0.0:8080`, `[::]:8080`, `127.0.0.1:5432`.
    pub bindings: Vec<String>,
    /// The verdict after apply, in words: `public`, `local only`,
    /// `local + from 192.0.2.0/24`, `blocked`.
    pub verdict: Reach,
    pub source: Source,
    /// The verdict in force now, in the same words; `None` when the port has
    /// no entry (no table, or the container is not running).
    pub now: Option<Reach>,
    pub change: bool,
}

/// What a verdict lets reach the port, with its allow list.
pub fn describe(v: &Verdict, lists: &[Vec<IpNet>]) -> Reach {
    match v {
        Verdict::Accept => Reach::Public,
        Verdict::LocalOnly => Reach::LocalOnly,
        Verdict::Drop => Reach::Blocked,
        Verdict::Allow(i) => Reach::From(
            lists
                .get(*i)
                .map(|l| l.iter().map(|n| n.to_string()).collect())
                .unwrap_or_else(|| vec!["?".into()]),
        ),
    }
}

pub fn plan(
    inv: &Inventory,
    resolved: &Resolved,
    rs: &Ruleset,
    kernel: Option<&KernelState>,
) -> Plan {
    let applied = kernel.map(KernelState::as_ruleset);
    let mut ports = Vec::new();
    for pv in &resolved.ports {
        let Some(c) = inv.containers.iter().find(|c| c.id == pv.container_id) else {
            continue;
        };
        let bindings: Vec<String> = c
            .ports
            .iter()
            .filter(|p| p.container_port == pv.container_port && p.protocol == pv.protocol)
            .map(|p| {
                let ip = match p.host_ip.as_deref() {
                    None | Some("") => "*".to_string(),
                    Some(a) if a.contains(':') => format!("[{}]", a.trim_matches(['[', ']'])),
                    Some(a) => a.to_string(),
                };
                match p.host_port {
                    Some(port) => format!("{ip}:{port}"),
                    None => format!("{ip}:random"),
                }
            })
            .collect();
        // The entry for the container's first address stands for the port.
        let key = c
            .networks
            .iter()
            .find_map(|a| a.ipv4.as_deref()?.parse::<IpAddr>().ok());
        let lookup = |r: &Ruleset| match key {
            Some(IpAddr::V4(ip)) => r.pub4.get(&(ip, pv.protocol, pv.container_port)).cloned(),
            _ => None,
        };
        let verdict = match lookup(rs) {
            Some(v) => describe(&v, &rs.allow_lists),
            // Not running (no address): the resolved verdict applies on start.
            None => pv.expose.describe(),
        };
        let now = applied
            .as_ref()
            .and_then(|a| lookup(a).map(|v| describe(&v, &a.allow_lists)));
        let change = c.is_running() && now.as_ref() != Some(&verdict);
        ports.push(PlanPort {
            container: c.name.clone(),
            running: c.is_running(),
            protocol: pv.protocol,
            container_port: pv.container_port,
            bindings,
            verdict,
            source: pv.source.clone(),
            now,
            change,
        });
    }
    // Swarm's ingress ports, one row per service port, keyed as the
    // ruleset keys them (the routing mesh's sandbox, the published port).
    let sbox = inv.ingress_sbox();
    for sv in resolved
        .services
        .iter()
        .filter(|s| s.mode == dockward_model::PublishMode::Ingress)
    {
        let lookup =
            |r: &Ruleset| sbox.and_then(|ip| r.pub4.get(&(ip, sv.protocol, sv.published)).cloned());
        let verdict = match lookup(rs) {
            Some(v) => describe(&v, &rs.allow_lists),
            // No sandbox here yet: the resolved verdict applies once there is.
            None => sv.expose.describe(),
        };
        let now = applied
            .as_ref()
            .and_then(|a| lookup(a).map(|v| describe(&v, &a.allow_lists)));
        ports.push(PlanPort {
            container: format!("service {} (ingress, every node)", sv.service),
            running: sbox.is_some(),
            protocol: sv.protocol,
            container_port: sv.target,
            bindings: vec![format!("*:{}", sv.published)],
            change: sbox.is_some() && now.as_ref() != Some(&verdict),
            verdict,
            source: sv.source.clone(),
            now,
        });
    }
    let mut unfilterable = vec![
        "traffic from this host itself (its own addresses and loopback) reaches every published port: it never crosses the forward path".to_string(),
    ];
    for c in inv.containers.iter().filter(|c| c.host_network()) {
        unfilterable.push(format!(
            "container {} uses the host network: its listening ports are host ports, outside what dockward filters; filter them with the host firewall",
            c.name
        ));
    }
    if !rs.unbound.is_empty() {
        let list: Vec<String> = rs.unbound.iter().map(IpAddr::to_string).collect();
        unfilterable.push(format!(
            "trusted address(es) {} could not be bound to their containers' bridge ports (run dockward on the host, as root, in the host's pid namespace): spoofable by a neighbour, so allow-from from them is refused",
            list.join(", ")
        ));
    }
    Plan {
        schema: SCHEMA,
        stance: resolved.stance,
        table_present: kernel.is_some(),
        changes: ports.iter().filter(|p| p.change).count(),
        ports,
        isolated: resolved.isolated.clone(),
        unfilterable,
        problems: resolved.problems.clone(),
    }
}
