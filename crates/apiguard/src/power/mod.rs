//! Host power in request bodies, by allow-list: a body passes only when
//! everything it asks dockerd for is known to be harmless. Each field of
//! each body dockerd reads is in a table here ([`fields`]); a field that
//! is not, or a value outside what the table allows, is refused with a
//! [`Check`] the operator can allow explicitly (`ALLOW_HOST_POWER`, or
//! `host_power` in a policy file).
//!
//! Why allow-lists: a deny-list of "sensitive paths", "dangerous
//! capabilities" and the word `unconfined` lets through everything nobody
//! listed: paths below `/etc`, dot segments dockerd cleans away, symlinks
//! the kernel follows, `ſys_admin` (Go's `strings.ToUpper` makes it
//! `SYS_ADMIN`), `SYS_TIME`, `MaskedPaths: []`, an inline seccomp profile
//! that allows everything, a local volume with `device=/dev/vda`
//! (ANCHORS §6).
//!
//! The tree comes from [`crate::gojson`], read the way dockerd's Go
//! decoder reads it, so `privileged`, `PRIVILEGED` and `Privil\u0065ged`
//! are one key. Containers a body names (`container:` modes,
//! `VolumesFrom`, links, network connect) are returned as
//! [`Reference`]s: the proxy edge looks each one up and judges it with
//! [`container::judge`] before anything is forwarded.

pub mod binds;
pub mod container;
pub mod fields;
pub mod query;

use crate::action::Action;
use crate::gojson::Value;
use std::collections::BTreeSet;

/// A kind of host power, named in refusals and allowed by its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    Privileged,
    Capability,
    HostNamespace,
    HostNetwork,
    Device,
    Unconfined,
    Bind,
    Socket,
    Volume,
    Sysctl,
    Runtime,
    Network,
    BuildNetwork,
    BuildRemote,
    StartBody,
    ExecPrivileged,
    Plugin,
    LogDriver,
    SwarmJoin,
    FirewallLabel,
    UnknownField,
}

impl Check {
    pub const ALL: [Self; 21] = [
        Self::Privileged,
        Self::Capability,
        Self::HostNamespace,
        Self::HostNetwork,
        Self::Device,
        Self::Unconfined,
        Self::Bind,
        Self::Socket,
        Self::Volume,
        Self::Sysctl,
        Self::Runtime,
        Self::Network,
        Self::BuildNetwork,
        Self::BuildRemote,
        Self::StartBody,
        Self::ExecPrivileged,
        Self::Plugin,
        Self::LogDriver,
        Self::SwarmJoin,
        Self::FirewallLabel,
        Self::UnknownField,
    ];

    /// The id used in `ALLOW_HOST_POWER` and `host_power`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Privileged => "privileged",
            Self::Capability => "capability",
            Self::HostNamespace => "host-namespace",
            Self::HostNetwork => "host-network",
            Self::Device => "device",
            Self::Unconfined => "unconfined",
            Self::Bind => "bind",
            Self::Socket => "socket",
            Self::Volume => "volume",
            Self::Sysctl => "sysctl",
            Self::Runtime => "runtime",
            Self::Network => "network",
            Self::BuildNetwork => "build-network",
            Self::BuildRemote => "build-remote",
            Self::StartBody => "start-body",
            Self::ExecPrivileged => "exec-privileged",
            Self::Plugin => "plugin",
            Self::LogDriver => "log-driver",
            Self::SwarmJoin => "swarm-join",
            Self::FirewallLabel => "firewall-label",
            Self::UnknownField => "unknown-field",
        }
    }

    pub fn from_id(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.id() == s)
    }

    /// Every id, comma-separated, for error messages.
    pub fn ids() -> String {
        Self::ALL.map(Self::id).join(", ")
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// One refusal: the check and what was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub check: Check,
    pub detail: String,
}

/// How a body names another container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// `NetworkMode`, `PidMode` or `IpcMode` = `container:<x>`: joins
    /// that container's namespace.
    Join,
    /// `VolumesFrom`: mounts everything that container mounts.
    VolumesFrom,
    /// `Links` (legacy links, container or endpoint).
    Link,
    /// `POST /networks/{id}/connect` `Container`.
    Connect,
}

/// A container named in a body: the proxy must look it up, judge it with
/// [`container::judge`] and then put its full id in place of the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub container: String,
    pub kind: RefKind,
    /// Where it was named, for refusals.
    pub at: String,
}

/// What the body checks need from the world: the bind allow-list and a
/// view of the host's filesystem to resolve sources through.
pub struct Env<'a> {
    pub bind_allow: &'a [String],
    pub allowed: &'a BTreeSet<Check>,
    pub fs: &'a dyn binds::HostFs,
}

/// Collects refusals and references while a body is walked.
pub struct Cx<'a> {
    pub env: &'a Env<'a>,
    pub out: Vec<Refusal>,
    pub refs: Vec<Reference>,
}

impl Cx<'_> {
    pub fn refuse(&mut self, check: Check, detail: impl Into<String>) {
        self.out.push(Refusal {
            check,
            detail: detail.into(),
        });
    }

    pub fn reference(&mut self, container: &str, kind: RefKind, at: impl Into<String>) {
        self.refs.push(Reference {
            container: container.to_string(),
            kind,
            at: at.into(),
        });
    }

    /// One bind source, against the allow-list.
    pub fn bind(&mut self, source: &str, at: &str) {
        use binds::BindVerdict;
        let any = self.env.allowed.contains(&Check::Bind);
        match binds::judge(self.env.fs, self.env.bind_allow, any, source) {
            BindVerdict::Allowed => {}
            BindVerdict::Socket(p) => self.refuse(
                Check::Socket,
                format!("{at} binds {p} (the Docker or containerd socket, or its directory)"),
            ),
            BindVerdict::Refused(why) => self.refuse(Check::Bind, format!("{at}: {why}")),
        }
    }
}

/// The result of the body checks: refusals (all of them, allowed or not)
/// and the containers named.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub refusals: Vec<Refusal>,
    pub refs: Vec<Reference>,
}

/// What the body of `action` asks for. `body` is `None` for an empty body.
pub fn check(action: Action, body: Option<&Value>, env: &Env<'_>) -> Outcome {
    let mut cx = Cx {
        env,
        out: Vec::new(),
        refs: Vec::new(),
    };
    if let Some(b) = body {
        fields::body(action, b, &mut cx);
    }
    Outcome {
        refusals: cx.out,
        refs: cx.refs,
    }
}

/// Actions whose body is parsed and checked (and forwarded canonical).
pub fn checks_body(action: Action) -> bool {
    matches!(
        action,
        Action::ContainersCreate
            | Action::ContainersUpdate
            | Action::ContainersStart
            | Action::ExecCreate
            | Action::VolumesCreate
            | Action::NetworksCreate
            | Action::NetworksConnect
            | Action::ServicesCreate
            | Action::ServicesUpdate
    )
}

/// Actions refused on their head alone unless allowed: installing or
/// configuring a plugin runs it with the privileges it asks for; BuildKit's
/// gRPC control API can ask for the `network.host` entitlement, which
/// dockerd grants by default, and dockward does not read gRPC; joining a
/// swarm lets its managers run any service on this host.
pub fn head_check(action: Action) -> Option<(Check, &'static str)> {
    match action {
        Action::GrpcStart => Some((
            Check::BuildNetwork,
            "BuildKit's gRPC API (/grpc) can run build steps in the host's network (the network.host entitlement dockerd grants), and dockward cannot read gRPC",
        )),
        Action::SwarmJoin => Some((
            Check::SwarmJoin,
            "joining a swarm lets its managers run any service, with any mount or privilege, on this host",
        )),
        Action::PluginsPull | Action::PluginsUpgrade | Action::PluginsCreate | Action::PluginsEnable
        | Action::PluginsSet => Some((
            Check::Plugin,
            "a plugin runs with the privileges its configuration asks for (mounts, devices, capabilities, host network)",
        )),
        _ => None,
    }
}

/// `GET /swarm/unlockkey`: the key that decrypts the swarm's Raft log,
/// every secret included.
pub fn swarm_secret_path(segments: &[String]) -> bool {
    segments.len() == 2 && segments[0] == "swarm" && segments[1] == "unlockkey"
}

/// `GET /swarm` on a manager answers with the cluster's join tokens:
/// whoever reads the manager token can add a node of their own as a
/// manager and run any service on every node. `Some` body with the
/// tokens blanked (the rest of the answer as dockerd gave it); `None` when
/// there is nothing to blank.
pub fn blank_join_tokens(body: &[u8]) -> Option<Vec<u8>> {
    let mut v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let tokens = v.get_mut("JoinTokens")?.as_object_mut()?;
    for t in tokens.values_mut() {
        *t = serde_json::Value::String(String::new());
    }
    serde_json::to_vec(&v).ok()
}

/// Actions about one container whose target is looked up and judged
/// before they are forwarded: entering it, writing into it, reading its
/// files. A container with host power the client is not allowed gives
/// that power to whoever enters it.
pub fn judges_target(action: Action) -> bool {
    matches!(
        action,
        Action::ExecCreate
            | Action::ExecStart
            | Action::ContainersAttach
            | Action::ContainersAttachWs
            | Action::ContainersArchiveGet
            | Action::ContainersArchivePut
            | Action::ContainersExport
            | Action::CommitCreate
    )
}

#[cfg(test)]
mod tests;
