//! What only the host knows, added to a ruleset: the index of each Docker
//! bridge whose name nft cannot quote, the bridges that are not Docker's,
//! and the bridge port each trusted address is bound to ([`crate::bind`]).
//! Kept apart from `ruleset` so that the ruleset's data and `bind`'s
//! decisions depend on each other one way only.

use crate::ruleset::Ruleset;
use dockward_model::{HostBridge, Inventory, Veth};
use std::collections::BTreeMap;

/// The host's bridges, as the edge read them.
pub type HostBridges = Vec<HostBridge>;

/// What only the host knows, as the edge read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Host {
    pub bridges: HostBridges,
    /// Container id → the host ends of its veths.
    pub veths: BTreeMap<String, Vec<Veth>>,
}

/// Complete `rs` with what only the host knows: the index of each Docker
/// bridge whose name needs one, the bridges that are not Docker's, and the
/// bridge port each trusted address is bound to.
pub fn with_host(mut rs: Ruleset, inv: &Inventory, host: &Host) -> Ruleset {
    for b in &host.bridges {
        if rs.bridges.contains(&b.name) {
            if b.name.contains('"') {
                rs.bridge_index.insert(b.name.clone(), b.index);
            }
        } else {
            rs.foreign_bridges.insert(b.name.clone());
            rs.foreign_ports.extend(b.ports.iter().cloned());
        }
    }
    crate::bind::bind(rs, inv, &host.veths)
}
