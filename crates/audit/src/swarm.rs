//! `(swarm, networks) -> findings` and `(service, networks) -> findings`.
//!
//! A manager sees the whole cluster; a worker sees only its own part, so
//! the cluster rules (auto-lock, manager count, certificates, overlays
//! carrying published services) speak only on a manager, and say what
//! they rest on in their evidence. Service specs are judged with the same
//! host-power definitions as containers and compose files
//! (`dockward_hostpower`), so a mount or capability means one thing
//! everywhere.

use crate::container::{socket_proxy, SocketProxy};
use crate::rules::swarm::{
    SERVICE_DANGEROUS_CAPABILITY, SERVICE_DOCKER_SOCKET, SERVICE_HOST_NETWORK,
    SERVICE_PORT_ALL_NODES, SERVICE_SENSITIVE_MOUNT, SWARM_AUTOLOCK, SWARM_CERT_EXPIRY,
    SWARM_CLUSTER_PORTS_EXPOSED, SWARM_MANAGER_COUNT, SWARM_MANAGER_LISTEN_ALL,
    SWARM_OVERLAY_UNENCRYPTED,
};
use crate::{Finding, Location, Suppression};
use dockward_hostpower::{classify, dangerous_capability, Mount};
use dockward_model::{Network, PublishMode, Service, Swarm};

/// The longest node certificate life CIS accepts: 90 days.
const CERT_EXPIRY_MAX_SECS: u64 = 90 * 24 * 3600;

/// The label that gives a service port its firewall policy.
const EXPOSE: &str = "dockward.expose";

/// Findings about the swarm as a whole; only a manager can tell.
pub fn audit_swarm(s: &Swarm, networks: &[Network]) -> Vec<Finding> {
    let loc = || Location::Swarm {
        node: s.node_addr.clone(),
    };
    let mut out = Vec::new();
    if !s.manager {
        return out;
    }
    if s.autolock == Some(false) {
        out.push(SWARM_AUTOLOCK.finding(
            loc(),
            "auto-lock is off: managers keep their keys unencrypted at rest",
            "docker swarm update --autolock=true   # keep the unlock key it prints offline",
        ));
    }
    let managers = s.nodes.iter().filter(|n| n.role == "manager").count();
    if s.nodes.len() >= 3 && (managers < 3 || managers % 2 == 0) {
        out.push(SWARM_MANAGER_COUNT.finding(
            loc(),
            format!(
                "{managers} manager(s) among {} nodes: {}",
                s.nodes.len(),
                if managers < 3 {
                    "losing one stops the control plane".to_string()
                } else {
                    format!(
                        "an even count tolerates no more failures than {}",
                        managers - 1
                    )
                }
            ),
            "docker node promote <worker>   # until the managers are an odd number, at least 3",
        ));
    }
    if let Some(secs) = s
        .node_cert_expiry_secs
        .filter(|x| *x > CERT_EXPIRY_MAX_SECS)
    {
        out.push(SWARM_CERT_EXPIRY.finding(
            loc(),
            format!("node certificates are valid for {} days", secs / 86_400),
            "docker swarm update --cert-expiry 2160h",
        ));
    }
    for n in networks {
        let carries: Vec<&str> = s
            .services
            .iter()
            .filter(|svc| !svc.ports.is_empty() && svc.networks.contains(&n.id))
            .map(|svc| svc.name.as_str())
            .collect();
        let encrypted = n.options.contains_key("encrypted");
        if n.driver == "overlay" && !encrypted && !carries.is_empty() {
            out.push(SWARM_OVERLAY_UNENCRYPTED.finding(
                loc(),
                format!(
                    "overlay network {} is not encrypted and carries published service(s) {}",
                    n.name,
                    carries.join(", ")
                ),
                format!(
                    "docker network create -d overlay --opt encrypted {}-encrypted   # then move the services: docker service update --network-rm {} --network-add {}-encrypted <service>",
                    n.name, n.name, n.name
                ),
            ));
        }
    }
    out
}

/// What the host shows about a Swarm node's own ports, beside the API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodePorts {
    /// dockerd listens on 2377/tcp on every address; `None`: its sockets
    /// could not be read.
    pub manager_listens_all: Option<bool>,
    /// dockward firewall's table closes the cluster ports to all but the
    /// nodes; `None`: the table could not be read.
    pub cluster_closed: Option<bool>,
}

/// Findings about this node's own cluster ports: on every node, workers
/// included (7946 and 4789 are open on each). Only what was read speaks.
pub fn audit_node_ports(s: &Swarm, ports: NodePorts) -> Vec<Finding> {
    let loc = || Location::Swarm {
        node: s.node_addr.clone(),
    };
    let mut out = Vec::new();
    if s.manager && ports.manager_listens_all == Some(true) {
        out.push(SWARM_MANAGER_LISTEN_ALL.finding(
            loc(),
            format!("dockerd listens on 0.0.0.0/[::]:2377 on this manager ({})", s.node_addr),
            format!("docker swarm leave --force && docker swarm init --listen-addr {0}:2377 --advertise-addr {0}   # on a new cluster; or close 2377 to all but the nodes: `dockward firewall apply` (its default)", s.node_addr.split(':').next().unwrap_or(&s.node_addr)),
        ));
    }
    if ports.cluster_closed == Some(false) {
        let which = if s.manager {
            "2377/tcp, 7946/tcp+udp and 4789/udp"
        } else {
            "7946/tcp+udp and 4789/udp"
        };
        out.push(SWARM_CLUSTER_PORTS_EXPOSED.finding(
            loc(),
            format!("{which} answer any source: no dockward firewall rule limits them to the swarm's nodes"),
            "`dockward firewall apply` (or `firewall watch`) on every node: it closes them to all but the swarm's nodes by default; in /etc/dockward/firewall.toml:\n[swarm]\njoin-from = [\"<where new nodes join from>\"]\nand no cluster-ports = \"open\"".to_string(),
        ));
    }
    out
}

/// Findings about one service's spec.
pub fn audit_service(svc: &Service, networks: &[Network]) -> Vec<Finding> {
    let loc = || Location::Service {
        name: svc.name.clone(),
        id: svc.id.chars().take(12).collect(),
    };
    let name = &svc.name;
    let mut out = Vec::new();
    for m in svc.mounts.iter().filter(|m| m.kind == "bind") {
        let (rule, what) = match classify(&m.source) {
            Some(Mount::Socket) => (&SERVICE_DOCKER_SOCKET, "the Docker socket"),
            Some(Mount::Sensitive) => (&SERVICE_SENSITIVE_MOUNT, "a sensitive host path"),
            None => continue,
        };
        let evidence = format!(
            "mounts {} ({what}) at {}{}",
            m.source,
            m.destination,
            if m.read_only { ", read-only" } else { "" }
        );
        let remove = format!("docker service update --mount-rm {} {name}", m.destination);
        let socket = std::ptr::eq(rule, &SERVICE_DOCKER_SOCKET);
        match socket_proxy(&svc.image).filter(|_| socket) {
            Some(SocketProxy::Dockward) => {
                let mut f = rule.finding(loc(), evidence, remove);
                f.suppressed = Some(Suppression {
                    kind: "accepted".into(),
                    reason: format!(
                        "{name} runs dockward ({}): the socket is what it guards or reads",
                        svc.image
                    ),
                });
                out.push(f);
            }
            Some(SocketProxy::Other) => out.push(rule.finding(
                loc(),
                format!("{evidence}; {} is a filtering proxy with known holes", svc.image),
                format!("docker service update --image dockward-proxy {name}   # the same environment variables: it reads tecnativa's"),
            )),
            None => out.push(rule.finding(loc(), evidence, remove)),
        }
    }
    for cap in svc.cap_add.iter().filter(|c| dangerous_capability(c)) {
        out.push(SERVICE_DANGEROUS_CAPABILITY.finding(
            loc(),
            format!("adds capability {cap}"),
            format!("docker service update --cap-drop {cap} {name}"),
        ));
    }
    let host = |id: &String| {
        networks
            .iter()
            .any(|n| (n.id == *id || n.name == *id) && n.driver == "host")
    };
    if svc.networks.iter().any(host) {
        out.push(SERVICE_HOST_NETWORK.finding(
            loc(),
            "its tasks run on the node's own network stack (network `host`)",
            format!("docker service update --network-rm host --network-add <overlay> {name}"),
        ));
    }
    for p in dockward_firewall::policy::label_problems(&svc.labels) {
        out.push(crate::rules::host::LABEL_INVALID.finding(
            loc(),
            format!("label {}={}: {}", p.label, p.value, p.problem),
            format!(
                "docker service update --label-rm {} --label-add <corrected>=<value> {name}",
                p.label
            ),
        ));
    }
    if !svc.labels.contains_key(EXPOSE) {
        for p in svc.ports.iter().filter(|p| p.mode == PublishMode::Ingress) {
            let port = p.published.map_or("(pending)".into(), |x| x.to_string());
            out.push(SERVICE_PORT_ALL_NODES.finding(
                loc(),
                format!(
                    "port {port} -> {}/{} is published in ingress mode on every node, with no {EXPOSE} label",
                    p.target,
                    p.protocol.as_str()
                ),
                format!("docker service update --label-add {EXPOSE}=local {name}   # or =public, or a CIDR list"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockward_model::{Protocol, ServicePort, SwarmNode};

    fn node(role: &str) -> SwarmNode {
        SwarmNode {
            role: role.into(),
            ..SwarmNode::default()
        }
    }

    fn manager(roles: &[&str]) -> Swarm {
        Swarm {
            node_addr: "10.0.0.1".into(),
            state: "active".into(),
            manager: true,
            nodes: roles.iter().map(|r| node(r)).collect(),
            autolock: Some(true),
            node_cert_expiry_secs: Some(CERT_EXPIRY_MAX_SECS),
            ..Swarm::default()
        }
    }

    fn ids(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.rule.as_str()).collect()
    }

    #[test]
    fn manager_count_wants_an_odd_number_of_three_or_more() {
        let count = |roles: &[&str]| ids(&audit_swarm(&manager(roles), &[])).len();
        assert_eq!(count(&["manager"]), 0, "one node: nothing to survive");
        assert_eq!(count(&["manager", "worker"]), 0, "below three nodes");
        assert_eq!(count(&["manager", "worker", "worker"]), 1);
        assert_eq!(count(&["manager", "manager", "worker", "worker"]), 1);
        assert_eq!(count(&["manager", "manager", "manager", "worker"]), 0);
        assert_eq!(count(&["manager"; 4]), 1, "even");
        assert_eq!(count(&["manager"; 5]), 0);
    }

    #[test]
    fn autolock_certificates_and_overlays_on_a_manager_only() {
        let mut s = manager(&["manager"]);
        s.autolock = Some(false);
        s.node_cert_expiry_secs = Some(CERT_EXPIRY_MAX_SECS + 1);
        s.services = vec![Service {
            name: "web".into(),
            networks: vec!["ov1".into(), "ov2".into()],
            ports: vec![ServicePort {
                protocol: Protocol::Tcp,
                target: 80,
                published: Some(8080),
                mode: PublishMode::Ingress,
            }],
            ..Service::default()
        }];
        let net = |id: &str, encrypted: bool| Network {
            id: id.into(),
            name: format!("net-{id}"),
            driver: "overlay".into(),
            options: if encrypted {
                [("encrypted".to_string(), String::new())].into()
            } else {
                Default::default()
            },
            ..Network::default()
        };
        let nets = [net("ov1", false), net("ov2", true), net("ov3", false)];
        let f = audit_swarm(&s, &nets);
        assert_eq!(
            ids(&f),
            [
                "swarm-autolock",
                "swarm-cert-expiry",
                "swarm-overlay-unencrypted"
            ]
        );
        assert!(f[2].evidence.contains("net-ov1") && f[2].evidence.contains("web"));
        // A worker cannot tell, and says nothing.
        s.manager = false;
        assert!(audit_swarm(&s, &nets).is_empty());
    }

    #[test]
    fn a_services_spec_is_judged_like_a_containers() {
        use dockward_model::Mount as M;
        let bind = |src: &str| M {
            kind: "bind".into(),
            source: src.into(),
            destination: "/x".into(),
            read_only: true,
            propagation: String::new(),
        };
        let mut svc = Service {
            id: "abcdef0123456789".into(),
            name: "agent".into(),
            mounts: vec![
                bind("/var/run/docker.sock"),
                bind("/etc"),
                bind("/srv/data"),
                M {
                    kind: "volume".into(),
                    source: "etc".into(),
                    ..M::default()
                },
            ],
            cap_add: vec!["CAP_SYS_ADMIN".into(), "NET_BIND_SERVICE".into()],
            networks: vec!["hostid".into()],
            ports: vec![
                ServicePort {
                    protocol: Protocol::Tcp,
                    target: 80,
                    published: Some(8080),
                    mode: PublishMode::Ingress,
                },
                ServicePort {
                    protocol: Protocol::Udp,
                    target: 53,
                    published: Some(53),
                    mode: PublishMode::Host,
                },
            ],
            ..Service::default()
        };
        let nets = [Network {
            id: "hostid".into(),
            name: "host".into(),
            driver: "host".into(),
            ..Network::default()
        }];
        let f = audit_service(&svc, &nets);
        assert_eq!(
            ids(&f),
            [
                "service-docker-socket",
                "service-sensitive-mount",
                "service-dangerous-capability",
                "service-host-network",
                "service-port-all-nodes",
            ]
        );
        assert!(f[4].evidence.contains("8080"), "{}", f[4].evidence);
        assert!(f[0].remediation.contains("--mount-rm /x agent"));
        // dockward's own image: accepted; another proxy: replaced, not fronted.
        let mut own = svc.clone();
        own.image = "dockward-firewall:0.1.0@sha256:00".into();
        assert_eq!(
            audit_service(&own, &nets)[0]
                .suppressed
                .as_ref()
                .map(|s| s.kind.as_str()),
            Some("accepted")
        );
        own.image = "tecnativa/docker-socket-proxy:0.2".into();
        let f0 = &audit_service(&own, &nets)[0];
        assert!(f0.suppressed.is_none());
        assert!(
            f0.remediation.contains("--image dockward-proxy agent"),
            "{}",
            f0.remediation
        );
        // A policy label answers for its ingress ports.
        svc.labels.insert(EXPOSE.into(), "local".into());
        assert!(!ids(&audit_service(&svc, &nets)).contains(&"service-port-all-nodes"));
    }

    #[test]
    fn node_ports_speak_only_for_what_was_read() {
        let mut s = Swarm {
            node_addr: "10.0.0.1".into(),
            manager: true,
            ..Swarm::default()
        };
        let all = NodePorts {
            manager_listens_all: Some(true),
            cluster_closed: Some(false),
        };
        let ids = |f: Vec<Finding>| f.into_iter().map(|f| f.rule).collect::<Vec<_>>();
        assert_eq!(
            ids(audit_node_ports(&s, all)),
            ["swarm-manager-listen-all", "swarm-cluster-ports-exposed"]
        );
        assert!(
            audit_node_ports(&s, NodePorts::default()).is_empty(),
            "unread: silent"
        );
        let closed = NodePorts {
            manager_listens_all: Some(false),
            cluster_closed: Some(true),
        };
        assert!(audit_node_ports(&s, closed).is_empty());
        // A worker listens on no 2377; its 7946 and 4789 still count.
        s.manager = false;
        let f = audit_node_ports(&s, all);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].evidence.starts_with("7946/tcp+udp and 4789/udp"),
            "{}",
            f[0].evidence
        );
    }
}
