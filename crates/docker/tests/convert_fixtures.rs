//! The API → model conversion on answers recorded from a real dockerd 20.10
//! (Debian 12): one running container published on 0.0.0.0 and [::], one
//! created container with a loopback TCP port and a default-address UDP port
//! on a user network with icc off.

use bollard::models as api;
use dockward_docker::convert;
use dockward_model::{ContainerState, Protocol};

fn load<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = format!(
        "{}/tests/fixtures/dockerd-20.10/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn recorded_answers_become_the_inventory() {
    let version: api::SystemVersion = load("version.json");
    let info: api::SystemInfo = load("info.json");
    let networks: Vec<api::Network> = load("networks.json");
    let containers: Vec<api::ContainerInspectResponse> =
        vec![load("inspect-dwt-r.json"), load("inspect-dwt-s.json")];
    let inv = convert::inventory(
        &version,
        &info,
        &networks,
        containers.iter().map(convert::container).collect(),
    );

    assert_eq!(inv.daemon.version, "20.10.24+dfsg1");
    assert_eq!(inv.daemon.api_version, "1.41");
    assert_eq!(inv.daemon.min_api_version.as_deref(), Some("1.12"));
    assert!(!inv.daemon.userns_remap);
    assert_eq!(inv.daemon.major_version(), Some(20));
    let b = inv.daemon.default_bridge.as_ref().expect("default bridge");
    assert!(b.icc);
    assert_eq!(b.host_binding_ipv4.as_deref(), Some("0.0.0.0"));

    let bridge = inv.network("bridge").unwrap();
    assert_eq!(bridge.bridge.as_deref(), Some("docker0"));
    assert_eq!(bridge.subnets[0].cidr, "172.17.0.0/16");
    let icc = inv.network("dwt-icc").unwrap();
    assert!(!icc.icc);
    assert!(icc.bridge.as_deref().unwrap().starts_with("br-"));
    assert_eq!(icc.bridge.as_deref().unwrap().len(), 15);

    let r = inv.container("dwt-r").unwrap();
    assert_eq!(r.state, ContainerState::Running);
    assert_eq!(r.ports.len(), 2);
    assert!(r
        .ports
        .iter()
        .any(|p| p.host_ip.as_deref() == Some("::") && p.host_port == Some(8081)));
    assert_eq!(r.networks[0].ipv4.as_deref(), Some("172.17.0.2"));
    assert_eq!(r.network_mode, "default");

    let s = inv.container("dwt-s").unwrap();
    assert_eq!(s.state, ContainerState::Created);
    assert!(!s.is_running());
    let udp = s
        .ports
        .iter()
        .find(|p| p.protocol == Protocol::Udp)
        .unwrap();
    assert_eq!(
        (udp.host_ip.as_deref(), udp.host_port, udp.container_port),
        (None, Some(5353), 53)
    );
    let tcp = s
        .ports
        .iter()
        .find(|p| p.protocol == Protocol::Tcp)
        .unwrap();
    assert_eq!(tcp.host_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(s.networks[0].network, "dwt-icc");
    assert_eq!(s.networks[0].ipv4, None);
}
