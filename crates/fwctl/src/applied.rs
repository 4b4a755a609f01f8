//! What an apply put in force, and the one line that says so.

use crate::sweep::sweep;
use dockward_firewall::{Resolved, Ruleset};
use dockward_netfilter::Netfilter;
use std::net::IpAddr;

/// What an apply put in force; the flows it refuses are not cut yet.
#[derive(Debug)]
pub struct Applied {
    pub resolved: Resolved,
    pub rs: Ruleset,
    pub iptables: bool,
}

impl Applied {
    /// Cut every flow the rules now refuse ([`sweep`]), then say what is
    /// in force in one line.
    pub fn sweep_and_summary(&self, nf: &mut impl Netfilter) -> String {
        let cut = sweep(nf, &self.rs);
        let text = summary(&self.resolved, &self.rs, cut);
        if self.iptables {
            format!("{text} (iptables backend)")
        } else {
            text
        }
    }
}

pub fn summary(resolved: &Resolved, rs: &Ruleset, cut: usize) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for p in &resolved.ports {
        *counts.entry(p.expose.describe_kind()).or_insert(0usize) += 1;
    }
    let ports = counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "applied: {} published port(s){}; {} isolated bridge(s); {} connection(s) cut",
        resolved.ports.len(),
        if ports.is_empty() {
            String::new()
        } else {
            format!(" ({ports})")
        },
        rs.isolated.len(),
        cut
    ) + &bound_note(rs)
}

/// What the bridge-port binding covers, and what it could not.
fn bound_note(rs: &Ruleset) -> String {
    let mut s = String::new();
    if !rs.ports.is_empty() {
        s.push_str(&format!(
            "; {} trusted address(es) bound to their bridge ports",
            rs.ports.len()
        ));
    }
    if !rs.unbound.is_empty() {
        let list: Vec<String> = rs.unbound.iter().map(IpAddr::to_string).collect();
        s.push_str(&format!(
            "; not bound (port not found, so not trusted as an allow-from peer): {}",
            list.join(", ")
        ));
    }
    s
}
