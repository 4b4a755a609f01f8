//! Identity that cannot be faked from inside the network (docs/firewall.md,
//! "Identity bound to the bridge port"): a neighbour that takes an allowed peer's address and MAC, or
//! poisons ARP, gets nothing; a container that takes over a removed
//! container's address after a one-shot apply inherits none of its
//! openings. Judged by packets, on both backends, with `apply` and `watch`.
//!
//! The attacker here has `NET_ADMIN` on top of Docker's defaults, so it can
//! simply reconfigure its interface; a default container does the same with
//! `CAP_NET_RAW` and hand-made frames. Beating the stronger attacker beats
//! the weaker one.

use super::*;

const GET: &str = "printf 'GET / HTTP/1.0\\r\\n\\r\\n'";

fn reaches(from: &Container, ip: &str) -> bool {
    docker_exec_ok(from, &format!("{GET} | nc -w 2 {ip} 80 | head -c 12")).starts_with("HTTP/1.")
}

/// `attacker` takes `ip` (and `mac`, when given) on its own interface,
/// announces it with gratuitous ARP, and asks `target` for its page.
fn impersonate(attacker: &Container, ip: &str, mac: Option<&str>, target: &str) -> bool {
    let set_mac = mac.map_or(String::new(), |m| {
        format!("ip link set eth0 down; ip link set eth0 address {m}; ip link set eth0 up; ")
    });
    docker_exec_ok(
        attacker,
        &format!(
            "ip addr flush dev eth0; {set_mac}ip addr add {ip}/24 dev eth0; \
             arping -c 2 -U -I eth0 {ip} >/dev/null 2>&1; \
             {GET} | nc -w 2 {target} 80 | head -c 12"
        ),
    )
    .starts_with("HTTP/1.")
}

/// An isolated network with a target that allows one peer, the peer, and
/// an attacker with `NET_ADMIN`.
struct Scene {
    // Containers before their network (fields drop in order).
    peer: Container,
    target: Container,
    net: Network,
}

fn scene(subnet: &str) -> Scene {
    let net = Network::create(
        "fwid",
        &["--subnet", subnet, "--label", "dockward.isolate=true"],
    );
    let peer = Container::run("fwidp", &["--network", &net.name, IMAGE, "sleep", "600"]);
    let target = httpd(
        "fwidt",
        &[
            "--network",
            &net.name,
            "-l",
            &format!("dockward.allow-from={}", peer.name),
        ],
    );
    Scene { peer, target, net }
}

impl Scene {
    fn attacker(&self) -> Container {
        Container::run(
            "fwida",
            &[
                "--network",
                &self.net.name,
                "--cap-add",
                "NET_ADMIN",
                IMAGE,
                "sleep",
                "600",
            ],
        )
    }

    /// Every impersonation fails while the real peer keeps its access.
    fn holds(&self, what: &str) {
        let (peer_ip, t) = (self.peer.ip(&self.net.name), self.target.ip(&self.net.name));
        let peer_mac = self.peer.endpoint(&self.net.name, "MacAddress");
        assert!(reaches(&self.peer, &t), "{what}: the allowed peer reaches");
        assert!(
            !reaches(&self.attacker(), &t),
            "{what}: an attacker with its own address"
        );
        assert!(
            !impersonate(&self.attacker(), &peer_ip, None, &t),
            "{what}: the peer's address, own MAC"
        );
        assert!(
            !impersonate(&self.attacker(), &peer_ip, Some(&peer_mac), &t),
            "{what}: the peer's address and MAC, announced by ARP"
        );
        assert!(
            reaches(&self.peer, &t),
            "{what}: the real peer still reaches (no poisoned cache, no stolen port)"
        );
    }
}

#[test]
fn spoofed_peers_get_nothing_on_either_backend() {
    require_engine!();
    let _s = Session::start();
    let s = scene("172.29.5.0/24");
    // The control: with the bridge table gone, the same impersonation
    // passes isolation (the attack is real, and the bridge table is what
    // stops it).
    dockward(&["firewall", "apply"]);
    sh("nft", &["delete", "table", "bridge", "dockward"]);
    let (peer_ip, t) = (s.peer.ip(&s.net.name), s.target.ip(&s.net.name));
    let peer_mac = s.peer.endpoint(&s.net.name, "MacAddress");
    assert!(
        impersonate(&s.attacker(), &peer_ip, Some(&peer_mac), &t),
        "control: without the binding an impersonator gets in"
    );
    // The impersonation above left the target's ARP cache poisoned; a new
    // apply binds the peer again, and the real peer's traffic repairs it.
    let out = dockward(&["firewall", "apply"]);
    assert!(out.contains("bound to their bridge ports"), "{out}");
    s.holds("nft, apply");
    dockward(&["firewall", "apply", "--backend", "iptables"]);
    s.holds("iptables, apply");
    dockward(&["firewall", "remove"]);
    {
        let w = Watcher::start(&[]);
        s.holds("nft, watch");
        // A peer restarted under watch gets a new veth: bound again, it
        // reaches its target again; and a pair created under watch holds.
        docker(&["restart", "-t", "0", &s.peer.name]);
        let t = s.target.ip(&s.net.name);
        let back = Instant::now();
        while !reaches(&s.peer, &t) {
            assert!(
                back.elapsed() < Duration::from_secs(5),
                "the restarted peer is bound again under watch"
            );
        }
        s.holds("nft, watch, peer restarted");
        drop(w);
    }
    dockward(&["firewall", "remove"]);
    let _w = Watcher::start(&["--backend", "iptables"]);
    s.holds("iptables, watch");
}

/// After a one-shot apply, a container that takes a removed container's
/// address inherits nothing: not a public port's `accept` (reached from an
/// outside host through the same published port), not an allowed peer's
/// trust.
#[test]
fn address_reuse_after_a_one_shot_apply_inherits_nothing() {
    require_engine!();
    for backend in BACKENDS {
        let _s = Session::start();
        let a = OutsideHost::new();
        let s = scene("172.29.6.0/24");
        let ip = "172.29.6.50";
        let port = free_port();
        let publish = format!("{port}:80");
        let on_the_address = |what: &str, expose: &str| {
            let label = format!("dockward.expose={expose}");
            let args = [
                "--network",
                &s.net.name,
                "--ip",
                ip,
                "-p",
                &publish,
                "-l",
                &label,
            ];
            httpd(what, &args)
        };
        let public = on_the_address("fwrup", "public");
        apply_on(backend);
        assert_open(a.http(&a.host_addr, port), &format!("{backend:?}: public"));
        assert!(reaches(&s.peer, &s.target.ip(&s.net.name)));
        drop(public);
        let denied = on_the_address("fwrud", "deny");
        assert_closed(
            a.tcp(&a.host_addr, port),
            &format!("{backend:?}: a deny container on the public one's address"),
        );
        // The peer goes; a stranger takes its address (and, with Docker
        // before 26, its MAC, which is derived from the address).
        let peer_ip = s.peer.ip(&s.net.name);
        let t = s.target.ip(&s.net.name);
        docker(&["rm", "-f", &s.peer.name]);
        let stranger = Container::run(
            "fwrus",
            &[
                "--network",
                &s.net.name,
                "--ip",
                &peer_ip,
                IMAGE,
                "sleep",
                "600",
            ],
        );
        assert!(
            !reaches(&stranger, &t),
            "{backend:?}: a stranger on the allowed peer's address"
        );
        drop((denied, stranger));
    }
}

/// Isolation holds through the gateway too: a neighbour that connects to a
/// member's published port on the bridge's gateway address is relayed by
/// docker-proxy from the host (Docker never DNATs traffic from the bridge
/// the port belongs to), past the forward path. The guard on dockerd's
/// cgroup refuses it unless the member allows the neighbour.
#[test]
fn isolation_holds_through_the_gateways_docker_proxy() {
    require_engine!();
    let _s = Session::start();
    let net = Network::create(
        "fwgw",
        &[
            "--subnet",
            "172.29.9.0/24",
            "--ipv6",
            "--subnet",
            "fd00:29:9::/64",
            "--label",
            "dockward.isolate=true",
        ],
    );
    let peer = Container::run("fwgwp", &["--network", &net.name, IMAGE, "sleep", "600"]);
    let web = Container::run("fwgww", &["--network", &net.name, IMAGE, "sleep", "600"]);
    let target = httpd(
        "fwgwt",
        &[
            "--network",
            &net.name,
            "-p",
            "80",
            "-l",
            &format!("dockward.allow-from={}", peer.name),
        ],
    );
    let port = host_port(&target, "80/tcp");
    // The gateway's IPv4 and IPv6 addresses, and its link-local one
    // (docker-proxy's `[::]` socket takes that too, IPv6 network or not).
    // Docker 20.10 may give the `[::]` binding another host port.
    let port6: u16 = docker(&["port", &target.name, "80/tcp"])
        .lines()
        .find(|l| l.contains("[::]"))
        .and_then(|l| l.rsplit(':').next()?.trim().parse().ok())
        .expect("an IPv6 binding");
    let gateways = ["172.29.9.1", "fd00:29:9::1", "fe80::1%eth0"];
    let via = |from: &Container, gw: &str| {
        let port = if gw.contains(':') { port6 } else { port };
        docker_exec_ok(from, &format!("{GET} | nc -w 2 {gw} {port} | head -c 12"))
            .starts_with("HTTP/1.")
    };
    // Link-local addresses go through duplicate address detection first.
    let t = Instant::now();
    while !via(&web, gateways[2]) {
        assert!(t.elapsed() < Duration::from_secs(10), "control: link-local");
        std::thread::sleep(Duration::from_millis(200));
    }
    for gw in gateways {
        assert!(via(&web, gw), "control: before apply {gw} relays");
    }
    // Connections held open through the gateway before the apply: the
    // neighbour's is cut (its conntrack entry goes, and its next packet
    // meets the drop), the allowed peer's stays.
    let hold = |c: &Container| {
        docker(&[
            "exec",
            "-d",
            &c.name,
            "sh",
            "-c",
            &format!("sleep 60 | nc 172.29.9.1 {port}"),
        ]);
    };
    let tracked = |c: &Container| {
        sh(
            "conntrack",
            &[
                "-L",
                "-p",
                "tcp",
                "--orig-src",
                &c.ip(&net.name),
                "--orig-dst",
                "172.29.9.1",
                "--dport",
                &port.to_string(),
            ],
        )
        .contains("ESTABLISHED")
    };
    hold(&web);
    hold(&peer);
    let t = Instant::now();
    while !(tracked(&web) && tracked(&peer)) {
        assert!(t.elapsed() < Duration::from_secs(5), "connections held");
        std::thread::sleep(Duration::from_millis(100));
    }
    let check = |what: &str| {
        for gw in gateways {
            assert!(!via(&web, gw), "{what}: a neighbour through {gw}");
        }
        for gw in &gateways[..2] {
            assert!(via(&peer, gw), "{what}: the allowed peer through {gw}");
            assert!(via(&target, gw), "{what}: the member itself through {gw}");
        }
    };
    dockward(&["firewall", "apply"]);
    assert!(!tracked(&web), "the neighbour's held connection is cut");
    assert!(tracked(&peer), "the allowed peer's stays");
    check("apply");
    apply_on(BACKENDS[1]);
    check("apply, iptables");
    for backend in BACKENDS {
        dockward(&["firewall", "remove"]);
        let _w = Watcher::start(backend);
        check(&format!("watch {backend:?}"));
    }
}

/// A neighbour that claims the gateway (gratuitous ARP for the host's
/// address on the bridge) would draw every neighbour's outbound traffic to
/// itself. Judged by the victim's own ARP cache: with the bridge table the
/// gateway stays at the bridge's MAC; without it (the control) it moves to
/// the attacker's.
#[test]
fn neighbours_cannot_claim_the_gateway() {
    require_engine!();
    let _s = Session::start();
    let net = Network::create("fwgc", &["--subnet", "172.29.10.0/24"]);
    let victim = || Container::run("fwgcv", &["--network", &net.name, IMAGE, "sleep", "600"]);
    let gw = "172.29.10.1";
    let gw_mac = |v: &Container| {
        docker_exec_ok(
            v,
            &format!("ping -c 1 -W 1 {gw} >/dev/null; cat /proc/net/arp"),
        )
        .lines()
        .find(|l| l.starts_with(&format!("{gw} ")))
        .and_then(|l| l.split_whitespace().nth(3).map(str::to_string))
        .unwrap_or_default()
    };
    let claim = || {
        let attacker = Container::run(
            "fwgca",
            &[
                "--network",
                &net.name,
                "--cap-add",
                "NET_ADMIN",
                IMAGE,
                "sleep",
                "600",
            ],
        );
        let mac = attacker.endpoint(&net.name, "MacAddress");
        docker_exec_ok(
            &attacker,
            &format!("ip addr add {gw}/24 dev eth0; arping -c 3 -U -I eth0 {gw} >/dev/null 2>&1"),
        );
        mac
    };
    // The gateway is bound whatever the policy: a network with nothing
    // trusted on it still has its gateway claimed by no one.
    dockward(&["firewall", "apply"]);
    sh("nft", &["delete", "table", "bridge", "dockward"]);
    let v = victim();
    let real = gw_mac(&v);
    assert!(!real.is_empty(), "the victim resolves its gateway");
    let attacker_mac = claim();
    assert_eq!(
        gw_mac(&v),
        attacker_mac,
        "control: without the bridge table the claim poisons the cache"
    );
    drop(v);
    for backend in BACKENDS {
        apply_on(backend);
        // A fresh victim: the control's cache stays poisoned until it ages.
        let v = victim();
        assert_eq!(gw_mac(&v), real, "{backend:?}: before the claim");
        claim();
        assert_eq!(gw_mac(&v), real, "{backend:?}: the claim is dropped");
    }
}

/// A router advertisement for `fd66:6:6:6::/64` with a default route,
/// sent to all nodes on `eth0` by whoever runs it: what a container with
/// Docker's default `CAP_NET_RAW` can send.
const ROGUE_RA: &str = r#"
import socket, struct
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
prefix = socket.inet_pton(socket.AF_INET6, "fd66:6:6:6::")
opt = struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0) + prefix
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
for _ in range(3):
    s.sendto(ra + opt, ("ff02::1", 0, 0, socket.if_nametoindex("eth0")))
"#;

/// A neighbour's router advertisement would give every container on the
/// bridge a default route through it and an address of its choosing.
/// Judged by the victim's own routing table; the control (no bridge table)
/// shows the advertisement taking hold.
#[test]
fn router_advertisements_from_containers_are_dropped() {
    require_engine!();
    let _s = Session::start();
    let net = Network::create(
        "fwra",
        &[
            "--ipv6",
            "--subnet",
            "172.29.11.0/24",
            "--subnet",
            "fd00:29:11::/64",
        ],
    );
    let attacker = Container::run("fwraa", &["--network", &net.name, IMAGE, "sleep", "600"]);
    let pid = docker(&["inspect", "-f", "{{.State.Pid}}", &attacker.name]);
    // Sent again for a few seconds: a fresh interface ignores them until
    // its link-local address has passed duplicate address detection.
    let taken = |v: &Container| {
        (0..8).any(|_| {
            sh(
                "nsenter",
                &["-t", pid.trim(), "-n", "python3", "-c", ROGUE_RA],
            );
            std::thread::sleep(Duration::from_millis(500));
            docker_exec_ok(v, "ip -6 route").contains("fd66:6:6:6::/64")
        })
    };
    let victim = || Container::run("fwrav", &["--network", &net.name, IMAGE, "sleep", "600"]);
    let v = victim();
    assert!(
        taken(&v),
        "control: without dockward the advertisement takes hold"
    );
    drop(v);
    for backend in BACKENDS {
        apply_on(backend);
        let v = victim();
        assert!(!taken(&v), "{backend:?}: the advertisement is dropped");
    }
    dockward(&["firewall", "remove"]);
    let _w = Watcher::start(&[]);
    let v = victim();
    assert!(!taken(&v), "watch: the advertisement is dropped");
}
