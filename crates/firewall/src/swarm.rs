//! A Swarm node's own ports: 2377/tcp (the managers' Raft and API),
//! 7946/tcp+udp (node gossip) and 4789/udp (VXLAN, the overlays' data) are
//! for the swarm's nodes only. Whoever else reaches them can try to join
//! as a node, poison the gossip, or inject packets into any overlay
//! network (VXLAN has no authentication; Docker's own docs say it must
//! never face an untrusted network).
//!
//! The nodes' addresses, as this node knows them: its own, every node's
//! (a manager lists them; a worker whose policy names the managers' proxy
//! is told by them, at once when one joins), the managers' (`/info`), and
//! the peers of every overlay network it is on. The `ingress` network is
//! on every node of a swarm, so its peers are every node, which is how a
//! worker that asks no manager knows them all, a check interval or so
//! after one joins.

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
        let on = crate::policy::SwarmRule::default();
        let off = crate::policy::SwarmRule {
            nodes_only: false,
            ..crate::policy::SwarmRule::default()
        };
        // On unless the policy opens them.
        assert!(cluster(&inv, &off).is_none());
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
    fn the_cluster_ports_close_unless_the_policy_opens_them() {
        let inv = swarm_host();
        assert!(script("", &inv).contains("cluster_peers"));
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
            (
                "[swarm]\ncluster-ports = \"open\"\njoin-from = [\"10.0.0.0/8\"]\n",
                "has no effect",
            ),
            ("[swarm]\nmanagers-proxy = 0\n", "managers-proxy = 0"),
            ("[swarm]\ncertificates = \"/x\"\n", "without managers-proxy"),
            ("[[service]]\nmatch = {}\n", "empty match"),
            (
                "[[service]]\nmatch = { compose_project = \"x\" }\n",
                "unknown field",
            ),
            (
                "[[service]]\nmatch = { name = \"x\" }\nexpose = \"wide\"\n",
                "[[service]] #1 expose",
            ),
            ("[swarm]\nports = 1\n", "unknown field"),
        ] {
            let e = parse_file("p.toml", text).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains("p.toml"), "{text}: {e}");
        }
    }

    /// A manager's view: services with ingress and host-mode ports, the
    /// routing mesh's sandbox on docker_gwbridge, a host-mode task.
    fn cluster_with_services() -> Inventory {
        use dockward_model::{
            Attachment, Container, Protocol, PublishMode, PublishedPort, Service, ServicePort,
        };
        let port = |target, published, mode| ServicePort {
            protocol: Protocol::Tcp,
            target,
            published: Some(published),
            mode,
        };
        let svc = |id: &str, name: &str, labels: &[(&str, &str)], ports| Service {
            id: id.into(),
            name: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ports,
            ..Service::default()
        };
        let mut inv = swarm_host();
        let s = inv.swarm.as_mut().unwrap();
        s.manager = true;
        s.services = vec![
            svc(
                "s1",
                "web",
                &[("dockward.expose", "public")],
                vec![port(80, 8080, PublishMode::Ingress)],
            ),
            svc(
                "s2",
                "db",
                &[],
                vec![port(5432, 5432, PublishMode::Ingress)],
            ),
            svc(
                "s3",
                "shop_api",
                &[
                    ("com.docker.stack.namespace", "shop"),
                    ("dockward.expose.90", "10.1.0.0/16"),
                ],
                vec![
                    port(90, 9090, PublishMode::Ingress),
                    port(91, 9191, PublishMode::Host),
                ],
            ),
            svc(
                "s4",
                "bad",
                &[("dockward.expose", "wide")],
                vec![port(1, 7070, PublishMode::Ingress)],
            ),
        ];
        inv.networks.push(Network {
            name: "docker_gwbridge".into(),
            driver: "bridge".into(),
            bridge: Some("docker_gwbridge".into()),
            ingress_sbox: Some("172.18.0.2".into()),
            ..Network::default()
        });
        let mut task = Container {
            id: "t1".into(),
            name: "shop_api.1.x".into(),
            state: dockward_model::ContainerState::Running,
            labels: [
                ("com.docker.swarm.service.id", "s3"),
                ("com.docker.swarm.service.name", "shop_api"),
                ("com.docker.stack.namespace", "shop"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            ports: vec![PublishedPort {
                container_port: 91,
                protocol: Protocol::Tcp,
                host_ip: Some("0.0.0.0".into()),
                host_port: Some(9191),
                host_port_end: None,
            }],
            networks: vec![Attachment {
                network: "docker_gwbridge".into(),
                ipv4: Some("172.18.0.5".into()),
                ..Attachment::default()
            }],
            ..Container::default()
        };
        task.image_labels = Some(Default::default());
        inv.containers.push(task);
        inv
    }

    #[test]
    fn ingress_ports_are_keyed_by_the_sandbox_and_the_published_port() {
        use crate::Verdict;
        use dockward_model::Protocol::Tcp;
        let inv = cluster_with_services();
        let sbox: std::net::Ipv4Addr = "172.18.0.2".parse().unwrap();
        let rs = |policy: &str| {
            let file = parse_file("p.toml", policy).expect("valid");
            crate::build(&resolve(&inv, &file), &inv)
        };
        let r = rs("");
        assert_eq!(r.pub4.get(&(sbox, Tcp, 8080)), Some(&Verdict::Accept));
        assert_eq!(r.pub4.get(&(sbox, Tcp, 5432)), Some(&Verdict::LocalOnly));
        assert!(matches!(
            r.pub4.get(&(sbox, Tcp, 9090)),
            Some(Verdict::Allow(_))
        ));
        // A bad label closes its service's ports on every node.
        assert_eq!(r.pub4.get(&(sbox, Tcp, 7070)), Some(&Verdict::Drop));
        // Host mode is no ingress entry: its task is keyed by its own address.
        assert!(!r.pub4.contains_key(&(sbox, Tcp, 9191)));
        // The task takes its service's label (by target port 91: none), then
        // the [[service]] entry by stack.
        let task: std::net::Ipv4Addr = "172.18.0.5".parse().unwrap();
        assert_eq!(r.pub4.get(&(task, Tcp, 91)), Some(&Verdict::LocalOnly));
        let r = rs("[[service]]\nmatch = { stack = \"shop\" }\nexpose = \"public\"\n\n[[service]]\nmatch = { name = \"db\" }\nports = { \"5432\" = \"deny\" }\n");
        assert_eq!(r.pub4.get(&(task, Tcp, 91)), Some(&Verdict::Accept));
        assert_eq!(r.pub4.get(&(sbox, Tcp, 5432)), Some(&Verdict::Drop));
        // The service's own label beats the file for its port.
        assert!(matches!(
            r.pub4.get(&(sbox, Tcp, 9090)),
            Some(Verdict::Allow(_))
        ));
        // Rendered into the same map as container ports.
        let s = crate::nft::render(&r);
        assert!(s.contains("172.18.0.2 . tcp . 8080 : accept"), "{s}");
        // `plan` shows each ingress port as a row of its own.
        let file = parse_file("p.toml", "").unwrap();
        let resolved = resolve(&inv, &file);
        let r = crate::build(&resolved, &inv);
        let p = crate::plan::plan(&inv, &resolved, &r, None);
        let row = p
            .ports
            .iter()
            .find(|x| x.container == "service web (ingress, every node)")
            .expect("a row for web");
        assert_eq!(row.verdict, dockward_model::Reach::Public);
        assert_eq!(row.bindings, ["*:8080"]);
        assert!(row.change, "no table yet: a change");
    }

    #[test]
    fn a_forged_service_label_on_a_task_borrows_nothing() {
        use crate::Verdict;
        use dockward_model::Protocol::Tcp;
        let mut inv = cluster_with_services();
        // The image says it is a task of "web" (public): the container's
        // labels equal the image's, so the id may be the image's.
        let c = &mut inv.containers[0];
        c.labels
            .insert("com.docker.swarm.service.id".into(), "s1".into());
        c.labels.remove("com.docker.swarm.service.name");
        c.labels.remove("com.docker.stack.namespace");
        c.image_labels = Some(c.labels.clone());
        let file = parse_file("p.toml", "").unwrap();
        let r = crate::build(&resolve(&inv, &file), &inv);
        let task: std::net::Ipv4Addr = "172.18.0.5".parse().unwrap();
        assert_eq!(r.pub4.get(&(task, Tcp, 91)), Some(&Verdict::LocalOnly));
    }

    #[test]
    fn a_worker_that_knows_no_service_closes_every_ingress_port() {
        let mut inv = cluster_with_services();
        inv.swarm.as_mut().unwrap().services.clear();
        let file = parse_file("p.toml", "").unwrap();
        let r = crate::build(&resolve(&inv, &file), &inv);
        let sbox: std::net::Ipv4Addr = "172.18.0.2".parse().unwrap();
        assert!(!r.pub4.keys().any(|(ip, _, _)| *ip == sbox));
        assert_eq!(r.fallback, crate::Verdict::LocalOnly);
        // Its host-mode task still follows [[service]] entries by its name.
        let file = parse_file(
            "p.toml",
            "[[service]]\nmatch = { name = \"shop_api\" }\nexpose = \"public\"\n",
        )
        .unwrap();
        let r = crate::build(&resolve(&inv, &file), &inv);
        let task: std::net::Ipv4Addr = "172.18.0.5".parse().unwrap();
        assert_eq!(
            r.pub4.get(&(task, dockward_model::Protocol::Tcp, 91)),
            Some(&crate::Verdict::Accept)
        );
    }
}
