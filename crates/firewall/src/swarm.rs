//! A Swarm node's own ports: 2377/tcp (the managers' Raft and API),
//! 7946/tcp+udp (node gossip) and 4789/udp (VXLAN, the overlays' data) are
//! for the swarm's nodes only. Whoever else reaches them can try to join
//! as a node, poison the gossip, or inject packets into any overlay
//! network (VXLAN has no authentication; Docker's own docs say it must
//! never face an untrusted network).
//!
//! The nodes' addresses, as this node knows them: its own, every node's
//! (a manager lists them), the managers' (`/info`), and the peers of every
//! overlay network it is on. The `ingress` network is on every node of a
//! swarm, so its peers are every node, which is how a worker, which may
//! not list nodes, knows them all.

use dockward_model::Inventory;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The cluster ports, as nft writes them (`proto . port`).
pub const CLUSTER_PORTS: &[(&str, u16)] =
    &[("tcp", 2377), ("tcp", 7946), ("udp", 7946), ("udp", 4789)];

/// The addresses the cluster ports answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPorts {
    pub peers4: BTreeSet<Ipv4Addr>,
    pub peers6: BTreeSet<Ipv6Addr>,
    /// `join-from` of the policy file: where new nodes join from.
    pub join_from: Vec<ipnet::IpNet>,
}

/// The host part of `10.0.0.1`, `10.0.0.1:2377` or `[fd00::1]:2377`.
fn host(addr: &str) -> Option<IpAddr> {
    let a = addr.trim();
    if let Ok(ip) = a.parse() {
        return Some(ip);
    }
    let (h, _port) = a.rsplit_once(':')?;
    h.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

/// The cluster ports' peers, when this node is an active member of a
/// swarm and the policy restricts them (`[swarm] cluster-ports = "nodes"`);
/// `None` otherwise.
pub fn cluster(inv: &Inventory, rule: &crate::policy::SwarmRule) -> Option<ClusterPorts> {
    if !rule.nodes_only {
        return None;
    }
    let s = inv.swarm.as_ref().filter(|s| s.state == "active")?;
    let addrs = std::iter::once(s.node_addr.as_str())
        .chain(s.nodes.iter().map(|n| n.addr.as_str()))
        .chain(s.nodes.iter().filter_map(|n| n.manager_addr.as_deref()))
        .chain(s.managers.iter().map(String::as_str))
        .chain(
            inv.networks
                .iter()
                .filter(|n| n.driver == "overlay")
                .flat_map(|n| n.peers.iter().map(String::as_str)),
        );
    let mut c = ClusterPorts {
        join_from: rule.join_from.clone(),
        ..ClusterPorts::default()
    };
    for ip in addrs.filter_map(host) {
        match ip {
            IpAddr::V4(v4) => {
                c.peers4.insert(v4);
            }
            IpAddr::V6(v6) => {
                c.peers6.insert(v6);
            }
        }
    }
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockward_model::{Network, Swarm, SwarmNode};

    #[test]
    fn every_way_a_node_knows_the_others() {
        let mut inv = Inventory {
            swarm: Some(Swarm {
                node_addr: "10.0.0.2".into(),
                state: "active".into(),
                managers: vec!["10.0.0.1:2377".into(), "[fd00::1]:2377".into()],
                ..Swarm::default()
            }),
            networks: vec![
                Network {
                    name: "ingress".into(),
                    driver: "overlay".into(),
                    peers: vec!["10.0.0.3".into(), "10.0.0.2".into()],
                    ..Network::default()
                },
                Network {
                    name: "bridge".into(),
                    driver: "bridge".into(),
                    peers: vec!["192.0.2.9".into()],
                    ..Network::default()
                },
            ],
            ..Inventory::default()
        };
        let on = crate::policy::SwarmRule {
            nodes_only: true,
            join_from: Vec::new(),
        };
        // Off unless the policy asks.
        assert!(cluster(&inv, &crate::policy::SwarmRule::default()).is_none());
        let c = cluster(&inv, &on).expect("active");
        let v4: Vec<String> = c.peers4.iter().map(ToString::to_string).collect();
        assert_eq!(v4, ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
        assert_eq!(c.peers6.len(), 1);
        // A manager's node list counts too.
        if let Some(s) = inv.swarm.as_mut() {
            s.nodes = vec![SwarmNode {
                addr: "10.0.0.4".into(),
                ..SwarmNode::default()
            }];
        }
        assert!(cluster(&inv, &on)
            .unwrap()
            .peers4
            .contains(&"10.0.0.4".parse().unwrap()));
        // Not in a swarm, or not active in one: nothing to close.
        inv.swarm.as_mut().unwrap().state = "pending".into();
        assert!(cluster(&inv, &on).is_none());
        inv.swarm = None;
        assert!(cluster(&inv, &on).is_none());
    }

    #[test]
    fn addresses_with_and_without_ports() {
        assert_eq!(host("10.0.0.1"), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(host("10.0.0.1:2377"), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(host("[fd00::1]:2377"), Some("fd00::1".parse().unwrap()));
        assert_eq!(host("fd00::1"), Some("fd00::1".parse().unwrap()));
        assert_eq!(host("node-a:2377"), None);
    }
}

#[cfg(test)]
mod rendered {
    use crate::policy::{parse_file, resolve};
    use dockward_model::{Inventory, Network, Swarm};

    fn swarm_host() -> Inventory {
        Inventory {
            swarm: Some(Swarm {
                node_addr: "10.0.0.2".into(),
                state: "active".into(),
                managers: vec!["10.0.0.1:2377".into()],
                ..Swarm::default()
            }),
            networks: vec![Network {
                name: "ingress".into(),
                driver: "overlay".into(),
                peers: vec!["10.0.0.1".into(), "10.0.0.2".into(), "10.0.0.9".into()],
                ..Network::default()
            }],
            ..Inventory::default()
        }
    }

    fn script(policy: &str, inv: &Inventory) -> String {
        let file = parse_file("p.toml", policy).expect("valid");
        crate::nft::render(&crate::build(&resolve(inv, &file), inv))
    }

    #[test]
    fn the_cluster_ports_close_only_when_the_policy_says_so() {
        let inv = swarm_host();
        assert!(!script("", &inv).contains("cluster_peers"));
        assert!(!script("[swarm]\ncluster-ports = \"open\"\n", &inv).contains("cluster_peers"));
        let s = script(
            "[swarm]\ncluster-ports = \"nodes\"\njoin-from = [\"10.0.0.8/30\", \"10.0.0.0/24\", \"fd00::/64\"]\n",
            &inv,
        );
        assert!(
            s.contains("meta nfproto ipv4 meta l4proto . th dport { tcp . 2377, tcp . 7946, udp . 7946, udp . 4789 } ip saddr != @cluster_peers4 counter drop"),
            "{s}"
        );
        // join-from's widest networks; the nodes they cover are not
        // repeated (an interval set refuses overlaps).
        assert!(s.contains("elements = { 10.0.0.0/24 }"), "{s}");
        assert!(s.contains("elements = { fd00::/64 }"), "{s}");
        let s = script("[swarm]\ncluster-ports = \"nodes\"\n", &inv);
        assert!(
            s.contains("elements = { 10.0.0.1,\n\t\t\t     10.0.0.2,\n\t\t\t     10.0.0.9 }"),
            "{s}"
        );
        // Outside a swarm the word changes nothing.
        assert!(!script(
            "[swarm]\ncluster-ports = \"nodes\"\n",
            &Inventory::default()
        )
        .contains("cluster_peers"));
    }

    #[test]
    fn a_node_joining_is_an_element_update() {
        let file = parse_file("p.toml", "[swarm]\ncluster-ports = \"nodes\"\n").unwrap();
        let mut inv = swarm_host();
        let old = crate::build(&resolve(&inv, &file), &inv);
        inv.networks[0].peers.push("10.0.0.10".into());
        let new = crate::build(&resolve(&inv, &file), &inv);
        let s = crate::nft::update(&old, &new).expect("same shape");
        assert_eq!(
            s.trim(),
            "add element inet dockward cluster_peers4 { 10.0.0.10 }"
        );
    }

    #[test]
    fn a_bad_swarm_table_is_an_error_naming_it() {
        for (text, says) in [
            (
                "[swarm]\ncluster-ports = \"closed\"\n",
                "cluster-ports = \"closed\"",
            ),
            (
                "[swarm]\ncluster-ports = \"nodes\"\njoin-from = [\"x\"]\n",
                "join-from",
            ),
            ("[swarm]\njoin-from = [\"10.0.0.0/8\"]\n", "has no effect"),
            ("[swarm]\nports = 1\n", "unknown field"),
        ] {
            let e = parse_file("p.toml", text).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains("p.toml"), "{text}: {e}");
        }
    }
}
