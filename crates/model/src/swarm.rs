//! A Swarm as one node sees it.
//!
//! Every node tells its own part (`GET /info` `.Swarm`: its id and address,
//! whether it is a manager, the managers it knows). Only a manager may list
//! the cluster (`GET /nodes`, `/services`, `/swarm`); on a worker those
//! lists stay empty, and what the worker knows of the others comes from
//! the managers in `info` and the peers of the overlay networks it runs a
//! task of ([`crate::Network::peers`]).

use crate::{Mount, Protocol};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The stack a service belongs to (`docker stack deploy` sets it).
pub const STACK_NAMESPACE: &str = "com.docker.stack.namespace";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Swarm {
    pub node_id: String,
    /// The address the other nodes reach this one at (`NodeAddr`).
    pub node_addr: String,
    /// `active`, `pending`, `locked` or `error` (an inactive node has no
    /// `Swarm` at all).
    pub state: String,
    /// This node is a manager (`ControlAvailable`).
    pub manager: bool,
    /// The managers' addresses (`host:port`) this node knows.
    pub managers: Vec<String>,
    /// Every node of the cluster; on a worker, empty.
    pub nodes: Vec<SwarmNode>,
    /// Every service of the cluster; on a worker, empty.
    pub services: Vec<Service>,
    /// Whether managers lock their keys at rest (`--autolock`); `None` on
    /// a worker, which cannot read the swarm's spec.
    pub autolock: Option<bool>,
    /// How long node certificates are valid (`--cert-expiry`), in seconds;
    /// `None` on a worker.
    pub node_cert_expiry_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SwarmNode {
    pub id: String,
    pub hostname: String,
    /// `manager` or `worker`.
    pub role: String,
    /// The node's address as the managers see it (`Status.Addr`).
    pub addr: String,
    /// `ready`, `down`, `unknown`, `disconnected`.
    pub state: String,
    /// `active`, `pause`, `drain`.
    pub availability: String,
    /// A manager's Raft address (`ManagerStatus.Addr`, `host:2377`).
    pub manager_addr: Option<String>,
    pub leader: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Service {
    pub id: String,
    pub name: String,
    /// The service's own labels (`docker service create --label`,
    /// `deploy.labels`), not its containers'.
    pub labels: BTreeMap<String, String>,
    pub image: String,
    /// `replicated`, `global`, or the job modes.
    pub mode: String,
    /// `vip` or `dnsrr`.
    pub endpoint_mode: String,
    pub ports: Vec<ServicePort>,
    /// The ids of the networks its tasks join.
    pub networks: Vec<String>,
    /// The task template's mounts (`--mount`, a stack file's `volumes:`).
    pub mounts: Vec<Mount>,
    /// Capabilities added to its tasks (`--cap-add`, Docker 20.10+).
    pub cap_add: Vec<String>,
}

impl Service {
    /// The stack it was deployed with, if any.
    pub fn stack(&self) -> Option<&str> {
        self.labels.get(STACK_NAMESPACE).map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePort {
    pub protocol: Protocol,
    /// The port inside the tasks.
    pub target: u16,
    /// The port on the nodes; `None` until Swarm has chosen one.
    pub published: Option<u16>,
    pub mode: PublishMode,
}

/// How a service port is published (`PublishMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PublishMode {
    /// The routing mesh: every node of the swarm DNATs the port to the
    /// service's tasks, wherever they run.
    Ingress,
    /// Only the nodes running a task publish it, like a container's `-p`.
    Host,
}
