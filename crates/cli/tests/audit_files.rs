//! `dockward audit` on files, through the binary: discovery (.gitignore,
//! names, content sniffing), thresholds and exit codes, the config file's
//! ignores, and SARIF checked by Microsoft's validator
//! (@microsoft/sarif-multitool, installed by scripts/bench-up.sh).

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../audit/tests/corpus")
}

fn audit(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .current_dir(dir)
        .env("DOCKER_HOST", "unix:///nonexistent/dwt-audit.sock")
        .arg("audit")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const VALIDATOR: &str = "/opt/dockward-bench/sarif-multitool/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool";

#[test]
fn sarif_passes_microsofts_validator_with_no_error() {
    if !Path::new(VALIDATOR).exists() {
        assert!(
            !dockward_testbench::live_required(),
            "the SARIF validator is missing: run scripts/bench-up.sh"
        );
        eprintln!("skipped: {VALIDATOR} missing (run scripts/bench-up.sh)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let corpus = corpus();
    let (code, sarif, _) = audit(dir.path(), &[corpus.to_str().unwrap(), "--format", "sarif"]);
    assert_eq!(code, 2, "the corpus holds two malformed files");
    let doc: Value = serde_json::from_str(&sarif).unwrap();
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.len() >= 37, "a full rules[]: {}", rules.len());
    for r in rules {
        assert!(
            r["help"]["text"].as_str().is_some_and(|t| !t.is_empty()),
            "{r}"
        );
        assert!(
            r["properties"]["security-severity"].as_str().is_some(),
            "{r}"
        );
    }
    let results = run["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["suppressions"][0]["kind"] == "inSource"),
        "suppressed findings are listed"
    );
    assert!(
        !sarif.contains("s3cr3t") && !sarif.contains("correct-horse"),
        "secrets never printed"
    );

    validate_sarif(dir.path(), &sarif);
}

/// Microsoft's validator finds no error in `sarif`.
fn validate_sarif(dir: &Path, sarif: &str) {
    let input = dir.join("audit.sarif");
    std::fs::write(&input, sarif).unwrap();
    let log = dir.join("validation.sarif");
    let v = std::process::Command::new(VALIDATOR)
        .arg("validate")
        .arg(&input)
        .arg("-o")
        .arg(&log)
        .output()
        .unwrap();
    assert!(
        v.status.success(),
        "validator: {}",
        String::from_utf8_lossy(&v.stdout)
    );
    let vlog: Value = serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    let errors: Vec<&Value> = vlog["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["level"] == "error")
        .collect();
    assert!(errors.is_empty(), "validator errors: {errors:#?}");
}

/// The rule id of every finding in an audit JSON document, in order.
fn rule_ids(v: &Value) -> Vec<&str> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

#[test]
fn severity_filter_shows_less_and_decides_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // dockerfile-unpinned-image (low) and compose-privileged (critical).
    write(d, "Dockerfile", "FROM alpine\nUSER app\n");
    write(
        d,
        "compose.yml",
        "services:\n  a:\n    image: x:1\n    user: app\n    privileged: yes\n",
    );
    let (code, out, _) = audit(d, &[".", "--severity", "low"]);
    assert_eq!(code, 1, "--fail-on (low) still sees the critical finding");
    assert!(out.contains("dockerfile-unpinned-image"), "{out}");
    assert!(!out.contains("compose-privileged"), "{out}");
    assert!(
        out.lines()
            .next()
            .unwrap()
            .contains("not shown (1 critical"),
        "{out}"
    );
    let (code, out, _) = audit(
        d,
        &[
            ".",
            "--severity",
            "critical,high",
            "--format",
            "json",
            "--fail-on",
            "critical",
        ],
    );
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    let rules = rule_ids(&v);
    assert!(
        rules.iter().all(|r| *r == "compose-privileged"),
        "{rules:?}"
    );
    assert_eq!(v["hidden"]["low"], 1, "{out}");
    let (code, _, err) = audit(d, &[".", "--severity", "severe"]);
    assert_eq!(code, 2, "{err}");
    // The text report leads with the worst.
    let (_, out, _) = audit(d, &["."]);
    let at = |s: &str| out.find(s).unwrap_or_else(|| panic!("{s}: {out}"));
    assert!(at("CRITICAL (1)") < at("LOW (1)"), "{out}");
}

#[test]
fn baseline_shows_what_is_new_and_what_is_gone_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "Dockerfile", "FROM alpine\nUSER app\n");
    // A first run with the same file to read and write: everything is new.
    let (code, out, err) = audit(
        d,
        &[".", "--baseline", "b.json", "--write-baseline", "b.json"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not exist yet"), "{err}");
    assert!(out.contains("1 new finding(s)"), "{out}");
    // Nothing changed: nothing new, status 0.
    let (code, out, _) = audit(d, &[".", "--baseline", "b.json"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("0 new finding(s)") && out.contains("0 gone"),
        "{out}"
    );
    // A line added above the finding is not a new finding; a new one is.
    write(
        d,
        "Dockerfile",
        "# a comment\nFROM alpine\nUSER app\nADD http://example.invalid/x /x\n",
    );
    let (code, out, _) = audit(d, &[".", "--baseline", "b.json", "--format", "json"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    let rules = rule_ids(&v);
    assert!(!rules.contains(&"dockerfile-unpinned-image"), "{rules:?}");
    assert!(!rules.is_empty());
    assert_eq!(v["baseline"]["gone"].as_array().unwrap().len(), 0);
    // The finding fixed: it is gone, in text, JSON and SARIF.
    write(d, "Dockerfile", "FROM alpine:3.20\nUSER app\n");
    let (code, out, _) = audit(d, &[".", "--baseline", "b.json"]);
    assert_eq!(code, 0);
    assert!(out.contains("GONE SINCE THE BASELINE (1)"), "{out}");
    assert!(out.contains("dockerfile-unpinned-image"), "{out}");
    let (_, out, _) = audit(d, &[".", "--baseline", "b.json", "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["baseline"]["gone"][0]["rule"],
        "dockerfile-unpinned-image"
    );
    let (_, sarif, _) = audit(d, &[".", "--baseline", "b.json", "--format", "sarif"]);
    let doc: Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(
        doc["runs"][0]["results"][0]["baselineState"], "absent",
        "{sarif}"
    );
    if Path::new(VALIDATOR).exists() {
        validate_sarif(d, &sarif);
    }
    // A file that is not a baseline, or missing: a usage error naming it.
    write(d, "junk.json", "[1]");
    let (code, _, err) = audit(d, &[".", "--baseline", "junk.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("--baseline junk.json"), "{err}");
    let (code, _, err) = audit(d, &[".", "--baseline", "nope.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("--write-baseline nope.json"), "{err}");
}

#[test]
fn discovery_respects_gitignore_names_and_content() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app/Dockerfile", "FROM alpine:3.20\nUSER 0\n");
    write(d, "vendor/Dockerfile", "FROM alpine:3.20\nUSER 0\n");
    write(d, ".gitignore", "vendor/\n");
    write(
        d,
        "deploy/prod.yml",
        "services:\n  a:\n    image: x:1\n    privileged: true\n",
    );
    write(d, "notes/Dockerfile.md", "FROM nothing\n");
    let (code, out, err) = audit(d, &[".", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let targets: Vec<&str> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        ["app/Dockerfile"],
        "vendor/ is ignored; prod.yml and .md are not searched for"
    );
    // Named explicitly, prod.yml is audited for what it contains.
    let (code, out, _) = audit(d, &["deploy/prod.yml", "--format", "json"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["targets"][0]["kind"], "compose");
    assert_eq!(v["findings"][0]["rule"], "compose-privileged");
    // A named file that is none of the three is an input error.
    write(d, "README", "hello\n");
    let (code, _, err) = audit(d, &["README"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("not a Dockerfile, compose file or daemon.json"),
        "{err}"
    );
    let (code, _, err) = audit(d, &["missing/"]);
    assert_eq!(code, 2);
    assert!(err.contains("missing/: cannot read it"), "{err}");
}

#[test]
fn thresholds_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "Dockerfile", "FROM alpine\nUSER app\n");
    // Only dockerfile-unpinned-image (low).
    assert_eq!(audit(d, &["."]).0, 1);
    assert_eq!(audit(d, &[".", "--fail-on", "medium"]).0, 0);
    write(d, ".dockward.toml", "fail-on = \"medium\"\n");
    assert_eq!(audit(d, &["."]).0, 0, "fail-on from the config file");
    assert_eq!(audit(d, &[".", "--fail-on", "low"]).0, 1, "the flag wins");
    write(d, "Dockerfile", "FROM alpine:3.20\nUSER app\n");
    let (code, out, _) = audit(d, &["."]);
    assert_eq!(code, 0);
    assert!(out.contains("0 finding(s)"), "{out}");
    let (code, _, err) = audit(d, &[".", "--fail-on", "severe"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn ignore_file_with_reasons_and_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "Dockerfile", "FROM alpine:3.20\nUSER 0\n");
    write(
        d,
        "audit.toml",
        "[[ignore]]\nrule = \"dockerfile-root-user\"\ntarget = \"Dockerfile\"\nreason = \"runs under userns-remap\"\nexpires = \"2999-12-31\"\n",
    );
    let (code, out, _) = audit(d, &[".", "--config", "audit.toml", "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"][0]["suppressed"]["kind"], "ignore-file");
    assert_eq!(v["summary"]["suppressed"], 1);
    // Expired: counts again, and the user is told.
    write(
        d,
        "audit.toml",
        "[[ignore]]\nrule = \"dockerfile-root-user\"\nreason = \"temporary\"\nexpires = \"2020-01-01\"\n",
    );
    let (code, _, err) = audit(d, &[".", "--config", "audit.toml"]);
    assert_eq!(code, 1);
    assert!(err.contains("expired on 2020-01-01"), "{err}");
    // A bad entry is a one-line error naming it; nothing is audited.
    write(
        d,
        "audit.toml",
        "[[ignore]]\nrule = \"dockerfile-root-user\"\nreason = \"\"\n",
    );
    let (code, out, err) = audit(d, &[".", "--config", "audit.toml"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.contains("audit.toml: ignore #1 (dockerfile-root-user): reason is empty"),
        "{err}"
    );
    let (code, _, err) = audit(d, &[".", "--config", "nope.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("config nope.toml: cannot read it"), "{err}");
}

#[test]
fn list_rules_prints_the_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = audit(dir.path(), &["--list-rules"]);
    assert_eq!(code, 0);
    for id in [
        "daemon-icc",
        "container-root-user",
        "dockerfile-sudo",
        "compose-unpinned-image",
        "swarm-manager-count",
        "service-port-all-nodes",
        "swarm-manager-listen-all",
        "swarm-cluster-ports-exposed",
    ] {
        assert!(out.contains(id), "{id}");
    }
    assert_eq!(out.lines().count(), 94);
    let (code, out, _) = audit(dir.path(), &["--list-rules", "--format", "json"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 94);
    assert_eq!(v[0]["id"], "dockerfile-add-local");
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["help"].as_str().is_some_and(|h| !h.is_empty())));
}

/// A variable whose value is not UTF-8 is left out of what dockward reads
/// (compose interpolation included), never a panic; the ones that are
/// UTF-8 still count.
#[test]
fn a_non_utf8_environment_variable_is_not_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "compose.yaml",
        "services:\n  web:\n    image: x\n    privileged: ${PRIV}\n",
    );
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .current_dir(dir.path())
        .env("DOCKER_HOST", "unix:///nonexistent/dwt-audit.sock")
        .env("DWT_NOT_UTF8", std::ffi::OsStr::from_bytes(b"\xff\xfe"))
        .env("PRIV", "true")
        .args(["audit", "--format", "json", "."])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"].as_str().is_some_and(|r| r.contains("privileged"))),
        "PRIV=true from the environment interpolated: {doc}"
    );
}

/// A reader that goes away (`| head`) ends the output quietly: exit 0,
/// no panic (`println!` panics on a closed pipe, since Rust ignores
/// SIGPIPE). The read end is closed before the child has written.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    use std::process::Stdio;
    for args in [
        &["proxy", "--list-actions"][..],
        &["audit", "--list-rules"][..],
    ] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("dockward"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

/// Nothing read is not a pass: an empty directory with the daemon down is
/// exit 3 with the reason on stderr and nothing on stdout; an empty
/// directory given by path (no host asked for) is exit 2.
#[test]
fn nothing_to_audit_is_an_error_not_a_clean_pass() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = audit(dir.path(), &[]);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("nothing was audited"), "{stderr}");
    assert!(stderr.contains("DOCKER_HOST"), "{stderr}");
    let (code, stdout, stderr) = audit(dir.path(), &["--format", "json", "."]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("no Dockerfile or compose file under ."),
        "{stderr}"
    );
    // One file is something: audited, and the missing daemon a note.
    write(dir.path(), "Dockerfile", "FROM scratch\nUSER 1000\n");
    let (code, _, stderr) = audit(dir.path(), &[]);
    assert!(code == 0 || code == 1, "{code}: {stderr}");
    assert!(stderr.contains("not audited"), "{stderr}");
}

/// A daemon.json named on the command line must exist: a typo is an error,
/// not a proposal to create a file dockerd never reads.
#[test]
fn harden_with_a_missing_config_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("daemon.jsn");
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .env("DOCKER_HOST", "unix:///nonexistent/dwt-audit.sock")
        .args(["harden", "daemon", "--config-file"])
        .arg(&missing)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains("daemon.jsn: no such file"), "{stderr}");
    assert!(!missing.exists());
}

/// Results on stdout, diagnostics on stderr, in the text format too.
#[test]
fn a_file_that_cannot_be_read_is_said_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "compose.yaml", "services:\n  a: [\n");
    write(dir.path(), "Dockerfile", "FROM scratch\nUSER 1000\n");
    let (code, stdout, stderr) = audit(dir.path(), &["."]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("dockward audit: error: ") && stderr.contains("compose.yaml"),
        "{stderr}"
    );
    assert!(!stdout.contains("error"), "{stdout}");
    assert!(stdout.contains("1 not readable"), "{stdout}");
}

/// The host: hundreds of containers, each with a 0.0.0.0 and a
/// [::] port and no user, and one privileged container among them. The
/// critical finding is on the first screen (24 lines), not at line 5,016.
#[test]
fn on_a_host_with_hundreds_of_containers_the_critical_finding_leads() {
    use dockward_model::{Container, ContainerState, Inventory, Protocol, PublishedPort};
    let mut inv = Inventory::default();
    for i in 0..326u16 {
        let port = |ip: &str| PublishedPort {
            host_ip: Some(ip.into()),
            host_port: Some(20000 + i),
            host_port_end: None,
            container_port: 80,
            protocol: Protocol::Tcp,
        };
        inv.containers.push(Container {
            id: format!("{i:064x}"),
            name: format!("app-{i}"),
            image: "app:1".into(),
            state: ContainerState::Running,
            network_mode: "bridge".into(),
            privileged: i == 300,
            ports: vec![port("0.0.0.0"), port("::")],
            ..Container::default()
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inv.json");
    std::fs::write(&file, serde_json::to_string(&inv).unwrap()).unwrap();
    let (code, out, err) = audit(
        dir.path(),
        &["--host", "--inventory", file.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{err}");
    let screen: Vec<&str> = out.lines().take(24).collect();
    assert!(screen[0].contains("1 critical"), "{}", screen[0]);
    assert!(
        screen
            .iter()
            .any(|l| l.contains("container app-300") && l.contains("container-privileged")),
        "{}",
        screen.join("\n")
    );
    // One finding per port, not one per address.
    let (_, json, _) = audit(
        dir.path(),
        &[
            "--host",
            "--inventory",
            file.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let v: Value = serde_json::from_str(&json).unwrap();
    let ports = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "container-port-all-interfaces")
        .count();
    assert_eq!(ports, 326);
}

/// An env_file with a secret is judged by who can read it: 644 is a
/// finding (the value never printed), 600 is not; a file without secrets
/// is never one.
#[test]
fn env_files_with_secrets_must_be_private() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "compose.yaml",
        "services:\n  db:\n    image: postgres:16.3\n    user: postgres\n    env_file:\n      - secrets.env\n      - path: ./plain.env\n        required: false\nsecrets:\n  pg:\n    file: ./pg.txt\n",
    );
    write(
        d,
        "secrets.env",
        "POSTGRES_PASSWORD=hunter2-dwt\nPGDATA=/data\n",
    );
    write(d, "plain.env", "PGDATA=/data\n");
    write(d, "pg.txt", "hunter2-dwt\n");
    mode_of(d, "pg.txt", 0o640);
    let mode = |name: &str, m: u32| mode_of(d, name, m);
    mode("secrets.env", 0o644);
    mode("plain.env", 0o644);
    let (code, out, err) = audit(d, &[".", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    assert!(!out.contains("hunter2"), "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let found: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "compose-env-file-secret")
        .collect();
    assert_eq!(found.len(), 1, "{out}");
    assert!(found[0]["evidence"]
        .as_str()
        .unwrap()
        .contains("secrets.env holds POSTGRES_PASSWORD"));
    assert_eq!(found[0]["location"]["line"], 6);
    assert!(
        out.contains("secret pg: file ./pg.txt is readable by its group"),
        "{out}"
    );
    mode("secrets.env", 0o600);
    mode("pg.txt", 0o600);
    let (_, out, _) = audit(d, &[".", "--format", "json"]);
    assert!(!out.contains("compose-env-file-secret"), "{out}");
    assert!(!out.contains("compose-secret-file"), "{out}");
}

fn mode_of(dir: &Path, name: &str, m: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(m)).unwrap();
}
