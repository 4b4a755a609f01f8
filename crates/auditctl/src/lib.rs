//! The effects of `dockward audit` and `dockward harden`, between the
//! binary (arguments, rendering, exit codes) and the pure rules of
//! `dockward-audit` (`(rules, artifact) -> findings`).
//!
//! - [`files`]: which files to read (ripgrep's walker, so `.gitignore` is
//!   honoured as git would), reading them, and compose's `.env`;
//! - [`host`]: the inventory from dockerd, the daemon's settings from
//!   `dockward-hostprobe`, and the firewall's verdicts now in force;
//! - [`image`]: an image's config, history and layer listing (`docker
//!   save`, streamed);
//! - [`harden`]: daemon.json read, planned by the pure planner, and
//!   written with a backup and an atomic rename.
//!
//! Errors are typed ([`AuditError`]) so the binary maps each to its exit
//! code in one place.

pub mod files;
pub mod harden;
pub mod host;
pub mod image;

use dockward_audit::config::AuditConfig;
use std::path::{Path, PathBuf};

/// Read when `--config` is not given; absent is fine.
pub const DEFAULT_CONFIG: &str = ".dockward.toml";

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Bad input named by the user: a path, a config file, an inventory.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Engine(#[from] dockward_docker::EngineError),
    /// Writing failed: nothing was changed.
    #[error("{0}")]
    Write(String),
}

/// The audit configuration: `explicit` must exist; the default file may
/// be absent.
pub fn load_config(explicit: Option<&Path>) -> Result<AuditConfig, AuditError> {
    let (path, must) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_CONFIG), false),
    };
    let shown = path.display().to_string();
    match std::fs::read_to_string(&path) {
        Ok(text) => AuditConfig::parse(&shown, &text).map_err(AuditError::Usage),
        Err(e) if !must && e.kind() == std::io::ErrorKind::NotFound => Ok(AuditConfig::default()),
        Err(e) => Err(AuditError::Usage(format!(
            "config {shown}: cannot read it ({e}); check the path given to --config"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_config_must_exist_and_the_default_may_not() {
        let e = load_config(Some(Path::new("/nonexistent/dw.toml"))).unwrap_err();
        assert!(
            matches!(&e, AuditError::Usage(m) if m.contains("/nonexistent/dw.toml") && m.contains("--config")),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "fail_on = \"sometimes\"\n").unwrap();
        assert!(matches!(load_config(Some(&bad)), Err(AuditError::Usage(_))));
    }
}
