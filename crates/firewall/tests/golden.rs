//! Golden rulesets for representative policies (reviewed snapshots under
//! `tests/snapshots`), and the kernel's own syntax check of each script.

use dockward_firewall::{build, nft, parse_file, resolve, PolicyFile};
use dockward_model::{
    Attachment, Compose, Container, ContainerState, Inventory, Network, Protocol, PublishedPort,
    Subnet, Veth,
};

fn port(host_ip: &str, host_port: u16, container_port: u16, protocol: Protocol) -> PublishedPort {
    PublishedPort {
        host_ip: Some(host_ip.into()),
        host_port: Some(host_port),
        host_port_end: None,
        container_port,
        protocol,
    }
}

fn container(
    name: &str,
    net: &str,
    v4: &str,
    labels: &[(&str, &str)],
    ports: Vec<PublishedPort>,
) -> Container {
    Container {
        id: format!("{name}-0123456789abcdef"),
        name: name.into(),
        image: "img".into(),
        state: ContainerState::Running,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ports,
        networks: vec![Attachment {
            network: net.into(),
            network_id: format!("{net}-id"),
            ipv4: Some(v4.into()),
            mac: Some(mac_of(v4)),
            ..Default::default()
        }],
        // An image without labels: the container's labels are its own.
        image_labels: Some(Default::default()),
        ..Default::default()
    }
}

/// As docker-compose creates it: its labels, and the model's reading.
fn in_compose(c: &mut Container, project: &str, service: &str) {
    c.labels
        .insert(dockward_model::COMPOSE_PROJECT.into(), project.into());
    c.labels
        .insert(dockward_model::COMPOSE_SERVICE.into(), service.into());
    c.compose = Some(Compose {
        project: project.into(),
        service: service.into(),
    });
}

/// Docker's own rule before 26: `02:42` and the IPv4 address.
fn mac_of(v4: &str) -> String {
    let ip: std::net::Ipv4Addr = v4.parse().unwrap();
    let o = ip.octets();
    format!("02:42:{:02x}:{:02x}:{:02x}:{:02x}", o[0], o[1], o[2], o[3])
}

/// The host as the edge would read it: each running container's veth on
/// its network's bridge.
fn veths(inv: &Inventory) -> dockward_firewall::Host {
    let mut host = dockward_firewall::Host::default();
    for c in inv.containers.iter().filter(|c| c.is_running()) {
        let v = c
            .networks
            .iter()
            .filter_map(|a| {
                Some(Veth {
                    mac: a.mac.clone()?,
                    ifname: format!("veth{}", c.name),
                    bridge: inv.network(&a.network)?.bridge.clone()?,
                })
            })
            .collect();
        host.veths.insert(c.id.clone(), v);
    }
    host
}

fn network(name: &str, bridge: &str, cidr: &str, labels: &[(&str, &str)]) -> Network {
    Network {
        id: format!("{name}-id"),
        name: name.into(),
        driver: "bridge".into(),
        bridge: Some(bridge.into()),
        subnets: vec![Subnet {
            cidr: cidr.into(),
            gateway: cidr
                .split('/')
                .next()
                .and_then(|a| a.parse::<std::net::Ipv4Addr>().ok())
                .map(|a| std::net::Ipv4Addr::from(u32::from(a) + 1).to_string()),
        }],
        icc: true,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

/// A host with a bit of everything the policy can say.
fn host() -> Inventory {
    let mut v6 = container(
        "v6web",
        "bridge",
        "172.17.0.6",
        &[("dockward.expose", "2001:db8::/32,192.0.2.7")],
        vec![
            port("0.0.0.0", 8443, 443, Protocol::Tcp),
            port("::", 8443, 443, Protocol::Tcp),
        ],
    );
    v6.networks[0].ipv6 = Some("fd00::6".into());
    let mut stopped = container(
        "stopped",
        "bridge",
        "172.17.0.9",
        &[],
        vec![port("0.0.0.0", 9999, 99, Protocol::Tcp)],
    );
    stopped.state = ContainerState::Exited;
    stopped.networks[0].ipv4 = None;
    let mut api = container("proj-api-1", "app", "172.20.0.3", &[], vec![]);
    in_compose(&mut api, "proj", "api");
    let mut db = container(
        "proj-db-1",
        "app",
        "172.20.0.2",
        &[("dockward.allow-from", "api")],
        vec![],
    );
    in_compose(&mut db, "proj", "db");
    // Another project's `api` is not the `api` db trusts.
    let mut other = container("other-api-1", "app", "172.20.0.5", &[], vec![]);
    in_compose(&mut other, "other", "api");
    Inventory {
        networks: vec![
            network("bridge", "docker0", "172.17.0.0/16", &[]),
            network(
                "app",
                "br-0123456789ab",
                "172.20.0.0/16",
                &[("dockward.isolate", "true")],
            ),
        ],
        containers: vec![
            container(
                "public",
                "bridge",
                "172.17.0.2",
                &[("dockward.expose", "public")],
                vec![
                    port("0.0.0.0", 8080, 80, Protocol::Tcp),
                    port("::", 8080, 80, Protocol::Tcp),
                ],
            ),
            container(
                "plain",
                "bridge",
                "172.17.0.3",
                &[],
                vec![port("0.0.0.0", 6379, 6379, Protocol::Tcp)],
            ),
            container(
                "mixed",
                "bridge",
                "172.17.0.4",
                &[
                    ("dockward.expose", "10.0.0.0/8"),
                    ("dockward.expose.53/udp", "public"),
                    ("dockward.expose.22", "deny"),
                ],
                vec![
                    port("0.0.0.0", 5353, 53, Protocol::Udp),
                    port("0.0.0.0", 2222, 22, Protocol::Tcp),
                    port("0.0.0.0", 8000, 8000, Protocol::Tcp),
                ],
            ),
            container(
                "loopback",
                "bridge",
                "172.17.0.5",
                &[("dockward.expose", "public")],
                vec![port("127.0.0.1", 5432, 5432, Protocol::Tcp)],
            ),
            v6,
            stopped,
            db,
            api,
            other,
            container(
                "proj-web-1",
                "app",
                "172.20.0.4",
                &[],
                vec![port("0.0.0.0", 8088, 80, Protocol::Tcp)],
            ),
        ],
        ..Default::default()
    }
}

fn script(inv: &Inventory, file: &PolicyFile) -> String {
    let resolved = resolve(inv, file);
    nft::render(&dockward_firewall::with_host(
        build(&resolved, inv),
        inv,
        &veths(inv),
    ))
}

#[test]
fn labels_only_default_local() {
    insta::assert_snapshot!(
        "labels_default_local",
        script(&host(), &PolicyFile::default())
    );
}

#[test]
fn file_default_deny_and_selectors() {
    let file = parse_file(
        "policy.toml",
        r#"
default = "deny"
[[container]]
match = { name = "plain" }
ports = { "6379/tcp" = ["198.51.100.0/24"] }
[[container]]
match = { compose_project = "proj" }
expose = "public"
"#,
    )
    .expect("valid file");
    insta::assert_snapshot!("file_default_deny", script(&host(), &file));
}

/// Any name Docker accepts for a bridge (`com.docker.network.bridge.name`
/// is any Linux interface name): quoted exactly where nft can say it, by
/// interface index where it cannot (a `"`); the host's own bridges are
/// exempt from the `br-*` drop by name.
fn hostile() -> Inventory {
    let mut inv = Inventory {
        networks: vec![
            network(
                "q",
                "a\"b",
                "172.30.0.0/24",
                &[("dockward.isolate", "true")],
            ),
            network(
                "w",
                "x\\y;z+'",
                "172.31.0.0/24",
                &[("dockward.isolate", "true")],
            ),
        ],
        containers: vec![
            container(
                "q1",
                "q",
                "172.30.0.2",
                &[],
                vec![port("0.0.0.0", 81, 80, Protocol::Tcp)],
            ),
            container("w1", "w", "172.31.0.2", &[], vec![]),
        ],
        ..Default::default()
    };
    inv.networks[0].id = "q-id".into();
    inv
}

fn hostile_script() -> String {
    let inv = hostile();
    let rs = build(&resolve(&inv, &PolicyFile::default()), &inv);
    let bridge = |name: &str, index, ports: &[&str]| dockward_model::HostBridge {
        name: name.into(),
        index,
        ports: ports.iter().map(|p| p.to_string()).collect(),
    };
    // Foreign bridges' ports are exempt from the router-advertisement
    // drop, by name; one that nft's syntax cannot hold is not.
    let host = vec![
        bridge("a\"b", 42, &[]),
        bridge("x\\y;z+'", 43, &[]),
        bridge("br-lan", 3, &["eth1", "vethlxc0"]),
        bridge("v\"m", 4, &["veth\"q"]),
    ];
    let host = dockward_firewall::Host {
        bridges: host,
        ..veths(&inv)
    };
    nft::render(&dockward_firewall::with_host(rs, &inv, &host))
}

#[test]
fn hostile_names_are_rendered_exactly() {
    insta::assert_snapshot!("hostile_names", hostile_script());
}

#[test]
fn empty_host() {
    insta::assert_snapshot!(
        "empty_host",
        script(&Inventory::default(), &PolicyFile::default())
    );
}

#[test]
fn element_update_for_a_new_container() {
    let before = host();
    let mut after = host();
    after.containers.push(container(
        "late",
        "bridge",
        "172.17.0.10",
        &[("dockward.expose", "public")],
        vec![port("0.0.0.0", 7000, 70, Protocol::Tcp)],
    ));
    after.containers.retain(|c| c.name != "plain");
    let f = PolicyFile::default();
    let old = build(&resolve(&before, &f), &before);
    let new = build(&resolve(&after, &f), &after);
    let up = nft::update(&old, &new).expect("same shape");
    assert_eq!(
        up,
        "delete element inet dockward pub4 { 172.17.0.3 . tcp . 6379 }\nadd element inet dockward pub4 { 172.17.0.10 . tcp . 70 : accept }\ndelete element inet dockward proxy4 { tcp . 6379 }\nadd element inet dockward proxy4 { tcp . 7000 : accept }\n"
    );
    // A new allow list changes the shape: a full render is needed.
    after.containers.push(container(
        "cidr",
        "bridge",
        "172.17.0.11",
        &[("dockward.expose", "203.0.113.0/24")],
        vec![port("0.0.0.0", 7001, 71, Protocol::Tcp)],
    ));
    let newer = build(&resolve(&after, &f), &after);
    assert!(nft::update(&new, &newer).is_none());
}

/// The kernel's parser accepts every golden script (`nft -c` checks without
/// applying). Needs root and nft; required on the test bench.
#[test]
fn nft_accepts_the_scripts() {
    let have_nft = std::process::Command::new("nft")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_nft {
        assert!(
            !dockward_testbench::live_required(),
            "nft is required on the test bench"
        );
        eprintln!("skipping: nft not available");
        return;
    }
    let deny = parse_file("p.toml", "default = \"deny\"").unwrap();
    for s in [
        script(&host(), &PolicyFile::default()),
        script(&host(), &deny),
        script(&Inventory::default(), &PolicyFile::default()),
        hostile_script(),
    ] {
        let s = s
            .replace("inet dockward", "inet dockward_check")
            .replace("bridge dockward", "bridge dockward_check");
        let mut child = std::process::Command::new("nft")
            .args(["-c", "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "nft -c refused:\n{}\n{s}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Round trip through the kernel: apply a golden script under a test
/// table name, read it back with `nft -j`, and find no drift.
#[test]
fn kernel_round_trip_has_no_drift() {
    let have_nft = std::process::Command::new("nft")
        .args(["list", "tables"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_nft {
        assert!(
            !dockward_testbench::live_required(),
            "nft (as root) is required on the test bench"
        );
        return;
    }
    let inv = host();
    let mut rs = build(&resolve(&inv, &PolicyFile::default()), &inv);
    let table = format!("dwt_rt{}", std::process::id());
    // The docker-proxy guard names a cgroup that must exist when nft loads
    // the rule: one of the test's own, removed at the end.
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let guard = dockward_firewall::cgroup::proxy_cgroup(&format!("0::/{table}\n"), &mountinfo, &[])
        .expect("a cgroup v2 hierarchy under /sys/fs/cgroup on the test bench");
    let cg_dir = format!(
        "{}/{}",
        dockward_firewall::cgroup::NFT_CGROUP_ROOT,
        guard.path
    );
    std::fs::create_dir(&cg_dir).unwrap();
    rs.proxy_cgroup = Some(guard.clone());
    let s = nft::render(&rs)
        .replace("inet dockward", &format!("inet {table}"))
        .replace("bridge dockward", &format!("bridge {table}"));
    let nft = |args: &[&str], input: Option<&str>| {
        use std::io::Write;
        let mut child = std::process::Command::new("nft")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        if let Some(i) = input {
            stdin.write_all(i.as_bytes()).unwrap();
        }
        drop(stdin);
        child.wait_with_output().unwrap()
    };
    let out = nft(&["-f", "-"], Some(&s));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = nft(&["-j", "list", "table", "inet", &table], None);
    let _ = nft(&["delete", "table", "inet", &table], None);
    let _ = nft(&["delete", "table", "bridge", &table], None);
    let _ = std::fs::remove_dir(&cg_dir);
    let json: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let st = dockward_firewall::KernelState::parse(&json);
    assert_eq!(st.drift(&rs), None);
    assert_eq!(st.proxy_guard.as_deref(), Some(guard.path.as_str()));
    // The guard gone (an older table, or a foreign edit) is drift.
    let mut unguarded = st.clone();
    unguarded.proxy_guard = None;
    assert!(unguarded.drift(&rs).is_some());
    assert_eq!(st.pub4.len(), 8);
    assert_eq!(st.allow_lists.get(&1).map(Vec::len), Some(2));
    // A missing element is drift.
    let mut less = st;
    less.pub4.pop_first();
    assert!(less.drift(&rs).is_some());
    assert!(dockward_firewall::KernelState::default()
        .drift(&rs)
        .is_some());
}

/// The docker-proxy guard sits after the `proxy6` map and gives the
/// fallback; a change of cgroup is a change of shape (full replace).
#[test]
fn docker_proxy_guard_follows_the_map_with_the_fallback() {
    let guard = dockward_firewall::ProxyCgroup {
        level: 2,
        path: "system.slice/docker.service".into(),
        daemon_ports: vec![(Protocol::Tcp, 2375), (Protocol::Udp, 7946)],
    };
    let inv = host();
    let deny = parse_file("p.toml", "default = \"deny\"").unwrap();
    for (file, verdict) in [
        (PolicyFile::default(), "goto local_only"),
        (deny, "counter drop"),
    ] {
        let mut rs = build(&resolve(&inv, &file), &inv);
        rs.proxy_cgroup = Some(guard.clone());
        let s = nft::render(&rs);
        let cg = "socket cgroupv2 level 2 \"system.slice/docker.service\"";
        let want = format!(
            "\t\tct direction reply accept\n\t\tmeta nfproto ipv4 {cg} iifname . meta l4proto . th dport @iso_proxy4 ip saddr . meta l4proto . th dport != @iso_allow4 counter drop\n\t\tmeta nfproto ipv6 {cg} iifname . meta l4proto . th dport @iso_proxy6 ip6 saddr . meta l4proto . th dport != @iso_allow6 counter drop\n\t\tmeta nfproto ipv6 meta l4proto . th dport vmap @proxy6\n\t\t{cg} meta l4proto . th dport {{ tcp . 2375, udp . 7946 }} accept\n\t\tmeta nfproto ipv4 {cg} meta l4proto . th dport vmap @proxy4\n\t\t{cg} {verdict}\n\t}}\n}}\n"
        );
        assert!(s.contains(&want), "{s}");
    }
    let plain = build(&resolve(&inv, &PolicyFile::default()), &inv);
    let mut guarded = plain.clone();
    guarded.proxy_cgroup = Some(guard);
    assert!(nft::update(&plain, &guarded).is_none());
    assert!(!nft::render(&plain).contains("cgroupv2"));
}
