//! `dockward status` against the real engine, with real packets from an
//! outside host proving what the report claims.

use assert_cmd::Command;
use dockward_testbench::{
    self as bench, docker, require_engine, Container, Network, OutsideHost, IMAGE,
};
use serde_json::Value;

fn status_json() -> Value {
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .args(["status", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "status failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("status JSON parses")
}

fn rows<'a>(v: &'a Value, container: &str) -> Vec<&'a Value> {
    v["ports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["container"] == container)
        .collect()
}

fn host_port(c: &Container, spec: &str) -> u16 {
    // `docker port NAME 80/tcp` → "0.0.0.0:49153" (and "[::]:49153")
    let out = docker(&["port", &c.name, spec]);
    let first = out.lines().next().expect("a binding");
    first
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .expect("port number")
}

#[test]
fn status_reports_every_kind_of_binding_and_icc() {
    require_engine!();
    let noicc = Network::create(
        "noicc",
        &["--opt", "com.docker.network.bridge.enable_icc=false"],
    );
    let public = Container::run("public", &["-p", "80", IMAGE, "httpd", "-f", "-p", "80"]);
    let local = Container::run(
        "local",
        &["-p", "127.0.0.1::80", IMAGE, "httpd", "-f", "-p", "80"],
    );
    let udp = Container::run("udp", &["-p", "0.0.0.0::53/udp", IMAGE, "sleep", "600"]);
    let stopped_port = 20000 + (std::process::id() % 20000) as u16;
    let stopped = Container::create(
        "stopped",
        &[
            "--network",
            &noicc.name,
            "-p",
            &format!("{stopped_port}:8080"),
            IMAGE,
            "httpd",
            "-f",
            "-p",
            "8080",
        ],
    );

    let public_port = host_port(&public, "80/tcp");
    let local_port = host_port(&local, "80/tcp");
    let udp_port = host_port(&udp, "53/udp");

    let v = status_json();
    assert_eq!(v["schema"], "dockward.status/v1");

    // 0.0.0.0: an IPv4 row on all interfaces, and the [::] row docker-proxy adds.
    let p = rows(&v, &public.name);
    let v4 = p
        .iter()
        .find(|r| r["ip_version"] == "ipv4")
        .expect("ipv4 row");
    assert_eq!(v4["host_address"], "0.0.0.0");
    assert_eq!(v4["host_port"], public_port);
    assert_eq!(v4["container_port"], 80);
    assert_eq!(v4["protocol"], "tcp");
    assert_eq!(v4["exposure"], "all-interfaces");
    assert_eq!(v4["state"], "running");
    assert_eq!(v4["networks"], serde_json::json!(["bridge"]));
    // No address given: docker-proxy also listens on [::].
    let v6row = p
        .iter()
        .find(|r| r["ip_version"] == "ipv6")
        .expect("ipv6 row");
    assert_eq!(v6row["host_address"], "::");
    assert_eq!(v6row["exposure"], "all-interfaces-ipv6");

    // 127.0.0.1: loopback only, one row.
    let l = rows(&v, &local.name);
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0]["host_address"], "127.0.0.1");
    assert_eq!(l[0]["host_port"], local_port);
    assert_eq!(l[0]["exposure"], "loopback");
    assert_eq!(l[0]["reachable_from"], "this host only");

    // UDP.
    let u = rows(&v, &udp.name);
    let u4 = u
        .iter()
        .find(|r| r["ip_version"] == "ipv4")
        .expect("udp row");
    assert_eq!(u4["protocol"], "udp");
    assert_eq!(u4["host_port"], udp_port);
    assert_eq!(u4["container_port"], 53);

    // Stopped: what it will publish when started, on the icc-off network.
    let s = rows(&v, &stopped.name);
    assert!(!s.is_empty(), "stopped container's port missing");
    assert!(s.iter().all(|r| r["state"] == "stopped"));
    let s4 = s.iter().find(|r| r["ip_version"] == "ipv4").unwrap();
    assert_eq!(s4["host_port"], stopped_port);
    assert_eq!(s4["container_port"], 8080);
    assert_eq!(s4["exposure"], "all-interfaces");
    assert_eq!(s4["networks"], serde_json::json!([noicc.name]));

    // icc: off on ours, on for the default bridge.
    let nets = v["networks"].as_array().unwrap();
    let n = nets
        .iter()
        .find(|n| n["name"] == noicc.name.as_str())
        .expect("network listed");
    assert_eq!(n["icc"], false);
    assert_eq!(n["containers"], serde_json::json!([stopped.name]));
    let b = nets.iter().find(|n| n["name"] == "bridge").unwrap();
    assert_eq!(b["icc"], true);

    // The claims hold for real packets from a neighbour: the all-interfaces
    // port answers, the loopback one does not.
    let outside = OutsideHost::new();
    let open = outside.http(&outside.host_addr, public_port);
    assert!(
        matches!(&open, bench::Probe::Open(line) if line.starts_with("HTTP/")),
        "{open:?}"
    );
    let closed = outside.http(&outside.host_addr, local_port);
    assert!(
        !closed.is_open(),
        "loopback-only port answered from outside: {closed:?}"
    );
    // And the [::] row is real: docker-proxy relays IPv6 to the container.
    // (Docker 20.10 picks a different random port for the [::] side.)
    let v6_port = v6row["host_port"].as_u64().unwrap() as u16;
    let v6 = outside.http(&outside.host_addr6, v6_port);
    assert!(v6.is_open(), "IPv6 via docker-proxy: {v6:?}");
}

#[test]
fn status_text_is_a_table_without_colour_when_piped() {
    require_engine!();
    let c = Container::run(
        "text",
        &["-p", "127.0.0.1::80", IMAGE, "httpd", "-f", "-p", "80"],
    );
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .arg("status")
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(!s.contains('\u{1b}'), "colour codes on a pipe");
    let line = s
        .lines()
        .find(|l| l.contains(&c.name))
        .expect("row for our container");
    assert!(line.contains("127.0.0.1:"), "{line}");
    assert!(line.contains("this host"), "{line}");
    assert!(s.contains("Networks"));
    for l in s.lines() {
        assert!(
            l.chars().count() <= 80,
            "compact by default on a pipe: {l:?}"
        );
    }
    // --wide: every column, the exposure in full words.
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .args(["status", "--wide"])
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    let line = s.lines().find(|l| l.contains(&c.name)).expect("row");
    assert!(
        line.contains("loopback only") && line.contains("running"),
        "{line}"
    );
}
