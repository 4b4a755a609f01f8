//! What the unit tests of `apply` and `watch` share: the recording fakes
//! in one `Kernel`, and a small host.

use crate::{Kernel, StateFile};
use dockward_model::{
    Attachment, Container, ContainerState, Inventory, Network, Protocol, PublishedPort, Subnet,
};
use dockward_netfilter::{Recording, RecordingIpt};

/// The recording fakes and a temporary state directory (removed when the
/// first element is dropped), for unit tests.
pub(crate) fn fake_kernel() -> (tempfile::TempDir, Kernel<Recording, RecordingIpt>) {
    let dir = tempfile::tempdir().unwrap();
    let state = StateFile(Some(dir.path().to_path_buf()));
    (
        dir,
        Kernel {
            nf: Recording::default(),
            ipt: RecordingIpt::default(),
            host: std::sync::Arc::new(dockward_hostprobe::fake::Fake::default()),
            state,
        },
    )
}

/// A running container on `docker0` at `ip`, publishing 80/tcp on 8080,
/// labelled `dockward.expose=<expose>` (its own label: the image has none).
pub(crate) fn web(id: &str, ip: &str, expose: &str) -> Container {
    Container {
        id: id.into(),
        name: id.into(),
        state: ContainerState::Running,
        labels: [("dockward.expose".to_string(), expose.to_string())].into(),
        image_labels: Some(Default::default()),
        ports: vec![PublishedPort {
            host_ip: Some("0.0.0.0".into()),
            host_port: Some(8080),
            host_port_end: None,
            container_port: 80,
            protocol: Protocol::Tcp,
        }],
        networks: vec![Attachment {
            network: "bridge".into(),
            network_id: "n".into(),
            ipv4: Some(ip.into()),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// `containers` on Docker's default bridge, 172.17.0.0/16.
pub(crate) fn host(containers: Vec<Container>) -> Inventory {
    Inventory {
        networks: vec![Network {
            id: "n".into(),
            name: "bridge".into(),
            driver: "bridge".into(),
            bridge: Some("docker0".into()),
            subnets: vec![Subnet {
                cidr: "172.17.0.0/16".into(),
                gateway: Some("172.17.0.1".into()),
            }],
            ..Default::default()
        }],
        containers,
        ..Default::default()
    }
}
