//! The host edge of `audit`: everything it reads from dockerd, the process
//! table, /etc and the kernel, turned into the plain inputs of the pure
//! front ends in `dockward-audit`.
//!
//! Daemon settings come from four places, merged lowest first:
//! daemon.json (the path given by `--config-file`, else
//! /etc/docker/daemon.json), `DOCKER_OPTS` in /etc/default/docker, the
//! running dockerd's command line (/proc/<pid>/cmdline of the dockerd that
//! serves our endpoint), and what the Engine API reports of the running
//! daemon (icc of the default bridge, live-restore, userns). The API wins
//! because a daemon.json edited without a restart is not in force.

use dockward_audit::{
    parse_daemon_json, parse_docker_opts, parse_dockerd_args, DaemonSettings, Diagnostic, Exposure,
};
use dockward_docker::{Endpoint, Engine, EngineError, InventorySource};
use dockward_model::Inventory;
use std::collections::BTreeMap;
use std::path::Path;

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
            let users = engine.image_users(&ids).await?;
            (inventory, users)
        }
    };
    let exposure = exposure(&inventory);
    let (daemon, daemon_source, diagnostics) = daemon_settings(endpoint, &inventory);
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
    let Ok(Some(k)) = crate::firewall::installed_state(&mut dockward_netfilter::NftCli) else {
        return e;
    };
    let report = dockward_status::with_firewall(dockward_status::report(inv), inv, &k);
    for row in report.ports {
        let Some(fw) = row.firewall else { continue };
        let key = (row.container_id.clone(), row.container_port, row.protocol);
        let open = |v: &str| match v {
            "public" => 3,
            "blocked" => 0,
            "local only" => 1,
            _ => 2,
        };
        let keep = e
            .get(&key)
            .is_some_and(|old| open(old) >= open(&fw.verdict));
        if !keep {
            e.insert(key, fw.verdict);
        }
    }
    e
}

/// The command line of the dockerd that serves `endpoint`, if it runs here.
///
/// dockerd's pid file (`/run/docker.pid` unless `--pidfile` moved it) is
/// tried first: scanning `/proc` reads one file per process, and a host
/// with 1,000 published ports runs about 3,000 (shims and docker-proxies),
/// which would cost `firewall apply` more than its whole budget.
pub fn dockerd_cmdline(endpoint: &Endpoint) -> Option<(u32, Vec<String>)> {
    let want = endpoint.url.strip_prefix("unix://").map(canonical_sock);
    let serves = |args: &[String]| {
        let hosts = parse_dockerd_args(args).hosts;
        let socks: Vec<String> = if hosts.is_empty() {
            vec![canonical_sock("/var/run/docker.sock")]
        } else {
            hosts
                .iter()
                .filter_map(|h| h.strip_prefix("unix://").map(canonical_sock))
                .collect()
        };
        match &want {
            Some(w) => socks.contains(w),
            // A TCP endpoint: only a dockerd listening on it is ours.
            None => hosts.iter().any(|h| h == &endpoint.url),
        }
    };
    let from_pidfile = std::fs::read_to_string("/run/docker.pid")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .and_then(|pid| {
            Some((
                pid,
                dockerd_args(&Path::new("/proc").join(pid.to_string()))?,
            ))
        })
        .filter(|(_, args)| serves(args));
    if from_pidfile.is_some() {
        return from_pidfile;
    }
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((pid, dockerd_args(&entry.path())?))
        })
        .find(|(_, args)| serves(args))
}

/// The arguments of process directory `dir` when it is a dockerd.
fn dockerd_args(dir: &Path) -> Option<Vec<String>> {
    let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
    if comm.trim() != "dockerd" {
        return None;
    }
    let raw = std::fs::read(dir.join("cmdline")).ok()?;
    Some(
        raw.split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

/// /var/run is a symlink to /run on Debian; compare sockets by real path.
fn canonical_sock(p: &str) -> String {
    std::fs::canonicalize(p)
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_else(|_| p.replacen("/var/run/", "/run/", 1))
}

pub fn value_of(args: &[String], flag: &str) -> Option<String> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == flag {
            return it.next().cloned();
        }
        if let Some(v) = a.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
            return Some(v.to_string());
        }
    }
    None
}

fn daemon_settings(
    endpoint: &Endpoint,
    inv: &Inventory,
) -> (DaemonSettings, String, Vec<Diagnostic>) {
    let mut sources = Vec::new();
    let mut diagnostics = Vec::new();
    let cmdline = dockerd_cmdline(endpoint);
    let json_path = cmdline
        .as_ref()
        .and_then(|(_, a)| value_of(a, "--config-file"))
        .unwrap_or_else(|| "/etc/docker/daemon.json".to_string());
    let mut s = DaemonSettings::default();
    if let Ok(text) = std::fs::read_to_string(&json_path) {
        match parse_daemon_json(&json_path, &text) {
            Ok(f) => {
                s = s.merge(f);
                sources.push(json_path.clone());
            }
            Err(d) => diagnostics.push(d),
        }
    }
    // /etc/default/docker configures the system dockerd only: the one on
    // the default socket.
    let system = endpoint
        .url
        .strip_prefix("unix://")
        .is_some_and(|p| canonical_sock(p) == canonical_sock("/var/run/docker.sock"));
    let defaults = if system {
        std::fs::read_to_string("/etc/default/docker").ok()
    } else {
        None
    };
    if let Some(text) = defaults {
        for line in text.lines() {
            let l = line.trim().strip_prefix("export ").unwrap_or(line.trim());
            if let Some(v) = l.strip_prefix("DOCKER_OPTS=") {
                s = s.merge(parse_docker_opts(
                    v.trim().trim_matches(|c| c == '"' || c == '\''),
                ));
                sources.push("/etc/default/docker".to_string());
            }
        }
    }
    if let Some((pid, args)) = &cmdline {
        s = s.merge(parse_dockerd_args(args));
        sources.push(format!("dockerd command line (pid {pid})"));
    }
    let d = &inv.daemon;
    if !d.version.is_empty() {
        let api = DaemonSettings {
            icc: d.default_bridge.as_ref().map(|b| b.icc),
            live_restore: Some(d.live_restore),
            userns_remap: Some(if d.userns_remap {
                "on".to_string()
            } else {
                String::new()
            }),
            ..DaemonSettings::default()
        };
        s = s.merge(api);
        sources.push("Engine API".to_string());
    }
    (s, sources.join(", "), diagnostics)
}
