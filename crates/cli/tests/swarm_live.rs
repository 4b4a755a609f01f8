//! Swarm, on a real three-node swarm (one manager, two workers; see
//! `dockward_testbench::SwarmBench`), one bench for the whole suite (it
//! takes half a minute to form): a node's inventory (what a manager lists
//! of the cluster, what a worker knows without being allowed to list it)
//! and `status` on either.

use dockward_docker::{Endpoint, Engine, InventorySource};
use dockward_model::{Protocol, PublishMode};
use dockward_testbench::{require_engine, tcp_answers, SwarmBench, IMAGE};

fn create_service(node: &dockward_testbench::SwarmNode, name: &str, args: &[&str]) {
    node.service(name, args);
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
    let mut bench = SwarmBench::start(3);
    let outsider = bench.outsider();
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
    // Every node has the routing mesh's sandbox: the ingress network's
    // peers are every node, whatever runs where.
    let mut ingress = inv.network("ingress").expect("ingress").peers.clone();
    ingress.sort();
    assert_eq!(ingress, want, "the ingress network's peers");
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
    // The bench inits with --listen-addr <its address>: 2377 is not on
    // every interface (read from dockerd's own sockets in its namespace).
    // No rule on the cluster ports yet.
    assert!(!found("swarm-manager-listen-all", &m.addr), "{v}");
    assert!(found("swarm-cluster-ports-exposed", &m.addr), "{v}");
    assert!(found("swarm-manager-count", &m.addr), "1 manager of 3: {v}");
    assert!(found("swarm-overlay-unencrypted", &m.addr), "{v}");
    assert!(found("service-docker-socket", "agent"), "{v}");
    assert!(found("service-dangerous-capability", "agent"), "{v}");
    assert!(found("service-port-all-nodes", "agent"), "{v}");
    // web's ingress port has its policy label.
    assert!(!found("service-port-all-nodes", "web"), "{v}");
    // dockerd refuses to start with live-restore in swarm mode: neither
    // asked for nor proposed on a node.
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "daemon-live-restore"),
        "{v}"
    );
    let out = assert_cmd::Command::cargo_bin("dockward")
        .unwrap()
        .args(["-H", &m.host(), "harden", "daemon", "--format", "json"])
        .output()
        .unwrap();
    let h: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let keys: Vec<&str> = h["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["key"].as_str())
        .collect();
    assert!(
        keys.contains(&"icc") && !keys.contains(&"live-restore"),
        "{keys:?}"
    );
    // A worker sees no cluster to judge.
    let out = assert_cmd::Command::cargo_bin("dockward")
        .unwrap()
        .current_dir(dir.path())
        .args(["-H", &w.host(), "audit", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let swarm_rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .filter(|r| r.starts_with("swarm-"))
        .collect();
    // Its own 7946 and 4789 are open to all, though.
    assert_eq!(swarm_rules, ["swarm-cluster-ports-exposed"], "{v}");

    m.docker(&["service", "rm", "web", "agent"]);
    m.docker(&["network", "rm", "dwt-ov"]);
    // Let the worker drop its tasks and the overlay before its firewall
    // starts: what comes after must be the new node's doing.
    let settled = (0..100).any(|_| {
        let out = w.docker(&["network", "ls", "--format", "{{.Name}}"]);
        let gone = !out.lines().any(|l| l == "dwt-ov");
        if !gone {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        gone
    });
    assert!(settled, "the worker still has dwt-ov after 20 s");

    // The cluster ports: as Docker leaves them unless the policy says
    // `[swarm] cluster-ports = "nodes"`; then the swarm's own nodes and
    // `join-from` only, on a manager (which lists the nodes) and on a
    // worker (which knows them through the ingress network's peers).
    let state = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = state.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    // The manager lets the next node (10.99.240.13) reach it to join; the
    // worker knows no more than the nodes, and must learn of the new one.
    let on_manager = write(
        "manager.toml",
        "[swarm]\ncluster-ports = \"nodes\"\njoin-from = [\"10.99.240.13\"]\n",
    );
    let on_worker = write("worker.toml", "[swarm]\ncluster-ports = \"nodes\"\n");
    let bin = assert_cmd::cargo::cargo_bin("dockward");
    let dockward = |node: &dockward_testbench::SwarmNode, args: &[&str]| {
        node.firewall(&bin, state.path(), args)
    };
    let firewall = |node: &dockward_testbench::SwarmNode, args: &[&str]| {
        let out = dockward(node, args).output().unwrap();
        assert!(
            out.status.success(),
            "firewall {args:?} on {}: {}",
            node.name,
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // Closed by default; open only when the policy says so.
    let open = write("open.toml", "[swarm]\ncluster-ports = \"open\"\n");
    firewall(&bench.nodes[0], &["apply", "--policy", &open]);
    assert!(
        tcp_answers(&outsider.ns, &bench.nodes[0].addr, 2377),
        "open with cluster-ports = \"open\""
    );
    firewall(&bench.nodes[0], &["apply"]);
    assert!(
        !tcp_answers(&outsider.ns, &bench.nodes[0].addr, 2377),
        "closed by default"
    );
    assert!(tcp_answers(&bench.nodes[2].ns, &bench.nodes[0].addr, 2377));
    firewall(&bench.nodes[0], &["apply", "--policy", &on_manager]);
    // The manager's audit, in its own network namespace, sees them closed.
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &bench.nodes[0].ns])
        .arg(assert_cmd::cargo::cargo_bin("dockward"))
        .args([
            "-H",
            &bench.nodes[0].host(),
            "audit",
            "--host",
            "--format",
            "json",
        ])
        .current_dir(dir.path())
        .env("DOCKWARD_STATE_DIR", state.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "swarm-cluster-ports-exposed"),
        "{v}"
    );
    let mut watch = dockward(&bench.nodes[1], &["watch", "--policy", &on_worker])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let closed = |ns: &str, addr: &str, port: u16| {
        (0..50).any(|_| {
            let shut = !tcp_answers(ns, addr, port);
            if !shut {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            shut
        })
    };
    assert!(
        closed(&outsider.ns, &bench.nodes[1].addr, 7946),
        "watch closed the worker"
    );
    for (port, i) in [(2377, 0), (7946, 0), (7946, 1)] {
        let n = &bench.nodes[i];
        assert!(
            !tcp_answers(&outsider.ns, &n.addr, port),
            "{}:{port} from an outsider",
            n.name
        );
        assert!(
            tcp_answers(&bench.nodes[2].ns, &n.addr, port),
            "{}:{port} from a node",
            n.name
        );
    }
    // A node joins from `join-from` while the manager's ports are closed
    // to everyone else; the worker's watch lets it in within seconds; the
    // swarm schedules on all four.
    let j = bench.add_worker();
    assert!(bench.nodes[j].addr.ends_with(".13"));
    let reached = (0..50).any(|_| {
        let ok = tcp_answers(&bench.nodes[j].ns, &bench.nodes[1].addr, 7946);
        if !ok {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        ok
    });
    assert!(
        reached,
        "the new node reaches the worker's 7946 under watch"
    );
    assert!(!tcp_answers(&outsider.ns, &bench.nodes[1].addr, 7946));
    create_service(
        bench.manager(),
        "probe",
        &["--mode", "global", IMAGE, "sleep", "3600"],
    );
    bench.wait_running("probe", 4);
    let _ = watch.kill();
    let _ = watch.wait();
    for i in [0, 1] {
        firewall(&bench.nodes[i], &["remove"]);
    }
    assert!(
        tcp_answers(&outsider.ns, &bench.nodes[0].addr, 2377),
        "open after remove"
    );
    bench.manager().docker(&["service", "rm", "probe"]);
    service_ports_on_every_node(&mut bench, &outsider, state.path()).await;
}

/// Service ports, by the services' labels and the policy file, on every
/// node: the manager reads the services itself; the workers from the
/// manager's `dockward proxy`, over TLS with the swarm's certificates. A
/// stand-in for the routing mesh's DNAT (the kernel here has no IPVS; see
/// `SwarmNode::ingress_standin`) on every node; host-mode ports for real.
async fn service_ports_on_every_node(
    bench: &mut SwarmBench,
    outsider: &dockward_testbench::Outsider,
    state: &std::path::Path,
) {
    use std::time::{Duration, Instant};
    let second = bench.outsider();
    let m = bench.manager();
    let mut opened = Vec::new();
    for (name, args) in [
        (
            "pub",
            vec!["--label", "dockward.expose=public", "-p", "8081:80"],
        ),
        ("shut", vec!["-p", "8082:80"]),
        ("listed", vec!["-p", "8083:80"]),
        (
            "shop_front",
            vec![
                "--label",
                "com.docker.stack.namespace=shop",
                "-p",
                "8084:80",
            ],
        ),
    ] {
        let mut all = args.clone();
        let label = format!("dockward.expose={}", second.addr);
        if name == "listed" {
            all.extend(["--label", label.as_str()]);
        }
        all.extend(["--replicas", "0", IMAGE, "sleep", "3600"]);
        create_service(m, name, &all);
        opened.push(name);
    }
    create_service(
        m,
        "hostmode",
        &[
            "--label",
            "dockward.expose=public",
            "--mode",
            "global",
            "-p",
            "mode=host,published=9091,target=91",
            IMAGE,
            "sleep",
            "3600",
        ],
    );
    bench.wait_running("hostmode", bench.nodes.len());
    for n in &bench.nodes {
        for port in 8081..=8085 {
            n.ingress_standin(port);
        }
    }
    // Before any firewall, every ingress port answers on every node.
    for n in &bench.nodes {
        assert!(
            tcp_answers(&outsider.ns, &n.addr, 8082),
            "{} before",
            n.name
        );
    }
    // The managers' proxy: services only, to nodes of this swarm.
    let m = bench.manager();
    let mut proxy = m.managers_proxy(&assert_cmd::cargo::cargo_bin("dockward"), 2378);
    let policy = |n: &dockward_testbench::SwarmNode| {
        let p = state.join(format!("{}.toml", n.name));
        std::fs::write(
            &p,
            format!(
                "[[service]]\nmatch = {{ stack = \"shop\" }}\nexpose = \"public\"\n\n\
                 [swarm]\nmanagers-proxy = 2378\ncertificates = \"{}\"\n",
                n.swarm_certs().display()
            ),
        )
        .unwrap();
        p.display().to_string()
    };
    let bin = assert_cmd::cargo::cargo_bin("dockward");
    let dockward = |n: &dockward_testbench::SwarmNode, args: &[&str]| n.firewall(&bin, state, args);
    // Wait for the proxy to listen.
    assert!(
        (0..50).any(|_| {
            let up = tcp_answers(&bench.nodes[1].ns, &m.addr, 2378);
            if !up {
                std::thread::sleep(Duration::from_millis(100));
            }
            up
        }),
        "the managers' proxy listens"
    );
    // Worker 1 runs watch; the others one apply each.
    let w1 = policy(&bench.nodes[1]);
    let mut watch = dockward(&bench.nodes[1], &["watch", "--policy", &w1])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for n in bench.nodes.iter().filter(|n| n.name != "node1") {
        let out = dockward(n, &["apply", "--policy", &policy(n)])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "apply on {}: {}",
            n.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let eventually = |ns: &str, addr: &str, port: u16, want: bool| {
        (0..60).any(|_| {
            let ok = tcp_answers(ns, addr, port) == want;
            if !ok {
                std::thread::sleep(Duration::from_millis(100));
            }
            ok
        })
    };
    let expect = |n: &dockward_testbench::SwarmNode| {
        for (ns, port, want, why) in [
            (&outsider.ns, 8081, true, "labelled public"),
            (&outsider.ns, 8082, false, "no label: local"),
            (&outsider.ns, 8083, false, "listed for another address"),
            (&second.ns, 8083, true, "listed for this address"),
            (
                &outsider.ns,
                8084,
                true,
                "the policy file's [[service]] by stack",
            ),
            (&outsider.ns, 9091, true, "host mode, the service's label"),
        ] {
            assert!(
                eventually(ns, &n.addr, port, want),
                "{}:{port} ({why}): answers should be {want}",
                n.name
            );
        }
    };
    for n in &bench.nodes {
        expect(n);
    }
    // `status` on the manager, in its namespace: each ingress port's
    // verdict in force there, from its kernel.
    let m = bench.manager();
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &m.ns])
        .arg(assert_cmd::cargo::cargo_bin("dockward"))
        .args(["-H", &m.host(), "status", "--format", "json"])
        .env("DOCKWARD_STATE_DIR", state)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let rows = v["swarm"]["services"].as_array().unwrap();
    let verdict = |port: u64| {
        rows.iter()
            .find(|r| r["published_port"] == port)
            .map(|r| r["firewall"]["verdict"].clone())
    };
    assert_eq!(verdict(8081), Some("public".into()), "{v}");
    assert_eq!(verdict(8082), Some("local only".into()), "{v}");
    assert_eq!(verdict(8084), Some("public".into()), "{v}");
    // Attacks on the managers' channel. The manager answers a node of the
    // swarm (the same call the workers' firewalls make, from the host
    // here, with worker 1's certificate)...
    let asker = dockward_docker::Managers {
        port: 2378,
        certs: bench.nodes[1].swarm_certs(),
    };
    let (listed, _) = asker
        .cluster(&[format!("{}:2377", bench.manager().addr)])
        .await
        .expect("the manager answers a node");
    assert!(listed.iter().any(|s| s.name == "pub"), "{listed:?}");
    // ...but a worker posing as a manager, with a certificate from the
    // swarm's own CA that names a worker, is refused: no list from it
    // could open a port.
    let w2 = &bench.nodes[2];
    let mut fake = w2.managers_proxy(&bin, 2378);
    // (Given time to listen: a refused connection would pass for a
    // refused certificate otherwise; the error must name the certificate.)
    std::thread::sleep(Duration::from_millis(1500));
    let e = asker
        .cluster(&[format!("{}:2377", w2.addr)])
        .await
        .expect_err("a worker's certificate does not make a manager");
    assert!(
        e.to_string().contains("certificate") || e.to_string().contains("Certificate"),
        "{e}"
    );
    let _ = fake.kill();
    let _ = fake.wait();
    // And the managers' proxy refuses a client with no certificate of the
    // swarm's.
    let ca = bench.manager().swarm_certs().join("swarm-root-ca.crt");
    let out = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "3",
        ])
        .arg("--cacert")
        .arg(&ca)
        .arg("--resolve")
        .arg(format!("swarm-manager:2378:{}", bench.manager().addr))
        .arg("https://swarm-manager:2378/v1.41/services")
        .output()
        .unwrap();
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stdout) != "200",
        "a client without a swarm certificate got {}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A service created now: open on the watching worker soon after
    // `docker service create` returns.
    let t = Instant::now();
    create_service(
        bench.manager(),
        "late",
        &[
            "--label",
            "dockward.expose=public",
            "-p",
            "8085:80",
            "--replicas",
            "0",
            IMAGE,
            "sleep",
            "3600",
        ],
    );
    assert!(
        eventually(&outsider.ns, &bench.nodes[1].addr, 8085, true),
        "a new public service opens on the watching worker"
    );
    eprintln!(
        "late: open on the worker {:?} after create returned",
        t.elapsed()
    );
    // The worker cut off (its link down, so no manager answers): it keeps
    // its last rules, and enforces them when it is back.
    bench.nodes[1].link(false);
    std::thread::sleep(Duration::from_millis(4500));
    bench.nodes[1].link(true);
    expect(&bench.nodes[1]);
    // A node killed: the others enforce as before.
    let last = bench.nodes.len() - 1;
    bench.nodes[last].stop();
    for n in &bench.nodes[..last] {
        expect(n);
    }
    let _ = proxy.kill();
    let _ = proxy.wait();
    let _ = watch.kill();
    let out = watch.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("cannot read the services from the managers")
            && log.contains("the last rules stay"),
        "{log}"
    );
    for n in &bench.nodes[..last] {
        let _ = dockward(n, &["remove"]).output();
    }
    let _ = bench.manager().docker_output(&[
        "service",
        "rm",
        "pub",
        "shut",
        "listed",
        "shop_front",
        "hostmode",
        "late",
    ]);
}
