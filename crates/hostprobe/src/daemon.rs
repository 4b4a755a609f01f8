//! The daemon's settings as they are in force, merged lowest first from
//! four places: daemon.json (the path given by `--config-file`, else
//! `/etc/docker/daemon.json`), `DOCKER_OPTS` in `/etc/default/docker` (read
//! by the system daemon's init script only, so only for the default
//! socket), the running dockerd's command line, and what the Engine API
//! reports of the running daemon (icc of the default bridge, live-restore,
//! userns). The API wins because a daemon.json edited without a restart is
//! not in force.

use crate::dockerd::{canonical_sock, Dockerd};
use crate::System;
use dockward_audit::{
    parse_daemon_json, parse_docker_opts, parse_dockerd_args, DaemonSettings, Diagnostic,
};
use dockward_model::Inventory;
use std::path::Path;

/// The merged settings, where they were read, and a daemon.json that
/// could not be parsed.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub settings: DaemonSettings,
    /// The sources read, comma-separated, lowest first: the findings'
    /// location.
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// The settings of the daemon behind `endpoint` (`dockerd`: its process,
/// when it runs here; `inv`: what its API reported).
pub fn settings(
    sys: &dyn System,
    endpoint: &str,
    dockerd: Option<&Dockerd>,
    inv: &Inventory,
) -> Settings {
    let mut sources = Vec::new();
    let mut diagnostics = Vec::new();
    let json_path = dockerd
        .and_then(|d| d.value_of("--config-file"))
        .unwrap_or_else(|| "/etc/docker/daemon.json".to_string());
    let mut s = DaemonSettings::default();
    if let Ok(text) = sys.read_text(Path::new(&json_path)) {
        match parse_daemon_json(&json_path, &text) {
            Ok(f) => {
                s = s.merge(f);
                sources.push(json_path.clone());
            }
            Err(d) => diagnostics.push(d),
        }
    }
    let system = endpoint
        .strip_prefix("unix://")
        .is_some_and(|p| canonical_sock(sys, p) == canonical_sock(sys, "/var/run/docker.sock"));
    let defaults = if system {
        sys.read_text(Path::new("/etc/default/docker")).ok()
    } else {
        None
    };
    for line in defaults.iter().flat_map(|t| t.lines()) {
        let l = line.trim().strip_prefix("export ").unwrap_or(line.trim());
        if let Some(v) = l.strip_prefix("DOCKER_OPTS=") {
            s = s.merge(parse_docker_opts(
                v.trim().trim_matches(|c| c == '"' || c == '\''),
            ));
            sources.push("/etc/default/docker".to_string());
        }
    }
    if let Some(d) = dockerd {
        s = s.merge(parse_dockerd_args(&d.args));
        sources.push(format!("dockerd command line (pid {})", d.pid));
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
            // What the daemon runs with, whatever its files say.
            storage_driver: Some(d.storage_driver.clone()).filter(|v| !v.is_empty()),
            log_driver: Some(d.logging_driver.clone()).filter(|v| !v.is_empty()),
            experimental: Some(d.experimental),
            authorization_plugins: d.authorization_plugins.clone(),
            ..DaemonSettings::default()
        };
        s = s.merge(api);
        sources.push("Engine API".to_string());
    }
    Settings {
        settings: s,
        source: sources.join(", "),
        diagnostics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::Fake;

    fn dockerd(args: &[&str]) -> Dockerd {
        Dockerd {
            pid: 7,
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn merged_lowest_first_the_command_line_over_the_files() {
        let f = Fake::default()
            .file(
                "/etc/docker/daemon.json",
                r#"{"icc": true, "live-restore": true}"#,
            )
            .file(
                "/etc/default/docker",
                "export DOCKER_OPTS=\"--icc=false\"\n",
            );
        let d = dockerd(&["dockerd", "--icc=true"]);
        let s = settings(
            &f,
            "unix:///var/run/docker.sock",
            Some(&d),
            &Inventory::default(),
        );
        assert_eq!(s.settings.icc, Some(true));
        assert_eq!(s.settings.live_restore, Some(true));
        assert_eq!(
            s.source,
            "/etc/docker/daemon.json, /etc/default/docker, dockerd command line (pid 7)"
        );
        let s = settings(
            &f,
            "unix:///var/run/docker.sock",
            None,
            &Inventory::default(),
        );
        assert_eq!(s.settings.icc, Some(false), "DOCKER_OPTS over daemon.json");
    }

    #[test]
    fn another_daemon_reads_its_own_config_file_and_not_the_system_defaults() {
        let f = Fake::default()
            .file("/etc/docker/daemon.json", r#"{"icc": true}"#)
            .file("/srv/d.json", r#"{"icc": false}"#)
            .file("/etc/default/docker", "DOCKER_OPTS='--live-restore'\n");
        let d = dockerd(&[
            "dockerd",
            "--config-file",
            "/srv/d.json",
            "-H",
            "unix:///srv/d.sock",
        ]);
        let s = settings(&f, "unix:///srv/d.sock", Some(&d), &Inventory::default());
        assert_eq!(s.settings.icc, Some(false));
        assert_eq!(s.settings.live_restore, None);
        assert!(!f
            .reads
            .lock()
            .unwrap()
            .iter()
            .any(|p| p == Path::new("/etc/default/docker")));
    }

    #[test]
    fn a_broken_daemon_json_is_a_diagnostic_and_the_api_wins() {
        let f = Fake::default().file("/etc/docker/daemon.json", "{not json");
        let mut inv = Inventory::default();
        inv.daemon.version = "28.0.0".into();
        inv.daemon.live_restore = false;
        let s = settings(&f, "unix:///var/run/docker.sock", None, &inv);
        assert_eq!(s.diagnostics.len(), 1);
        assert_eq!(s.settings.live_restore, Some(false));
        assert_eq!(s.source, "Engine API");
    }
}
