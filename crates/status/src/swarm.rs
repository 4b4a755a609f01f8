//! A Swarm node's part of the status: the node, and on a manager every
//! service port with how Swarm publishes it.
//!
//! How Swarm exposes a service port (moby's libnetwork): in `ingress` mode
//! (the default) every node of the swarm DNATs the port in its
//! `DOCKER-INGRESS` chain to the service's virtual IP, on every address,
//! before the host firewall looks, whether or not it runs a task: the same
//! hole as a container's `-p`, cluster-wide. In `host` mode only the nodes
//! running a task publish it, on the bridge path of a container's `-p`.
//!
//! With dockward's firewall in force, an ingress port's verdict is the
//! entry for the routing mesh's sandbox address and the published port
//! (what `DOCKER-INGRESS` DNATs it to), read from this node's kernel.

use dockward_model::{Inventory, Protocol, PublishMode};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SwarmStatus {
    pub node_id: String,
    pub node_addr: String,
    /// `manager` or `worker`.
    pub role: &'static str,
    pub state: String,
    /// The nodes of the cluster; `None` on a worker, which cannot list them.
    pub nodes: Option<usize>,
    pub managers: Vec<String>,
    /// Every published service port; empty on a worker (the managers list
    /// services; a worker's host-mode tasks are among the ports above).
    pub services: Vec<ServiceRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceRow {
    pub service: String,
    pub stack: Option<String>,
    pub protocol: Protocol,
    pub target_port: u16,
    /// `None` until Swarm has chosen one.
    pub published_port: Option<u16>,
    pub mode: PublishMode,
    /// Who can reach it as Swarm leaves it, in words.
    pub reachable_from: &'static str,
    /// An ingress-mode port: dockward's verdict in force on this node
    /// (every node running `dockward firewall` with the same policy has
    /// the same), read from the kernel. `None` for host mode (its task
    /// containers' rows carry theirs) or without dockward's firewall.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firewall: Option<crate::PortFirewall>,
}

/// The Swarm part of the report, when the node is in a swarm.
pub(crate) fn status(inv: &Inventory) -> Option<SwarmStatus> {
    let s = inv.swarm.as_ref()?;
    let mut services: Vec<ServiceRow> = s
        .services
        .iter()
        .flat_map(|svc| {
            svc.ports.iter().map(|p| ServiceRow {
                service: svc.name.clone(),
                stack: svc.stack().map(str::to_string),
                protocol: p.protocol,
                target_port: p.target,
                published_port: p.published,
                mode: p.mode,
                reachable_from: match p.mode {
                    PublishMode::Ingress => {
                        "anyone who reaches any node of the swarm, on every address (routing mesh)"
                    }
                    PublishMode::Host => {
                        "anyone who reaches a node running a task, on every address"
                    }
                },
                firewall: None,
            })
        })
        .collect();
    services.sort_by(|a, b| {
        (&a.service, a.published_port, a.protocol).cmp(&(&b.service, b.published_port, b.protocol))
    });
    Some(SwarmStatus {
        node_id: s.node_id.clone(),
        node_addr: s.node_addr.clone(),
        role: if s.manager { "manager" } else { "worker" },
        state: s.state.clone(),
        nodes: s.manager.then_some(s.nodes.len()),
        managers: s.managers.clone(),
        services,
    })
}
