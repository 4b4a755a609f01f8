//! The policy file (TOML, documented in docs/firewall.md), parsed once
//! into typed rules: a bad value is an error naming the entry, and what
//! parses is what `resolve` uses, with nothing parsed again.

use super::error::{PolicyError, EXPOSE_FIX};
use super::expose::{parse_cidrs, parse_expose, parse_port_key, Expose, Stance};
use dockward_model::{Container, LabelOrigin, Protocol, Service, COMPOSE_PROJECT, COMPOSE_SERVICE};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The policy file, parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyFile {
    /// Default stance for published ports: `local` (default), `deny`, `public`.
    pub default: Option<Stance>,
    pub containers: Vec<ContainerRule>,
    pub services: Vec<ServiceRule>,
    /// `[swarm]`: what a Swarm node's own ports answer.
    pub swarm: SwarmRule,
}

/// The `[swarm]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct SwarmRule {
    /// `cluster-ports = "nodes"` (the default): 2377, 7946 and 4789 answer
    /// the swarm's nodes (and `join-from`) only. Whoever else reaches them
    /// can try to join, poison the gossip or inject VXLAN frames into any
    /// overlay, so they are closed like any port nobody opened; a node
    /// that joins from an address nobody listed needs `join-from` (or
    /// `cluster-ports = "open"`, as Docker leaves them).
    pub nodes_only: bool,
    /// `join-from`: addresses or CIDRs that may also reach them (where new
    /// nodes join from).
    pub join_from: Vec<ipnet::IpNet>,
    /// `managers-proxy = PORT`: on a worker, which may not list services,
    /// read them from the `dockward proxy` its managers run on this port
    /// (over TLS with the swarm's certificates; see `contrib/swarm/`).
    /// Without it a worker knows no service, and every ingress-mode port
    /// gets the default stance there.
    pub managers_proxy: Option<u16>,
    /// `certificates = DIR`: this node's swarm certificates
    /// (`swarm-node.crt`, `swarm-node.key`, `swarm-root-ca.crt`).
    pub certificates: Option<std::path::PathBuf>,
}

impl Default for SwarmRule {
    fn default() -> Self {
        Self {
            nodes_only: true,
            join_from: Vec::new(),
            managers_proxy: None,
            certificates: None,
        }
    }
}

/// One `[[container]]` or `[[service]]` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rule<S> {
    pub selector: S,
    /// `public`, `local`, `deny`, or a list of addresses/CIDRs.
    pub expose: Option<Expose>,
    /// Per container port (`"80"` or `"80/tcp"`; a service's target
    /// port), as written, in the file's order of keys.
    pub ports: Vec<PortRule>,
}

/// One `[[container]]` entry.
pub type ContainerRule = Rule<Selector>;

/// One `[[service]]` entry: a Swarm service's ports on every node.
pub type ServiceRule = Rule<ServiceSelector>;

/// One entry of a rule's `ports` table.
#[derive(Debug, Clone, PartialEq)]
pub struct PortRule {
    /// The key as written (`"80/tcp"`), for `plan`'s "from" column.
    pub key: String,
    pub port: u16,
    /// `None`: every protocol.
    pub protocol: Option<Protocol>,
    pub expose: Expose,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    default: Option<Stance>,
    #[serde(default, rename = "container")]
    containers: Vec<RawRule<Selector>>,
    #[serde(default, rename = "service")]
    services: Vec<RawRule<ServiceSelector>>,
    #[serde(default)]
    swarm: Option<RawSwarm>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSwarm {
    #[serde(default)]
    cluster_ports: Option<String>,
    #[serde(default)]
    join_from: Vec<String>,
    #[serde(default)]
    managers_proxy: Option<u16>,
    #[serde(default)]
    certificates: Option<std::path::PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule<S> {
    #[serde(rename = "match")]
    selector: S,
    expose: Option<ExposeValue>,
    #[serde(default)]
    ports: BTreeMap<String, ExposeValue>,
}

/// Which containers a file entry applies to; every given field must match.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    pub name: Option<String>,
    pub compose_project: Option<String>,
    pub compose_service: Option<String>,
    /// `key` (present) or `key=value`.
    pub label: Option<String>,
}

/// Which Swarm services a `[[service]]` entry applies to; every given
/// field must match. A service's labels are its spec's own: no image can
/// make an entry match.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSelector {
    pub name: Option<String>,
    /// The stack (`com.docker.stack.namespace`, set by `docker stack deploy`).
    pub stack: Option<String>,
    /// `key` (present) or `key=value`.
    pub label: Option<String>,
}

impl ServiceSelector {
    fn is_empty(&self) -> bool {
        self.name.is_none() && self.stack.is_none() && self.label.is_none()
    }

    pub fn matches(&self, s: &Service) -> bool {
        self.name.as_ref().is_none_or(|n| *n == s.name)
            && self.stack.as_deref().is_none_or(|st| s.stack() == Some(st))
            && self.label.as_ref().is_none_or(|l| match l.split_once('=') {
                Some((k, v)) => s.labels.get(k).is_some_and(|x| x == v),
                None => s.labels.contains_key(l),
            })
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ExposeValue {
    Word(String),
    List(Vec<String>),
}

impl Selector {
    fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.compose_project.is_none()
            && self.compose_service.is_none()
            && self.label.is_none()
    }

    /// Does the entry select `c`, and is that sure? A field matched
    /// through a label that may be the image's (compose's labels included)
    /// makes the match one the image could have made: such an entry may
    /// only narrow the verdict (see the module doc).
    pub fn matches(&self, c: &Container) -> Match {
        let mut sure = true;
        let mut label = |k: &str, want: Option<&str>| {
            let hit = match want {
                Some(v) => c.labels.get(k).is_some_and(|x| x == v),
                None => c.labels.contains_key(k),
            };
            if hit && c.label_origin(k) != LabelOrigin::Own {
                sure = false;
            }
            hit
        };
        let hit = self.name.as_ref().is_none_or(|n| *n == c.name)
            && self
                .compose_project
                .as_ref()
                .is_none_or(|p| label(COMPOSE_PROJECT, Some(p)))
            && self
                .compose_service
                .as_ref()
                .is_none_or(|s| label(COMPOSE_SERVICE, Some(s)))
            && self.label.as_ref().is_none_or(|l| match l.split_once('=') {
                Some((k, v)) => label(k, Some(v)),
                None => label(l, None),
            });
        match (hit, sure) {
            (false, _) => Match::No,
            (true, true) => Match::Sure,
            (true, false) => Match::MaybeImage,
        }
    }
}

/// Whether a policy file entry selects a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    No,
    Sure,
    /// Only through a label that may be the image's.
    MaybeImage,
}

/// Parse the policy file's text.
pub fn parse_file(path: &str, text: &str) -> Result<PolicyFile, PolicyError> {
    let err = |message: String| PolicyError::File {
        path: path.to_string(),
        message,
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        err(e
            .to_string()
            .lines()
            .collect::<Vec<_>>()
            .join(" ")
            .trim()
            .to_string())
    })?;
    let containers = rules(raw.containers).map_err(err)?;
    let services = rules(raw.services).map_err(err)?;
    let swarm = match raw.swarm {
        None => SwarmRule::default(),
        Some(s) => {
            let nodes_only = match s.cluster_ports.as_deref() {
                None | Some("nodes") => true,
                Some("open") => false,
                Some(other) => {
                    return Err(err(format!(
                        "[swarm] cluster-ports = {other:?}: write \"nodes\" (the swarm's nodes only) or \"open\" (as Docker leaves them)"
                    )))
                }
            };
            let join_from = if s.join_from.is_empty() {
                Vec::new()
            } else {
                match parse_cidrs(s.join_from.iter().map(String::as_str)) {
                    Ok(Expose::From(nets)) => nets,
                    Ok(_) => Vec::new(),
                    Err(p) => return Err(err(format!("[swarm] join-from: {p}"))),
                }
            };
            if !join_from.is_empty() && !nodes_only {
                return Err(err(
                    "[swarm] join-from has no effect with cluster-ports = \"open\"; remove one of them".into(),
                ));
            }
            if s.managers_proxy == Some(0) {
                return Err(err(
                    "[swarm] managers-proxy = 0: give the TCP port the managers' dockward proxy listens on".into(),
                ));
            }
            if s.certificates.is_some() && s.managers_proxy.is_none() {
                return Err(err(
                    "[swarm] certificates has no effect without managers-proxy; add it, or remove certificates".into(),
                ));
            }
            SwarmRule {
                nodes_only,
                join_from,
                managers_proxy: s.managers_proxy,
                certificates: s.certificates,
            }
        }
    };
    Ok(PolicyFile {
        default: raw.default,
        containers,
        services,
        swarm,
    })
}

/// What a `match` table is: its entries' table name, and the fields an
/// empty one is told to give.
trait Matcher {
    const TABLE: &'static str;
    const FIELDS: &'static str;
    fn is_empty(&self) -> bool;
}

impl Matcher for Selector {
    const TABLE: &'static str = "container";
    const FIELDS: &'static str = "name, compose_project, compose_service or label";
    fn is_empty(&self) -> bool {
        Self::is_empty(self)
    }
}

impl Matcher for ServiceSelector {
    const TABLE: &'static str = "service";
    const FIELDS: &'static str = "name, stack or label";
    fn is_empty(&self) -> bool {
        Self::is_empty(self)
    }
}

/// Every entry of one table, checked, in the file's order.
fn rules<S: Matcher>(raw: Vec<RawRule<S>>) -> Result<Vec<Rule<S>>, String> {
    raw.into_iter()
        .enumerate()
        .map(|(i, rule)| {
            let at = format!("[[{}]] #{}", S::TABLE, i + 1);
            if Matcher::is_empty(&rule.selector) {
                return Err(format!("{at} has an empty match; give {}", S::FIELDS));
            }
            parse_rule(&at, rule)
        })
        .collect()
}

/// One entry's `expose` and `ports`, checked; `at` names it in errors.
fn parse_rule<S>(at: &str, rule: RawRule<S>) -> Result<Rule<S>, String> {
    let expose = match &rule.expose {
        Some(v) => Some(parse_value(v).map_err(|p| format!("{at} expose: {p}. {EXPOSE_FIX}"))?),
        None => None,
    };
    let mut ports = Vec::new();
    for (key, v) in &rule.ports {
        let (port, protocol) =
            parse_port_key(key).map_err(|p| format!("{at} ports.\"{key}\": {p}"))?;
        let expose =
            parse_value(v).map_err(|p| format!("{at} ports.\"{key}\": {p}. {EXPOSE_FIX}"))?;
        ports.push(PortRule {
            key: key.clone(),
            port,
            protocol,
            expose,
        });
    }
    Ok(Rule {
        selector: rule.selector,
        expose,
        ports,
    })
}

fn parse_value(v: &ExposeValue) -> Result<Expose, String> {
    match v {
        ExposeValue::Word(w) => parse_expose(w),
        ExposeValue::List(items) => parse_cidrs(items.iter().map(String::as_str)),
    }
}
