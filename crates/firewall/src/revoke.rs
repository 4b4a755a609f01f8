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

#[cfg(test)]
mod tests {
    use super::*;

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
