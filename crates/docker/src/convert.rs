//! Engine API answers → inventory, as pure functions.
//!
//! Kept apart from the calls so that it is tested on answers recorded from a
//! real dockerd (tests/fixtures) and so that the rules for reading the API
//! live in one place:
//! - a running container's published ports are `NetworkSettings.Ports` (what
//!   dockerd actually bound, e.g. `0.0.0.0` *and* `::` for `-p 8080:80` with
//!   the userland proxy); a stopped one's are `HostConfig.PortBindings` (what
//!   it will bind when started), plus every exposed port with `-P`;
//! - an empty `HostIp` means "the default bind address" and is kept as `None`;
//! - an empty `HostPort` means "a free port chosen at start" (`None`);
//! - bridge options are strings (`"true"`/`"false"`); a missing
//!   `enable_icc` means icc on, as in moby's bridge driver.

use bollard::models as api;
use dockward_model as m;
use std::collections::{BTreeMap, HashMap};

const ICC: &str = "com.docker.network.bridge.enable_icc";
const HOST_BINDING_IPV4: &str = "com.docker.network.bridge.host_binding_ipv4";
const BRIDGE_NAME: &str = "com.docker.network.bridge.name";
const DEFAULT_BRIDGE: &str = "com.docker.network.bridge.default_bridge";
use dockward_model::{COMPOSE_PROJECT, COMPOSE_SERVICE};

/// The daemon from `/version` and `/info`, with the default bridge found in
/// the network list.
pub fn daemon(
    version: &api::SystemVersion,
    info: &api::SystemInfo,
    networks: &[m::Network],
) -> m::Daemon {
    let security_options = info.security_options.clone().unwrap_or_default();
    let has = |name: &str| {
        security_options.iter().any(|o| {
            o.split(',')
                .any(|kv| kv == format!("name={name}") || kv == name)
        })
    };
    let default_bridge = networks
        .iter()
        .find(|n| {
            n.options.get(DEFAULT_BRIDGE).map(String::as_str) == Some("true")
                || (n.name == "bridge" && n.driver == "bridge")
        })
        .map(|n| m::BridgeDefaults {
            icc: n.icc,
            host_binding_ipv4: n.host_binding_ipv4.clone(),
        });
    m::Daemon {
        version: version
            .version
            .clone()
            .or_else(|| info.server_version.clone())
            .unwrap_or_default(),
        api_version: version.api_version.clone().unwrap_or_default(),
        min_api_version: version.min_api_version.clone(),
        os: info.operating_system.clone().unwrap_or_default(),
        kernel_version: info.kernel_version.clone().unwrap_or_default(),
        hostname: info.name.clone().unwrap_or_default(),
        userns_remap: has("userns"),
        rootless: has("rootless"),
        security_options,
        live_restore: info.live_restore_enabled.unwrap_or(false),
        firewall_backend: info
            .firewall_backend
            .as_ref()
            .and_then(|f| f.driver.clone())
            .filter(|d| !d.is_empty()),
        default_bridge,
        storage_driver: info.driver.clone().unwrap_or_default(),
        logging_driver: info.logging_driver.clone().unwrap_or_default(),
        experimental: info.experimental_build.unwrap_or(false),
        root_dir: info.docker_root_dir.clone().unwrap_or_default(),
        authorization_plugins: info
            .plugins
            .as_ref()
            .and_then(|p| p.authorization.clone())
            .unwrap_or_default(),
    }
}

/// The bridge that joins a Swarm node's containers (and the routing mesh's
/// sandbox) to the host.
pub const GWBRIDGE: &str = "docker_gwbridge";

/// The routing mesh sandbox's IPv4 address on `docker_gwbridge`: moby's
/// `DOCKER-INGRESS` chain DNATs every ingress-mode port to it
/// (`--to-destination <it>:<published port>`), and the network inspect
/// lists it as the endpoint `ingress-sbox`.
pub fn ingress_sbox(n: &api::NetworkInspect) -> Option<String> {
    let ep = n.containers.as_ref()?.get("ingress-sbox")?;
    let a = ep.ipv4_address.as_deref()?;
    let ip = a.split('/').next()?;
    ip.parse::<std::net::Ipv4Addr>()
        .ok()
        .map(|ip| ip.to_string())
}

pub fn network(n: &api::Network) -> m::Network {
    let options: BTreeMap<String, String> = sorted(n.options.as_ref());
    let id = n.id.clone().unwrap_or_default();
    let driver = n.driver.clone().unwrap_or_default();
    let bridge = if driver == "bridge" {
        options
            .get(BRIDGE_NAME)
            .cloned()
            .or_else(|| id.get(..12).map(|short| format!("br-{short}")))
    } else {
        None
    };
    // Docker's default IPAM gives a network without a `--gateway` the first
    // address of its subnet, and its API then reports no gateway at all.
    let default_ipam = n
        .ipam
        .as_ref()
        .and_then(|i| i.driver.as_deref())
        .is_none_or(|d| d.is_empty() || d == "default");
    let subnets = n
        .ipam
        .as_ref()
        .and_then(|i| i.config.as_ref())
        .map(|cs| {
            cs.iter()
                .filter_map(|c| {
                    let cidr = c.subnet.clone().filter(|s| !s.is_empty())?;
                    let gateway = c
                        .gateway
                        .clone()
                        .filter(|s| !s.is_empty())
                        .or_else(|| default_ipam.then(|| first_address(&cidr)).flatten());
                    Some(m::Subnet { cidr, gateway })
                })
                .collect()
        })
        .unwrap_or_default();
    m::Network {
        icc: options.get(ICC).map(|v| v != "false").unwrap_or(true),
        host_binding_ipv4: options.get(HOST_BINDING_IPV4).cloned(),
        id,
        name: n.name.clone().unwrap_or_default(),
        driver,
        scope: n.scope.clone().unwrap_or_default(),
        bridge,
        subnets,
        ipv6: n.enable_ipv6.unwrap_or(false),
        internal: n.internal.unwrap_or(false),
        labels: sorted(n.labels.as_ref()),
        options,
        peers: n
            .peers
            .iter()
            .flatten()
            .filter_map(|p| p.ip.clone().filter(|ip| !ip.is_empty()))
            .collect(),
        // The list carries no endpoints: filled from an inspect.
        ingress_sbox: None,
    }
}

/// This node's Swarm from `/info` (`None` when it is in none), with the
/// cluster's nodes and services when it is a manager that could list
/// them. Auto-lock is in `/info` too, on managers (`Cluster.Spec`).
pub fn swarm(
    info: &api::SystemInfo,
    nodes: &[api::Node],
    services: &[api::Service],
) -> Option<m::Swarm> {
    use api::LocalNodeState as L;
    let s = info.swarm.as_ref()?;
    let state = match s.local_node_state? {
        L::ACTIVE => "active",
        L::PENDING => "pending",
        L::LOCKED => "locked",
        L::ERROR => "error",
        L::INACTIVE | L::EMPTY => return None,
    };
    let mut managers: Vec<String> = s
        .remote_managers
        .iter()
        .flatten()
        .filter_map(|p| p.addr.clone())
        .collect();
    managers.sort();
    let mut nodes: Vec<m::SwarmNode> = nodes.iter().map(swarm_node).collect();
    nodes.sort_by(|a, b| a.hostname.cmp(&b.hostname).then(a.id.cmp(&b.id)));
    let mut services: Vec<m::Service> = services.iter().map(service).collect();
    services.sort_by(|a, b| a.name.cmp(&b.name));
    Some(m::Swarm {
        node_id: s.node_id.clone().unwrap_or_default(),
        node_addr: s.node_addr.clone().unwrap_or_default(),
        state: state.into(),
        manager: s.control_available.unwrap_or(false),
        managers,
        nodes,
        services,
        autolock: s
            .cluster
            .as_ref()
            .and_then(|c| c.spec.as_ref())
            .map(|spec| {
                spec.encryption_config
                    .as_ref()
                    .and_then(|e| e.auto_lock_managers)
                    .unwrap_or(false)
            }),
        node_cert_expiry_secs: s
            .cluster
            .as_ref()
            .and_then(|c| c.spec.as_ref())
            .and_then(|spec| spec.ca_config.as_ref())
            .and_then(|ca| ca.node_cert_expiry)
            .and_then(|ns| u64::try_from(ns / 1_000_000_000).ok()),
    })
}

pub fn swarm_node(n: &api::Node) -> m::SwarmNode {
    let status = n.status.clone().unwrap_or_default();
    let manager = n.manager_status.as_ref();
    m::SwarmNode {
        id: n.id.clone().unwrap_or_default(),
        hostname: n
            .description
            .as_ref()
            .and_then(|d| d.hostname.clone())
            .unwrap_or_default(),
        role: n
            .spec
            .as_ref()
            .and_then(|s| s.role)
            .map(|r| r.to_string())
            .unwrap_or_default(),
        addr: status.addr.unwrap_or_default(),
        state: status.state.map(|s| s.to_string()).unwrap_or_default(),
        availability: n
            .spec
            .as_ref()
            .and_then(|s| s.availability)
            .map(|a| a.to_string())
            .unwrap_or_default(),
        manager_addr: manager.and_then(|m| m.addr.clone()),
        leader: manager.and_then(|m| m.leader).unwrap_or(false),
    }
}

pub fn service(svc: &api::Service) -> m::Service {
    let spec = svc.spec.clone().unwrap_or_default();
    let task = spec.task_template.clone().unwrap_or_default();
    let mode = spec.mode.as_ref().map_or("replicated", |m| {
        if m.global.is_some() {
            "global"
        } else if m.replicated_job.is_some() {
            "replicated-job"
        } else if m.global_job.is_some() {
            "global-job"
        } else {
            "replicated"
        }
    });
    // The ports in force (with the published port Swarm chose), else the
    // spec's while the service is being created.
    let endpoint = svc.endpoint.as_ref();
    let configured = endpoint
        .and_then(|e| e.ports.as_ref())
        .or_else(|| spec.endpoint_spec.as_ref().and_then(|e| e.ports.as_ref()));
    let ports = configured
        .iter()
        .copied()
        .flatten()
        .filter_map(|p| {
            use api::EndpointPortConfigPublishModeEnum as P;
            Some(m::ServicePort {
                protocol: m::Protocol::parse(p.protocol.map_or("tcp", |x| match x {
                    api::EndpointPortConfigProtocolEnum::UDP => "udp",
                    api::EndpointPortConfigProtocolEnum::SCTP => "sctp",
                    _ => "tcp",
                }))?,
                target: u16::try_from(p.target_port?).ok()?,
                published: p
                    .published_port
                    .and_then(|x| u16::try_from(x).ok())
                    .filter(|x| *x > 0),
                mode: match p.publish_mode {
                    Some(P::HOST) => m::PublishMode::Host,
                    // Swarm's default is the routing mesh.
                    _ => m::PublishMode::Ingress,
                },
            })
        })
        .collect();
    let networks = task
        .networks
        .as_ref()
        .or(spec.networks.as_ref())
        .iter()
        .copied()
        .flatten()
        .filter_map(|n| n.target.clone())
        .collect();
    let container = task.container_spec.clone().unwrap_or_default();
    let mounts = container
        .mounts
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|mt| m::Mount {
            kind: mt.typ.map(|t| t.to_string()).unwrap_or_default(),
            source: mt.source.unwrap_or_default(),
            destination: mt.target.unwrap_or_default(),
            read_only: mt.read_only.unwrap_or(false),
            propagation: mt
                .bind_options
                .as_ref()
                .and_then(|b| b.propagation)
                .map(|p| p.to_string())
                .unwrap_or_default(),
        })
        .collect();
    m::Service {
        mounts,
        cap_add: container.capability_add.unwrap_or_default(),
        id: svc.id.clone().unwrap_or_default(),
        name: spec.name.clone().unwrap_or_default(),
        labels: sorted(spec.labels.as_ref()),
        image: task
            .container_spec
            .as_ref()
            .and_then(|c| c.image.clone())
            .unwrap_or_default(),
        mode: mode.into(),
        endpoint_mode: endpoint
            .and_then(|e| e.spec.as_ref())
            .or(spec.endpoint_spec.as_ref())
            .and_then(|e| e.mode)
            .map_or("vip".into(), |m| m.to_string()),
        ports,
        networks,
    }
}

/// The first host address of a subnet (`172.18.0.0/16` → `172.18.0.1`,
/// `fd00::/64` → `fd00::1`), as Docker's default IPAM picks a gateway.
fn first_address(cidr: &str) -> Option<String> {
    let (addr, len) = cidr.split_once('/')?;
    let len: u32 = len.parse().ok()?;
    match addr.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(a) if len < 31 => {
            let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            Some(std::net::Ipv4Addr::from((u32::from(a) & mask) + 1).to_string())
        }
        std::net::IpAddr::V6(a) if len < 127 => {
            let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            Some(std::net::Ipv6Addr::from((u128::from(a) & mask) + 1).to_string())
        }
        _ => None,
    }
}

pub fn container(c: &api::ContainerInspectResponse) -> m::Container {
    let config = c.config.clone().unwrap_or_default();
    let host = c.host_config.clone().unwrap_or_default();
    let settings = c.network_settings.clone().unwrap_or_default();
    let labels = sorted(config.labels.as_ref());
    let state = c
        .state
        .as_ref()
        .and_then(|s| s.status)
        .map(|s| m::ContainerState::parse(s.as_ref()))
        .unwrap_or_default();
    let running = matches!(
        state,
        m::ContainerState::Running | m::ContainerState::Paused
    );
    let ports = if running {
        live_ports(settings.ports.as_ref())
    } else {
        configured_ports(
            host.port_bindings.as_ref(),
            host.publish_all_ports.unwrap_or(false),
            config.exposed_ports.as_ref().map(|e| e.iter().cloned()),
        )
    };
    let compose = compose_of(&labels);
    let networks = attachments(settings.networks);
    let mounts = c
        .mounts
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|mp| m::Mount {
            kind: mp.typ.unwrap_or_default(),
            source: match (&mp.source, &mp.name) {
                (Some(s), _) if !s.is_empty() => s.clone(),
                (_, Some(n)) => n.clone(),
                _ => String::new(),
            },
            destination: mp.destination.unwrap_or_default(),
            read_only: !mp.rw.unwrap_or(true),
            propagation: mp.propagation.unwrap_or_default(),
        })
        .collect();
    let limits = m::Limits {
        memory: host.memory.unwrap_or(0),
        nano_cpus: host.nano_cpus.unwrap_or(0),
        cpu_shares: host.cpu_shares.unwrap_or(0),
        cpu_quota: host.cpu_quota.unwrap_or(0),
        pids: host.pids_limit.unwrap_or(0),
        restart: host
            .restart_policy
            .as_ref()
            .and_then(|r| r.name)
            .map(|n| n.to_string())
            .unwrap_or_default(),
        restart_max: host
            .restart_policy
            .as_ref()
            .and_then(|r| r.maximum_retry_count)
            .unwrap_or(0),
        cgroup_parent: host.cgroup_parent.clone().unwrap_or_default(),
        ulimits: host
            .ulimits
            .iter()
            .flatten()
            .map(|u| {
                format!(
                    "{}={}:{}",
                    u.name.clone().unwrap_or_default(),
                    u.soft.unwrap_or(0),
                    u.hard.unwrap_or(0)
                )
            })
            .collect(),
        healthcheck: config
            .healthcheck
            .as_ref()
            .and_then(|h| h.test.as_ref())
            .is_some_and(|t| !t.is_empty() && t[0] != "NONE"),
        health: c
            .state
            .as_ref()
            .and_then(|s| s.health.as_ref())
            .and_then(|h| h.status)
            .map(|s| s.to_string())
            .unwrap_or_default(),
    };
    m::Container {
        id: c.id.clone().unwrap_or_default(),
        name: c
            .name
            .clone()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string(),
        image: config.image.clone().unwrap_or_default(),
        image_id: c.image.clone().unwrap_or_default(),
        labels,
        // Filled by the client with one image inspect (see `client`).
        image_labels: None,
        compose,
        state,
        user: config.user.unwrap_or_default(),
        privileged: host.privileged.unwrap_or(false),
        network_mode: host.network_mode.clone().unwrap_or_default(),
        pid_mode: host.pid_mode.clone().unwrap_or_default(),
        ipc_mode: host.ipc_mode.clone().unwrap_or_default(),
        uts_mode: host.uts_mode.clone().unwrap_or_default(),
        userns_mode: host.userns_mode.clone().unwrap_or_default(),
        cap_add: host.cap_add.clone().unwrap_or_default(),
        cap_drop: host.cap_drop.clone().unwrap_or_default(),
        security_opt: host.security_opt.clone().unwrap_or_default(),
        devices: host
            .devices
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|d| d.path_on_host)
            .collect(),
        readonly_rootfs: host.readonly_rootfs.unwrap_or(false),
        limits,
        mounts,
        ports,
        networks,
        pid: c
            .state
            .as_ref()
            .and_then(|s| s.pid)
            .filter(|p| running && *p > 0)
            .and_then(|p| u32::try_from(p).ok()),
        recreate: crate::runlike::recreate(c),
    }
}

/// A running container from its `GET /containers/json` entry, with the pid
/// found on the host; `None` for any other state (a stopped container's
/// ports are what it *will* bind, which only an inspect tells).
///
/// The list carries the id, names, image, labels, state, the bound ports
/// and each network's id, addresses and MAC: everything the firewall
/// reads. It does not carry the configuration the audit and `status`
/// judge (user, privileges, namespaces, capabilities, mounts' modes), so
/// those fields keep their defaults: an inventory made this way is for
/// the firewall alone (see [`crate::client::Scope`]).
pub fn listed(c: &api::ContainerSummary, pid: u32) -> Option<m::Container> {
    let state = live_state(c)?;
    let labels = sorted(c.labels.as_ref());
    let mut ports: Vec<m::PublishedPort> = c
        .ports
        .iter()
        .flatten()
        .filter_map(|p| {
            Some(m::PublishedPort {
                host_ip: p.ip.clone().filter(|s| !s.is_empty()),
                // An exposed port that is not published has no public port.
                host_port: Some(p.public_port?),
                host_port_end: None,
                container_port: p.private_port,
                protocol: m::Protocol::parse(p.typ.as_ref().map_or("tcp", |t| t.as_ref()))?,
            })
        })
        .collect();
    sort_ports(&mut ports);
    // Docker lists a container under its own name and under each name a
    // legacy link gives it (`/other/alias`): the own one has no inner `/`.
    let name = c
        .names
        .iter()
        .flatten()
        .map(|n| n.trim_start_matches('/'))
        .find(|n| !n.contains('/'))?
        .to_string();
    Some(m::Container {
        id: c.id.clone()?,
        name,
        image: c.image.clone().unwrap_or_default(),
        image_id: c.image_id.clone().unwrap_or_default(),
        compose: compose_of(&labels),
        labels,
        image_labels: None,
        state,
        network_mode: c
            .host_config
            .as_ref()
            .and_then(|h| h.network_mode.clone())
            .unwrap_or_default(),
        ports,
        networks: attachments(c.network_settings.clone().and_then(|n| n.networks)),
        pid: Some(pid),
        ..m::Container::default()
    })
}

/// A list entry's state when its live bindings are in it (running or
/// paused); `None` for any other state.
pub fn live_state(c: &api::ContainerSummary) -> Option<m::ContainerState> {
    use api::ContainerSummaryStateEnum as S;
    match c.state? {
        S::RUNNING => Some(m::ContainerState::Running),
        S::PAUSED => Some(m::ContainerState::Paused),
        _ => None,
    }
}

fn compose_of(labels: &BTreeMap<String, String>) -> Option<m::Compose> {
    match (labels.get(COMPOSE_PROJECT), labels.get(COMPOSE_SERVICE)) {
        (Some(p), Some(s)) => Some(m::Compose {
            project: p.clone(),
            service: s.clone(),
        }),
        _ => None,
    }
}

fn attachments(map: Option<HashMap<String, api::EndpointSettings>>) -> Vec<m::Attachment> {
    let mut networks: Vec<m::Attachment> = map
        .unwrap_or_default()
        .into_iter()
        .map(|(name, e)| m::Attachment {
            network: name,
            network_id: e.network_id.unwrap_or_default(),
            ipv4: e.ip_address.filter(|s| !s.is_empty()),
            ipv6: e.global_ipv6_address.filter(|s| !s.is_empty()),
            mac: e.mac_address.filter(|s| !s.is_empty()),
            aliases: e.aliases.unwrap_or_default(),
        })
        .collect();
    networks.sort_by(|a, b| a.network.cmp(&b.network));
    networks
}

/// `"80/tcp"` → (80, tcp). Unknown protocols and bad numbers are skipped:
/// dockerd never produces them, and a report must not invent a port.
fn port_key(key: &str) -> Option<(u16, m::Protocol)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    Some((port.parse().ok()?, m::Protocol::parse(proto)?))
}

/// `"8080"` → (Some(8080), None); `"8000-8010"` → (Some(8000), Some(8010));
/// `""` → (None, None).
fn host_port(s: &str) -> Option<(Option<u16>, Option<u16>)> {
    let s = s.trim();
    if s.is_empty() {
        return Some((None, None));
    }
    match s.split_once('-') {
        Some((a, b)) => Some((Some(a.parse().ok()?), Some(b.parse().ok()?))),
        None => Some((Some(s.parse().ok()?), None)),
    }
}

fn live_ports(map: Option<&api::PortMap>) -> Vec<m::PublishedPort> {
    let mut out = Vec::new();
    for (key, bindings) in map.into_iter().flatten() {
        let Some((container_port, protocol)) = port_key(key) else {
            continue;
        };
        for b in bindings.iter().flatten() {
            let Some((hp, _)) = host_port(b.host_port.as_deref().unwrap_or("")) else {
                continue;
            };
            out.push(m::PublishedPort {
                host_ip: b.host_ip.clone().filter(|s| !s.is_empty()),
                host_port: hp,
                host_port_end: None,
                container_port,
                protocol,
            });
        }
    }
    sort_ports(&mut out);
    out
}

fn configured_ports(
    map: Option<&api::PortMap>,
    publish_all: bool,
    exposed: Option<impl Iterator<Item = String>>,
) -> Vec<m::PublishedPort> {
    let mut out = Vec::new();
    for (key, bindings) in map.into_iter().flatten() {
        let Some((container_port, protocol)) = port_key(key) else {
            continue;
        };
        for b in bindings.iter().flatten() {
            let Some((hp, end)) = host_port(b.host_port.as_deref().unwrap_or("")) else {
                continue;
            };
            out.push(m::PublishedPort {
                host_ip: b.host_ip.clone().filter(|s| !s.is_empty()),
                host_port: hp,
                host_port_end: end,
                container_port,
                protocol,
            });
        }
    }
    if publish_all {
        for key in exposed.into_iter().flatten() {
            let Some((container_port, protocol)) = port_key(&key) else {
                continue;
            };
            let already = out
                .iter()
                .any(|p| p.container_port == container_port && p.protocol == protocol);
            if !already {
                out.push(m::PublishedPort {
                    host_ip: None,
                    host_port: None,
                    host_port_end: None,
                    container_port,
                    protocol,
                });
            }
        }
    }
    sort_ports(&mut out);
    out
}

fn sort_ports(v: &mut [m::PublishedPort]) {
    v.sort_by(|a, b| {
        (a.host_port, a.protocol, a.container_port, &a.host_ip).cmp(&(
            b.host_port,
            b.protocol,
            b.container_port,
            &b.host_ip,
        ))
    });
}

fn sorted(m: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Assemble a whole inventory from the answers of one snapshot.
pub fn inventory(
    version: &api::SystemVersion,
    info: &api::SystemInfo,
    networks: &[api::Network],
    mut containers: Vec<m::Container>,
) -> m::Inventory {
    let mut networks: Vec<m::Network> = networks.iter().map(network).collect();
    networks.sort_by(|a, b| a.name.cmp(&b.name));
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    m::Inventory {
        daemon: daemon(version, info, &networks),
        networks,
        containers,
        swarm: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ipam_gateway_is_the_first_address() {
        assert_eq!(
            first_address("172.29.10.0/24").as_deref(),
            Some("172.29.10.1")
        );
        assert_eq!(
            first_address("172.18.5.7/16").as_deref(),
            Some("172.18.0.1")
        );
        assert_eq!(first_address("fd77:8::/64").as_deref(), Some("fd77:8::1"));
        assert_eq!(first_address("10.0.0.0/0").as_deref(), Some("0.0.0.1"));
        assert_eq!(first_address("10.0.0.4/31"), None);
        assert_eq!(first_address("junk"), None);
    }

    #[test]
    fn host_port_forms() {
        assert_eq!(host_port(""), Some((None, None)));
        assert_eq!(host_port("8080"), Some((Some(8080), None)));
        assert_eq!(host_port("8000-8010"), Some((Some(8000), Some(8010))));
        assert_eq!(host_port("x"), None);
        assert_eq!(host_port("70000"), None);
    }

    #[test]
    fn port_key_forms() {
        assert_eq!(port_key("80/tcp"), Some((80, m::Protocol::Tcp)));
        assert_eq!(port_key("53/udp"), Some((53, m::Protocol::Udp)));
        assert_eq!(port_key("80"), Some((80, m::Protocol::Tcp)));
        assert_eq!(port_key("80/quic"), None);
    }

    #[test]
    fn a_list_entry_is_read_as_the_firewall_needs_it() {
        let entry: api::ContainerSummary = serde_json::from_value(serde_json::json!({
            "Id": "c1", "Names": ["/web/db", "/db"], "Image": "img", "ImageID": "sha256:i",
            "State": "running", "Labels": {"a": "b"},
            "Ports": [
                {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                {"PrivatePort": 81, "Type": "tcp"},
                {"IP": "::", "PrivatePort": 9, "PublicPort": 9009, "Type": "sctp"}
            ],
            "HostConfig": {"NetworkMode": "default"},
            "NetworkSettings": {"Networks": {"bridge": {
                "NetworkID": "n1", "IPAddress": "172.17.0.2", "GlobalIPv6Address": "",
                "MacAddress": "02:42:ac:11:00:02", "Aliases": null
            }}}
        }))
        .unwrap();
        let c = listed(&entry, 42).expect("running");
        assert_eq!((c.name.as_str(), c.pid), ("db", Some(42)));
        // The exposed, unpublished port is not a published one.
        let ports: Vec<_> = c.ports.iter().map(|p| (p.host_port, p.protocol)).collect();
        assert_eq!(
            ports,
            [
                (Some(8080), m::Protocol::Tcp),
                (Some(9009), m::Protocol::Sctp)
            ]
        );
        assert_eq!(c.ports[1].host_ip.as_deref(), Some("::"));
        let a = &c.networks[0];
        assert_eq!(
            (a.ipv4.as_deref(), a.ipv6.as_deref()),
            (Some("172.17.0.2"), None)
        );
        // Anything but running or paused needs an inspect.
        for state in ["exited", "created", "restarting", "dead"] {
            let mut e = entry.clone();
            e.state = serde_json::from_value(serde_json::json!(state)).unwrap();
            assert!(listed(&e, 42).is_none(), "{state}");
        }
    }

    #[test]
    fn publish_all_adds_exposed_ports_with_random_host_ports() {
        let ports = configured_ports(
            None,
            true,
            Some(vec!["80/tcp".to_string(), "53/udp".to_string()].into_iter()),
        );
        assert_eq!(ports.len(), 2);
        assert!(ports
            .iter()
            .all(|p| p.host_port.is_none() && p.host_ip.is_none()));
    }
}
