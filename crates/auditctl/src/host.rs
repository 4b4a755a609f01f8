//! The host edge of `audit`: the inventory from dockerd (or a recorded
//! one), the daemon's settings from `dockward-hostprobe` (see its `daemon`
//! module for where they come from and in which order), and the
//! firewall's verdicts now in force, turned into the plain inputs of the
//! pure front ends in `dockward-audit`.

use dockward_audit::{
    audit_container, audit_daemon, DaemonSettings, Diagnostic, Exposure, NodePorts, Report,
};
use dockward_docker::{Endpoint, Engine, EngineError, InventorySource};
use dockward_model::Inventory;
use futures_util::StreamExt;
use std::collections::BTreeMap;

pub struct Host {
    pub inventory: Inventory,
    /// The image's `USER` by image id, for containers that set none.
    pub image_users: BTreeMap<String, String>,
    pub exposure: Exposure,
    /// A Swarm node's own ports, as the host shows them.
    pub node_ports: NodePorts,
    pub daemon: DaemonSettings,
    /// Where the daemon settings were read, for the findings' location.
    pub daemon_source: String,
    /// A daemon.json that could not be parsed.
    pub diagnostics: Vec<Diagnostic>,
    /// The config and history of each image a container uses.
    pub images: Vec<dockward_audit::ImageFacts>,
    /// Docker's files on this host (CIS section 3), when the daemon is a
    /// local one.
    pub files: Option<Vec<dockward_audit::hostfiles::HostFile>>,
    /// The host's set-up (CIS sections 1 and 6), likewise.
    pub setup: Option<dockward_audit::hostsetup::HostSetup>,
}

/// Everything the host audit needs; `state_dir` is the firewall's (to read
/// which backend is in force).
pub async fn gather(
    endpoint: &Endpoint,
    recorded: Option<Inventory>,
    state_dir: &std::path::Path,
) -> Result<Host, EngineError> {
    let (inventory, image_users, images, image_count) = match recorded {
        Some(inv) => (inv, BTreeMap::new(), Vec::new(), None),
        None => {
            let engine = Engine::connect(endpoint.clone()).await?;
            let inventory = engine.snapshot().await?;
            let ids: Vec<String> = inventory
                .containers
                .iter()
                .filter(|c| c.user.trim().is_empty())
                .map(|c| c.image_id.clone())
                .collect();
            let users = engine.images(&ids).await?;
            let users = users.into_iter().map(|(id, i)| (id, i.user)).collect();
            // One read per image, named as its first container names it.
            let mut used: BTreeMap<&str, &str> = BTreeMap::new();
            for c in &inventory.containers {
                if !c.image_id.is_empty() {
                    used.entry(c.image_id.as_str()).or_insert(c.image.as_str());
                }
            }
            let used_count = used.len();
            let images = futures_util::stream::iter(used)
                .map(|(id, name)| {
                    let engine = &engine;
                    async move {
                        crate::image::read(engine, id, false).await.map(|mut f| {
                            f.name = name.to_string();
                            f
                        })
                    }
                })
                .buffer_unordered(8)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                // An image removed since the list is no longer used.
                .filter_map(Result::ok)
                .collect();
            // CIS 6.1: how many local images, against those in use.
            let listed = engine
                .docker()
                .list_images(None::<bollard::query_parameters::ListImagesOptions>)
                .await
                .ok()
                .map(|l| l.len());
            let count = listed.map(|n| (n, used_count));
            (inventory, users, images, count)
        }
    };
    let (exposure, cluster_closed) = exposure(&inventory, state_dir);
    let sys = dockward_hostprobe::Real;
    let dockerd = dockward_hostprobe::dockerd::find(&sys, &endpoint.url);
    // dockerd's sockets are read only where the answer is used.
    let node_ports = NodePorts {
        manager_listens_all: dockerd
            .as_ref()
            .filter(|_| inventory.swarm.is_some())
            .map(|d| {
                dockward_hostprobe::listeners::listening_on(&sys, d.pid)
                    .iter()
                    .any(|&(p, port, any)| {
                        p == dockward_model::Protocol::Tcp && port == 2377 && any
                    })
            }),
        cluster_closed,
    };
    let mut d =
        dockward_hostprobe::daemon::settings(&sys, &endpoint.url, dockerd.as_ref(), &inventory);
    d.settings.swarm = inventory.swarm.is_some();
    let daemon_json = dockerd
        .as_ref()
        .and_then(|d| d.value_of("--config-file"))
        .unwrap_or_else(|| "/etc/docker/daemon.json".to_string());
    // Files of this machine say something only of a daemon on it.
    let files = endpoint.url.strip_prefix("unix://").map(|socket| {
        let paths = dockward_hostprobe::files::Paths {
            socket: Some(socket.to_string()),
            daemon_json: daemon_json.clone(),
            tlscacert: d.settings.tlscacert.clone(),
            tlscert: d.settings.tlscert.clone(),
            tlskey: d.settings.tlskey.clone(),
            tlsverify: d.settings.tlsverify == Some(true),
        };
        dockward_hostprobe::files::gather(&sys, &paths)
    });
    let setup = endpoint.url.starts_with("unix://").then(|| {
        let mut h = dockward_hostprobe::setup::gather(
            &sys,
            &inventory.daemon.root_dir,
            dockerd.as_ref().map(|d| d.pid),
            &daemon_json,
        );
        h.images = image_count;
        h.containers = (
            inventory.containers.len(),
            inventory
                .containers
                .iter()
                .filter(|c| c.is_running())
                .count(),
        );
        h
    });
    Ok(Host {
        inventory,
        image_users,
        exposure,
        node_ports,
        daemon: d.settings,
        daemon_source: d.source,
        diagnostics: d.diagnostics,
        images,
        files,
        setup,
    })
}

/// The host's targets into the report: the daemon, then its swarm and
/// the swarm's services (seen from a manager), then each container.
pub fn audit(host: Host, report: &mut Report) {
    report.diagnostics.extend(host.diagnostics);
    report.add(
        "daemon",
        &host.daemon_source,
        Ok(audit_daemon(&host.daemon, &host.daemon_source)),
    );
    if let Some(files) = &host.files {
        let mut found = dockward_audit::hostfiles::audit_host_files(files);
        if let Some(setup) = &host.setup {
            found.extend(dockward_audit::hostsetup::audit_host_setup(setup));
        }
        report.add("host", "files", Ok(found));
    }
    if let Some(s) = &host.inventory.swarm {
        let nets = &host.inventory.networks;
        let mut found = dockward_audit::audit_swarm(s, nets);
        found.extend(dockward_audit::audit_node_ports(s, host.node_ports));
        report.add("swarm", &s.node_addr, Ok(found));
        for svc in &s.services {
            report.add(
                "service",
                &svc.name,
                Ok(dockward_audit::audit_service(svc, nets)),
            );
        }
    }
    for img in &host.images {
        // A container's user is judged where it runs (`container-root-
        // user`, which sees `--user`); the image's would say it twice.
        let found = dockward_audit::audit_image(img)
            .into_iter()
            .filter(|f| f.rule != "image-root-user")
            .collect();
        report.add("image", &img.name, Ok(found));
    }
    // The daemon's `no-new-privileges` covers every container; their own
    // SecurityOpt does not show it.
    let nnp_default = host.daemon.no_new_privileges == Some(true);
    for c in &host.inventory.containers {
        let image_user = host.image_users.get(&c.image_id).map(String::as_str);
        let found = audit_container(c, image_user, &host.exposure)
            .into_iter()
            .filter(|f| !(nnp_default && f.rule == "container-new-privileges"))
            .collect();
        report.add("container", &c.name, Ok(found));
    }
}

/// dockward firewall's verdict per container port, when its table is in
/// the kernel (the most open verdict of a port's bindings counts), and
/// whether it closes a Swarm node's cluster ports (`None`: unreadable).
fn exposure(inv: &Inventory, state_dir: &std::path::Path) -> (Exposure, Option<bool>) {
    let mut e = Exposure::new();
    let mut kernel = dockward_fwctl::Kernel::system(state_dir.to_path_buf());
    let k = match dockward_fwctl::installed_state(&mut kernel) {
        Ok(Some(k)) => k,
        Ok(None) => return (e, Some(false)),
        Err(_) => return (e, None),
    };
    let closed = k.cluster_closed;
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
    (e, Some(closed))
}
