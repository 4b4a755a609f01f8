//! The host edge of `audit`: the inventory from dockerd, the daemon's
//! settings from `dockward-hostprobe` (see its `daemon` module for where
//! they come from and in which order), and the firewall's verdicts,
//! turned into the plain inputs of the pure front ends in `dockward-audit`.

use dockward_audit::{DaemonSettings, Diagnostic, Exposure};
use dockward_docker::{Endpoint, Engine, EngineError, InventorySource};
use dockward_model::Inventory;
use std::collections::BTreeMap;

pub struct Host {
    pub inventory: Inventory,
    pub image_users: BTreeMap<String, String>,
    pub exposure: Exposure,
    pub daemon: DaemonSettings,
    /// Where the daemon settings were read, for the findings' location.
    pub daemon_source: String,
    /// A daemon.json that could not be parsed.
    pub diagnostics: Vec<Diagnostic>,
}

pub async fn gather(endpoint: &Endpoint, recorded: Option<Inventory>) -> Result<Host, EngineError> {
    let (inventory, image_users) = match recorded {
        Some(inv) => (inv, BTreeMap::new()),
        None => {
            let engine = Engine::connect(endpoint.clone()).await?;
            let inventory = engine.snapshot().await?;
            let mut ids: Vec<String> = inventory
                .containers
                .iter()
                .filter(|c| c.user.trim().is_empty())
                .map(|c| c.image_id.clone())
                .filter(|i| !i.is_empty())
                .collect();
            ids.sort();
            ids.dedup();
            let users = engine.images(&ids).await?;
            let users = users.into_iter().map(|(id, i)| (id, i.user)).collect();
            (inventory, users)
        }
    };
    let exposure = exposure(&inventory);
    let sys = dockward_hostprobe::Real;
    let dockerd = dockward_hostprobe::dockerd::find(&sys, &endpoint.url);
    let d = dockward_hostprobe::daemon::settings(&sys, &endpoint.url, dockerd.as_ref(), &inventory);
    let (daemon, daemon_source, diagnostics) = (d.settings, d.source, d.diagnostics);
    Ok(Host {
        inventory,
        image_users,
        exposure,
        daemon,
        daemon_source,
        diagnostics,
    })
}

/// dockward firewall's verdict per container port, when its table is in
/// the kernel. The most open verdict of a port's bindings counts.
fn exposure(inv: &Inventory) -> Exposure {
    let mut e = Exposure::new();
    let Ok(Some(k)) = dockward_fwctl::installed_state(&mut dockward_netfilter::NftCli) else {
        return e;
    };
    let report = dockward_status::with_firewall(dockward_status::report(inv), inv, &k);
    for row in report.ports {
        let Some(fw) = row.firewall else { continue };
        let key = (row.container_id.clone(), row.container_port, row.protocol);
        let keep = e
            .get(&key)
            .is_some_and(|old| old.openness() >= fw.verdict.openness());
        if !keep {
            e.insert(key, fw.verdict);
        }
    }
    e
}
