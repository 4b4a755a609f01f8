//! Both backends close the same doors (docs/firewall.md, "Backends"): each case here
//! runs on nftables and on iptables, with a one-shot `apply` and under
//! `watch`, judged by packets from an outside host.

use super::*;

/// IPv6 straight to a container address (routed by the host, no port
/// published, or a published one reached past Docker's DNAT): Docker before
/// 27 has no IPv6 rule at all unless `ip6tables` is on, so a neighbour
/// reaches every port of every IPv6 container.
#[test]
fn ipv6_direct_routing_is_closed_on_both_backends() {
    require_engine!();
    let _s = Session::start();
    let a = OutsideHost::new();
    let net = Network::create(
        "fwv6",
        &[
            "--ipv6",
            "--subnet",
            "172.29.8.0/24",
            "--subnet",
            "fd77:8::/64",
        ],
    );
    let web = httpd("fwv6w", &["--network", &net.name, "-p", "80"]);
    let addr = web.endpoint(&net.name, "GlobalIPv6Address");
    assert!(!addr.is_empty(), "the container has an IPv6 address");
    // The bridge's IPv6 gateway address is usable once duplicate address
    // detection is over (a second or two after the network is created).
    let ready = Instant::now();
    while !a.http(&addr, 80).is_open() && ready.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_open(a.http(&addr, 80), "IPv6 direct routing before apply");
    for backend in BACKENDS {
        apply_on(backend);
        assert_closed(a.tcp(&addr, 80), &format!("{backend:?} apply: IPv6 direct"));
        dockward(&["firewall", "remove"]);
        assert_open(
            a.http(&addr, 80),
            &format!("{backend:?}: open again after remove"),
        );
        let _w = Watcher::start(backend);
        assert_closed(a.tcp(&addr, 80), &format!("{backend:?} watch: IPv6 direct"));
        // A container started under watch is closed too.
        let late = httpd("fwv6l", &["--network", &net.name]);
        let late_addr = late.endpoint(&net.name, "GlobalIPv6Address");
        assert_closed(
            a.tcp(&late_addr, 80),
            &format!("{backend:?} watch: a new container over IPv6"),
        );
        drop(_w);
        dockward(&["firewall", "remove"]);
    }
}
