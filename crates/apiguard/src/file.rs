//! The policy file: what environment variables cannot say.
//!
//! Rules name API actions (`containers.logs`, `exec.create`, `images.*`,
//! `*`; `dockward proxy --list-actions` prints them), not path prefixes, so
//! "inspect but not logs" or "list but not export" is one line. A file holds
//! several policies; each request gets the first whose `listeners` and
//! `uids`/`gids` (peer credentials on unix listeners) match, and a request
//! no policy matches is refused. Presets give the usual clients a start:
//!
//! - `read-only` (Traefik, Homepage): ping, version, info, events, list and
//!   inspect containers, images, networks, volumes, services, tasks,
//!   nodes, and container stats — no logs, no archive or export, no attach;
//! - `updater` (Watchtower): read-only plus pull, create, start, stop,
//!   kill, restart, rename, delete containers, delete images;
//! - `manager` (Portainer): every action.
//!
//! Host-power checks apply to every policy; `host_power` names the ones a
//! policy allows.
//!
//! ```toml
//! [[policy]]
//! name = "traefik"
//! listeners = ["unix:///run/dockward/traefik.sock"]
//! preset = "read-only"
//!
//! [[policy]]
//! name = "watchtower"
//! uids = [1001]
//! preset = "updater"
//! deny = ["containers.delete"]
//! ```

use crate::action::Action;
use crate::path::Version;
use crate::policy::Policy;
use crate::power::Check;
use std::collections::BTreeSet;

const READ_ONLY: &[Action] = &[
    Action::PingGet,
    Action::VersionGet,
    Action::InfoGet,
    Action::EventsGet,
    Action::ContainersList,
    Action::ContainersInspect,
    Action::ContainersStats,
    Action::ImagesList,
    Action::ImagesInspect,
    Action::NetworksList,
    Action::NetworksInspect,
    Action::VolumesList,
    Action::VolumesInspect,
    Action::ServicesRead,
    Action::TasksRead,
    Action::NodesRead,
    Action::SwarmRead,
    Action::DistributionInspect,
];

const UPDATER: &[Action] = &[
    Action::ImagesPull,
    Action::ImagesDelete,
    Action::ContainersCreate,
    Action::ContainersStart,
    Action::ContainersStop,
    Action::ContainersKill,
    Action::ContainersRestart,
    Action::ContainersRename,
    Action::ContainersDelete,
    Action::ContainersWait,
    Action::NetworksConnect,
    Action::NetworksDisconnect,
];

/// The actions a rule names: one action, `section.*`, or `*`.
fn expand(rule: &str) -> Option<Vec<Action>> {
    if rule == "*" {
        return Some(Action::ALL.to_vec());
    }
    if let Some(sec) = rule.strip_suffix(".*") {
        let v: Vec<Action> = Action::ALL
            .iter()
            .copied()
            .filter(|a| a.section() == sec)
            .collect();
        return (!v.is_empty()).then_some(v);
    }
    Action::from_name(rule).map(|a| vec![a])
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    policy: Vec<RawPolicy>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: String,
    #[serde(default)]
    listeners: Vec<String>,
    #[serde(default)]
    uids: Vec<u32>,
    #[serde(default)]
    gids: Vec<u32>,
    preset: Option<String>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
    #[serde(default)]
    host_power: Vec<String>,
    #[serde(default)]
    bind_mounts: Vec<String>,
    min_api_version: Option<String>,
    max_body: Option<usize>,
    #[serde(default)]
    visible_labels: Vec<String>,
    #[serde(default)]
    visible_names: Vec<String>,
    #[serde(default)]
    scrub_env: bool,
}

/// One policy of the file, with what it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scoped {
    pub listeners: Vec<String>,
    pub uids: Vec<u32>,
    pub gids: Vec<u32>,
    pub policy: Policy,
}

/// Who is asking: the listener's URL and, on unix listeners, the peer's
/// credentials.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    pub listener: &'a str,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFile {
    pub policies: Vec<Scoped>,
}

impl PolicyFile {
    /// Parses the file; the error is one line naming the policy and field.
    pub fn parse(path: &str, text: &str) -> Result<Self, String> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|s| {
                let before = text.get(..s.start).unwrap_or("");
                format!(":{}", before.matches('\n').count() + 1)
            });
            format!("{path}{}: {}", at.unwrap_or_default(), e.message())
        })?;
        if raw.policy.is_empty() {
            return Err(format!(
                "{path}: no [[policy]]; every request would be refused"
            ));
        }
        let mut policies = Vec::new();
        for p in raw.policy {
            let n = &p.name;
            let mut actions: BTreeSet<Action> = BTreeSet::new();
            match p.preset.as_deref() {
                None | Some("none") => {}
                Some("read-only") => actions.extend(READ_ONLY),
                Some("updater") => actions.extend(READ_ONLY.iter().chain(UPDATER)),
                Some("manager") => actions.extend(Action::ALL),
                Some(x) => return Err(format!("{path}: policy {n:?}: preset {x:?} is unknown; use read-only, updater or manager")),
            }
            for a in &p.allow {
                let e = expand(a).ok_or_else(|| format!("{path}: policy {n:?}: allow {a:?} is not an action; `dockward proxy --list-actions` prints them"))?;
                actions.extend(e);
            }
            let mut denied = std::collections::BTreeMap::new();
            for a in &p.deny {
                let e = expand(a).ok_or_else(|| format!("{path}: policy {n:?}: deny {a:?} is not an action; `dockward proxy --list-actions` prints them"))?;
                denied.extend(e.into_iter().map(|a| (a, "deny")));
            }
            let mut allow_power = BTreeSet::new();
            for c in &p.host_power {
                let Some(check) = Check::from_id(c) else {
                    return Err(format!(
                        "{path}: policy {n:?}: host_power {c:?} is unknown; known: {}",
                        Check::ids()
                    ));
                };
                allow_power.insert(check);
            }
            let bind_mounts = crate::policy::bind_dirs(
                p.bind_mounts.iter().map(String::as_str),
                &format!("{path}: policy {n:?}: bind_mounts"),
            )?;
            let min_api = match &p.min_api_version {
                None => Version(1, 24),
                Some(v) => {
                    let bad = || {
                        format!("{path}: policy {n:?}: min_api_version {v:?}: write MAJOR.MINOR")
                    };
                    let (a, b) = v.split_once('.').ok_or_else(bad)?;
                    Version(a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?)
                }
            };
            let visibility =
                if p.visible_labels.is_empty() && p.visible_names.is_empty() && !p.scrub_env {
                    None
                } else {
                    Some(
                        crate::visibility::Visibility::new(
                            &p.visible_labels,
                            &p.visible_names,
                            p.scrub_env,
                        )
                        .map_err(|e| format!("{path}: policy {n:?}: {e}"))?,
                    )
                };
            policies.push(Scoped {
                listeners: p.listeners,
                uids: p.uids,
                gids: p.gids,
                policy: Policy {
                    name: n.clone(),
                    sections: BTreeSet::new(),
                    post: false,
                    toggled: std::collections::BTreeMap::new(),
                    denied,
                    allow_power,
                    bind_mounts,
                    min_api,
                    max_body: p.max_body.unwrap_or(4 << 20),
                    actions: Some(actions),
                    visibility,
                },
            });
        }
        Ok(Self { policies })
    }

    /// The first policy that applies to `client`.
    pub fn select(&self, client: Client<'_>) -> Option<&Policy> {
        self.policies
            .iter()
            .find(|s| {
                (s.listeners.is_empty() || s.listeners.iter().any(|l| l == client.listener))
                    && (s.uids.is_empty() || client.uid.is_some_and(|u| s.uids.contains(&u)))
                    && (s.gids.is_empty() || client.gid.is_some_and(|g| s.gids.contains(&g)))
            })
            .map(|s| &s.policy)
    }
}

/// The smallest policy that allows `used` (learning mode's output).
/// `listeners` and `uids` scope it (empty: unscoped).
pub fn minimal(name: &str, listeners: &[String], uids: &[u32], used: &BTreeSet<Action>) -> String {
    let mut s = format!("[[policy]]\nname = {name:?}\n");
    if !listeners.is_empty() {
        s.push_str(&format!("listeners = {listeners:?}\n"));
    }
    if !uids.is_empty() {
        s.push_str(&format!("uids = {uids:?}\n"));
    }
    s.push_str("allow = [\n");
    for a in used {
        s.push_str(&format!("  {:?},\n", a.name()));
    }
    s.push_str("]\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action a policy file may name is one the router produces:
    /// a name no request can have would be a rule that never applies.
    #[test]
    fn every_action_is_routed() {
        use crate::route::classify;
        let requests = [
            ("POST", "auth"),
            ("POST", "build/cancel"),
            ("POST", "build/prune"),
            ("POST", "build"),
            ("POST", "commit"),
            ("GET", "configs"),
            ("POST", "configs/create"),
            ("GET", "containers/c/archive"),
            ("PUT", "containers/c/archive"),
            ("POST", "containers/c/attach"),
            ("GET", "containers/c/attach/ws"),
            ("GET", "containers/c/changes"),
            ("POST", "containers/create"),
            ("DELETE", "containers/c"),
            ("GET", "containers/c/export"),
            ("GET", "containers/c/json"),
            ("POST", "containers/c/kill"),
            ("GET", "containers/json"),
            ("GET", "containers/c/logs"),
            ("POST", "containers/c/pause"),
            ("POST", "containers/prune"),
            ("POST", "containers/c/rename"),
            ("POST", "containers/c/resize"),
            ("POST", "containers/c/restart"),
            ("POST", "containers/c/start"),
            ("GET", "containers/c/stats"),
            ("POST", "containers/c/stop"),
            ("GET", "containers/c/top"),
            ("POST", "containers/c/unpause"),
            ("POST", "containers/c/update"),
            ("POST", "containers/c/wait"),
            ("GET", "distribution/a/b/json"),
            ("GET", "events"),
            ("POST", "containers/c/exec"),
            ("GET", "exec/e/json"),
            ("POST", "exec/e/resize"),
            ("POST", "exec/e/start"),
            ("POST", "grpc"),
            ("DELETE", "images/a"),
            ("GET", "images/get"),
            ("GET", "images/a/history"),
            ("GET", "images/a/json"),
            ("GET", "images/json"),
            ("POST", "images/load"),
            ("POST", "images/prune"),
            ("POST", "images/create"),
            ("POST", "images/a/push"),
            ("GET", "images/search"),
            ("POST", "images/a/tag"),
            ("GET", "info"),
            ("POST", "networks/n/connect"),
            ("POST", "networks/create"),
            ("DELETE", "networks/n"),
            ("POST", "networks/n/disconnect"),
            ("GET", "networks/n"),
            ("GET", "networks"),
            ("POST", "networks/prune"),
            ("GET", "nodes"),
            ("POST", "nodes/n/update"),
            ("GET", "_ping"),
            ("POST", "plugins/create"),
            ("POST", "plugins/p/enable"),
            ("GET", "plugins/privileges"),
            ("POST", "plugins/pull"),
            ("GET", "plugins"),
            ("POST", "plugins/p/set"),
            ("POST", "plugins/p/upgrade"),
            ("DELETE", "plugins/p"),
            ("GET", "secrets"),
            ("POST", "secrets/create"),
            ("POST", "services/create"),
            ("GET", "services/s/logs"),
            ("GET", "services"),
            ("POST", "services/s/update"),
            ("DELETE", "services/s"),
            ("POST", "session"),
            ("POST", "swarm/join"),
            ("GET", "swarm"),
            ("POST", "swarm/leave"),
            ("GET", "system/df"),
            ("GET", "tasks/t/logs"),
            ("GET", "tasks"),
            ("DELETE", "tasks/t"),
            ("GET", "version"),
            ("POST", "volumes/create"),
            ("DELETE", "volumes/v"),
            ("GET", "volumes/v"),
            ("GET", "volumes"),
            ("POST", "volumes/prune"),
            ("PUT", "volumes/v"),
        ];
        let routed: BTreeSet<Action> = requests
            .iter()
            .filter_map(|(m, p)| {
                let seg: Vec<String> = p.split('/').map(str::to_string).collect();
                classify(m, &seg).map(|r| r.action)
            })
            .collect();
        let unrouted: Vec<&str> = Action::ALL
            .iter()
            .filter(|a| !routed.contains(a))
            .map(|a| a.name())
            .collect();
        assert!(unrouted.is_empty(), "no request routes to {unrouted:?}");
    }

    fn client(listener: &str, uid: u32) -> Client<'_> {
        Client {
            listener,
            uid: Some(uid),
            gid: Some(uid),
        }
    }

    #[test]
    fn presets_rules_and_selection() {
        let f = PolicyFile::parse(
            "p.toml",
            r#"
[[policy]]
name = "traefik"
listeners = ["unix:///run/t.sock"]
preset = "read-only"

[[policy]]
name = "watchtower"
uids = [1001]
preset = "updater"
deny = ["containers.delete"]

[[policy]]
name = "ci"
allow = ["images.*", "ping.get"]
host_power = ["bind"]
"#,
        )
        .unwrap();
        let t = f.select(client("unix:///run/t.sock", 0)).unwrap();
        assert_eq!(t.name, "traefik");
        assert!(t.decide_head("GET", "/v1.41/containers/x/json").is_ok());
        assert_eq!(
            t.decide_head("GET", "/v1.41/containers/x/logs")
                .unwrap_err()
                .rule,
            "policy traefik"
        );
        assert!(t
            .decide_head("GET", "/v1.41/containers/x/attach/ws")
            .is_err());
        let w = f.select(client("tcp://[::]:2375", 1001)).unwrap();
        assert_eq!(w.name, "watchtower");
        assert!(w
            .decide_head("POST", "/v1.41/images/create?fromImage=x")
            .is_ok());
        assert_eq!(
            w.decide_head("DELETE", "/v1.41/containers/x")
                .unwrap_err()
                .rule,
            "policy watchtower: deny containers.delete"
        );
        let ci = f.select(client("tcp://[::]:2375", 5)).unwrap();
        assert_eq!(ci.name, "ci");
        assert!(ci.decide_head("DELETE", "/images/x").is_ok());
        assert!(ci.allow_power.contains(&Check::Bind));
    }

    #[test]
    fn errors_name_the_policy() {
        let e = PolicyFile::parse(
            "p.toml",
            "[[policy]]\nname = \"a\"\nallow = [\"containers.nope\"]\n",
        )
        .unwrap_err();
        assert!(
            e.contains("policy \"a\": allow \"containers.nope\" is not an action"),
            "{e}"
        );
        let e = PolicyFile::parse("p.toml", "[[policy]]\nname = \"a\"\npreset = \"admin\"\n")
            .unwrap_err();
        assert!(e.contains("preset \"admin\" is unknown"), "{e}");
        let e = PolicyFile::parse("p.toml", "[[policy]]\nname = \"a\"\nbogus = 1\n").unwrap_err();
        assert!(e.starts_with("p.toml:3:"), "{e}");
        assert!(PolicyFile::parse("p.toml", "")
            .unwrap_err()
            .contains("no [[policy]]"));
    }

    #[test]
    fn learned_policy_parses_back() {
        let used: BTreeSet<Action> = [Action::ContainersList, Action::EventsGet].into();
        let text = minimal("learned", &[], &[], &used);
        let f = PolicyFile::parse("l.toml", &text).unwrap();
        let p = f.select(client("x", 0)).unwrap();
        assert!(p.decide_head("GET", "/containers/json").is_ok());
        assert!(p.decide_head("GET", "/info").is_err());
    }
}

/// The policy in force: from the environment, from a file, or learning.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // reason: one value per proxy, held in an Arc and swapped whole; boxing would only add an indirection per request
pub enum Active {
    /// One policy for every client (the environment, or learning mode).
    One(Policy),
    File(PolicyFile),
}

impl Active {
    pub fn select(&self, client: Client<'_>) -> Option<&Policy> {
        match self {
            Self::One(p) => Some(p),
            Self::File(f) => f.select(client),
        }
    }

    /// Learning mode: every action allowed (host-power checks still apply),
    /// so that what a client uses can be recorded.
    pub fn learning() -> Self {
        Self::One(Policy {
            name: "learning".to_string(),
            actions: Some(Action::ALL.iter().copied().collect()),
            sections: BTreeSet::new(),
            post: false,
            toggled: std::collections::BTreeMap::new(),
            denied: std::collections::BTreeMap::new(),
            allow_power: BTreeSet::new(),
            bind_mounts: Vec::new(),
            min_api: Version(1, 24),
            max_body: 4 << 20,
            visibility: None,
        })
    }
}
