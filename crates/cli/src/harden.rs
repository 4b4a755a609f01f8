//! `dockward harden daemon`: read daemon.json and the running dockerd's
//! flags, ask the pure planner (`dockward_audit::harden`), show the diff,
//! and with `--apply` write it safely: a backup first, then a temp file in
//! the same directory renamed over the original, so a crash leaves either
//! the old file or the new one, never half of one. dockerd is never
//! restarted by us.

use crate::cli::{Format, HardenArgs, HardenDaemonArgs, HardenTarget};
use crate::config::Config;
use crate::{error_line, exit};
use dockward_audit::harden::{parse_object, plan, Plan};
use dockward_audit::{parse_dockerd_args, DaemonSettings};
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn run(config: &Config, args: &HardenArgs) -> u8 {
    match &args.target {
        HardenTarget::Daemon(a) => daemon(config, a),
    }
}

fn daemon(config: &Config, args: &HardenDaemonArgs) -> u8 {
    let dockerd =
        dockward_hostprobe::dockerd::find(&dockward_hostprobe::Real, &config.endpoint.url);
    let flags = dockerd
        .as_ref()
        .map(|d| parse_dockerd_args(&d.args))
        .unwrap_or_default();
    let path = args.config_file.clone().unwrap_or_else(|| {
        dockerd
            .as_ref()
            .and_then(|d| d.value_of("--config-file"))
            .map_or_else(|| PathBuf::from("/etc/docker/daemon.json"), PathBuf::from)
    });
    let shown = path.display().to_string();
    let (text, existed) = match std::fs::read_to_string(&path) {
        Ok(t) => (t, true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), false),
        Err(e) => {
            error_line("harden", &format!("{shown}: cannot read it ({e})"));
            return exit::USAGE;
        }
    };
    let before = match parse_object(&shown, &text) {
        Ok(o) => o,
        Err(e) => {
            error_line("harden", &e);
            return exit::USAGE;
        }
    };
    let p = plan(&before, &flags);
    let old_text = if existed { text.clone() } else { String::new() };
    let new_text = p.after.to_pretty();
    let diff = similar::TextDiff::from_lines(&old_text, &new_text)
        .unified_diff()
        .header(&shown, &format!("{shown} (hardened)"))
        .to_string();
    let mut written = None;
    if args.apply && !p.is_empty() {
        match write(&path, existed, &new_text) {
            Ok(backup) => written = Some(backup),
            Err(e) => {
                error_line("harden", &format!("{shown}: {e}; nothing was changed"));
                return exit::INTERNAL;
            }
        }
    }
    let out = match args.format {
        Format::Json => json(&shown, &p, &diff, args.apply, written.as_ref(), &flags),
        Format::Text => text_report(&shown, &p, &diff, args.apply, written.as_ref()),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    exit::OK
}

/// Backup (when the file exists), then temp file + fsync + rename. Returns
/// the backup's path.
fn write(path: &Path, existed: bool, text: &str) -> std::io::Result<Option<PathBuf>> {
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

fn text_report(
    shown: &str,
    p: &Plan,
    diff: &str,
    apply: bool,
    backup: Option<&Option<PathBuf>>,
) -> String {
    let mut s = String::new();
    if p.is_empty() {
        s.push_str(&format!("{shown}: nothing to change in the file\n"));
    } else {
        s.push_str(diff);
        s.push_str("\nWhat each change does once dockerd restarts:\n");
        for c in &p.changes {
            s.push_str(&format!(
                "  {} ({} {}): {}\n",
                c.key, c.action, c.rule, c.consequence
            ));
        }
    }
    if !p.manual.is_empty() {
        s.push_str("\nTo do by hand:\n");
        for m in &p.manual {
            s.push_str(&format!("  {m}\n"));
        }
    }
    match (apply, backup) {
        (true, Some(b)) => {
            s.push_str(&format!("\nwritten: {shown}"));
            if let Some(b) = b {
                s.push_str(&format!(" (backup: {})", b.display()));
            }
            s.push_str(
                "\ndockerd was not restarted; restart it to apply (systemctl restart docker)\n",
            );
        }
        (false, _) if !p.is_empty() => {
            s.push_str("\nnothing written; run again with --apply to write it (a backup is kept)\n")
        }
        _ => {}
    }
    s
}

fn json(
    shown: &str,
    p: &Plan,
    diff: &str,
    apply: bool,
    backup: Option<&Option<PathBuf>>,
    flags: &DaemonSettings,
) -> String {
    let doc = serde_json::json!({
        "schema": "dockward.harden-daemon/v1",
        "file": shown,
        "changes": p.changes,
        "manual": p.manual,
        "diff": diff,
        "applied": apply && backup.is_some(),
        "backup": backup.and_then(|b| b.as_ref()).map(|b| b.display().to_string()),
        "flags_on_command_line": flags,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
