//! The event follower against a real, private dockerd that we restart.

use dockward_docker::{follow, Endpoint, FollowOptions, Update};
use dockward_testbench::{require_engine, unique, PrivateDaemon};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::timeout;

async fn next(rx: &mut mpsc::Receiver<Update>) -> Update {
    timeout(Duration::from_secs(60), rx.recv())
        .await
        .expect("an update within 60 s")
        .expect("follower alive")
}

/// Skip events until one matches.
async fn until<F: Fn(&Update) -> bool>(rx: &mut mpsc::Receiver<Update>, f: F) -> Update {
    loop {
        let u = next(rx).await;
        if f(&u) {
            return u;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_sees_events_and_resyncs_after_a_dockerd_restart() {
    require_engine!();
    let mut daemon = PrivateDaemon::start();
    let endpoint = Endpoint::resolve(Some(&daemon.host()), None);
    let (tx, mut rx) = mpsc::channel(256);
    let opts = FollowOptions {
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(500),
        ..FollowOptions::default()
    };
    let task = tokio::spawn(follow(endpoint, tx, opts));

    let first = until(&mut rx, |u| matches!(u, Update::Snapshot(_))).await;
    let Update::Snapshot(inv) = first else {
        unreachable!()
    };
    assert!(
        inv.daemon.version.starts_with(char::is_numeric),
        "{:?}",
        inv.daemon
    );

    // Subnets given, not taken from Docker's default pools: those run out
    // when the host already routes them. (A private daemon cannot be given
    // a pool of its own: with `default-address-pools` set, moby deletes the
    // host's docker0 when it restarts.)
    let subnet = |i: u32| format!("10.203.{}.0/24", (std::process::id() * 2 + i) % 250);
    let before = unique("before");
    daemon.docker(&["network", "create", "--subnet", &subnet(0), &before]);
    let ev = until(&mut rx, |u| {
        matches!(u, Update::Event(e) if e.kind == "network" && e.action == "create"
            && e.attributes.get("name") == Some(&before))
    })
    .await;
    let Update::Event(ev) = ev else {
        unreachable!()
    };
    assert!(!ev.id.is_empty());

    // Restart the daemon: the follower reports the gap, then a fresh snapshot.
    let daemon = tokio::task::spawn_blocking(move || {
        daemon.restart();
        daemon
    })
    .await
    .unwrap();
    until(&mut rx, |u| matches!(u, Update::Disconnected(_))).await;
    let again = until(&mut rx, |u| matches!(u, Update::Snapshot(_))).await;
    let Update::Snapshot(inv) = again else {
        unreachable!()
    };
    assert!(
        inv.networks.iter().any(|n| n.name == before),
        "resynced snapshot has the network made before the restart"
    );

    // And events flow again on the new connection.
    let after = unique("after");
    daemon.docker(&["network", "create", "--subnet", &subnet(1), &after]);
    until(&mut rx, |u| {
        matches!(u, Update::Event(e) if e.kind == "network" && e.attributes.get("name") == Some(&after))
    })
    .await;

    drop(rx);
    timeout(Duration::from_secs(10), task)
        .await
        .expect("follower stops when its receiver is dropped")
        .unwrap();
    drop(daemon);
}
