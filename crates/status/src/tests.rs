use super::*;
use crate::render::{Json, Render, Text};
use dockward_model::*;

fn net(name: &str, icc: bool) -> Network {
    Network {
        id: format!("{name}-id"),
        name: name.into(),
        driver: "bridge".into(),
        scope: "local".into(),
        bridge: Some(if name == "bridge" {
            "docker0".into()
        } else {
            format!("br-{name}")
        }),
        subnets: vec![Subnet {
            cidr: "172.20.0.0/16".into(),
            gateway: None,
        }],
        icc,
        host_binding_ipv4: (name == "bridge").then(|| "0.0.0.0".to_string()),
        ..Default::default()
    }
}

fn port(ip: Option<&str>, hp: Option<u16>, cp: u16, proto: Protocol) -> PublishedPort {
    PublishedPort {
        host_ip: ip.map(str::to_string),
        host_port: hp,
        host_port_end: None,
        container_port: cp,
        protocol: proto,
    }
}

fn container(
    name: &str,
    state: ContainerState,
    network: &str,
    ports: Vec<PublishedPort>,
) -> Container {
    Container {
        id: format!("{name}-id"),
        name: name.into(),
        image: "img".into(),
        state,
        network_mode: network.into(),
        ports,
        networks: vec![Attachment {
            network: network.into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn inventory() -> Inventory {
    Inventory {
        daemon: Daemon {
            version: "20.10.24+dfsg1".into(),
            api_version: "1.41".into(),
            default_bridge: Some(BridgeDefaults {
                icc: true,
                host_binding_ipv4: Some("0.0.0.0".into()),
            }),
            ..Default::default()
        },
        networks: vec![net("bridge", true), net("isolated", false)],
        swarm: None,
        containers: vec![
            container(
                "web",
                ContainerState::Running,
                "bridge",
                vec![
                    port(Some("0.0.0.0"), Some(8080), 80, Protocol::Tcp),
                    port(Some("::"), Some(8080), 80, Protocol::Tcp),
                ],
            ),
            container(
                "db",
                ContainerState::Running,
                "bridge",
                vec![port(Some("127.0.0.1"), Some(5432), 5432, Protocol::Tcp)],
            ),
            container(
                "dns",
                ContainerState::Running,
                "isolated",
                vec![port(Some("0.0.0.0"), Some(5353), 53, Protocol::Udp)],
            ),
            container(
                "later",
                ContainerState::Exited,
                "isolated",
                vec![
                    port(None, Some(9000), 9000, Protocol::Tcp),
                    port(None, None, 22, Protocol::Tcp),
                ],
            ),
            Container {
                network_mode: "host".into(),
                networks: vec![],
                ..container("hostnet", ContainerState::Running, "host", vec![])
            },
        ],
    }
}

#[test]
fn classifies_addresses() {
    assert_eq!(
        classify("0.0.0.0"),
        (Exposure::AllInterfaces, IpVersion::Ipv4)
    );
    assert_eq!(
        classify("::"),
        (Exposure::AllInterfacesIpv6, IpVersion::Ipv6)
    );
    assert_eq!(classify("127.0.0.5"), (Exposure::Loopback, IpVersion::Ipv4));
    assert_eq!(classify("::1"), (Exposure::Loopback, IpVersion::Ipv6));
    assert_eq!(
        classify("192.0.2.1"),
        (Exposure::OneAddress, IpVersion::Ipv4)
    );
    assert_eq!(
        classify("garbage"),
        (Exposure::AllInterfaces, IpVersion::Ipv4)
    );
}

#[test]
fn stopped_container_without_address_gets_both_defaults() {
    let r = report(&inventory());
    let later: Vec<_> = r.ports.iter().filter(|p| p.container == "later").collect();
    assert_eq!(later.len(), 4, "{later:#?}");
    assert!(later.iter().all(|p| p.state == PortState::Stopped));
    assert!(later
        .iter()
        .any(|p| p.host_address == "::" && p.host_port == Some(9000)));
    assert!(later
        .iter()
        .any(|p| p.host_port.is_none() && p.container_port == 22));
}

#[test]
fn network_default_bind_address_applies_to_stopped_containers() {
    let mut inv = inventory();
    inv.networks[1].host_binding_ipv4 = Some("127.0.0.1".into());
    let r = report(&inv);
    let later: Vec<_> = r.ports.iter().filter(|p| p.container == "later").collect();
    assert_eq!(later.len(), 2);
    assert!(later.iter().all(|p| p.exposure == Exposure::Loopback));
}

#[test]
fn host_network_and_direct_routing_are_reported() {
    let r = report(&inventory());
    assert_eq!(r.host_network_containers, vec!["hostnet".to_string()]);
    assert!(r.daemon.direct_routing_open);
    assert!(r
        .notes
        .iter()
        .any(|n| matches!(n, Note::DirectRouting { version, .. } if version == &inventory().daemon.version)));
    let mut inv = inventory();
    inv.daemon.version = "28.2.2".into();
    assert!(!report(&inv).daemon.direct_routing_open);
}

#[test]
fn networks_list_icc_and_members() {
    let r = report(&inventory());
    let iso = r.networks.iter().find(|n| n.name == "isolated").unwrap();
    assert!(!iso.icc);
    assert_eq!(iso.containers, vec!["dns".to_string(), "later".to_string()]);
}

#[test]
fn text_snapshot() {
    let mut out = Vec::new();
    Text {
        colour: false,
        wide: true,
    }
    .render(&report(&inventory()), &mut out)
    .unwrap();
    let s = String::from_utf8(out).unwrap();
    assert!(!s.contains('\u{1b}'), "no colour codes when colour is off");
    insta::assert_snapshot!(s);
}

#[test]
fn compact_text_fits_80_columns_one_row_per_port() {
    let mut out = Vec::new();
    Text {
        colour: false,
        wide: false,
    }
    .render(&report(&inventory()), &mut out)
    .unwrap();
    let s = String::from_utf8(out).unwrap();
    for l in s.lines() {
        assert!(
            l.chars().count() <= 80,
            "{} columns: {l:?}",
            l.chars().count()
        );
    }
    // web's 0.0.0.0:8080 and [::]:8080 are one row.
    let web: Vec<&str> = s
        .lines()
        .filter(|l| l.trim_start().starts_with("web "))
        .collect();
    assert_eq!(web.len(), 1, "{s}");
    assert!(
        web[0].contains("*:8080") && web[0].contains("anywhere (IPv4 and IPv6)"),
        "{s}"
    );
    insta::assert_snapshot!(s);
}

#[test]
fn text_colour_only_when_asked() {
    let mut out = Vec::new();
    Text {
        colour: true,
        wide: false,
    }
    .render(&report(&inventory()), &mut out)
    .unwrap();
    assert!(String::from_utf8(out).unwrap().contains('\u{1b}'));
}

#[test]
fn json_snapshot() {
    let mut out = Vec::new();
    Json.render(&report(&inventory()), &mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["schema"], SCHEMA);
    insta::assert_json_snapshot!(v);
}

#[test]
fn firewall_verdicts_from_the_kernel_state() {
    let mut inv = inventory();
    for (i, c) in inv.containers.iter_mut().enumerate() {
        for a in &mut c.networks {
            a.ipv4 = Some(format!("172.20.0.{}", i + 2));
        }
    }
    // The ruleset dockward would apply for this inventory, as the kernel
    // would list it back: every running port with its verdict.
    let resolved = dockward_firewall::resolve(&inv, &Default::default());
    let rs = dockward_firewall::build(&resolved, &inv);
    let mut k = KernelState {
        fallback: Some(rs.fallback.clone()),
        ..Default::default()
    };
    for (key, v) in &rs.pub4 {
        k.pub4.insert(
            *key,
            dockward_firewall::kernel::Entry {
                verdict: v.clone(),
                counter: dockward_firewall::kernel::Counter {
                    packets: 7,
                    bytes: 420,
                },
            },
        );
    }
    let r = with_firewall(report(&inv), &inv, &k);
    assert_eq!(r.firewall, FirewallStatus::Installed);
    assert!(r
        .ports
        .iter()
        .all(|p| p.firewall.is_some() && !p.direct_routing_open));
    let running_v4 = r
        .ports
        .iter()
        .find(|p| {
            p.state == PortState::Running
                && p.ip_version == IpVersion::Ipv4
                && p.exposure == Exposure::AllInterfaces
        })
        .expect("a running IPv4 row");
    let f = running_v4.firewall.as_ref().unwrap();
    assert_eq!(
        (&f.verdict, f.by, f.packets),
        (&Reach::LocalOnly, "entry", 7)
    );
    let stopped = r
        .ports
        .iter()
        .find(|p| p.state == PortState::Stopped)
        .expect("a stopped row");
    assert_eq!(stopped.firewall.as_ref().unwrap().by, "fallback");
    let mut out = Vec::new();
    Text {
        colour: false,
        wide: false,
    }
    .render(&r, &mut out)
    .unwrap();
    let s = String::from_utf8(out).unwrap();
    assert!(s.contains("FIREWALL") && s.contains("local only"), "{s}");
}

#[test]
fn a_repaired_tampering_is_the_first_note_and_in_json() {
    let r = report(&inventory());
    let t = dockward_firewall::tamper::Tamper {
        at: 1_000,
        what: "the forward chain was flushed".into(),
        repaired_in_ms: 31.4,
    };
    let r = with_tamper(r, t, 1_000 + 300);
    let first = r.notes[0].to_string();
    assert!(
        first.starts_with("someone else changed dockward's firewall rules 5 min ago"),
        "{first}"
    );
    assert!(first.contains("the forward chain was flushed"));
    assert!(first.contains("in 31 ms"));
    let mut out = Vec::new();
    Json.render(&r, &mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["last_tamper"]["what"], "the forward chain was flushed");
    assert_eq!(v["last_tamper"]["at"], 1_000);
}

#[test]
fn a_swarm_managers_service_ports_and_how_each_is_published() {
    let mut inv = inventory();
    let svc = |name: &str, ports: Vec<ServicePort>| Service {
        id: format!("{name}-id"),
        name: name.into(),
        labels: [(STACK_NAMESPACE.to_string(), "shop".to_string())].into(),
        mode: "replicated".into(),
        endpoint_mode: "vip".into(),
        ports,
        ..Default::default()
    };
    inv.swarm = Some(Swarm {
        node_id: "n1".into(),
        node_addr: "10.0.0.1".into(),
        state: "active".into(),
        manager: true,
        managers: vec!["10.0.0.1:2377".into()],
        nodes: vec![SwarmNode::default(), SwarmNode::default()],
        services: vec![
            svc(
                "web",
                vec![ServicePort {
                    protocol: Protocol::Tcp,
                    target: 80,
                    published: Some(8080),
                    mode: PublishMode::Ingress,
                }],
            ),
            svc(
                "dns",
                vec![ServicePort {
                    protocol: Protocol::Udp,
                    target: 53,
                    published: Some(53),
                    mode: PublishMode::Host,
                }],
            ),
        ],
        autolock: Some(false),
        node_cert_expiry_secs: None,
    });
    let r = report(&inv);
    let sw = r.swarm.as_ref().expect("swarm part");
    assert_eq!((sw.role, sw.nodes), ("manager", Some(2)));
    let rows: Vec<(&str, Option<u16>, PublishMode)> = sw
        .services
        .iter()
        .map(|s| (s.service.as_str(), s.published_port, s.mode))
        .collect();
    assert_eq!(
        rows,
        [
            ("dns", Some(53), PublishMode::Host),
            ("web", Some(8080), PublishMode::Ingress)
        ]
    );
    assert!(sw.services[1]
        .reachable_from
        .contains("any node of the swarm"));
    let mut text = Vec::new();
    Text {
        colour: false,
        wide: true,
    }
    .render(&r, &mut text)
    .unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("Swarm: this node is a manager (10.0.0.1, active), 2 node(s)"),
        "{text}"
    );
    assert!(
        text.contains("web (stack shop)") && text.contains("ingress (every node)"),
        "{text}"
    );
    let mut json = Vec::new();
    Json.render(&r, &mut json).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["swarm"]["services"][1]["mode"], "ingress");
    assert_eq!(v["swarm"]["services"][1]["published_port"], 8080);
    // Outside a swarm the key is absent, as before.
    let mut json = Vec::new();
    Json.render(&report(&inventory()), &mut json).unwrap();
    assert!(!String::from_utf8(json).unwrap().contains("\"swarm\""));
}

#[test]
fn a_mistyped_label_is_a_note() {
    let mut inv = inventory();
    inv.containers[0]
        .labels
        .insert("dockward.expose".into(), "pubic".into());
    let r = report(&inv);
    let said: Vec<String> = r.notes.iter().map(ToString::to_string).collect();
    assert!(
        said.iter().any(
            |n| n.contains("label dockward.expose=pubic") && n.contains("did you mean public?")
        ),
        "{said:#?}"
    );
}
