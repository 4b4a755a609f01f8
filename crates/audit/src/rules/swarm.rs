//! Rules for a Swarm and its services, CIS ids from section 7 of the CIS
//! Docker Benchmark v1.6 as docker-bench-security numbers it.

use super::rule::Rule;
use crate::Severity::{Critical, High, Low, Medium};

pub(crate) const SWARM_AUTOLOCK: Rule = Rule {
    id: "swarm-autolock",
    severity: Medium,
    title: "Swarm managers do not lock their keys",
    help: "Without auto-lock a manager's Raft log and TLS keys sit unencrypted on its disk: whoever copies /var/lib/docker/swarm has the cluster's secrets and can join as a manager. Fix: `docker swarm update --autolock=true`, store the unlock key offline, and `docker swarm unlock` after each dockerd restart.",
    cis: Some("7.6"),
};

pub(crate) const SWARM_MANAGER_COUNT: Rule = Rule {
    id: "swarm-manager-count",
    severity: Medium,
    title: "Swarm manager count cannot survive a manager's loss",
    help: "Raft needs a majority of managers: with one or two managers one failure stops the cluster's control plane, and an even number tolerates no more failures than one manager fewer. Fix: run an odd number of managers, at least three on a cluster of three nodes or more (`docker node promote <node>` / `docker node demote <node>`).",
    cis: Some("7.2"),
};

pub(crate) const SWARM_OVERLAY_UNENCRYPTED: Rule = Rule {
    id: "swarm-overlay-unencrypted",
    severity: Medium,
    title: "Overlay network carries service traffic unencrypted",
    help: "Traffic between tasks on different nodes crosses the nodes' network in VXLAN, readable and forgeable by anyone on that network. Fix: create the network with `--opt encrypted` (IPsec between nodes; the kernel needs ESP), or keep the nodes on a private network only they share.",
    cis: Some("7.4"),
};

pub(crate) const SWARM_CERT_EXPIRY: Rule = Rule {
    id: "swarm-cert-expiry",
    severity: Low,
    title: "Swarm node certificates live longer than 90 days",
    help: "A stolen node certificate lets its holder act as that node until the certificate expires. Fix: `docker swarm update --cert-expiry 2160h` (90 days, the default) or shorter.",
    cis: Some("7.8"),
};

pub(crate) const SERVICE_DOCKER_SOCKET: Rule = Rule {
    id: "service-docker-socket",
    severity: Critical,
    title: "Service tasks have the Docker socket",
    help: "Every task of the service, on every node it runs on, is root on that node; on a manager it also controls the whole swarm. Fix: `docker service update --mount-rm /var/run/docker.sock <service>`, and give it a filtering proxy (`dockward proxy`) if it needs the API.",
    cis: Some("5.32"),
};

pub(crate) const SERVICE_SENSITIVE_MOUNT: Rule = Rule {
    id: "service-sensitive-mount",
    severity: High,
    title: "Service tasks mount a sensitive host path",
    help: "A bind mount of /, /etc, /proc, /sys, /dev, /boot, /root, /usr, /lib or /var/lib/docker exposes every node's secrets to the service or lets it change them. Fix: `docker service update --mount-rm <target> <service>` and mount only the path needed, read-only.",
    cis: Some("5.6"),
};

pub(crate) const SERVICE_DANGEROUS_CAPABILITY: Rule = Rule {
    id: "service-dangerous-capability",
    severity: High,
    title: "Service tasks get a capability that breaks isolation",
    help: "Capabilities such as SYS_ADMIN, SYS_MODULE, SYS_PTRACE or NET_ADMIN let a task escape or reconfigure its node. Fix: `docker service update --cap-drop <CAP> <service>` (or remove it from `cap_add:` in the stack file).",
    cis: Some("5.4"),
};

pub(crate) const SERVICE_HOST_NETWORK: Rule = Rule {
    id: "service-host-network",
    severity: High,
    title: "Service tasks use the node's network stack",
    help: "On the `host` network a task shares its node's interfaces and ports: it binds the node's addresses directly and no per-container firewall rule applies. Fix: attach the service to an overlay network and publish only the ports needed.",
    cis: Some("5.10"),
};

pub(crate) const SERVICE_PORT_ALL_NODES: Rule = Rule {
    id: "service-port-all-nodes",
    severity: High,
    title: "Service port open on every node of the swarm",
    help: "An ingress-mode port (Swarm's default) is DNATed by every node of the swarm, on every address, before ufw or firewalld look: the port is open to the world cluster-wide. Fix: label the service with its policy (`docker service update --label-add dockward.expose=local <service>`, or `deploy.labels` in the stack file), publish in host mode on the nodes that need it (`mode=host`), or keep the nodes' addresses private.",
    cis: Some("5.14"),
};

pub(crate) const SWARM_MANAGER_LISTEN_ALL: Rule = Rule {
    id: "swarm-manager-listen-all",
    severity: Medium,
    title: "Swarm manager port 2377 listens on every interface",
    help: "`docker swarm init` listens on 0.0.0.0:2377 unless told otherwise: the cluster's control plane answers on every network the manager is on, the public one included. Fix: re-create the swarm with `--listen-addr <private address>:2377 --advertise-addr <private address>`, or close 2377 to all but the nodes (`dockward firewall` does by default; `[swarm] cluster-ports = \"nodes\"`).",
    cis: Some("7.3"),
};

pub(crate) const SWARM_CLUSTER_PORTS_EXPOSED: Rule = Rule {
    id: "swarm-cluster-ports-exposed",
    severity: High,
    title: "Swarm cluster ports reachable from outside the swarm",
    help: "2377/tcp (managers), 7946/tcp+udp (gossip) and 4789/udp (VXLAN, unauthenticated: a forged packet lands inside an overlay network) answer anyone who reaches the node. Fix: run `dockward firewall` on every node (by default the cluster ports answer the swarm's own nodes only, kept current; not with `[swarm] cluster-ports = \"open\"`), with `join-from` for where new nodes join from.",
    cis: None,
};

pub(crate) static RULES: &[Rule] = &[
    SWARM_MANAGER_LISTEN_ALL,
    SWARM_CLUSTER_PORTS_EXPOSED,
    SWARM_AUTOLOCK,
    SWARM_MANAGER_COUNT,
    SWARM_OVERLAY_UNENCRYPTED,
    SWARM_CERT_EXPIRY,
    SERVICE_DOCKER_SOCKET,
    SERVICE_SENSITIVE_MOUNT,
    SERVICE_DANGEROUS_CAPABILITY,
    SERVICE_HOST_NETWORK,
    SERVICE_PORT_ALL_NODES,
];
