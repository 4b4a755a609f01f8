//! `dockward firewall` on the real engine and the real kernel, proven with
//! real packets from outside hosts (network namespaces).
//!
//! dockward's table is host-wide, so these tests take one lock and each
//! removes the table when it ends (also on panic, through a guard).

use assert_cmd::Command;
use dockward_testbench::{
    docker, require_engine, sh, Container, Network, OutsideHost, Probe, IMAGE,
};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};
use std::sync::{mpsc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[path = "firewall_live/backends.rs"]
mod backends;
#[path = "firewall_live/identity.rs"]
mod identity;
#[path = "firewall_live/image_labels.rs"]
mod image_labels;

static HOST_FIREWALL: Mutex<()> = Mutex::new(());

/// Holds the lock; takes dockward's table out on drop.
struct Session(#[allow(dead_code)] MutexGuard<'static, ()>);

impl Session {
    fn start() -> Self {
        let g = HOST_FIREWALL.lock().unwrap_or_else(|e| e.into_inner());
        let s = Self(g);
        dockward(&["firewall", "remove"]);
        s
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = std::process::Command::new(env!("CARGO_BIN_EXE_dockward"))
            .args(["firewall", "remove"])
            .output();
    }
}

/// The backends every both-backend case runs on: nftables (the default),
/// then iptables.
const BACKENDS: [&[&str]; 2] = [&[], &["--backend", "iptables"]];

/// `dockward firewall apply` on `backend` (one of [`BACKENDS`]).
fn apply_on(backend: &[&str]) -> String {
    let mut args = vec!["firewall", "apply"];
    args.extend_from_slice(backend);
    dockward(&args)
}

fn dockward(args: &[&str]) -> String {
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dockward {} failed ({:?}): {}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The IPv6 (docker-proxy) host port: Docker allocates random host ports
/// for IPv4 and IPv6 separately, so they differ once other tests have
/// published IPv4-only ports.
fn host_port6(c: &Container, spec: &str) -> u16 {
    let out = docker(&["port", &c.name, spec]);
    out.lines()
        .find(|l| l.starts_with("[::]") || l.starts_with(":::"))
        .expect("an IPv6 binding")
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .expect("port")
}

fn host_port(c: &Container, spec: &str) -> u16 {
    let out = docker(&["port", &c.name, spec]);
    out.lines()
        .next()
        .expect("a binding")
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .expect("port")
}

/// A TCP connection from the host itself (2 s to connect).
fn connect_from_host(addr: &str) -> std::io::Result<std::net::TcpStream> {
    std::net::TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(2))
}

fn httpd(what: &str, args: &[&str]) -> Container {
    let mut all: Vec<&str> = args.to_vec();
    all.extend_from_slice(&[IMAGE, "httpd", "-f", "-p", "80"]);
    Container::run(what, &all)
}

fn assert_open(p: Probe, what: &str) {
    assert!(p.is_open(), "{what}: expected open, got {p:?}");
}

fn assert_closed(p: Probe, what: &str) {
    assert_eq!(p, Probe::Timeout, "{what}: expected dropped");
}

#[test]
fn apply_enforces_labels_cidrs_ports_and_closes_bypasses() {
    require_engine!();
    let _s = Session::start();
    let a = OutsideHost::new();
    let b = OutsideHost::new();
    let public = httpd("fwpub", &["-p", "80", "-l", "dockward.expose=public"]);
    let plain = httpd("fwplain", &["-p", "80"]);
    let cidr = httpd(
        "fwcidr",
        &["-p", "80", "-l", &format!("dockward.expose={}/32", a.addr)],
    );
    let perport = Container::run(
        "fwport",
        &[
            "-p",
            "80",
            "-p",
            "81",
            "-l",
            "dockward.expose=local",
            "-l",
            "dockward.expose.81=public",
            IMAGE,
            "sh",
            "-c",
            "httpd -p 80; httpd -f -p 81",
        ],
    );
    let (pp, pl, pc, p80, p81) = (
        host_port(&public, "80/tcp"),
        host_port(&plain, "80/tcp"),
        host_port(&cidr, "80/tcp"),
        host_port(&perport, "80/tcp"),
        host_port(&perport, "81/tcp"),
    );
    let loopback = httpd(
        "fwlo",
        &["-p", "127.0.0.1::80", "-l", "dockward.expose=public"],
    );
    let plain_ip = plain.ip("bridge");
    let loopback_ip = loopback.ip("bridge");
    a.route_via_host("172.16.0.0/12");

    // Docker alone: everything is open, including the bypasses.
    assert_open(a.http(&a.host_addr, pl), "unlabeled before apply");
    let (pp6, pl6) = (host_port6(&public, "80/tcp"), host_port6(&plain, "80/tcp"));
    assert_open(
        a.http(&a.host_addr6, pl6),
        "IPv6 via docker-proxy before apply",
    );
    // Docker < 28 routes a neighbour straight to container addresses, even
    // to a container published on 127.0.0.1 only.
    let direct_before = a.http(&plain_ip, 80);
    let loopback_before = a.http(&loopback_ip, 80);
    let docker_major: u32 = docker(&["version", "-f", "{{.Server.Version}}"])
        .split('.')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    if docker_major < 28 {
        assert_open(
            direct_before.clone(),
            "direct routing on Docker < 28 (the hole)",
        );
        assert_open(
            loopback_before.clone(),
            "a loopback-published container by direct routing on Docker < 28 (the hole)",
        );
    }

    let out = dockward(&["firewall", "apply"]);
    assert!(out.starts_with("applied: "), "{out}");

    assert_open(a.http(&a.host_addr, pp), "public");
    assert_open(a.http(&a.host_addr6, pp6), "public over IPv6");
    assert_closed(a.http(&a.host_addr, pl), "unlabeled (default local)");
    assert_closed(
        a.http(&a.host_addr6, pl6),
        "unlabeled over IPv6 through docker-proxy",
    );
    assert_open(a.http(&a.host_addr, pc), "CIDR-allowed host");
    assert_closed(b.http(&b.host_addr, pc), "host outside the CIDR");
    assert_open(a.http(&a.host_addr, p81), "per-port public override");
    assert_closed(a.http(&a.host_addr, p80), "container-wide local");
    assert_closed(
        a.http(&loopback_ip, 80),
        &format!("a loopback-published container by direct routing (before: {loopback_before:?})"),
    );
    assert_closed(
        a.http(&plain_ip, 80),
        &format!("direct routing to the container address (before: {direct_before:?})"),
    );
    // The host itself and containers still reach the local-only port.
    let from_host = connect_from_host(&format!("127.0.0.1:{pl}"));
    assert!(
        from_host.is_ok(),
        "the host's own loopback must stay open: {from_host:?}"
    );
    // The host as the container sees it: docker0's address.
    let docker0 = sh("ip", &["-4", "-o", "addr", "show", "dev", "docker0"]);
    let gateway = docker0
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .and_then(|a| a.split('/').next())
        .expect("docker0 has an IPv4 address")
        .to_string();
    let from_container = docker(&[
        "exec",
        &public.name,
        "sh",
        "-c",
        &format!("echo 'GET / HTTP/1.0\r\n' | nc -w 2 {gateway} {pl} | head -c 12"),
    ]);
    assert!(
        from_container.starts_with("HTTP/1."),
        "a container must reach a local port: {from_container:?}"
    );

    // plan agrees with what is in force.
    let plan: serde_json::Value =
        serde_json::from_str(&dockward(&["firewall", "plan", "--format", "json"])).unwrap();
    assert_eq!(plan["table_present"], true);
    assert_eq!(plan["changes"], 0, "{plan}");
    let row = plan["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["container"] == cidr.name)
        .unwrap();
    assert_eq!(row["verdict"], format!("local + from {}/32", a.addr));

    // status shows the verdict and counts the packets.
    let status: serde_json::Value =
        serde_json::from_str(&dockward(&["status", "--format", "json"])).unwrap();
    let rows: Vec<_> = status["ports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["container"] == public.name)
        .collect();
    assert_eq!(rows.len(), 2, "{status}");
    for r in &rows {
        assert_eq!(r["firewall"]["verdict"], "public", "{r}");
        assert!(r["firewall"]["packets"].as_u64().unwrap() > 0, "{r}");
    }
    let plain_row = status["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["container"] == plain.name)
        .unwrap();
    assert_eq!(plain_row["firewall"]["verdict"], "local only");

    // remove gives Docker's behaviour back.
    dockward(&["firewall", "remove"]);
    assert_open(a.http(&a.host_addr, pl), "unlabeled after remove");
    assert!(!sh("nft", &["list", "tables"]).contains("dockward"));
}

#[test]
fn isolate_and_allow_from_between_containers() {
    require_engine!();
    let _s = Session::start();
    let net = Network::create("fwiso", &["--label", "dockward.isolate=true"]);
    let api = Container::run("fwapi", &["--network", &net.name, IMAGE, "sleep", "600"]);
    let web = Container::run("fwweb", &["--network", &net.name, IMAGE, "sleep", "600"]);
    let db = httpd(
        "fwdb",
        &[
            "--network",
            &net.name,
            "-l",
            &format!("dockward.allow-from={}", api.name),
        ],
    );
    let db_ip = db.ip(&net.name);
    let reach = |from: &Container| {
        let out = docker_exec_ok(
            from,
            &format!("echo 'GET / HTTP/1.0\r\n' | nc -w 2 {db_ip} 80 | head -c 12"),
        );
        out.starts_with("HTTP/1.")
    };
    assert!(
        reach(&web),
        "before apply, containers on one bridge reach each other"
    );
    dockward(&["firewall", "apply"]);
    assert!(reach(&api), "allow-from lets api reach db");
    assert!(!reach(&web), "isolate keeps web from db");
}

fn docker_exec_ok(c: &Container, script: &str) -> String {
    let out = std::process::Command::new("docker")
        .args(["exec", &c.name, "sh", "-c", script])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A connection from an outside host that stays open: connects, checks an
/// echo, then on each line from the test sends again and reports.
struct HeldConnection {
    child: Child,
    lines: mpsc::Receiver<String>,
}

const HOLD_PY: &str = r#"
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
def ping(b):
    try:
        s.sendall(b)
        d = s.recv(16)
        return "alive" if d == b else "dead"
    except OSError:
        return "dead"
print(ping(b"one\n"), flush=True)
for _ in sys.stdin:
    print(ping(b"two\n"), flush=True)
"#;

impl HeldConnection {
    fn open(from: &OutsideHost, addr: &str, port: u16) -> Self {
        let mut child = std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &from.ns,
                "python3",
                "-c",
                HOLD_PY,
                addr,
                &port.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for l in out.lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        Self { child, lines: rx }
    }

    fn next(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| "dead".into())
    }

    fn ping(&mut self) -> String {
        let _ = self.child.stdin.as_mut().unwrap().write_all(b"go\n");
        let _ = self.child.stdin.as_mut().unwrap().flush();
        self.next()
    }
}

impl Drop for HeldConnection {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn revoking_access_cuts_established_connections() {
    require_engine!();
    let _s = Session::start();
    let a = OutsideHost::new();
    let echo = Container::run(
        "fwecho",
        &["-p", "80", IMAGE, "nc", "-ll", "-p", "80", "-e", "cat"],
    );
    let port = host_port(&echo, "80/tcp");
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("fw.toml");
    let write = |expose: &str| {
        std::fs::write(
            &policy,
            format!(
                "[[container]]\nmatch = {{ name = \"{}\" }}\nexpose = \"{expose}\"\n",
                echo.name
            ),
        )
        .unwrap();
    };
    write("public");
    let p = policy.to_str().unwrap();
    dockward(&["firewall", "apply", "--policy", p]);
    let mut held = HeldConnection::open(&a, &a.host_addr, port);
    assert_eq!(held.next(), "alive", "the connection works while public");
    assert_eq!(held.ping(), "alive");
    write("local");
    let out = dockward(&["firewall", "apply", "--policy", p]);
    assert!(out.contains("1 connection(s) cut"), "{out}");
    assert_eq!(
        held.ping(),
        "dead",
        "the established connection must be cut"
    );
    assert_closed(a.tcp(&a.host_addr, port), "a new connection");
}

#[test]
fn bad_labels_and_files_apply_nothing() {
    require_engine!();
    let _s = Session::start();
    let good = httpd("fwgood", &["-p", "80", "-l", "dockward.expose=public"]);
    dockward(&["firewall", "apply"]);
    let bad = httpd("fwbad", &["-p", "80", "-l", "dockward.expose=10.0.0.300"]);
    // One bad label closes its own container and is reported; everyone
    // else's verdicts go on.
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .args(["firewall", "apply"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "container {}: label dockward.expose=10.0.0.300",
            bad.name
        )) && err.contains("closed until it is fixed"),
        "{err}"
    );
    let table = sh("nft", &["list", "table", "inet", "dockward"]);
    let good_ip = good.ip("bridge");
    let bad_ip = bad.ip("bridge");
    let element = |ip: &str| {
        table
            .lines()
            .find(|l| l.contains(&format!("{ip} . tcp . 80 ")))
            .unwrap_or_default()
            .trim_end_matches([',', ' ', '}'])
            .to_string()
    };
    assert!(element(&good_ip).ends_with(": accept"), "{table}");
    assert!(element(&bad_ip).ends_with(": drop"), "{table}");
    dockward(&["firewall", "apply"]);
    let before = sh("nft", &["list", "table", "inet", "dockward"]);
    drop(bad);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("fw.toml");
    std::fs::write(&f, "default = \"closed\"\n").unwrap();
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .args(["firewall", "apply", "--policy", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("policy file"),
        "{out:?}"
    );
    assert_eq!(sh("nft", &["list", "table", "inet", "dockward"]), before);
    drop(good);
}

/// `watch` as a child process, its stderr lines on a channel.
struct Watcher {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Watcher {
    fn start(extra: &[&str]) -> Self {
        Self::start_env(extra, &[])
    }

    fn start_env(extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dockward"))
            .envs(env.iter().copied())
            .args(["firewall", "watch"])
            .args(if extra.contains(&"--check-interval") {
                &[][..]
            } else {
                &["--check-interval", "200"][..]
            })
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = BufReader::new(child.stderr.take().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for l in err.lines().map_while(Result::ok) {
                eprintln!("[watch] {l}");
                let _ = tx.send(l);
            }
        });
        let w = Self { child, lines: rx };
        w.wait_for("snapshot: applied");
        w
    }

    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
                if l.contains(needle) {
                    return l;
                }
            }
        }
        panic!("watch never said {needle:?}");
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A one-shot apply and no watcher: a container started afterwards has no
/// entry at all. Over IPv4 the DNAT path's fallback closes it; over IPv6
/// docker-proxy's `[::]` listener receives it as a local process, and only
/// the guard on dockerd's cgroup keeps it closed ("no race window"), while
/// a host service on another IPv6 port stays reachable.
#[test]
fn a_container_started_after_apply_is_closed_over_ipv6_without_an_entry() {
    require_engine!();
    let _s = Session::start();
    let a = OutsideHost::new();
    // A host service on IPv6, in the test's own cgroup, not dockerd's.
    let host_service = std::net::TcpListener::bind("[::]:0").unwrap();
    let service_port = host_service.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in host_service.incoming().flatten() {
            let _ = conn.write_all(b"HTTP/1.0 200 OK\r\n\r\nhost service\n");
        }
    });

    dockward(&["firewall", "apply"]);
    let plan = dockward(&["firewall", "plan", "--format", "json"]);
    assert!(
        !plan.contains("docker-proxy's [::] listeners"),
        "the guard needs dockerd in a cgroup of its own (scripts/bench-up.sh starts it so; systemd's docker.service does too): {plan}"
    );
    let rules = sh("nft", &["list", "chain", "inet", "dockward", "input"]);
    assert!(rules.contains("socket cgroupv2"), "{rules}");

    let late = httpd("fwlate6", &["-p", "80", "-l", "dockward.expose=public"]);
    let (p4, p6) = (host_port(&late, "80/tcp"), host_port6(&late, "80/tcp"));
    assert_closed(a.http(&a.host_addr, p4), "a late container over IPv4");
    assert_closed(
        a.http(&a.host_addr6, p6),
        "a late container over IPv6 through docker-proxy, before any entry",
    );
    let from_host = connect_from_host(&format!("[::1]:{p6}"));
    assert!(
        from_host.is_ok(),
        "the host's own [::1] stays open: {from_host:?}"
    );
    assert_open(
        a.http(&a.host_addr6, service_port),
        "a host service on IPv6 is not docker-proxy's",
    );

    // The guard is by cgroup: an IPv6 listener in dockerd's cgroup on a
    // port without an entry is closed like docker-proxy's, except on the
    // ports dockerd's own -H hosts name. 2375 is not one of them here, so a
    // container that publishes it gets no free pass (it used to be exempt
    // by convention).
    let pid = std::fs::read_to_string("/run/docker.pid").unwrap();
    let cg = std::fs::read_to_string(format!("/proc/{}/cgroup", pid.trim())).unwrap();
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let g = dockward_firewall::cgroup::proxy_cgroup(&cg, &mountinfo, &[]).unwrap();
    let procs = format!(
        "{}/{}/cgroup.procs",
        dockward_firewall::cgroup::NFT_CGROUP_ROOT,
        g.path
    );
    let other = free_port();
    let mut inside = std::process::Command::new("sh")
        .args([
            "-c",
            r#"echo $$ > "$1"; exec python3 -c '
import socket, sys, threading
def serve(port):
    s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port)); s.listen()
    while True:
        c, _ = s.accept(); c.sendall(b"HTTP/1.0 200 OK\r\n\r\nin dockerd cgroup\n"); c.close()
for p in sys.argv[1:]: threading.Thread(target=serve, args=(int(p),), daemon=True).start()
threading.Event().wait()
' "$2" "$3""#,
            "sh",
            &procs,
            "2375",
            &other.to_string(),
        ])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let (api, stray) = (a.http(&a.host_addr6, 2375), a.http(&a.host_addr6, other));
    // The listener is dual-stack: over IPv4 too, a socket of dockerd's
    // cgroup that dockerd itself does not hold gets the fallback.
    let stray4 = a.http(&a.host_addr, other);
    let _ = inside.kill();
    let _ = inside.wait();
    assert_closed(
        api,
        "2375 in dockerd's cgroup, which dockerd does not listen on",
    );
    assert_closed(
        stray,
        "another listener in dockerd's cgroup, without an entry",
    );
    assert_closed(stray4, "the same listener over IPv4");

    // The next apply gives it its entry: public, over both.
    dockward(&["firewall", "apply"]);
    assert_open(a.http(&a.host_addr6, p6), "public over IPv6 after apply");
    assert_open(a.http(&a.host_addr, p4), "public over IPv4 after apply");
}

fn poll_open(a: &OutsideHost, port: u16, within: Duration) -> Option<Duration> {
    poll_until(a, port, within, true)
}

/// How long until the port is seen `open` (or closed) from `a`.
fn poll_until(a: &OutsideHost, port: u16, within: Duration, open: bool) -> Option<Duration> {
    let t = Instant::now();
    while t.elapsed() < within {
        if a.tcp(&a.host_addr, port).is_open() == open {
            return Some(t.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

#[test]
fn watch_follows_containers_and_reasserts() {
    require_engine!();
    let _s = Session::start();
    let a = OutsideHost::new();
    let w = Watcher::start(&[]);
    // A container with a bad label (created, never started, no ports)
    // closes only itself: everyone else's updates go on.
    let bad = Container::create("fwbadw", &["-l", "dockward.expose=pubic", IMAGE, "true"]);
    w.wait_for(&format!("container {}", bad.name));

    // A new allowed container opens fast; a new unlabeled one never opens.
    let open = httpd("fwnew", &["-p", "80", "-l", "dockward.expose=public"]);
    let port = host_port(&open, "80/tcp");
    assert!(
        poll_open(&a, port, Duration::from_secs(3)).is_some(),
        "a new public container must open"
    );
    let closed = httpd("fwnewc", &["-p", "80"]);
    let cport = host_port(&closed, "80/tcp");
    for i in 0..3 {
        assert_closed(
            a.tcp(&a.host_addr, cport),
            &format!("a new unlabeled container, probe {i}"),
        );
    }

    // A foreign deletion of dockward's table is repaired.
    sh("nft", &["delete", "table", "inet", "dockward"]);
    w.wait_for("re-assert");
    assert_closed(a.tcp(&a.host_addr, cport), "after the re-assertion");
    assert_open(a.http(&a.host_addr, port), "public after the re-assertion");

    // An element deleted behind its back is repaired too.
    let ip = closed.ip("bridge");
    sh(
        "nft",
        &[
            "delete",
            "element",
            "inet",
            "dockward",
            "pub4",
            &format!("{{ {ip} . tcp . 80 }}"),
        ],
    );
    w.wait_for("re-assert");

    // Removing the container takes its entry out.
    drop(closed);
    let t = Instant::now();
    loop {
        let table = sh("nft", &["list", "map", "inet", "dockward", "pub4"]);
        if !table.contains(&format!("{ip} . tcp . 80")) {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "the removed container's entry stayed: {table}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(w);
}

/// A neighbour's frame to 127.0.0.1 on a host whose link accepts loopback
/// destinations (`route_localnet=1`, as kube-proxy sets it): Docker DNATs
/// it to a container published on 127.0.0.1 only. The container answering
/// shows in conntrack as SYN_RECV; with dockward the SYN never reaches it,
/// even with a `public` label.
#[test]
fn neighbours_cannot_reach_loopback_published_ports() {
    require_engine!();
    let _s = Session::start();
    let a = OutsideHost::new();
    sh(
        "sysctl",
        &[
            "-qw",
            &format!("net.ipv4.conf.{}.route_localnet=1", a.host_if),
        ],
    );
    let c = httpd(
        "fwlocal",
        &["-p", "127.0.0.1::80", "-l", "dockward.expose=public"],
    );
    let port = host_port(&c, "80/tcp").to_string();
    let ours = [
        "-p",
        "tcp",
        "--orig-src",
        &a.addr,
        "--orig-dst",
        "127.0.0.1",
        "--dport",
        &port,
    ];
    let answered = || {
        let out = std::process::Command::new("conntrack")
            .arg("-L")
            .args(ours)
            .output()
            .expect("conntrack is part of the test bench");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (text.contains(&format!("src={} ", c.ip("bridge"))), text)
    };
    let forget = || {
        let _ = std::process::Command::new("conntrack")
            .arg("-D")
            .args(ours)
            .output();
    };
    a.raw_syn("127.0.0.1", host_port(&c, "80/tcp"));
    std::thread::sleep(Duration::from_millis(300));
    let (before, text) = answered();
    assert!(
        before,
        "Docker alone: the container answers (the hole): {text:?}"
    );
    forget();

    dockward(&["firewall", "apply"]);
    a.raw_syn("127.0.0.1", host_port(&c, "80/tcp"));
    std::thread::sleep(Duration::from_millis(300));
    let (after, text) = answered();
    forget();
    assert!(
        !after,
        "with dockward the SYN must not reach the container: {text}"
    );
    let published = sh("nft", &["list", "chain", "inet", "dockward", "published"]);
    assert!(
        !published.contains("127.0.0.0/8 counter packets 0 "),
        "the loopback rule dropped them: {published}"
    );
}

/// Connection attempts from an outside host to `port` on the host's IPv4
/// and IPv6 addresses, as fast as they fail, for `secs`: the lines say
/// which succeeded, and how many were tried.
const HAMMER_PY: &str = r#"
import socket, sys, time
hosts, port, end = sys.argv[1].split(','), int(sys.argv[2]), time.time() + float(sys.argv[3])
tries = 0
while time.time() < end:
    for h in hosts:
        s = socket.socket(socket.AF_INET6 if ':' in h else socket.AF_INET)
        s.settimeout(0.02)
        try:
            s.connect((h, port))
            print("open", h, flush=True)
        except OSError:
            pass
        finally:
            s.close()
            tries += 1
print("tries", tries, flush=True)
"#;

fn hammer(a: &OutsideHost, port: u16, secs: f64) -> Child {
    std::process::Command::new("ip")
        .args(["netns", "exec", &a.ns, "python3", "-c", HAMMER_PY])
        .arg(format!("{},{}", a.host_addr, a.host_addr6))
        .arg(port.to_string())
        .arg(secs.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A free TCP port on both families of the host (a dual-stack `[::]`
/// bind holds it on both, as docker-proxy's listeners will).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("[::]:0").unwrap();
    l.local_addr().unwrap().port()
}

/// "No race window": an outside host hammers a host port before, during
/// and after `docker run` publishes it. An unlabeled container is never
/// reached, over IPv4 or IPv6, not even by the first packets; the same
/// hammer does reach a public one (so it would have seen an opening).
#[test]
fn a_new_containers_first_packets_never_get_through() {
    require_engine!();
    let _s = Session::start();
    let a = OutsideHost::new();
    let w = Watcher::start(&[]);
    let port = free_port();
    let h = hammer(&a, port, 4.0);
    std::thread::sleep(Duration::from_millis(700));
    let c = httpd("fwrace", &["-p", &format!("{port}:80")]);
    let out = String::from_utf8_lossy(&h.wait_with_output().unwrap().stdout).into_owned();
    let tries: u32 = out
        .lines()
        .find_map(|l| l.strip_prefix("tries "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(tries > 40, "the hammer ran: {out}");
    assert!(
        !out.contains("open"),
        "an unlabeled new container was reached: {out}"
    );
    let local = connect_from_host(&format!("127.0.0.1:{port}"));
    assert!(local.is_ok(), "the container does listen: {local:?}");
    drop(c);

    let port = free_port();
    let h = hammer(&a, port, 3.0);
    std::thread::sleep(Duration::from_millis(500));
    let _p = httpd(
        "fwracepub",
        &["-p", &format!("{port}:80"), "-l", "dockward.expose=public"],
    );
    let out = String::from_utf8_lossy(&h.wait_with_output().unwrap().stdout).into_owned();
    assert!(
        out.contains(&format!("open {}", a.host_addr))
            && out.contains(&format!("open {}", a.host_addr6)),
        "the hammer sees a public container open over both: {out}"
    );
    drop(w);
}

/// `watch` on the iptables backend (hosts without nftables): a change
/// re-renders dockward's chains; a foreign flush of them or of the jump is
/// repaired; `status` reads verdicts and counters from `iptables-save -c`.
#[test]
fn watch_on_the_iptables_backend() {
    require_engine!();
    let _s = Session::start();
    let a = OutsideHost::new();
    let w = Watcher::start(&["--backend", "iptables"]);
    assert_ipt_only();
    let open = httpd("iwnew", &["-p", "80", "-l", "dockward.expose=public"]);
    let port = host_port(&open, "80/tcp");
    assert!(
        poll_open(&a, port, Duration::from_secs(5)).is_some(),
        "a new public container must open"
    );
    // The packets counted so far survive the re-renders of the next change
    // (counters are carried over with iptables-restore --counters).
    let closed = httpd("iwnewc", &["-p", "80"]);
    let cport = host_port(&closed, "80/tcp");
    w.wait_for(&format!("container start {}", closed.name));
    assert_closed(a.tcp(&a.host_addr, cport), "a new unlabeled container");

    // status reads the iptables backend: verdicts and counters.
    let status: serde_json::Value =
        serde_json::from_str(&dockward(&["status", "--format", "json"])).unwrap();
    let row = |name: &str| {
        status["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["container"] == name && r["host_address"] == "0.0.0.0")
            .cloned()
            .unwrap_or_else(|| panic!("no row for {name}: {status}"))
    };
    assert_eq!(row(&open.name)["firewall"]["verdict"], "public");
    assert!(row(&open.name)["firewall"]["packets"].as_u64().unwrap() > 0);
    assert_eq!(row(&closed.name)["firewall"]["verdict"], "local only");
    // plan reads the backend in force too: nothing to change.
    let plan: serde_json::Value =
        serde_json::from_str(&dockward(&["firewall", "plan", "--format", "json"])).unwrap();
    assert_eq!(plan["table_present"], true, "{plan}");
    assert_eq!(plan["changes"], 0, "{plan}");

    // A foreign flush of dockward's chain, then of its jump, is repaired.
    sh("iptables", &["-w", "-F", "DOCKWARD-PUB"]);
    w.wait_for("re-assert");
    assert_closed(a.tcp(&a.host_addr, cport), "after the re-assertion");
    sh(
        "iptables",
        &["-w", "-D", "DOCKER-USER", "-j", "DOCKWARD-FWD"],
    );
    w.wait_for("re-assert");
    assert_closed(a.tcp(&a.host_addr, cport), "after the jump is back");
    assert_open(a.http(&a.host_addr, port), "public after the re-assertions");
    let jumps = sh("iptables", &["-w", "-S", "DOCKER-USER"]);
    assert_eq!(jumps.matches("DOCKWARD-FWD").count(), 1, "{jumps}");
    drop(w);
}

/// One backend at a time: forwarded packets are iptables' alone; nftables
/// holds only the docker-proxy guard (an `inet` table without `forward`)
/// and the bridge-port binding, which both backends use.
fn assert_ipt_only() {
    let inet = sh("nft", &["list", "table", "inet", "dockward"]);
    assert!(
        !inet.contains("hook forward") && inet.contains("hook input"),
        "{inet}"
    );
    assert!(sh("nft", &["list", "tables"]).contains("bridge dockward"));
}

/// The private daemon runs with `--iptables=false` (two dockerds must not
/// share Docker's chains), so its published ports are docker-proxy
/// listeners: IPv6 from outside is the packet path proven here, and the
/// table's entries for the containers' new addresses the rest.
#[test]
fn watch_survives_a_dockerd_restart() {
    require_engine!();
    let _s = Session::start();
    let mut d = dockward_testbench::PrivateDaemon::start();
    let a = OutsideHost::new();
    let host = d.host();
    // No registry: the test image comes from the main daemon.
    sh(
        "sh",
        &[
            "-c",
            &format!("docker save {IMAGE} | docker -H {host} load"),
        ],
    );
    let w = Watcher::start(&["--host", &host]);
    let run = |name: &str, labels: &[&str]| {
        let mut args = vec![
            "run",
            "-d",
            "--restart",
            "always",
            "--name",
            name,
            "-p",
            "80",
        ];
        args.extend_from_slice(labels);
        args.extend_from_slice(&[IMAGE, "httpd", "-f", "-p", "80"]);
        d.docker(&args);
    };
    let (pub_name, loc_name) = (
        dockward_testbench::unique("fwrspub"),
        dockward_testbench::unique("fwrsloc"),
    );
    run(&pub_name, &["-l", "dockward.expose=public"]);
    run(&loc_name, &[]);
    let port = |d: &dockward_testbench::PrivateDaemon, name: &str| -> u16 {
        d.docker(&["port", name, "80/tcp"])
            .lines()
            .find(|l| l.starts_with("[::]") || l.starts_with(":::"))
            .expect("an IPv6 binding")
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let check = |d: &dockward_testbench::PrivateDaemon| {
        let (pp, pl) = (port(d, &pub_name), port(d, &loc_name));
        let t = Instant::now();
        while !a.tcp(&a.host_addr6, pp).is_open() {
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "public over IPv6 never opened"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_closed(a.tcp(&a.host_addr6, pl), "local over IPv6");
        let ip = d.docker(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", &pub_name]);
        let map = sh("nft", &["list", "map", "inet", "dockward", "pub4"]);
        assert!(map.contains(&format!("{} . tcp . 80", ip.trim())), "{map}");
    };
    check(&d);
    d.restart();
    w.wait_for("snapshot: applied");
    check(&d);
}

/// Restores ufw and the builtin chain policies ufw changes, whatever happens.
struct UfwGuard {
    policies: Vec<(&'static str, String, String)>,
}

impl UfwGuard {
    fn enable() -> Self {
        let mut policies = Vec::new();
        for tool in ["iptables", "ip6tables"] {
            for chain in ["INPUT", "FORWARD", "OUTPUT"] {
                let rules = sh(tool, &["-S", chain]);
                let policy = rules
                    .lines()
                    .next()
                    .and_then(|l| l.split_whitespace().nth(2))
                    .unwrap_or("ACCEPT")
                    .to_string();
                policies.push((tool, chain.to_string(), policy));
            }
        }
        let g = Self { policies };
        // Allow incoming so that the machine's own access is never cut; the
        // rule below proves ufw still filters the host's ports.
        sh("ufw", &["default", "allow", "incoming"]);
        sh("ufw", &["--force", "enable"]);
        g
    }
}

impl Drop for UfwGuard {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ufw")
            .args(["--force", "disable"])
            .output();
        let _ = std::process::Command::new("ufw")
            .args(["default", "deny", "incoming"])
            .output();
        for (tool, chain, policy) in &self.policies {
            let _ = std::process::Command::new(tool)
                .args(["-P", chain, policy])
                .output();
        }
    }
}

#[test]
fn coexists_with_ufw() {
    require_engine!();
    let have_ufw = std::process::Command::new("ufw")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_ufw {
        assert!(
            !dockward_testbench::live_required(),
            "ufw is part of the test bench (scripts/bench-up.sh installs it)"
        );
        return;
    }
    let _s = Session::start();
    let _ufw = UfwGuard::enable();
    let a = OutsideHost::new();
    // A host service that ufw denies: ufw keeps working for the host.
    let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let host_port_denied = listener.local_addr().unwrap().port();
    let rule = format!("{host_port_denied}/tcp");
    sh("ufw", &["deny", &rule]);
    let public = httpd("fwufwpub", &["-p", "80", "-l", "dockward.expose=public"]);
    let plain = httpd("fwufwplain", &["-p", "80"]);
    let (pp, pl) = (host_port(&public, "80/tcp"), host_port(&plain, "80/tcp"));
    // Docker alone, with ufw on: the published port is open anyway.
    assert_open(a.http(&a.host_addr, pl), "ufw does not see published ports");
    dockward(&["firewall", "apply"]);
    assert_open(a.http(&a.host_addr, pp), "public with ufw on");
    assert_closed(a.http(&a.host_addr, pl), "unlabeled with ufw on");
    let pl6 = host_port6(&plain, "80/tcp");
    assert_closed(
        a.http(&a.host_addr6, pl6),
        "unlabeled over IPv6 with ufw on",
    );
    assert_ne!(
        a.tcp(&a.host_addr, host_port_denied),
        Probe::Open(String::new()),
        "ufw still filters the host's own ports"
    );
    let _ = std::process::Command::new("ufw")
        .args(["delete", "deny", &rule])
        .output();
    drop(listener);
}

/// The iptables backend (hosts without nftables): the same verdicts with
/// real packets, through dockward's own chains entered from DOCKER-USER and
/// INPUT; Docker's rules untouched; re-apply does not stack jumps; remove
/// gives Docker's behaviour back.
#[test]
fn iptables_backend_closes_the_same_holes() {
    require_engine!();
    let _s = Session::start();
    let a = OutsideHost::new();
    let b = OutsideHost::new();
    let public = httpd("ipub", &["-p", "80", "-l", "dockward.expose=public"]);
    let plain = httpd("iplain", &["-p", "80"]);
    let cidr = httpd(
        "icidr",
        &["-p", "80", "-l", &format!("dockward.expose={}/32", a.addr)],
    );
    let (pp, pl, pc) = (
        host_port(&public, "80/tcp"),
        host_port(&plain, "80/tcp"),
        host_port(&cidr, "80/tcp"),
    );
    let pl6 = host_port6(&plain, "80/tcp");
    let plain_ip = plain.ip("bridge");
    a.route_via_host("172.16.0.0/12");
    assert_open(a.http(&a.host_addr, pl), "unlabeled before apply");
    let docker_user_before = sh("iptables", &["-S", "DOCKER-USER"]);

    let out = dockward(&["firewall", "apply", "--backend", "iptables"]);
    assert!(out.contains("(iptables backend)"), "{out}");
    assert_ipt_only();
    assert_open(a.http(&a.host_addr, pp), "public");
    assert_closed(a.http(&a.host_addr, pl), "unlabeled (default local)");
    assert_open(a.http(&a.host_addr, pc), "CIDR-allowed host");
    assert_closed(b.http(&b.host_addr, pc), "host outside the CIDR");
    assert_closed(
        a.http(&plain_ip, 80),
        "direct routing to the container address",
    );
    assert_closed(
        a.http(&a.host_addr6, pl6),
        "unlabeled over IPv6 through docker-proxy",
    );
    let from_host = connect_from_host(&format!("127.0.0.1:{pl}"));
    assert!(
        from_host.is_ok(),
        "the host's own loopback must stay open: {from_host:?}"
    );

    // Re-apply: one jump, Docker's own rules in DOCKER-USER still there.
    dockward(&["firewall", "apply", "--backend", "iptables"]);
    let du = sh("iptables", &["-S", "DOCKER-USER"]);
    assert_eq!(du.matches("-j DOCKWARD-FWD").count(), 1, "{du}");
    for line in docker_user_before.lines() {
        assert!(du.contains(line), "Docker's rule {line:?} is gone: {du}");
    }

    dockward(&["firewall", "remove"]);
    assert!(
        !sh("iptables", &["-S"]).contains("DOCKWARD"),
        "chains left behind"
    );
    assert!(
        !sh("ip6tables", &["-S"]).contains("DOCKWARD"),
        "IPv6 chains left behind"
    );
    assert_eq!(sh("iptables", &["-S", "DOCKER-USER"]), docker_user_before);
    assert_open(a.http(&a.host_addr, pl), "Docker's behaviour is back");
}

/// Segments conntrack calls invalid (a SYN-ACK or a FIN-ACK outside any
/// connection), sent straight to a closed container's address: with
/// Docker alone its per-port accept lets them through and the container
/// answers with a reset, revealing it is alive; with dockward, on either
/// backend, they are dropped.
#[test]
fn invalid_segments_never_reach_a_closed_container() {
    require_engine!();
    let _s = Session::start();
    let a = OutsideHost::new();
    let c = httpd("finv", &["-p", "80", "-l", "dockward.expose=deny"]);
    let ip = c.ip("bridge");
    let reaches = |flags: u8| a.raw_segment_answered(&ip, 80, flags);
    assert!(
        reaches(0x12),
        "Docker alone: a stray SYN-ACK reaches the container (the hole)"
    );
    for backend in ["nft", "iptables"] {
        dockward(&["firewall", "apply", "--backend", backend]);
        for (flags, what) in [(0x12u8, "SYN-ACK"), (0x11, "FIN-ACK")] {
            assert!(!reaches(flags), "{backend}: a stray {what} reached it");
        }
        dockward(&["firewall", "remove"]);
    }
}

/// The number in watch's "re-asserted N ms after the change was seen".
fn reasserted_ms(line: &str) -> f64 {
    line.split("re-asserted ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no latency in {line:?}"))
}

fn signal(child: &Child, sig: &str) {
    sh("kill", &[sig, &child.id().to_string()]);
}

/// Flows that the rules refuse are cut by `apply`, whatever let them in:
/// here, Docker itself, before dockward was there (a connection routed
/// straight to the container's address, and one through the published
/// port of a container that is local only).
#[test]
fn apply_cuts_every_flow_the_rules_refuse_direct_routing_included() {
    require_engine!();
    let _s = Session::start();
    let a = OutsideHost::new();
    let echo = Container::run(
        "fwsweep",
        &["-p", "80", IMAGE, "nc", "-ll", "-p", "80", "-e", "cat"],
    );
    let port = host_port(&echo, "80/tcp");
    let ip = echo.ip("bridge");
    a.route_via_host(&format!("{ip}/32"));
    let mut direct = HeldConnection::open(&a, &ip, 80);
    assert_eq!(
        direct.next(),
        "alive",
        "Docker alone lets direct routing in"
    );
    let mut dnat = HeldConnection::open(&a, &a.host_addr, port);
    assert_eq!(dnat.next(), "alive", "and the published port");
    let out = dockward(&["firewall", "apply"]);
    assert!(out.contains("2 connection(s) cut"), "{out}");
    assert_eq!(direct.ping(), "dead", "the direct-routed flow must be cut");
    assert_eq!(dnat.ping(), "dead", "the published-port flow must be cut");
    assert_closed(a.tcp(&ip, 80), "a new direct-routed connection");
}

/// A third party changes part of dockward's table: `watch` hears it from
/// the kernel (its periodic check is an hour away here), puts the rules
/// back, and cuts what got in meanwhile; `status` says it happened.
#[test]
fn tampering_is_seen_at_once_repaired_and_what_got_in_is_cut() {
    require_engine!();
    let _s = Session::start();
    let a = OutsideHost::new();
    let echo = Container::run(
        "fwtamper",
        &["-p", "80", IMAGE, "nc", "-ll", "-p", "80", "-e", "cat"],
    );
    let port = host_port(&echo, "80/tcp");
    let ip = echo.ip("bridge");
    a.route_via_host(&format!("{ip}/32"));
    let w = Watcher::start(&["--check-interval", "3600000"]);
    assert_closed(a.tcp(&ip, 80), "direct routing under watch");
    let tampering: Vec<(&str, String)> = vec![
        (
            "the forward chain flushed",
            "flush chain inet dockward forward".into(),
        ),
        (
            "the bridges set emptied",
            "flush set inet dockward bridges".into(),
        ),
        (
            "the local_only chain flushed",
            "flush chain inet dockward local_only".into(),
        ),
        (
            "the published chain flushed",
            "flush chain inet dockward published".into(),
        ),
        (
            "the input chain flushed",
            "flush chain inet dockward input".into(),
        ),
        (
            "a rule added",
            "insert rule inet dockward forward accept".into(),
        ),
        (
            "an accept added to the port map",
            format!("add element inet dockward pub4 {{ {ip} . tcp . 81 : accept }}"),
        ),
        (
            "an isolation pair added",
            format!("add element inet dockward allow4 {{ 10.99.0.2 . {ip} }}"),
        ),
    ];
    for (what, cmd) in tampering {
        let args: Vec<&str> = cmd.split(' ').collect();
        sh("nft", &args);
        let line = w.wait_for("re-asserted");
        eprintln!("{what}: {}", reasserted_ms(&line));
        assert_closed(a.tcp(&ip, 80), &format!("direct routing after {what}"));
        assert_closed(
            a.tcp(&a.host_addr, port),
            &format!("the local-only port after {what}"),
        );
    }
    // A flow opened in the window (held open here by pausing watch) is
    // cut once the rules are back.
    signal(&w.child, "-STOP");
    sh("nft", &["flush", "chain", "inet", "dockward", "forward"]);
    let mut held = HeldConnection::open(&a, &ip, 80);
    assert_eq!(held.next(), "alive", "the window is open");
    signal(&w.child, "-CONT");
    w.wait_for("re-asserted");
    assert_eq!(held.ping(), "dead", "the flow opened meanwhile must be cut");
    let status: serde_json::Value =
        serde_json::from_str(&dockward(&["status", "--format", "json"])).unwrap();
    assert!(
        status["last_tamper"]["what"]
            .as_str()
            .is_some_and(|w| !w.is_empty()),
        "{status}"
    );
    assert!(
        status["notes"][0]
            .as_str()
            .unwrap_or_default()
            .contains("someone else changed"),
        "{status}"
    );
    drop(w);
}

/// The same on the iptables backend (iptables-nft announces its changes
/// through nf_tables too): dockward's chains flushed, the jump into them
/// deleted.
#[test]
fn tampering_on_the_iptables_backend_is_seen_at_once() {
    require_engine!();
    let _s = Session::start();
    let a = OutsideHost::new();
    let closed = httpd("iwtamper", &["-p", "80"]);
    let cport = host_port(&closed, "80/tcp");
    let w = Watcher::start(&["--backend", "iptables", "--check-interval", "3600000"]);
    assert_closed(a.tcp(&a.host_addr, cport), "local only under watch");
    for (what, args) in [
        ("DOCKWARD-FWD flushed", vec!["-w", "-F", "DOCKWARD-FWD"]),
        ("DOCKWARD-LOCAL flushed", vec!["-w", "-F", "DOCKWARD-LOCAL"]),
        (
            "the jump deleted",
            vec!["-w", "-D", "DOCKER-USER", "-j", "DOCKWARD-FWD"],
        ),
    ] {
        sh("iptables", &args);
        let line = w.wait_for("re-asserted");
        eprintln!("iptables, {what}: {}", reasserted_ms(&line));
        assert_closed(
            a.tcp(&a.host_addr, cport),
            &format!("the local-only port after {what}"),
        );
    }
    drop(w);
}

/// Bridge names Docker accepts but the old rules mangled (`a"b`, `x\y+`):
/// isolation holds on both, and direct routing is closed, with `apply` and
/// under `watch`; a network
/// created after a one-shot apply is closed to direct routing too, while
/// its published ports follow the fallback.
#[test]
fn hostile_bridge_names_and_networks_created_after_apply_stay_closed() {
    require_engine!();
    hostile_names_on(BACKENDS[0]);
}

/// The same doors, on the iptables backend.
#[test]
fn hostile_bridge_names_on_the_iptables_backend() {
    require_engine!();
    hostile_names_on(BACKENDS[1]);
}

fn hostile_names_on(backend: &[&str]) {
    let _s = Session::start();
    let a = OutsideHost::new();
    let tag = format!("{:04x}", std::process::id() % 0x10000);
    for (bridge, subnet) in [
        (format!("dw\"{tag}"), "172.29.1.0/24"),
        (format!("dw\\{tag}+"), "172.29.2.0/24"),
    ] {
        let net = Network::create(
            "fwhn",
            &[
                "--subnet",
                subnet,
                "-o",
                &format!("com.docker.network.bridge.name={bridge}"),
                "--label",
                "dockward.isolate=true",
            ],
        );
        let web = Container::run("fwhnw", &["--network", &net.name, IMAGE, "sleep", "600"]);
        let db = httpd("fwhnd", &["--network", &net.name, "-p", "80"]);
        let db_ip = db.ip(&net.name);
        a.route_via_host(subnet);
        let reach = || {
            docker_exec_ok(
                &web,
                &format!("echo 'GET / HTTP/1.0\r\n' | nc -w 2 {db_ip} 80 | head -c 12"),
            )
            .starts_with("HTTP/1.")
        };
        assert!(
            reach(),
            "{bridge:?}: neighbours reach each other before apply"
        );
        assert_open(
            a.http(&db_ip, 80),
            &format!("{bridge:?}: direct routing before apply"),
        );
        apply_on(backend);
        assert!(!reach(), "{bridge:?}: isolation must hold");
        assert_closed(a.tcp(&db_ip, 80), &format!("{bridge:?}: direct routing"));
        dockward(&["firewall", "remove"]);
        let w = Watcher::start(backend);
        assert!(!reach(), "{bridge:?}: isolation must hold under watch");
        assert_closed(
            a.tcp(&db_ip, 80),
            &format!("{bridge:?}: direct routing under watch"),
        );
        drop(w);
        dockward(&["firewall", "remove"]);
    }
    // A network Docker creates after the apply (and its container).
    apply_on(backend);
    let late = Network::create("fwlate", &["--subnet", "172.29.3.0/24"]);
    let db = httpd("fwlated", &["--network", &late.name, "-p", "80"]);
    let db_ip = db.ip(&late.name);
    a.route_via_host("172.29.3.0/24");
    assert_closed(
        a.tcp(&db_ip, 80),
        "direct routing to a network created after apply",
    );
    assert_closed(
        a.tcp(&a.host_addr, host_port(&db, "80/tcp")),
        "its published port gets the fallback",
    );
}

/// What reaches docker-proxy's IPv4 listeners without Docker's DNAT gets
/// the published port's verdict: a container connecting to its gateway
/// (Docker never DNATs traffic from its own bridges, so docker-proxy
/// relays it, and an isolated or `deny` container is reached from the
/// host), and a neighbour's UDP broadcast (docker-proxy relays it to the
/// container: seen in conntrack as docker-proxy's flow to the container).
#[test]
fn docker_proxy_ipv4_doors_get_the_ports_verdict() {
    require_engine!();
    let _s = Session::start();
    let a = OutsideHost::new();
    let denied = httpd(
        "fwp4d",
        &["-p", "80", "-p", "5353/udp", "-l", "dockward.expose=deny"],
    );
    let public = httpd("fwp4p", &["-p", "80", "-l", "dockward.expose=public"]);
    let client = Container::run("fwp4c", &[IMAGE, "sleep", "600"]);
    // The gateway as the container routes to it (the network's IPAM
    // config names none when dockerd chose it: its first address).
    let gw = docker_exec_ok(&client, "ip route | awk '/^default/ {print $3}'")
        .trim()
        .to_string();
    assert!(gw.parse::<std::net::Ipv4Addr>().is_ok(), "gateway {gw:?}");
    let (dport, pport) = (host_port(&denied, "80/tcp"), host_port(&public, "80/tcp"));
    let uport = host_port(&denied, "5353/udp");
    let target = denied.ip("bridge");
    let reach = |port: u16| {
        docker_exec_ok(
            &client,
            &format!("echo 'GET / HTTP/1.0\r\n' | nc -w 2 {gw} {port} | head -c 12"),
        )
        .starts_with("HTTP/1.")
    };
    // The /30 of the outside host: its broadcast is one above its address.
    let (net, last) = a.addr.rsplit_once('.').unwrap();
    let broadcast = format!("{net}.{}", last.parse::<u8>().unwrap() + 1);
    // A broadcast, and a multicast to all hosts (224.0.0.1, a group every
    // host has joined, so a socket bound to 0.0.0.0 receives it).
    let relayed_to = |dst: &str| {
        let _ = std::process::Command::new("conntrack")
            .args(["-D", "-p", "udp", "--orig-dst", &target])
            .output();
        sh(
            "ip",
            &[
                "netns",
                "exec",
                &a.ns,
                "python3",
                "-c",
                "import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1)\ns.sendto(b'x',(sys.argv[1],int(sys.argv[2])))",
                dst,
                &uport.to_string(),
            ],
        );
        std::thread::sleep(Duration::from_millis(300));
        let out = std::process::Command::new("conntrack")
            .args(["-L", "-p", "udp", "--orig-dst", &target, "--dport", "5353"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).contains("dport=5353")
    };
    let relayed = || relayed_to(&broadcast) || relayed_to("224.0.0.1");
    // (httpd may still be starting: `docker run -d` returns before it
    // listens, and docker-proxy then closes the relayed connection.)
    assert!(
        (0..10).any(|_| reach(dport) || {
            std::thread::sleep(Duration::from_millis(300));
            false
        }),
        "before apply, a container reaches a deny port through its gateway"
    );
    assert!(
        relayed_to(&broadcast),
        "before apply, docker-proxy relays a broadcast to a deny port"
    );
    assert!(
        relayed_to("224.0.0.1"),
        "before apply, docker-proxy relays a multicast to a deny port"
    );
    let holds = |what: &str| {
        assert!(!reach(dport), "{what}: a deny port through the gateway");
        assert!(reach(pport), "{what}: a public port through the gateway");
        assert!(
            !relayed(),
            "{what}: a broadcast or multicast to a deny UDP port"
        );
    };
    for backend in BACKENDS {
        apply_on(backend);
        holds(&format!("apply {backend:?}"));
    }
    for backend in BACKENDS {
        dockward(&["firewall", "remove"]);
        let _w = Watcher::start(backend);
        holds(&format!("watch {backend:?}"));
    }
}

/// `dockward firewall <verb> …` with its exit code and both streams.
fn edit(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .arg("firewall")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn poll_closed(a: &OutsideHost, port: u16, within: Duration) -> bool {
    poll_until(a, port, within, false).is_some()
}

/// ufw-docker's `allow web 80 from …`, without recreating the container:
/// the policy file is edited (comments kept), the change is applied, and
/// only the allowed outside host gets in; then the same through a running
/// watch, which is reloaded and not undone.
#[test]
fn allow_deny_reset_edit_the_policy_and_take_effect_without_recreating() {
    require_engine!();
    let _s = Session::start();
    let a = OutsideHost::new();
    let b = OutsideHost::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fw.toml");
    std::fs::write(&file, "# ours\ndefault = \"local\"   # keep\n").unwrap();
    let f = file.to_str().unwrap();
    let web = httpd("fwedit", &["-p", "80"]);
    let port = host_port(&web, "80/tcp");
    let id = web.id.clone();
    dockward(&["firewall", "apply", "--policy", f]);
    assert!(!a.tcp(&a.host_addr, port).is_open(), "local by default");

    let from = format!("{}/32", a.addr);
    let (code, out, err) = edit(&["allow", &web.name, "80", "from", &from, "--policy", f]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!(
            "{} 80/tcp: local only -> local + from {from}",
            web.name
        )),
        "{out}"
    );
    assert!(
        a.tcp(&a.host_addr, port).is_open(),
        "the allowed host gets in"
    );
    assert!(!b.tcp(&b.host_addr, port).is_open(), "another does not");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# ours\ndefault = \"local\"   # keep\n"),
        "{text}"
    );
    let (_, rules, _) = edit(&["rules", "--policy", f]);
    assert!(
        rules.contains(&format!("name={}", web.name)) && rules.contains(&from),
        "{rules}"
    );

    // --dry-run writes and applies nothing.
    let (code, out, _) = edit(&["deny", &web.name, "--policy", f, "--dry-run"]);
    assert_eq!(code, 0);
    assert!(out.contains("nothing written"), "{out}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    assert!(a.tcp(&a.host_addr, port).is_open());

    // A bad CIDR: exit 2, the file untouched.
    let (code, _, err) = edit(&[
        "allow",
        &web.name,
        "80",
        "from",
        "10.0.0.300",
        "--policy",
        f,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("10.0.0.300"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);

    // Under a watch: the edit is reloaded by it, and it does not undo it.
    let w = Watcher::start(&["--policy", f]);
    let (code, out, err) = edit(&["allow", &web.name, "--policy", f]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("applied by the running firewall watch"),
        "{out}"
    );
    w.wait_for("policy reloaded");
    assert!(b.tcp(&b.host_addr, port).is_open(), "public now");
    let (code, _, err) = edit(&["reset", &web.name, "--policy", f]);
    assert_eq!(code, 0, "{err}");
    assert!(
        poll_closed(&b, port, Duration::from_secs(3)),
        "back to local"
    );
    assert!(
        !a.tcp(&a.host_addr, port).is_open(),
        "the port rule went too"
    );
    // A watch on another file would undo an edit of this one: refused.
    let other = dir.path().join("other.toml");
    let (code, _, err) = edit(&["allow", &web.name, "--policy", other.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("would undo this change"), "{err}");
    assert!(!other.exists(), "put back: it did not exist");
    assert!(!b.tcp(&b.host_addr, port).is_open());
    // Not recreated at any point.
    assert_eq!(docker(&["inspect", "-f", "{{.Id}}", &web.name]).trim(), id);
}

/// A webhook receiver on loopback: plain HTTP, or HTTPS through Python's
/// ssl with a certificate from a CA of the test's own. Each POST body is a
/// line of `log`.
struct Receiver {
    child: Child,
    url: String,
    log: std::path::PathBuf,
}

const RECEIVER_PY: &str = r#"
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get('Content-Length', 0))
        body = self.rfile.read(n).replace(b'\n', b' ')
        title = (self.headers.get('Title') or '').encode()
        with open(sys.argv[1], 'ab') as f:
            f.write(title + b' ' + body + b'\n')
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
if len(sys.argv) > 2:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    s.socket = ctx.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

impl Receiver {
    fn start(dir: &std::path::Path, name: &str, tls: Option<(&str, &str)>) -> Self {
        let log = dir.join(format!("{name}.log"));
        std::fs::write(&log, "").unwrap();
        let mut cmd = std::process::Command::new("python3");
        cmd.arg("-c").arg(RECEIVER_PY).arg(&log);
        if let Some((cert, key)) = tls {
            cmd.arg(cert).arg(key);
        }
        let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line.trim().parse().expect("the receiver's port");
        let scheme = if tls.is_some() { "https" } else { "http" };
        Self {
            child,
            url: format!("{scheme}://127.0.0.1:{port}/hook?token=s3cr3t"),
            log,
        }
    }

    /// Waits for a received body that holds every one of `needles`.
    fn wait_for(&self, needles: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            if let Some(l) = text.lines().find(|l| needles.iter().all(|n| l.contains(n))) {
                return l.to_string();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "{} never got {needles:?}; got: {}",
            self.url,
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA and a server certificate for 127.0.0.1 in `d`: (ca, cert, key).
fn loopback_tls(d: &std::path::Path) -> (String, String, String) {
    dockward_testbench::tls::ca(d, "dwt-alert-ca");
    dockward_testbench::tls::signed(
        d,
        "srv",
        "dwt-alert",
        "subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n",
    );
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    (p("ca.pem"), p("srv.pem"), p("srv-key.pem"))
}

/// `watch --notify-*`: a port made public, a socket mount, a privileged
/// container and a flushed table each reach a plain webhook, an https one
/// (ntfy's format, the system's CA store replaced by SSL_CERT_FILE) and a
/// command; an unlabeled port, kept local, does not.
#[test]
fn watch_alerts_reach_webhooks_and_commands() {
    require_engine!();
    let _s = Session::start();
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = loopback_tls(dir.path());
    let plain = Receiver::start(dir.path(), "plain", None);
    let tls = Receiver::start(dir.path(), "tls", Some((&cert, &key)));
    let cmd_log = dir.path().join("cmd.log");
    let cmd = format!("cat >> {}", cmd_log.display());
    let w = Watcher::start_env(
        &[
            "--notify-url",
            &plain.url,
            "--notify-url",
            &tls.url,
            "--notify-format",
            "ntfy",
            "--notify-command",
            &cmd,
        ],
        &[("SSL_CERT_FILE", &ca)],
    );
    // An unlabeled port first: local, so no alert for it (events are
    // handled in order: once the next one's alert is in, it was judged).
    let quiet = httpd("fwquiet", &["-p", "80"]);
    let open = httpd("fwloud", &["-p", "80", "-l", "dockward.expose=public"]);
    plain.wait_for(&[
        "port-public",
        &open.name,
        "80/tcp is now reachable from anywhere",
    ]);
    tls.wait_for(&["port-public", &open.name]);
    let sock = Container::run(
        "fwsock",
        &[
            "-v",
            "/var/run/docker.sock:/var/run/docker.sock:ro",
            IMAGE,
            "sleep",
            "600",
        ],
    );
    plain.wait_for(&["socket-mount", &sock.name]);
    let privileged = Container::create("fwpriv", &["--privileged", IMAGE, "true"]);
    plain.wait_for(&["privileged", &privileged.name]);
    sh("nft", &["delete", "table", "inet", "dockward"]);
    plain.wait_for(&["firewall-tampered"]);
    tls.wait_for(&["firewall-tampered"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let got = loop {
        let got = std::fs::read_to_string(&cmd_log).unwrap_or_default();
        if got.lines().count() >= 4 || Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    for kind in [
        "port-public",
        "socket-mount",
        "privileged",
        "firewall-tampered",
    ] {
        assert!(
            got.contains(&format!("\"kind\":\"{kind}\"")),
            "command log lacks {kind}: {got}"
        );
    }
    let all = std::fs::read_to_string(&plain.log).unwrap();
    assert!(
        !all.contains(&quiet.name),
        "a local port is no alert: {all}"
    );
    assert_eq!(all.matches("port-public").count(), 1, "once: {all}");
    drop(w);
    // A bad URL is refused before anything runs.
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .args(["firewall", "watch", "--notify-url", "ftp://x/y"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only http and https"));
}
