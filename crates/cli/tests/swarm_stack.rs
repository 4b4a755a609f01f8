//! `contrib/swarm/stack.yml`, deployed by Swarm itself on a three-node
//! bench with the images `scripts/package.sh` builds, enforcing: service
//! ports by their labels on every node, the cluster ports for the nodes
//! only. It needs those images, so `scripts/package-check.sh` runs it
//! after building them (`cargo test --test swarm_stack -- --ignored`);
//! the rest of the suite does not wait for a release build.
//!
//! The stack file is deployed as shipped. Each bench node's dockerd keeps
//! its socket and its swarm certificates in a directory of its own, not at
//! Docker's paths, so the stack's `DOCKER_SOCKET` and `SWARM_CERTIFICATES`
//! name them through `{{.Node.ID}}`, which Swarm expands in mount sources.

use dockward_testbench::{require_engine, tcp_answers, SwarmBench, IMAGE};
use std::time::Duration;

const VERSION: &str = env!("CARGO_PKG_VERSION");

#[test]
#[ignore = "needs the images scripts/package.sh builds: scripts/package-check.sh runs it"]
fn the_stack_file_deploys_and_enforces_on_every_node() {
    require_engine!();
    let firewall = format!("dockward-firewall:{VERSION}");
    let proxy = format!("dockward-proxy:{VERSION}");
    let mut bench = SwarmBench::start(3);
    let outsider = bench.outsider();
    bench.load_images(&[&firewall, &proxy]);
    // Where each node's socket and certificates are, by node id.
    let links = tempfile::Builder::new()
        .prefix("dwt-stack")
        .tempdir_in("/tmp")
        .unwrap();
    for n in &bench.nodes {
        let id = n.docker(&["info", "--format", "{{.Swarm.NodeID}}"]);
        let dir = links.path().join(id.trim());
        std::fs::create_dir(&dir).unwrap();
        let sock = n.host();
        let sock = sock.trim_start_matches("unix://");
        std::os::unix::fs::symlink(sock, dir.join("docker.sock")).unwrap();
        std::os::unix::fs::symlink(n.swarm_certs(), dir.join("certs")).unwrap();
    }
    let m = bench.manager();
    // A service per stance, in ingress mode, with no task needed.
    for (name, port, label) in [
        ("web", "8081:80", Some("dockward.expose=public")),
        ("db", "8082:80", None),
    ] {
        let mut args = vec!["--replicas", "0", "-p", port];
        if let Some(l) = label {
            args.extend(["--label", l]);
        }
        args.extend([IMAGE, "sleep", "3600"]);
        m.service(name, &args);
    }
    for n in &bench.nodes {
        n.ingress_standin(8081);
        n.ingress_standin(8082);
    }
    // Without dockward, every ingress port answers on every node.
    for n in &bench.nodes {
        assert!(
            tcp_answers(&outsider.ns, &n.addr, 8082),
            "{} before",
            n.name
        );
    }
    let contrib = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contrib/swarm");
    let out = dockward_testbench::docker_cli()
        .current_dir(&contrib)
        .args([
            "-H",
            &m.host(),
            "stack",
            "deploy",
            "--resolve-image",
            "never",
        ])
        .args(["-c", "stack.yml", "dockward"])
        .env(
            "DOCKER_SOCKET",
            links.path().join("{{.Node.ID}}/docker.sock"),
        )
        .env(
            "SWARM_CERTIFICATES",
            links.path().join("{{.Node.ID}}/certs"),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "docker stack deploy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    bench.wait_running("dockward_firewall", 3);
    bench.wait_running("dockward_managers-proxy", 1);
    let eventually = |ns: &str, addr: &str, port: u16, want: bool| {
        (0..90).any(|_| {
            let ok = tcp_answers(ns, addr, port) == want;
            if !ok {
                std::thread::sleep(Duration::from_millis(200));
            }
            ok
        })
    };
    // Closed first (the firewall is in force on the node), then open: a
    // worker opens 8081 only once it has the services from the managers'
    // proxy.
    for n in &bench.nodes {
        assert!(
            eventually(&outsider.ns, &n.addr, 8082, false),
            "{}:8082 (no label: local)",
            n.name
        );
        assert!(
            eventually(&outsider.ns, &n.addr, 8081, true),
            "{}:8081 (public)",
            n.name
        );
        assert!(
            eventually(&outsider.ns, &n.addr, 7946, false),
            "{}:7946 from an outsider",
            n.name
        );
    }
    assert!(!tcp_answers(&outsider.ns, &m.addr, 2377));
    assert!(tcp_answers(&bench.nodes[1].ns, &m.addr, 2377));
    let _ = m.docker_output(&["service", "rm", "web", "db"]);
    let _ = m.docker_output(&["stack", "rm", "dockward"]);
}
