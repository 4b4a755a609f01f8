//! The inventory: what a Docker host is made of, as plain data.
//!
//! Every dockward subsystem is a pure function of this data (`status` turns it
//! into a report, `firewall` into a ruleset, `audit` into findings), so it is
//! deliberately free of any Docker client type. The edge crate
//! `dockward-docker` fills it from the Engine API; tests fill it by hand.
//!
//! Field meanings follow the Docker Engine API (v1.41, the version Debian 12's
//! dockerd 20.10 speaks, and later): where dockerd leaves a value empty, the
//! model keeps it empty (`None`) instead of guessing a default, and the
//! consumers resolve defaults explicitly (see [`PublishedPort::host_ip`]).

mod swarm;

pub use swarm::{PublishMode, Service, ServicePort, Swarm, SwarmNode, STACK_NAMESPACE};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One consistent snapshot of a Docker host.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Inventory {
    pub daemon: Daemon,
    pub networks: Vec<Network>,
    pub containers: Vec<Container>,
    /// This node's Swarm, when it is part of one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swarm: Option<Swarm>,
}

impl Inventory {
    /// On a Swarm node: the routing mesh sandbox's address on
    /// `docker_gwbridge`, where every ingress-mode port is DNATed to (its
    /// published port unchanged).
    pub fn ingress_sbox(&self) -> Option<std::net::Ipv4Addr> {
        self.networks
            .iter()
            .find_map(|n| n.ingress_sbox.as_deref()?.parse().ok())
    }

    /// The network with this name or full id.
    pub fn network(&self, name_or_id: &str) -> Option<&Network> {
        self.networks
            .iter()
            .find(|n| n.name == name_or_id || n.id == name_or_id)
    }

    /// The network an attachment is to.
    pub fn network_of(&self, a: &Attachment) -> Option<&Network> {
        self.networks.iter().find(|n| a.is_on(n))
    }

    /// The container with this name (without the leading `/`) or full id.
    pub fn container(&self, name_or_id: &str) -> Option<&Container> {
        self.containers
            .iter()
            .find(|c| c.name == name_or_id || c.id == name_or_id)
    }
}

/// The daemon as the API shows it (`GET /info` and `GET /version`).
///
/// Options the API does not expose (`no-new-privileges`, `icc` as a daemon
/// flag, `userland-proxy`) are not guessed here: the default bridge's options
/// carry icc and the default bind address, and the audit reads the rest from
/// daemon.json and the command line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Daemon {
    /// Engine version, e.g. `20.10.24+dfsg1`.
    pub version: String,
    /// The API version the daemon speaks at most, e.g. `1.41`.
    pub api_version: String,
    /// The oldest API version the daemon still accepts, e.g. `1.12`.
    pub min_api_version: Option<String>,
    pub os: String,
    pub kernel_version: String,
    pub hostname: String,
    /// Raw `SecurityOptions`, e.g. `name=seccomp,profile=default`.
    pub security_options: Vec<String>,
    /// User-namespace remapping is on (`name=userns` in `SecurityOptions`).
    pub userns_remap: bool,
    /// The daemon itself runs rootless (`name=rootless`).
    pub rootless: bool,
    pub live_restore: bool,
    /// `FirewallBackend.Driver` (Docker 28+): `iptables` or `nftables`.
    pub firewall_backend: Option<String>,
    /// The default bridge (`docker0`), when the daemon has one.
    pub default_bridge: Option<BridgeDefaults>,
    /// `Driver` (the storage driver, e.g. `overlay2`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub storage_driver: String,
    /// `LoggingDriver` (the default log driver, e.g. `json-file`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub logging_driver: String,
    /// `ExperimentalBuild`.
    #[serde(default)]
    pub experimental: bool,
    /// `DockerRootDir`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub root_dir: String,
    /// `Plugins.Authorization`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_plugins: Vec<String>,
}

impl Daemon {
    /// The engine's major version (`20` for `20.10.24+dfsg1`), if it parses.
    pub fn major_version(&self) -> Option<u32> {
        self.version.split('.').next()?.parse().ok()
    }
}

/// What the default bridge says of the daemon-wide `--icc` and `--ip` flags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BridgeDefaults {
    /// `com.docker.network.bridge.enable_icc`.
    pub icc: bool,
    /// `com.docker.network.bridge.host_binding_ipv4`: the address ports
    /// published without one are bound to (`--ip`, default `0.0.0.0`).
    pub host_binding_ipv4: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Network {
    pub id: String,
    pub name: String,
    /// `bridge`, `host`, `null`, `overlay`, `macvlan`, …
    pub driver: String,
    pub scope: String,
    /// The Linux bridge interface (`docker0`, `br-<id12>`) for bridge networks.
    pub bridge: Option<String>,
    pub subnets: Vec<Subnet>,
    pub ipv6: bool,
    /// Containers on this network may reach each other
    /// (`com.docker.network.bridge.enable_icc`, default true).
    pub icc: bool,
    /// `--internal`: no route to or from outside the network.
    pub internal: bool,
    /// The address ports are published on by default for containers on this
    /// network (`com.docker.network.bridge.host_binding_ipv4`), when set.
    pub host_binding_ipv4: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    /// An overlay network's peers: the addresses of the nodes that run a
    /// task on it (only a network inspect on a node with such a task
    /// lists them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<String>,
    /// On a Swarm node's `docker_gwbridge`: the IPv4 address of the routing
    /// mesh's sandbox (`ingress-sbox`), where every ingress-mode port is
    /// DNATed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress_sbox: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Subnet {
    /// CIDR, e.g. `172.17.0.0/16` or `fd00::/64`.
    pub cidr: String,
    pub gateway: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Container {
    pub id: String,
    /// The name without Docker's leading `/`.
    pub name: String,
    /// The image reference the container was created from.
    pub image: String,
    pub image_id: String,
    /// `Config.Labels`: Docker merges the image's labels in, so a key here
    /// may have been set by the image's author rather than by whoever
    /// created the container.
    pub labels: BTreeMap<String, String>,
    /// The image's own labels (`Config.Labels` of the image), to tell the
    /// two apart; `None` when they could not be read (the image is gone,
    /// or a recorded inventory did not carry them). Consumers that give
    /// labels power must treat `None` as "every label may be the image's".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_labels: Option<BTreeMap<String, String>>,
    /// From the `com.docker.compose.project` / `.service` labels.
    pub compose: Option<Compose>,
    pub state: ContainerState,
    /// `Config.User` as configured (empty: the image's user applies).
    pub user: String,
    pub privileged: bool,
    /// `HostConfig.NetworkMode`: `default`, `bridge`, `host`, `none`,
    /// `container:<id>` or a network name.
    pub network_mode: String,
    pub pid_mode: String,
    pub ipc_mode: String,
    pub uts_mode: String,
    pub userns_mode: String,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub security_opt: Vec<String>,
    /// Host device paths mapped into the container.
    pub devices: Vec<String>,
    pub readonly_rootfs: bool,
    /// What the container may use and how it restarts (CIS 5.11–5.29).
    #[serde(skip_serializing_if = "Limits::is_default")]
    pub limits: Limits,
    pub mounts: Vec<Mount>,
    /// Ports published on the host. For a running container these are the
    /// live bindings; for a stopped one, what it will bind when started.
    pub ports: Vec<PublishedPort>,
    /// Attachments to networks, with the addresses held while running.
    pub networks: Vec<Attachment>,
    /// The init process's pid on this host while running (`State.Pid`):
    /// how the firewall finds the container's own veth.
    pub pid: Option<u32>,
    /// How to create it again with `docker run`: what the audit's fixes
    /// edit and print.
    #[serde(skip_serializing_if = "Recreate::is_unknown")]
    pub recreate: Recreate,
}

/// Whether a container's `docker run` command can be rebuilt from what
/// dockerd reports, and if so the command.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recreate {
    /// Not read (a list-only or recorded inventory).
    #[default]
    Unknown,
    /// It cannot: the setting no `docker run` flag reproduces, or that
    /// dockward does not know (e.g. `HostConfig.Links`).
    Unsupported(String),
    Run(RunSpec),
}

impl Recreate {
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown)
    }
}

/// A container's settings as `docker run` options, every one of them: a
/// setting with no option here made the spec [`Recreate::Unsupported`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunSpec {
    /// Options in a stable order, each a flag and its value (`--privileged`
    /// has none). The environment is not among them.
    pub options: Vec<RunOption>,
    /// How many `Config.Env` entries it has. They are passed by reference
    /// (an env file written by `docker inspect`), never printed: they
    /// often hold secrets.
    pub env: usize,
    /// The image reference it was created from.
    pub image: String,
    /// The words after the image (the rest of a multi-word entrypoint,
    /// then `Config.Cmd`).
    pub args: Vec<String>,
    /// `Config.ExposedPorts` (`80/tcp`).
    pub exposed: Vec<String>,
    /// One `docker network connect` per further network: its options, then
    /// the network's name.
    pub connect: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunOption {
    pub flag: String,
    pub value: Option<String>,
}

impl Container {
    /// Where the container's value for `key` comes from.
    pub fn label_origin(&self, key: &str) -> LabelOrigin {
        let Some(v) = self.labels.get(key) else {
            return LabelOrigin::Absent;
        };
        match &self.image_labels {
            // Docker merges the image's labels under the container's: a
            // value different from the image's can only be the container's
            // own. An equal one may be either.
            Some(img) if img.get(key) != Some(v) => LabelOrigin::Own,
            _ => LabelOrigin::MaybeImage,
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self.state, ContainerState::Running | ContainerState::Paused)
    }

    /// Shares the host's network stack (`--network host`).
    pub fn host_network(&self) -> bool {
        self.network_mode == "host"
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Compose {
    pub project: String,
    pub service: String,
}

/// The labels docker-compose puts on each container it creates.
pub const COMPOSE_PROJECT: &str = "com.docker.compose.project";
pub const COMPOSE_SERVICE: &str = "com.docker.compose.service";

/// Who set a container's label, as far as the inventory can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelOrigin {
    /// Not set.
    Absent,
    /// Set when the container was created (its value differs from the
    /// image's, or the image has no such label).
    Own,
    /// Equal to the image's value, or the image's labels are unknown: the
    /// image's author may have set it.
    MaybeImage,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerState {
    #[default]
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

impl ContainerState {
    pub fn parse(s: &str) -> Self {
        match s {
            "running" => Self::Running,
            "paused" => Self::Paused,
            "restarting" => Self::Restarting,
            "removing" => Self::Removing,
            "exited" => Self::Exited,
            "dead" => Self::Dead,
            _ => Self::Created,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Restarting => "restarting",
            Self::Removing => "removing",
            Self::Exited => "exited",
            Self::Dead => "dead",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Mount {
    /// `bind`, `volume`, `tmpfs`, `npipe`, `cluster`.
    pub kind: String,
    /// Host path for binds, volume name for volumes.
    pub source: String,
    pub destination: String,
    pub read_only: bool,
    /// A bind's propagation (`rprivate`, `shared`, `rshared`, …).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub propagation: String,
}

/// A container's resource limits, restart policy and health, as inspect
/// reports them (0 / empty: not set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// `HostConfig.Memory`, bytes.
    pub memory: i64,
    /// `HostConfig.NanoCpus`.
    pub nano_cpus: i64,
    /// `HostConfig.CpuShares` (0 and 1024 are the default weight).
    pub cpu_shares: i64,
    /// `HostConfig.CpuQuota`.
    pub cpu_quota: i64,
    /// `HostConfig.PidsLimit` (0 or -1: unlimited).
    pub pids: i64,
    /// `HostConfig.RestartPolicy.Name` (`no`, `always`, `unless-stopped`,
    /// `on-failure`).
    pub restart: String,
    pub restart_max: i64,
    /// `HostConfig.CgroupParent`.
    pub cgroup_parent: String,
    /// `HostConfig.Ulimits`, as `name=soft:hard`.
    pub ulimits: Vec<String>,
    /// `Config.Healthcheck` is set and is not `NONE`.
    pub healthcheck: bool,
    /// `State.Health.Status` (`healthy`, `unhealthy`, `starting`).
    pub health: String,
}

impl Limits {
    pub fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Some(Self::Tcp),
            "udp" => Some(Self::Udp),
            "sctp" => Some(Self::Sctp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
            Self::Sctp => "sctp",
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One host binding of a container port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedPort {
    /// The host address as Docker reports it. `None` means "not given":
    /// the network's or daemon's default bind address applies when the
    /// container starts (all interfaces, IPv4 and IPv6, unless changed).
    pub host_ip: Option<String>,
    /// `None` when Docker picks a free port at start (`-p 80`).
    pub host_port: Option<u16>,
    /// For a range binding that is not started yet (`-p 8000-8010:80`), the
    /// last host port of the range.
    pub host_port_end: Option<u16>,
    pub container_port: u16,
    pub protocol: Protocol,
}

/// A container's endpoint on one network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attachment {
    /// The network's name as the container refers to it.
    pub network: String,
    /// The network's id; empty for a container that never started.
    pub network_id: String,
    /// IPv4 address while running.
    pub ipv4: Option<String>,
    /// Global IPv6 address while running.
    pub ipv6: Option<String>,
    /// The container side's MAC address while running: with the address,
    /// what the firewall binds to the container's own bridge port.
    pub mac: Option<String>,
    pub aliases: Vec<String>,
}

impl Attachment {
    /// Is this an attachment to `n`? By name, or by id once the container
    /// has started (a created container's attachment has no id yet).
    pub fn is_on(&self, n: &Network) -> bool {
        self.network == n.name || (!self.network_id.is_empty() && self.network_id == n.id)
    }
}

/// A bridge on the host, as `/sys/class/net` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HostBridge {
    pub name: String,
    pub index: u32,
    /// Its ports (`brif`), by interface name.
    pub ports: Vec<String>,
}

/// The host end of one of a container's veth pairs, as the host shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Veth {
    /// The MAC of the container's end (what Docker reports for the endpoint).
    pub mac: String,
    /// The host end's interface name: the bridge port.
    pub ifname: String,
    /// The bridge it is a port of.
    pub bridge: String,
}

/// What a firewall verdict lets reach a published port: the one
/// vocabulary that `status`, `firewall plan` and `audit` share, compared
/// as a value, never as text. Serialised as its words (`public`,
/// `local only`, `local + from <CIDRs>`, `blocked`), the JSON contract of
/// docs/status-json.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Reach {
    /// Anyone.
    Public,
    /// The host and its containers.
    LocalOnly,
    /// The host, its containers, and these sources (CIDRs as written).
    From(Vec<String>),
    /// No one.
    Blocked,
}

impl Reach {
    /// How open, for "the most open of a port's bindings": blocked 0,
    /// local only 1, local plus a list 2, public 3.
    pub fn openness(&self) -> u8 {
        match self {
            Self::Blocked => 0,
            Self::LocalOnly => 1,
            Self::From(_) => 2,
            Self::Public => 3,
        }
    }
}

impl std::fmt::Display for Reach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Public => f.write_str("public"),
            Self::LocalOnly => f.write_str("local only"),
            Self::From(l) => write!(f, "local + from {}", l.join(",")),
            Self::Blocked => f.write_str("blocked"),
        }
    }
}

impl From<Reach> for String {
    fn from(r: Reach) -> Self {
        r.to_string()
    }
}

impl TryFrom<String> for Reach {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "public" => Ok(Self::Public),
            "local only" => Ok(Self::LocalOnly),
            "blocked" => Ok(Self::Blocked),
            _ => match s.strip_prefix("local + from ") {
                Some(l) => Ok(Self::From(l.split(',').map(str::to_string).collect())),
                None => Err(format!("not a verdict: {s:?}")),
            },
        }
    }
}

#[cfg(test)]
mod reach_tests {
    use super::Reach;

    #[test]
    fn words_round_trip_and_order() {
        for r in [
            Reach::Public,
            Reach::LocalOnly,
            Reach::From(vec!["10.0.0.0/8".into(), "2001:db8::/32".into()]),
            Reach::Blocked,
        ] {
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<Reach>(&json).unwrap(), r, "{json}");
        }
        assert_eq!(
            serde_json::to_string(&Reach::LocalOnly).unwrap(),
            "\"local only\""
        );
        assert!(Reach::Public.openness() > Reach::From(vec![]).openness());
        assert!(Reach::LocalOnly.openness() > Reach::Blocked.openness());
        assert!(serde_json::from_str::<Reach>("\"open\"").is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_is_the_containers_own_only_when_it_differs_from_the_images() {
        let pairs = |l: &[(&str, &str)]| -> BTreeMap<String, String> {
            l.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let mut c = Container {
            labels: pairs(&[("a", "1"), ("b", "2"), ("c", "3")]),
            image_labels: Some(pairs(&[("a", "1"), ("b", "9")])),
            ..Default::default()
        };
        assert_eq!(c.label_origin("a"), LabelOrigin::MaybeImage);
        assert_eq!(c.label_origin("b"), LabelOrigin::Own);
        assert_eq!(c.label_origin("c"), LabelOrigin::Own);
        assert_eq!(c.label_origin("d"), LabelOrigin::Absent);
        c.image_labels = None;
        assert_eq!(c.label_origin("c"), LabelOrigin::MaybeImage);
    }
}
