//! With no daemon there, `status` says so in one line and exits 3.

use assert_cmd::Command;
use dockward_testbench::{require_engine, PrivateDaemon};

fn status_with(host: &str) -> (i32, String) {
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .args(["status"])
        .env("DOCKER_HOST", host)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    if code != 0 {
        assert!(out.stdout.is_empty(), "nothing on stdout on error");
    }
    (code, String::from_utf8(out.stderr).unwrap())
}

#[test]
fn missing_socket_is_a_one_line_error_with_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    let sock = format!("unix://{}/docker.sock", dir.path().display());
    let (code, err) = status_with(&sock);
    assert_eq!(code, 3);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(&sock), "{err}");
    assert!(err.contains("from DOCKER_HOST"), "{err}");
    assert!(err.contains("start dockerd"), "{err}");
}

#[test]
fn stopped_dockerd_is_a_one_line_error() {
    require_engine!();
    let mut d = PrivateDaemon::start();
    let host = d.host();
    let (code, _) = status_with(&host);
    assert_eq!(code, 0, "private daemon answers while running");
    d.stop();
    let (code, err) = status_with(&host);
    assert_eq!(code, 3, "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(&host), "{err}");
    assert!(
        err.contains("no such socket") || err.contains("connection refused"),
        "{err}"
    );
}

#[test]
fn permission_denied_names_the_group_fix() {
    require_engine!();
    // The default socket is root:docker 0660: nobody may not open it.
    let bin = assert_cmd::cargo::cargo_bin("dockward");
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .args(["status", "--host", "unix:///var/run/docker.sock"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("permission denied") && err.contains("group"),
        "{err}"
    );
}

#[test]
fn firewall_without_a_daemon_or_without_root_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let sock = format!("unix://{}/docker.sock", dir.path().display());
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .args(["firewall", "plan", "--host", &sock])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(&sock), "{err}");
    // Without CAP_NET_ADMIN the kernel refuses: exit 6, nothing applied.
    let bin = assert_cmd::cargo::cargo_bin("dockward");
    let out = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(&bin)
        .args(["firewall", "remove"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("run dockward as root") || err.contains("Operation not permitted"),
        "{err}"
    );
}

/// `plan` changes nothing, and its errors do not say "nothing was
/// applied"; `apply`'s do. No daemon is needed: the file is read first.
#[test]
fn a_bad_policy_file_is_named_and_plan_does_not_speak_of_applying() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fw.toml");
    std::fs::write(&file, "[swarm]\ncluster-ports = \"closed\"\n").unwrap();
    let run = |verb: &str| {
        let out = Command::cargo_bin("dockward")
            .unwrap()
            .args(["firewall", verb, "--policy"])
            .arg(&file)
            .env("DOCKER_HOST", "unix:///nonexistent/dwt.sock")
            .env("DOCKWARD_STATE_DIR", dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{verb}");
        assert!(out.stdout.is_empty());
        String::from_utf8(out.stderr).unwrap()
    };
    let plan = run("plan");
    assert!(
        plan.contains("fw.toml") && plan.contains("cluster-ports"),
        "{plan}"
    );
    assert!(!plan.contains("nothing was applied"), "{plan}");
    assert!(run("apply").contains("nothing was applied"));
}
