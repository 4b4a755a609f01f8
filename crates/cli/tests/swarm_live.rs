//! Swarm, on a real three-node swarm (one manager, two workers; see
//! `dockward_testbench::SwarmBench`), one bench for the whole suite (it
//! takes half a minute to form): a node's inventory (what a manager lists
//! of the cluster, what a worker knows without being allowed to list it)
//! and `status` on either.

use dockward_docker::{Endpoint, Engine, InventorySource};
use dockward_model::{Protocol, PublishMode};
use dockward_testbench::{require_engine, SwarmBench, IMAGE};

/// `docker service create -d --no-resolve-image --name NAME ARGS…` (no
/// registry can be reached here).
fn create_service(node: &dockward_testbench::SwarmNode, name: &str, args: &[&str]) {
    let mut all = vec![
        "service",
        "create",
        "-d",
        "--no-resolve-image",
        "--name",
        name,
    ];
    all.extend_from_slice(args);
    node.docker(&all);
}

async fn snapshot(host: &str) -> dockward_model::Inventory {
    Engine::connect(Endpoint::resolve(Some(host), None))
        .await
        .expect("connect")
        .snapshot()
        .await
        .expect("snapshot")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swarm_node_knows_its_part_and_a_manager_the_cluster() {
    require_engine!();
    let bench = SwarmBench::start(3);
    let m = bench.manager();
    m.docker(&[
        "network",
        "create",
        "-d",
        "overlay",
        "--label",
        "dockward.test=1",
        "dwt-ov",
    ]);
    // Ingress-mode and host-mode ports; a service label; a global service
    // so that every node runs a task on the overlay.
    create_service(
        m,
        "web",
        &[
            "--label",
            "dockward.expose=public",
            "--label",
            "com.docker.stack.namespace=shop",
            "--network",
            "dwt-ov",
            "--mode",
            "global",
            "-p",
            "8080:80",
            "-p",
            "mode=host,published=9090,target=90,protocol=udp",
            IMAGE,
            "sleep",
            "3600",
        ],
    );
    bench.wait_running("web", 3);

    let inv = snapshot(&m.host()).await;
    let s = inv.swarm.as_ref().expect("the manager is in a swarm");
    assert!(s.manager && s.state == "active", "{s:?}");
    assert_eq!(s.node_addr, m.addr);
    assert_eq!(s.nodes.len(), 3, "{:?}", s.nodes);
    let mut addrs: Vec<&str> = s.nodes.iter().map(|n| n.addr.as_str()).collect();
    addrs.sort_unstable();
    let mut want: Vec<&str> = bench.nodes.iter().map(|n| n.addr.as_str()).collect();
    want.sort_unstable();
    assert_eq!(addrs, want);
    assert_eq!(s.nodes.iter().filter(|n| n.role == "manager").count(), 1);
    assert_eq!(s.autolock, Some(false));
    let web = s.services.iter().find(|x| x.name == "web").expect("web");
    assert_eq!(web.mode, "global");
    assert_eq!(web.stack(), Some("shop"));
    assert_eq!(
        web.labels.get("dockward.expose").map(String::as_str),
        Some("public")
    );
    let ports: Vec<(Protocol, u16, Option<u16>, PublishMode)> = web
        .ports
        .iter()
        .map(|p| (p.protocol, p.target, p.published, p.mode))
        .collect();
    assert!(
        ports.contains(&(Protocol::Tcp, 80, Some(8080), PublishMode::Ingress)),
        "{ports:?}"
    );
    assert!(
        ports.contains(&(Protocol::Udp, 90, Some(9090), PublishMode::Host)),
        "{ports:?}"
    );
    let ov = inv.network("dwt-ov").expect("the overlay on the manager");
    assert_eq!(ov.driver, "overlay");

    // A worker may not list the cluster: it knows its managers, and the
    // other nodes through the overlay's peers.
    let w = &bench.nodes[1];
    let inv = snapshot(&w.host()).await;
    let s = inv.swarm.as_ref().expect("the worker is in a swarm");
    assert!(
        !s.manager && s.nodes.is_empty() && s.services.is_empty(),
        "{s:?}"
    );
    assert_eq!(s.autolock, None);
    assert_eq!(s.managers, [format!("{}:2377", m.addr)]);
    let ov = inv.network("dwt-ov").expect("the overlay on the worker");
    let mut peers = ov.peers.clone();
    peers.sort();
    assert_eq!(peers, want, "every node runs a task on the overlay");
    // Its task's host-mode port is a container port like any other.
    let task = inv
        .containers
        .iter()
        .find(|c| {
            c.labels
                .get("com.docker.swarm.service.name")
                .map(String::as_str)
                == Some("web")
        })
        .expect("the worker's task");
    assert!(
        task.ports
            .iter()
            .any(|p| p.host_port == Some(9090) && p.protocol == Protocol::Udp),
        "{:?}",
        task.ports
    );

    // `status` on the manager shows each service port and how Swarm
    // publishes it; on a worker, the node and its managers.
    let status = |host: &str| -> serde_json::Value {
        let out = assert_cmd::Command::cargo_bin("dockward")
            .unwrap()
            .args(["-H", host, "status", "--format", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let v = status(&m.host());
    let sw = &v["swarm"];
    assert_eq!(sw["role"], "manager");
    assert_eq!(sw["nodes"], 3);
    let rows = sw["services"].as_array().unwrap();
    let row = |port: u64| rows.iter().find(|r| r["published_port"] == port).unwrap();
    assert_eq!(row(8080)["mode"], "ingress");
    assert_eq!(row(8080)["stack"], "shop");
    assert_eq!(row(9090)["mode"], "host");
    assert_eq!(row(9090)["protocol"], "udp");
    let v = status(&w.host());
    assert_eq!(v["swarm"]["role"], "worker");
    assert!(v["swarm"]["nodes"].is_null());
    assert!(v["ports"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["host_port"] == 9090 && p["protocol"] == "udp"));

    // `audit --host` on the manager judges the swarm and every service
    // spec; a service with no tasks is judged all the same.
    create_service(
        m,
        "agent",
        &[
            "--replicas",
            "0",
            "--mount",
            "type=bind,src=/var/run/docker.sock,dst=/var/run/docker.sock,ro",
            "--cap-add",
            "SYS_ADMIN",
            "-p",
            "7070:70",
            IMAGE,
            "sleep",
            "3600",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("dockward")
        .unwrap()
        .current_dir(dir.path())
        .args(["-H", &m.host(), "audit", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let found = |rule: &str, target: &str| {
        v["findings"].as_array().unwrap().iter().any(|f| {
            f["rule"] == rule
                && (f["location"]["name"] == target || f["location"]["node"] == target)
        })
    };
    assert!(found("swarm-autolock", &m.addr), "{v}");
    assert!(found("swarm-manager-count", &m.addr), "1 manager of 3: {v}");
    assert!(found("swarm-overlay-unencrypted", &m.addr), "{v}");
    assert!(found("service-docker-socket", "agent"), "{v}");
    assert!(found("service-dangerous-capability", "agent"), "{v}");
    assert!(found("service-port-all-nodes", "agent"), "{v}");
    // web's ingress port has its policy label.
    assert!(!found("service-port-all-nodes", "web"), "{v}");
    // A worker sees no cluster to judge.
    let out = assert_cmd::Command::cargo_bin("dockward")
        .unwrap()
        .current_dir(dir.path())
        .args(["-H", &w.host(), "audit", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"].as_str().unwrap().starts_with("swarm-")));
    m.docker(&["service", "rm", "web", "agent"]);
}
