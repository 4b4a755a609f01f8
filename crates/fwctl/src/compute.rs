//! (policy, inventory, host) → ruleset: the core's resolution and build,
//! completed with what only the host knows. Every backend and `watch`
//! start here; nothing here touches the kernel.

use crate::detect::Guard;
use dockward_firewall::{build, resolve, Host, PolicyFile, Resolved, Ruleset};
use dockward_hostprobe::ports::{self, PortIndex};
use dockward_hostprobe::System;
use dockward_model::Inventory;

/// Prints the bad labels of `problems` when they differ from the last ones
/// printed: `watch` recomputes on every container event, and a bad label
/// that stays should be said once, not on every event.
fn warn_once(problems: &[String]) {
    static LAST: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    if last.as_slice() != problems {
        for p in problems {
            eprintln!("dockward firewall: warning: {p}");
        }
        *last = problems.to_vec();
    }
}

/// (policy, inventory) → ruleset, completed with what the host knows (read
/// by the caller: `watch` reads the bridges again only when a network
/// changes, and one container's veths when it changes); a bad label closes
/// its container (see `warn_once`).
pub fn compute(
    inv: &Inventory,
    file: &PolicyFile,
    guard: &Guard,
    host: &Host,
) -> (Resolved, Ruleset) {
    let resolved = resolve(inv, file);
    warn_once(&resolved.problems);
    let mut rs = build(&resolved, inv);
    rs.proxy_cgroup = guard.as_ref().ok().cloned();
    (resolved, dockward_firewall::with_host(rs, inv, host))
}

/// Read what only the host knows for `inv`: its bridges, and the bridge
/// port of each running container.
pub fn read_host(sys: &(dyn System + Sync), inv: &Inventory, index: &mut PortIndex) -> Host {
    Host {
        bridges: ports::host_bridges(sys),
        veths: read_veths(sys, inv, index),
    }
}

/// The veths of the containers whose addresses the rules may trust.
pub fn read_veths(
    sys: &(dyn System + Sync),
    inv: &Inventory,
    index: &mut PortIndex,
) -> std::collections::BTreeMap<String, Vec<dockward_model::Veth>> {
    ports::veths(sys, inv, index, |c| {
        dockward_firewall::bind::may_be_trusted(inv, c)
    })
}
