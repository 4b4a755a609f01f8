//! `dockward harden daemon`'s effects: read daemon.json and the running
//! dockerd's flags, ask the pure planner (`dockward_audit::harden`), and
//! write the result safely: a backup first, then a temporary file in the
//! same directory renamed over the original, so a crash leaves either the
//! old file or the new one, never half of one. dockerd is never restarted
//! here.

use crate::AuditError;
use dockward_audit::harden::{parse_object, plan, Plan};
use dockward_audit::{parse_dockerd_args, DaemonSettings};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What `harden daemon` would change, and where.
pub struct Proposal {
    pub path: PathBuf,
    /// The path as messages show it.
    pub shown: String,
    /// The file exists now (else it would be created).
    pub existed: bool,
    pub plan: Plan,
    pub new_text: String,
    /// A unified diff from the file now to the proposal.
    pub diff: String,
    /// The running dockerd's flags (they win over the file, and a key set
    /// on both makes dockerd refuse to start).
    pub flags: DaemonSettings,
}

/// Whether the daemon at `endpoint` is a Swarm node, as far as its API
/// answers within 5 s (an unreachable daemon: no). The one API call `harden` makes:
/// a Swarm node's dockerd refuses to start with live-restore.
pub async fn in_swarm(endpoint: &dockward_docker::Endpoint) -> bool {
    let ask = async {
        match dockward_docker::Engine::connect(endpoint.clone()).await {
            Ok(engine) => engine.in_swarm().await.unwrap_or(false),
            Err(_) => false,
        }
    };
    // A daemon that does not answer at all (a TCP address that drops)
    // must not hold up a command that works on a file.
    tokio::time::timeout(std::time::Duration::from_secs(5), ask)
        .await
        .unwrap_or(false)
}

/// The proposal for the daemon behind `endpoint_url`: its file is
/// `config_file`, else dockerd's `--config-file`, else
/// `/etc/docker/daemon.json`. `swarm`: it is a Swarm node (see
/// [`in_swarm`]).
pub fn propose(
    endpoint_url: &str,
    config_file: Option<&Path>,
    swarm: bool,
    selection: &dockward_audit::harden::Selection,
) -> Result<Proposal, AuditError> {
    let dockerd = dockward_hostprobe::dockerd::find(&dockward_hostprobe::Real, endpoint_url);
    let mut flags = dockerd
        .as_ref()
        .map(|d| parse_dockerd_args(&d.args))
        .unwrap_or_default();
    flags.swarm = swarm;
    let path = config_file.map(Path::to_path_buf).unwrap_or_else(|| {
        dockerd
            .as_ref()
            .and_then(|d| d.value_of("--config-file"))
            .map_or_else(|| PathBuf::from("/etc/docker/daemon.json"), PathBuf::from)
    });
    let shown = path.display().to_string();
    let (text, existed) = match std::fs::read_to_string(&path) {
        Ok(t) => (t, true),
        // A file named on the command line must be there: a typo in the
        // path would otherwise propose a new file dockerd never reads.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && config_file.is_some() => {
            return Err(AuditError::Usage(format!(
                "--config-file {shown}: no such file; give the daemon.json dockerd reads (its --config-file, or /etc/docker/daemon.json), or leave the flag out to use the running dockerd's"
            )))
        }
        // dockerd's own file may be missing: it runs on defaults, and the
        // proposal creates it.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), false),
        Err(e) => return Err(AuditError::Usage(format!("{shown}: cannot read it ({e})"))),
    };
    let before = parse_object(&shown, &text).map_err(AuditError::Usage)?;
    let plan = plan(&before, &flags)
        .select(selection)
        .map_err(AuditError::Usage)?;
    let new_text = plan.after.to_pretty();
    let diff = similar::TextDiff::from_lines(&text, &new_text)
        .unified_diff()
        .header(&shown, &format!("{shown} (hardened)"))
        .to_string();
    Ok(Proposal {
        path,
        shown,
        existed,
        plan,
        new_text,
        diff,
        flags,
    })
}

/// Write the proposal: a backup (when the file exists), then a temporary
/// file, fsync and rename. Returns the backup's path. On error nothing was
/// changed.
pub fn write(p: &Proposal) -> Result<Option<PathBuf>, AuditError> {
    write_atomically(&p.path, p.existed, &p.new_text)
        .map_err(|e| AuditError::Write(format!("{}: {e}; nothing was changed", p.shown)))
}

fn write_atomically(path: &Path, existed: bool, text: &str) -> std::io::Result<Option<PathBuf>> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "daemon.json".into());
    let backup = if existed {
        let b = dir.join(format!("{name}.dockward-{stamp}.bak"));
        std::fs::copy(path, &b)?;
        Some(b)
    } else {
        None
    };
    let tmp = dir.join(format!(".{name}.dockward-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        if existed {
            std::fs::set_permissions(&tmp, std::fs::metadata(path)?.permissions())?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|_| backup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_with_a_backup_and_keeps_the_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("daemon.json");
        std::fs::write(&f, "{\"debug\": true}\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
        let p = propose(
            "unix:///nonexistent.sock",
            Some(&f),
            false,
            &Default::default(),
        )
        .unwrap();
        assert!(p.existed && !p.plan.is_empty() && p.diff.contains("+"));
        let backup = write(&p).unwrap().expect("a backup");
        assert_eq!(
            std::fs::read_to_string(&backup).unwrap(),
            "{\"debug\": true}\n"
        );
        assert_eq!(std::fs::read_to_string(&f).unwrap(), p.new_text);
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "no temporary file left");
    }

    #[test]
    fn a_file_that_is_not_an_object_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("daemon.json");
        std::fs::write(&f, "[1, 2]").unwrap();
        let e = propose(
            "unix:///nonexistent.sock",
            Some(&f),
            false,
            &Default::default(),
        )
        .err()
        .unwrap();
        assert!(matches!(e, AuditError::Usage(_)), "{e}");
    }
}
