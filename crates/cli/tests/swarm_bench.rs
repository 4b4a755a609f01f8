//! The Swarm benchmark (docs/BENCHMARKS.md §8), not a test: it measures
//! and prints, and asserts only that what it measured happened. Run by
//! `bench/swarm.sh` (`cargo test --release --test swarm_bench -- --ignored
//! --nocapture`).
//!
//! On a three-node bench with 100 services in ingress mode (half labelled
//! public), every node running `dockward firewall watch` (the workers
//! reading the services from the manager's proxy):
//! 1. a node's rules applied: `dockward firewall apply` on the manager and
//!    on a worker (which asks the managers), as whole processes;
//! 2. a new public service enforced on every node: from the moment
//!    `docker service create` returns to an outside host's first answer
//!    from each node (a prober per node, connecting every 5 ms);
//! 3. a node joining: from the moment the manager lists it ready to the
//!    watching workers' 7946 answering it (their cluster ports are closed
//!    to all but the nodes, and a worker hears of no join).

use dockward_testbench::{require_engine, SwarmBench, IMAGE};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SERVICES: u16 = 100;
const NEW: u16 = 5;
const APPLIES: usize = 10;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
#[ignore = "a benchmark: bench/swarm.sh runs it"]
fn swarm_benchmark() {
    require_engine!();
    let mut bench = SwarmBench::start(3);
    let outsider = bench.outsider();
    let state = tempfile::tempdir().unwrap();
    let m = bench.manager();
    for i in 0..SERVICES {
        let port = format!("{}:80", 10000 + i);
        let mut args = vec!["--replicas", "0", "-p", &port];
        if i % 2 == 0 {
            args.extend(["--label", "dockward.expose=public"]);
        }
        args.extend([IMAGE, "sleep", "3600"]);
        m.service(&format!("s{i}"), &args);
    }
    for n in &bench.nodes {
        for i in 0..NEW {
            n.ingress_standin(11000 + i);
        }
    }
    let bin = assert_cmd::cargo::cargo_bin("dockward");
    let mut proxy = m.managers_proxy(&bin, 2378);
    std::thread::sleep(Duration::from_secs(1));
    let policy = |n: &dockward_testbench::SwarmNode| {
        let p = state.path().join(format!("{}.toml", n.name));
        // The manager lets the next node (10.99.240.13) join.
        let join = if n.name == "node0" {
            "join-from = [\"10.99.240.13\"]\n"
        } else {
            ""
        };
        std::fs::write(
            &p,
            format!(
                "[swarm]\nmanagers-proxy = 2378\ncertificates = \"{}\"\n{join}",
                n.swarm_certs().display()
            ),
        )
        .unwrap();
        p.display().to_string()
    };
    let dockward =
        |n: &dockward_testbench::SwarmNode, args: &[&str]| n.firewall(&bin, state.path(), args);
    // 1. A node's rules applied.
    for i in [0, 1] {
        let n = &bench.nodes[i];
        let p = policy(n);
        let mut took = Vec::new();
        for _ in 0..APPLIES {
            let t = Instant::now();
            let out = dockward(n, &["apply", "--policy", &p]).output().unwrap();
            took.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let min = took.iter().copied().fold(f64::MAX, f64::min);
        let max = took.iter().copied().fold(0.0, f64::max);
        let med = median(&mut took);
        println!(
            "apply on {} ({}, {SERVICES} services): median {med:.1} ms, min {min:.1}, max {max:.1} ({APPLIES} runs)",
            n.name,
            if i == 0 { "manager" } else { "worker, services from the manager" }
        );
    }
    // 2. A new service, enforced on every node.
    let mut watches: Vec<_> = bench
        .nodes
        .iter()
        .map(|n| {
            dockward(n, &["watch", "--policy", &policy(n)])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    let probe = "import socket,sys,time\nwhile True:\n s=socket.socket();s.settimeout(0.005)\n try:\n  s.connect((sys.argv[1],int(sys.argv[2])));print(time.time());break\n except ConnectionRefusedError:\n  print(time.time());break\n except OSError:\n  pass\n finally:\n  s.close()\n time.sleep(0.005)";
    let mut per_node: Vec<Vec<f64>> = vec![Vec::new(); bench.nodes.len()];
    for i in 0..NEW {
        let port = 11000 + i;
        let probers: Vec<_> = bench
            .nodes
            .iter()
            .map(|n| {
                std::process::Command::new("ip")
                    .args([
                        "netns",
                        "exec",
                        &outsider.ns,
                        "timeout",
                        "20",
                        "python3",
                        "-c",
                        probe,
                    ])
                    .arg(&n.addr)
                    .arg(port.to_string())
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        // The probers are silent until the port opens.
        std::thread::sleep(Duration::from_millis(300));
        let p = format!("{port}:80");
        let name = format!("new{i}");
        bench.manager().service(
            &name,
            &[
                "--replicas",
                "0",
                "--label",
                "dockward.expose=public",
                "-p",
                &p,
                IMAGE,
                "sleep",
                "3600",
            ],
        );
        let created = now();
        for (k, pr) in probers.into_iter().enumerate() {
            let out = pr.wait_with_output().unwrap();
            let at: f64 = String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("node{k}:{port} never answered"));
            per_node[k].push((at - created) * 1000.0);
        }
    }
    for (k, v) in per_node.iter_mut().enumerate() {
        let max = v.iter().copied().fold(f64::MIN, f64::max);
        let med = median(v);
        println!(
            "new public service open on node{k} ({}): median {med:.0} ms, max {max:.0} ms after `docker service create` returned ({NEW} services)",
            if k == 0 { "manager, its own events" } else { "worker, the managers' events" }
        );
    }
    // 3. A node joining.
    let workers = bench.nodes.len();
    let j = bench.add_worker();
    let ready = Instant::now();
    for w in 1..workers {
        let addr = bench.nodes[w].addr.clone();
        let ns = bench.nodes[j].ns.clone();
        let t = (0..400).find_map(|_| {
            let out = std::process::Command::new("ip")
                .args(["netns", "exec", &ns, "python3", "-c"])
                .arg("import socket,sys\ns=socket.socket();s.settimeout(0.05)\ntry:\n s.connect((sys.argv[1],7946));print('y')\nexcept ConnectionRefusedError:\n print('y')\nexcept OSError:\n print('n')")
                .arg(&addr)
                .output()
                .unwrap();
            (String::from_utf8_lossy(&out.stdout).trim() == "y").then(|| ready.elapsed())
        });
        let t = t.unwrap_or_else(|| panic!("node{w}'s 7946 never answered the new node"));
        println!(
            "a joining node reaches worker node{w}'s 7946 {:.0} ms after the manager lists it ready",
            t.as_secs_f64() * 1000.0
        );
    }
    for w in &mut watches {
        let _ = w.kill();
        let _ = w.wait();
    }
    let _ = proxy.kill();
    let _ = proxy.wait();
    for n in &bench.nodes {
        let _ = dockward(n, &["remove"]).output();
    }
}
