//! The firewall's snapshot (running containers from `GET /containers/json`,
//! pids from the host) against the full one (every container inspected),
//! on a real dockerd: every field the firewall reads must be the same.

use dockward_docker::{Endpoint, Engine, InventorySource, Scope};
use dockward_model::{Attachment, Container};
use dockward_testbench::{docker, require_engine, unique, Container as Run, Network, IMAGE};
use std::sync::{Arc, Mutex};

/// What the firewall reads of a container; aliases are left out (the
/// list does not carry them, and no rule reads them).
fn firewall_view(c: &Container) -> impl PartialEq + std::fmt::Debug {
    let nets: Vec<Attachment> = c
        .networks
        .iter()
        .cloned()
        .map(|a| Attachment {
            aliases: Vec::new(),
            ..a
        })
        .collect();
    (
        (
            c.id.clone(),
            c.name.clone(),
            c.image.clone(),
            c.image_id.clone(),
        ),
        (c.labels.clone(), c.image_labels.clone(), c.compose.clone()),
        (c.state, c.ports.clone(), nets, c.pid),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_firewalls_snapshot_reads_what_a_full_one_does() {
    require_engine!();
    let n = std::process::id() % 250;
    let subnet = format!("10.204.{n}.0/24");
    // Fixed host ports: dockerd 20.10 can hand one random port to IPv4
    // and IPv6 listeners that then collide.
    let port = |i: u32| (20000 + n * 8 + i).to_string();
    let (p0, p1, p3, p4) = (
        format!("127.0.0.1:{}:80", port(0)),
        format!("{}:53/udp", port(1)),
        format!("{}:81", port(3)),
        format!("{}:83", port(4)),
    );
    let net = Network::create("scope", &["--subnet", &subnet]);
    let published = Run::run(
        "pub",
        &[
            "--network",
            &net.name,
            "-p",
            &p0,
            "-p",
            &p1,
            "-p",
            &p3,
            "--label",
            "com.docker.compose.project=p",
            "--label",
            "com.docker.compose.service=s",
            IMAGE,
            "sleep",
            "300",
        ],
    );
    docker(&["network", "connect", "bridge", &published.name]);
    let paused = Run::run(
        "paused",
        &["--expose", "82", "-p", &p4, IMAGE, "sleep", "300"],
    );
    docker(&["pause", &paused.name]);
    // A legacy link lists the linked container under a second name.
    let linking = Run::run(
        "link",
        &[
            "--link",
            &format!("{}:alias", paused.name),
            IMAGE,
            "sleep",
            "300",
        ],
    );
    let stopped = Run::create(
        "stopped",
        &["-p", "127.0.0.1:8082:80", IMAGE, "sleep", "300"],
    );
    let ours = [&published, &paused, &linking, &stopped];

    let endpoint = Endpoint::resolve(None, None);
    let full = Engine::connect(endpoint.clone()).await.expect("connect");
    let asked = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = asked.clone();
    let light = Engine::connect(endpoint)
        .await
        .expect("connect")
        .with_scope(Scope::Firewall(Arc::new(move |id: &str| {
            log.lock().unwrap().push(id.to_string());
            dockward_hostprobe::pid::container_pid(&dockward_hostprobe::Real, id)
        })));
    let (a, b) = tokio::join!(full.snapshot(), light.snapshot());
    let (a, b) = (a.expect("full snapshot"), b.expect("firewall snapshot"));

    for run in ours {
        let x = a
            .container(&run.name)
            .unwrap_or_else(|| panic!("{} in the full one", run.name));
        let y = b
            .container(&run.name)
            .unwrap_or_else(|| panic!("{} in the firewall's", run.name));
        assert_eq!(firewall_view(x), firewall_view(y), "{}", run.name);
    }
    let p = b.container(&published.name).unwrap();
    assert_eq!(
        p.ports.len(),
        3 + 2,
        "udp and 81 on v4 and v6, the loopback one: {:?}",
        p.ports
    );
    assert!(p.pid.is_some() && p.networks.len() == 2, "{p:?}");
    assert_eq!(b.daemon.version, a.daemon.version);
    assert_eq!(b.daemon.firewall_backend, a.daemon.firewall_backend);
    // The pid was looked up on the host for the running ones only.
    let asked = asked.lock().unwrap();
    for run in [&published, &paused, &linking] {
        assert!(asked.contains(&run.id), "{} not looked up", run.name);
    }
    // A stopped one is inspected, with no search for a pid.
    assert!(
        !asked.contains(&stopped.id),
        "a stopped container needs no pid"
    );
    let _ = unique("end");
}
