//! Identity bound to the bridge port: what makes an address worth trusting.
//!
//! `allow-from`, isolation and the per-port verdicts of the `inet` table are
//! keyed by container address, and on a Linux bridge an address is only a
//! claim: a neighbour with Docker's default capabilities (`CAP_NET_RAW`)
//! sends frames with any source address and MAC, and answers ARP and
//! neighbour discovery for any address, so it can pass for an allowed peer,
//! or draw to itself the traffic meant for a public container. A container
//! that takes over a removed container's address after a one-shot apply
//! would also inherit its entries.
//!
//! The fix is the one libvirt's `clean-traffic` filter and CNI's
//! `spoofchk` apply: bind each trusted address, and its MAC, to the bridge
//! port of the container that holds it (the host end of its veth), in a
//! table of family `bridge`, whose hooks see every frame a bridge carries
//! (with or without `br_netfilter`), before any IP hook:
//! - `prerouting`: a frame from a port with a bound MAC, IPv4/IPv6 source,
//!   ARP sender or neighbour-advertisement target that is not that port's is
//!   dropped; so is any frame from a port that claims a Docker gateway
//!   address (which is the host's own);
//! - `forward` and `output`: a frame *to* a bound address leaves only
//!   through its own port, so a container that reuses the address on a new
//!   port gets nothing meant for the old one until dockward binds it anew.
//!
//! The same `prerouting` drops router advertisements and redirects from
//! container ports: a container with `CAP_NET_RAW` that sends one gives
//! every neighbour on its bridge (they accept router advertisements: no
//! forwarding inside a container) a default route through itself and an
//! address of its choosing. Without `meta ibrname` a port's bridge cannot
//! be matched, so the rule takes every `veth*` bridge port except those of
//! non-Docker bridges at apply time (an LXC or podman container that is a
//! router on its own bridge keeps working; one added after the apply does
//! not until the next apply).
//!
//! Which addresses are bound: those the rules trust or open beyond the
//! fallback (a port verdict of `accept` or `allow-from`, either side of an
//! isolation allow pair), plus the gateways. Binding every container would
//! cut any container restarted after a one-shot apply off the network;
//! binding these cuts only the ones whose trust it would otherwise hand on.
//! An allowed peer whose port cannot be found is not trusted at all (its
//! pair is dropped and reported): identity that cannot be bound fails closed.
//!
//! Why not `meta ibrname` or `ct` in the bridge family: the first needs
//! `CONFIG_NFT_BRIDGE_META` and the second `nf_conntrack_bridge`, neither
//! of which every kernel has (this project's CI kernel has neither); the
//! sets here need only `CONFIG_NF_TABLES_BRIDGE`.
//!
//! This module decides what is bound ([`bind`]); `nft::bridge` writes the
//! bridge table that enforces it.

use crate::ruleset::{Port, Ruleset, Verdict};
use dockward_model::{Container, Inventory, Veth};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A MAC address as nft's text syntax holds it, or `None`.
fn mac(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split(':').collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()));
    ok.then(|| s.to_ascii_lowercase())
}

/// The addresses whose identity the rules lean on (see the module docs).
fn trusted(rs: &Ruleset) -> BTreeSet<IpAddr> {
    let open = |v: &Verdict| matches!(v, Verdict::Accept | Verdict::Allow(_));
    let mut t = BTreeSet::new();
    t.extend(
        rs.pub4
            .iter()
            .filter(|(_, v)| open(v))
            .map(|((ip, _, _), _)| IpAddr::V4(*ip)),
    );
    t.extend(
        rs.pub6
            .iter()
            .filter(|(_, v)| open(v))
            .map(|((ip, _, _), _)| IpAddr::V6(*ip)),
    );
    // A container's pair with itself (hairpin) trusts no one else.
    for (s, d) in rs.allow4.iter().filter(|(s, d)| s != d) {
        t.extend([IpAddr::V4(*s), IpAddr::V4(*d)]);
    }
    for (s, d) in rs.allow6.iter().filter(|(s, d)| s != d) {
        t.extend([IpAddr::V6(*s), IpAddr::V6(*d)]);
    }
    t
}

/// Can the rules trust an address of `c`? A cheap superset of [`trusted`]
/// for the edge, which reads the veths of these containers only: a
/// published port (a `public` or allow-list verdict) or a network that
/// `dockward.isolate` names (either side of an allow pair).
pub fn may_be_trusted(inv: &Inventory, c: &Container) -> bool {
    !c.ports.is_empty()
        || c.networks.iter().any(|a| {
            inv.network_of(a)
                .is_some_and(|n| n.labels.contains_key(crate::policy::LABEL_ISOLATE))
        })
}

/// Bind the trusted addresses of `inv` to the ports `veths` (container id →
/// the host ends of its veths, as the edge found them); drop the allow pairs
/// whose source cannot be bound. A veth counts only on the bridge of the
/// network the address belongs to, and only with the MAC Docker gave it.
pub fn bind(mut rs: Ruleset, inv: &Inventory, veths: &BTreeMap<String, Vec<Veth>>) -> Ruleset {
    let want = trusted(&rs);
    let mut bound: BTreeSet<IpAddr> = BTreeSet::new();
    for c in inv.containers.iter().filter(|c| c.is_running()) {
        for a in &c.networks {
            let v4: Option<Ipv4Addr> = a.ipv4.as_deref().and_then(|s| s.parse().ok());
            let v6: Option<Ipv6Addr> = a.ipv6.as_deref().and_then(|s| s.parse().ok());
            let (v4, v6) = (
                v4.filter(|ip| want.contains(&IpAddr::V4(*ip))),
                v6.filter(|ip| want.contains(&IpAddr::V6(*ip))),
            );
            if v4.is_none() && v6.is_none() {
                continue;
            }
            let bridge = inv.network_of(a).and_then(|n| n.bridge.as_deref());
            let found = a.mac.as_deref().and_then(mac).and_then(|m| {
                veths.get(&c.id)?.iter().find_map(|v| {
                    let same = mac(&v.mac).as_deref() == Some(m.as_str())
                        && Some(v.bridge.as_str()) == bridge
                        && !v.ifname.contains('"');
                    same.then(|| Port {
                        ifname: v.ifname.clone(),
                        mac: m.clone(),
                        ipv4: v4,
                        ipv6: v6,
                    })
                })
            });
            match found {
                Some(p) => {
                    bound.extend(v4.map(IpAddr::V4));
                    bound.extend(v6.map(IpAddr::V6));
                    rs.ports.insert(p);
                }
                None => {
                    rs.unbound.extend(v4.map(IpAddr::V4));
                    rs.unbound.extend(v6.map(IpAddr::V6));
                }
            }
        }
    }
    // An address claimed by two attachments (an inventory mid-change) is
    // bound to the port found; the other claim is not reported.
    rs.unbound.retain(|ip| !bound.contains(ip));
    rs.allow4
        .retain(|(s, d)| s == d || bound.contains(&IpAddr::V4(*s)));
    rs.allow6
        .retain(|(s, d)| s == d || bound.contains(&IpAddr::V6(*s)));
    // Through docker-proxy, the same sources: the member itself (its pair
    // with itself) and the peers whose pairs stay.
    let sources: BTreeSet<Ipv4Addr> = rs.allow4.iter().map(|(s, _)| *s).collect();
    rs.iso_allow4.retain(|(s, _, _)| sources.contains(s));
    let sources: BTreeSet<Ipv6Addr> = rs.allow6.iter().map(|(s, _)| *s).collect();
    rs.iso_allow6.retain(|(s, _, _)| sources.contains(s));
    rs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::bridge::{hex6, render, update};
    use crate::ruleset::gateways;
    use dockward_model::{Attachment, Container, ContainerState, Network, Subnet};

    fn inv() -> Inventory {
        let net = Network {
            id: "n1".into(),
            name: "app".into(),
            driver: "bridge".into(),
            bridge: Some("br-app".into()),
            subnets: vec![Subnet {
                cidr: "172.30.0.0/16".into(),
                gateway: Some("172.30.0.1".into()),
            }],
            ..Network::default()
        };
        let c = |id: &str, ip: &str, mac: &str| Container {
            id: id.into(),
            name: id.into(),
            state: ContainerState::Running,
            networks: vec![Attachment {
                network: "app".into(),
                network_id: "n1".into(),
                ipv4: Some(ip.into()),
                mac: Some(mac.into()),
                ..Attachment::default()
            }],
            ..Container::default()
        };
        Inventory {
            networks: vec![net],
            containers: vec![
                c("peer", "172.30.0.2", "02:42:AC:1E:00:02"),
                c("db", "172.30.0.3", "02:42:ac:1e:00:03"),
                c("other", "172.30.0.4", "02:42:ac:1e:00:04"),
            ],
            ..Inventory::default()
        }
    }

    fn veth(mac: &str, ifname: &str, bridge: &str) -> Veth {
        Veth {
            mac: mac.into(),
            ifname: ifname.into(),
            bridge: bridge.into(),
        }
    }

    fn rs() -> Ruleset {
        let mut rs = Ruleset::default();
        rs.allow4
            .insert(("172.30.0.2".parse().unwrap(), "172.30.0.3".parse().unwrap()));
        rs
    }

    #[test]
    fn binds_only_trusted_addresses_to_the_port_with_dockers_mac() {
        let veths = BTreeMap::from([
            (
                "peer".to_string(),
                vec![veth("02:42:ac:1e:00:02", "vethA", "br-app")],
            ),
            (
                "db".to_string(),
                vec![veth("02:42:ac:1e:00:03", "vethB", "br-app")],
            ),
            (
                "other".to_string(),
                vec![veth("02:42:ac:1e:00:04", "vethC", "br-app")],
            ),
        ]);
        let out = bind(rs(), &inv(), &veths);
        let names: Vec<&str> = out.ports.iter().map(|p| p.ifname.as_str()).collect();
        assert_eq!(names, ["vethA", "vethB"], "`other` is trusted by nothing");
        assert_eq!(out.ports.iter().next().unwrap().mac, "02:42:ac:1e:00:02");
        assert_eq!(out.allow4.len(), 1);
        assert!(out.unbound.is_empty());
    }

    #[test]
    fn an_allowed_peer_without_its_port_is_not_trusted() {
        // The peer's veth is on another bridge (a stale or forged listing),
        // and the target's MAC is not Docker's: neither binds.
        let veths = BTreeMap::from([
            (
                "peer".to_string(),
                vec![veth("02:42:ac:1e:00:02", "vethA", "br-other")],
            ),
            (
                "db".to_string(),
                vec![veth("02:42:ac:1e:00:99", "vethB", "br-app")],
            ),
        ]);
        let out = bind(rs(), &inv(), &veths);
        assert!(out.ports.is_empty());
        assert!(out.allow4.is_empty(), "the pair is dropped, not trusted");
        assert_eq!(out.unbound.len(), 2);
    }

    #[test]
    fn renders_a_bridge_table_and_element_updates() {
        let veths = BTreeMap::from([
            (
                "peer".to_string(),
                vec![veth("02:42:ac:1e:00:02", "vethA", "br-app")],
            ),
            (
                "db".to_string(),
                vec![veth("02:42:ac:1e:00:03", "vethB", "br-app")],
            ),
        ]);
        let mut old = bind(rs(), &inv(), &veths);
        old.gateways = gateways(&inv());
        let script = render(&old);
        assert!(script.contains("table bridge dockward {"));
        assert!(script.contains("\"vethA\" . 02:42:ac:1e:00:02 . 172.30.0.2"));
        assert!(script.contains("elements = { 172.30.0.1 }"));
        let mut new = old.clone();
        new.ports.retain(|p| p.ifname != "vethB");
        let mut s = String::new();
        update(&mut s, &old, &new);
        assert!(s.contains("delete element bridge dockward at4 { \"vethB\" . 172.30.0.3 }"));
        assert!(!s.contains("add element"));
    }

    #[test]
    fn the_edge_reads_veths_only_where_trust_is_possible() {
        let mut i = inv();
        let c = i.containers[0].clone();
        assert!(!may_be_trusted(&i, &c), "no port, no isolated network");
        i.networks[0]
            .labels
            .insert(crate::policy::LABEL_ISOLATE.into(), "true".into());
        assert!(may_be_trusted(&i, &c), "a member of an isolated network");
        i.networks[0].labels.clear();
        let mut published = c;
        published.ports.push(dockward_model::PublishedPort {
            host_ip: None,
            host_port: Some(8080),
            host_port_end: None,
            container_port: 80,
            protocol: dockward_model::Protocol::Tcp,
        });
        assert!(may_be_trusted(&i, &published), "a published port");
    }

    #[test]
    fn ipv6_targets_are_raw_bits_for_neighbour_advertisements() {
        assert_eq!(
            hex6(&"fd00::2".parse().unwrap()),
            "0xfd000000000000000000000000000002"
        );
    }
}
