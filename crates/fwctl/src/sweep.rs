//! Cutting what the rules refuse: conntrack entries of flows that a
//! narrowed verdict (`revoke`) or the rules in force (`sweep`) no longer
//! admit. Only after the new rules are in force, so a cut flow cannot
//! re-establish through the old verdict.

use dockward_firewall::revoke::{narrowed, Target};
use dockward_firewall::Ruleset;
use dockward_netfilter::Netfilter;
use std::net::IpAddr;

/// Cut the established connections that `new` no longer admits. Failures
/// are logged, not fatal: the narrower rules are already in force.
pub fn revoke(nf: &mut impl Netfilter, old: &Ruleset, new: &Ruleset) -> usize {
    let mut cut = 0;
    for (target, verdict) in narrowed(old, new) {
        let conns = match &target {
            Target::Container(ip, proto, port) => {
                nf.connections_to(proto.as_str(), &ip.to_string(), *port)
            }
            Target::Proxy6(proto, port) => nf.connections_to_local6(proto.as_str(), *port),
        };
        let conns = match conns {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list connections to revoke");
                continue;
            }
        };
        for c in conns {
            let Ok(src) = c.src.parse::<IpAddr>() else {
                continue;
            };
            if new.admits(&verdict, src) {
                continue;
            }
            match nf.cut(&c) {
                Ok(()) => cut += 1,
                Err(e) => tracing::warn!(error = %e, "cannot cut a revoked connection"),
            }
        }
    }
    cut
}

/// Cut every tracked flow the rules in `rs` refuse (see
/// [`dockward_firewall::revoke::refused`]), after they are in force. Run
/// after every apply and re-assertion: whatever was opened before (an old
/// verdict, a reused address, direct routing, a tamper window) ends here.
pub fn sweep(nf: &mut impl Netfilter, rs: &Ruleset) -> usize {
    let host = match nf.host_addresses() {
        Ok(h) => h,
        Err(e) => {
            // Without them a flow of this host's own could be cut: better
            // to cut nothing and say so.
            tracing::warn!(error = %e, "cannot list this host's addresses; no connection cut");
            return 0;
        }
    };
    let conns = match nf.connections() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list connections to revoke");
            return 0;
        }
    };
    let mut cut = 0;
    for c in conns {
        let Some(flow) = as_flow(&c) else { continue };
        if !dockward_firewall::revoke::refused(rs, &host, &flow) {
            continue;
        }
        match nf.cut(&c) {
            Ok(()) => cut += 1,
            Err(e) => tracing::warn!(error = %e, "cannot cut a refused connection"),
        }
    }
    cut
}

fn as_flow(c: &dockward_netfilter::Conn) -> Option<dockward_firewall::revoke::Flow> {
    Some(dockward_firewall::revoke::Flow {
        proto: dockward_model::Protocol::parse(&c.proto)?,
        src: c.src.parse().ok()?,
        dst: c.dst.parse().ok()?,
        dport: c.dport,
        reply_src: c.reply_src.parse().ok()?,
        reply_sport: c.reply_sport,
    })
}
