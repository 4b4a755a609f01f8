//! What `firewall` starts from: the policy file and the inventory.

use crate::FwError;
use dockward_docker::{Endpoint, Engine, InventorySource, Managers, Scope};
use dockward_firewall::{parse_file, PolicyFile};
use dockward_model::Inventory;
use std::path::{Path, PathBuf};

/// Where `--policy` defaults to, when that file exists.
pub const DEFAULT_POLICY: &str = "/etc/dockward/firewall.toml";

/// The policy file to use: the flag's, else the default path when it
/// exists; with whether it was asked for.
pub fn policy_path(flag: Option<&Path>) -> Option<(PathBuf, bool)> {
    match flag {
        Some(p) => Some((p.to_path_buf(), true)),
        None => {
            let p = PathBuf::from(DEFAULT_POLICY);
            p.exists().then_some((p, false))
        }
    }
}

pub fn load_policy(path: Option<&Path>) -> Result<PolicyFile, FwError> {
    let Some(path) = path else {
        return Ok(PolicyFile::default());
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        FwError::Policy(format!(
            "policy file {shown}: cannot read it ({e}); give an existing file with --policy, or none to use labels only"
        ))
    })?;
    parse_file(&shown, &text).map_err(|e| FwError::Policy(e.to_string()))
}

/// The inventory: from dockerd, or from a recorded file (`--inventory`,
/// for tests and benchmarks).
pub async fn snapshot(endpoint: &Endpoint, recorded: Option<&Path>) -> Result<Inventory, FwError> {
    if let Some(path) = recorded {
        return dockward_docker::recorded(path).map_err(FwError::Policy);
    }
    let engine = Engine::connect(endpoint.clone())
        .await
        .map_err(FwError::Engine)?
        .with_scope(scope());
    engine.snapshot().await.map_err(FwError::Engine)
}

/// The inventory and the guard, read at once: finding dockerd's process
/// and its sockets is host work that needs nothing from the inventory, so
/// it runs on a blocking thread while the API calls are in flight.
pub async fn gather(
    endpoint: &Endpoint,
    recorded: Option<&Path>,
    file: &PolicyFile,
) -> Result<(Inventory, crate::Guard), FwError> {
    let url = endpoint.url.clone();
    let guard = tokio::task::spawn_blocking(move || crate::detect_guard(&url));
    let mut inv = snapshot(endpoint, recorded).await?;
    if recorded.is_none() {
        // A one-shot run has no last good list to keep: without the
        // managers' answer nothing is applied.
        worker_cluster(&mut inv, file)
            .await
            .map_err(FwError::Engine)?;
    }
    let guard = guard
        .await
        .map_err(|e| FwError::Internal(format!("the dockerd probe stopped: {e}")))?;
    Ok((inv, guard))
}

/// The managers' proxy the policy names (`[swarm] managers-proxy`).
pub fn managers(file: &PolicyFile) -> Option<Managers> {
    let port = file.swarm.managers_proxy?;
    Some(Managers {
        port,
        certs: file
            .swarm
            .certificates
            .clone()
            .unwrap_or_else(|| dockward_docker::managers::DEFAULT_CERTS.into()),
    })
}

/// On an active Swarm worker whose policy names the managers' proxy: the
/// services and nodes, from the managers (a worker may not list them).
/// Elsewhere nothing to do. `Ok(false)`: nothing asked.
pub async fn worker_cluster(
    inv: &mut Inventory,
    file: &PolicyFile,
) -> Result<bool, dockward_docker::EngineError> {
    let Some(m) = managers(file) else {
        return Ok(false);
    };
    let Some(s) = inv
        .swarm
        .as_mut()
        .filter(|s| !s.manager && s.state == "active")
    else {
        return Ok(false);
    };
    (s.services, s.nodes) = m.cluster(&s.managers).await?;
    Ok(true)
}

/// What the firewall reads of dockerd: running containers from the list,
/// each one's pid from the host (one file read, where an inspect would be
/// an API call), an inspect only where the host does not say.
pub fn scope() -> Scope {
    Scope::Firewall(std::sync::Arc::new(|id| {
        dockward_hostprobe::pid::container_pid(&dockward_hostprobe::Real, id)
    }))
}
