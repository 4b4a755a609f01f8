//! The systemd units in contrib/ pass `systemd-analyze verify` (with
//! ExecStart pointed at the binary under test), and the audit unit's
//! command line is one the binary accepts.

use std::path::Path;

#[test]
fn every_unit_verifies() {
    let analyze = Path::new("/usr/bin/systemd-analyze");
    if !analyze.exists() {
        assert!(
            !dockward_testbench::live_required(),
            "systemd-analyze is missing (apt-get install systemd)"
        );
        return;
    }
    let contrib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contrib");
    let dir = tempfile::tempdir().unwrap();
    let mut units = Vec::new();
    for e in std::fs::read_dir(&contrib).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name.ends_with(".service") || name.ends_with(".timer")) {
            continue;
        }
        let text = std::fs::read_to_string(e.path())
            .unwrap()
            .replace("/usr/local/bin/dockward", env!("CARGO_BIN_EXE_dockward"));
        std::fs::write(dir.path().join(&name), text).unwrap();
        units.push(dir.path().join(&name));
    }
    assert!(units.len() >= 3, "{units:?}");
    let out = std::process::Command::new(analyze)
        .arg("verify")
        .args(&units)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.trim().is_empty(),
        "systemd-analyze verify: {err}"
    );
}

#[test]
fn the_audit_units_command_line_parses() {
    let contrib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contrib");
    let text = std::fs::read_to_string(contrib.join("dockward-audit.service")).unwrap();
    let exec = text
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart=/usr/local/bin/dockward "))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("b.json");
    let args: Vec<String> = exec
        .split_whitespace()
        .map(|a| {
            a.replace(
                "/var/lib/dockward/audit-baseline.json",
                base.to_str().unwrap(),
            )
        })
        .collect();
    // Against a daemon that is not there: exit 3 (unreachable), not 2
    // (a bad flag), proves every flag is known.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dockward"))
        .current_dir(dir.path())
        .args(&args)
        .env("DOCKER_HOST", "unix:///nonexistent/dwt-audit-unit.sock")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
