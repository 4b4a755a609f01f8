//! Which established connections a change must cut.
//!
//! A verdict that allows less (public → local, a CIDR taken out of a list,
//! anything → deny) must also end the connections it no longer allows:
//! conntrack lets an established flow through on its existing entry, and
//! Docker's own FORWARD rules accept `ESTABLISHED`. Deleting the entry makes
//! the next packet a new flow (`nf_conntrack_tcp_loose`), which is DNATed
//! again and meets the new verdict. Only the connections whose source the
//! new verdict refuses are cut; local clients keep theirs.

use crate::ruleset::{Ruleset, Verdict};
use dockward_model::Protocol;
use std::net::IpAddr;
#[cfg(test)]
use std::net::Ipv4Addr;

/// A published destination whose connections must be checked against its
/// new verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The container side of DNATed flows: (container address, proto, port).
    Container(IpAddr, Protocol, u16),
    /// docker-proxy's `[::]` listener: flows to this host port over IPv6.
    Proxy6(Protocol, u16),
}

/// Destinations whose verdict narrowed from `old` to `new`, each with the
/// new verdict. A verdict is treated as narrowed when it changed to anything
/// but `accept`, or when its allow list changed; the per-connection check
/// ([`Ruleset::admits`]) then keeps whatever is still allowed.
pub fn narrowed(old: &Ruleset, new: &Ruleset) -> Vec<(Target, Verdict)> {
    let changed = |a: &Verdict, b: &Verdict| match (a, b) {
        (_, Verdict::Accept) => false,
        (Verdict::Allow(i), Verdict::Allow(j)) => {
            i != j || old.allow_lists.get(*i) != new.allow_lists.get(*j)
        }
        (a, b) => a != b,
    };
    let mut out = Vec::new();
    for ((ip, p, port), v) in &new.pub4 {
        if old
            .pub4
            .get(&(*ip, *p, *port))
            .is_some_and(|o| changed(o, v))
        {
            out.push((Target::Container(IpAddr::V4(*ip), *p, *port), v.clone()));
        }
    }
    for ((ip, p, port), v) in &new.pub6 {
        if old
            .pub6
            .get(&(*ip, *p, *port))
            .is_some_and(|o| changed(o, v))
        {
            out.push((Target::Container(IpAddr::V6(*ip), *p, *port), v.clone()));
        }
    }
    for ((p, port), v) in &new.proxy6 {
        if old.proxy6.get(&(*p, *port)).is_some_and(|o| changed(o, v)) {
            out.push((Target::Proxy6(*p, *port), v.clone()));
        }
    }
    out
}

/// One tracked flow, as conntrack shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub proto: Protocol,
    /// The original tuple: who started it, where it was sent.
    pub src: IpAddr,
    pub dst: IpAddr,
    pub dport: u16,
    /// The reply's source: the container of a DNATed flow, else `dst`.
    pub reply_src: IpAddr,
    pub reply_sport: u16,
}

/// Would the rules in `rs` refuse `flow` if it started now? The sweep after
/// every apply and re-assertion cuts exactly those, so nothing the rules
/// now refuse keeps flowing on an old conntrack entry: a port narrowed, a
/// container whose address a public one had before, a connection routed
/// straight to a container, UDP, or one opened while a third party had
/// flushed dockward's rules.
///
/// The same order as the chains: flows this host starts (`host`: its own
/// addresses, loopback included) and flows from containers never meet the
/// forward rules; a DNATed flow to a container is judged by its container
/// side (loopback destinations dropped, then the port's verdict or the
/// fallback); a flow to a container address that was not DNATed is direct
/// routing, refused from outside; what is delivered to a docker-proxy port
/// gets that port's verdict (`proxy6`, `proxy4`), and a container reaching
/// an isolated member's port through the host (`iso_proxy4`, `iso_proxy6`) is refused
/// unless allowed. Everything else is not dockward's.
///
/// Cutting a flow only deletes its conntrack entry: the next packet is
/// judged again by the rules in force, so a flow wrongly counted here (a
/// host service on a port number docker-proxy also holds, on another
/// address) goes on as a new one; a flow rightly counted meets the drop.
pub fn refused(rs: &Ruleset, host: &[IpAddr], f: &Flow) -> bool {
    let container = |a: &IpAddr| rs.local_sources.iter().any(|n| n.contains(a));
    let to_host = f.dst == f.reply_src && host.contains(&f.dst);
    // docker-proxy's IPv4 side is filtered only under the guard.
    let guarded = rs.proxy_cgroup.is_some();
    let on = |set: &std::collections::BTreeSet<(String, Protocol, u16)>| {
        set.iter()
            .any(|(_, p, port)| *p == f.proto && *port == f.dport)
    };
    if to_host && container(&f.src) {
        match f.src {
            IpAddr::V4(s) if on(&rs.iso_proxy4) => {
                return !rs.iso_allow4.contains(&(s, f.proto, f.dport));
            }
            IpAddr::V6(s) if on(&rs.iso_proxy6) => {
                return !rs.iso_allow6.contains(&(s, f.proto, f.dport));
            }
            _ => {}
        }
    }
    if f.src.is_loopback() || host.contains(&f.src) || container(&f.src) {
        return false;
    }
    if f.dst != f.reply_src {
        if !container(&f.reply_src) {
            return false;
        }
        if f.dst.is_loopback() {
            return true;
        }
        let v = match f.reply_src {
            IpAddr::V4(a) => rs.pub4.get(&(a, f.proto, f.reply_sport)),
            IpAddr::V6(a) => rs.pub6.get(&(a, f.proto, f.reply_sport)),
        };
        return !rs.admits(v.unwrap_or(&rs.fallback), f.src);
    }
    if container(&f.dst) {
        return true;
    }
    if to_host && (f.dst.is_ipv6() || guarded) {
        let map = if f.dst.is_ipv6() {
            &rs.proxy6
        } else {
            &rs.proxy4
        };
        if let Some(v) = map.get(&(f.proto, f.dport)) {
            return !rs.admits(v, f.src);
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(src: &str, dst: &str, dport: u16, reply: &str, rport: u16) -> Flow {
        Flow {
            proto: Protocol::Tcp,
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            dport,
            reply_src: reply.parse().unwrap(),
            reply_sport: rport,
        }
    }

    #[test]
    fn the_sweep_refuses_what_a_new_flow_would_meet() {
        let mut rs = Ruleset {
            fallback: Verdict::LocalOnly,
            local_sources: vec![
                "172.17.0.0/16".parse().unwrap(),
                "fd00::/64".parse().unwrap(),
            ],
            ..Ruleset::default()
        };
        let c: Ipv4Addr = "172.17.0.2".parse().unwrap();
        rs.pub4.insert((c, Protocol::Tcp, 80), Verdict::Accept);
        rs.pub4.insert((c, Protocol::Tcp, 22), Verdict::Drop);
        rs.proxy6.insert((Protocol::Tcp, 8022), Verdict::Drop);
        let host: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap(), "2001:db8::1".parse().unwrap()];
        let out = "10.99.0.2";
        // DNATed: the container side's verdict.
        assert!(!refused(
            &rs,
            &host,
            &flow(out, "10.0.0.1", 8080, "172.17.0.2", 80)
        ));
        assert!(refused(
            &rs,
            &host,
            &flow(out, "10.0.0.1", 2222, "172.17.0.2", 22)
        ));
        // No entry (a container whose entry went): the fallback.
        assert!(refused(
            &rs,
            &host,
            &flow(out, "10.0.0.1", 9000, "172.17.0.9", 9000)
        ));
        // A neighbour's DNAT to a loopback-only port.
        assert!(refused(
            &rs,
            &host,
            &flow(out, "127.0.0.1", 8080, "172.17.0.2", 80)
        ));
        // This host and containers start flows the forward rules never see.
        assert!(!refused(
            &rs,
            &host,
            &flow("10.0.0.1", "10.0.0.1", 2222, "172.17.0.2", 22)
        ));
        assert!(!refused(
            &rs,
            &host,
            &flow("127.0.0.1", "127.0.0.1", 2222, "172.17.0.2", 22)
        ));
        assert!(!refused(
            &rs,
            &host,
            &flow("172.17.0.3", "172.17.0.2", 22, "172.17.0.2", 22)
        ));
        // Routed straight to a container: refused, v4 and v6.
        assert!(refused(
            &rs,
            &host,
            &flow(out, "172.17.0.2", 80, "172.17.0.2", 80)
        ));
        assert!(refused(
            &rs,
            &host,
            &flow("2001:db8::9", "fd00::2", 80, "fd00::2", 80)
        ));
        // Not dockward's: DNAT elsewhere, flows to other hosts.
        assert!(!refused(
            &rs,
            &host,
            &flow(out, "10.0.0.1", 53, "192.168.1.1", 53)
        ));
        assert!(!refused(
            &rs,
            &host,
            &flow(out, "192.0.2.1", 80, "192.0.2.1", 80)
        ));
        // docker-proxy's IPv6 listeners.
        assert!(refused(
            &rs,
            &host,
            &flow("2001:db8::9", "2001:db8::1", 8022, "2001:db8::1", 8022)
        ));
        assert!(!refused(
            &rs,
            &host,
            &flow("2001:db8::9", "2001:db8::1", 8023, "2001:db8::1", 8023)
        ));
        // docker-proxy's IPv4 listeners (broadcast UDP, a flow older than
        // the DNAT rule): the port's verdict, under the guard only.
        rs.proxy4.insert((Protocol::Tcp, 2222), Verdict::Drop);
        assert!(!refused(
            &rs,
            &host,
            &flow(out, "10.0.0.1", 2222, "10.0.0.1", 2222)
        ));
        rs.proxy_cgroup = Some(crate::cgroup::ProxyCgroup {
            level: 1,
            path: "docker".into(),
            daemon_ports: vec![],
        });
        assert!(refused(
            &rs,
            &host,
            &flow(out, "10.0.0.1", 2222, "10.0.0.1", 2222)
        ));
        // An isolated member's port through the gateway: the member and
        // its allowed peers only.
        rs.iso_proxy4.insert(("br-x".into(), Protocol::Tcp, 8088));
        rs.iso_allow4
            .insert(("172.17.0.5".parse().unwrap(), Protocol::Tcp, 8088));
        let via_gw = |src: &str| flow(src, "10.0.0.1", 8088, "10.0.0.1", 8088);
        assert!(refused(&rs, &host, &via_gw("172.17.0.3")));
        assert!(!refused(&rs, &host, &via_gw("172.17.0.5")));
        // With or without the guard, on both families.
        rs.proxy_cgroup = None;
        assert!(refused(&rs, &host, &via_gw("172.17.0.3")));
        assert!(!refused(&rs, &host, &via_gw("172.17.0.5")));
        rs.local_sources.push("fd00:9::/64".parse().unwrap());
        rs.iso_proxy6.insert(("br-x".into(), Protocol::Tcp, 8088));
        rs.iso_allow6
            .insert(("fd00:9::5".parse().unwrap(), Protocol::Tcp, 8088));
        let gw6 = "fd00:9::1";
        let host6: Vec<IpAddr> = vec![gw6.parse().unwrap()];
        let via_gw6 = |src: &str| flow(src, gw6, 8088, gw6, 8088);
        assert!(refused(&rs, &host6, &via_gw6("fd00:9::3")));
        assert!(!refused(&rs, &host6, &via_gw6("fd00:9::5")));
    }

    #[test]
    fn only_narrowing_changes_are_revoked() {
        let mut old = Ruleset::default();
        let ip = "172.17.0.2".parse().unwrap();
        old.pub4.insert((ip, Protocol::Tcp, 80), Verdict::Accept);
        old.pub4.insert((ip, Protocol::Tcp, 81), Verdict::LocalOnly);
        old.pub4.insert((ip, Protocol::Tcp, 82), Verdict::Allow(0));
        old.allow_lists = vec![vec![
            "10.0.0.0/8".parse().unwrap(),
            "192.0.2.0/24".parse().unwrap(),
        ]];
        let mut new = old.clone();
        new.pub4.insert((ip, Protocol::Tcp, 80), Verdict::LocalOnly);
        new.pub4.insert((ip, Protocol::Tcp, 81), Verdict::Accept);
        assert_eq!(
            narrowed(&old, &new),
            vec![(
                Target::Container(IpAddr::V4(ip), Protocol::Tcp, 80),
                Verdict::LocalOnly
            )]
        );
        new.allow_lists = vec![vec!["10.0.0.0/8".parse().unwrap()]];
        assert_eq!(narrowed(&old, &new).len(), 2);
        // The check per connection keeps what the new list still allows.
        assert!(new.admits(&Verdict::Allow(0), "10.1.2.3".parse().unwrap()));
        assert!(!new.admits(&Verdict::Allow(0), "192.0.2.9".parse().unwrap()));
        assert!(new.admits(&Verdict::LocalOnly, "127.0.0.1".parse().unwrap()));
        assert!(!new.admits(&Verdict::Drop, "127.0.0.1".parse().unwrap()));
    }
}
