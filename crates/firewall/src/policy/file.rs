//! The policy file (TOML, documented in docs/firewall.md), parsed once
//! into typed rules: a bad value is an error naming the entry, and what
//! parses is what `resolve` uses, with nothing parsed again.

use super::error::{PolicyError, EXPOSE_FIX};
use super::expose::{parse_cidrs, parse_expose, parse_port_key, Expose, Stance};
use dockward_model::{Container, LabelOrigin, Protocol, COMPOSE_PROJECT, COMPOSE_SERVICE};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The policy file, parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyFile {
    /// Default stance for published ports: `local` (default), `deny`, `public`.
    pub default: Option<Stance>,
    pub containers: Vec<ContainerRule>,
    /// `[swarm]`: what a Swarm node's own ports answer.
    pub swarm: SwarmRule,
}

/// The `[swarm]` table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SwarmRule {
    /// `cluster-ports = "nodes"`: 2377, 7946 and 4789 answer the swarm's
    /// nodes (and `join-from`) only. Off by default: restricting them is
    /// the operator's choice, because a node that joins from an address
    /// nobody listed cannot reach the managers' 2377.
    pub nodes_only: bool,
    /// `join-from`: addresses or CIDRs that may also reach them (where new
    /// nodes join from).
    pub join_from: Vec<ipnet::IpNet>,
}

/// One `[[container]]` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerRule {
    pub selector: Selector,
    /// `public`, `local`, `deny`, or a list of addresses/CIDRs.
    pub expose: Option<Expose>,
    /// Per container port (`"80"` or `"80/tcp"`), as written, in the file's
    /// order of keys.
    pub ports: Vec<PortRule>,
}

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
    containers: Vec<RawRule>,
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(rename = "match")]
    selector: Selector,
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
    let mut containers = Vec::new();
    for (i, rule) in raw.containers.into_iter().enumerate() {
        let at = format!("[[container]] #{}", i + 1);
        if rule.selector.is_empty() {
            return Err(err(format!(
                "{at} has an empty match; give name, compose_project, compose_service or label"
            )));
        }
        let expose = match &rule.expose {
            Some(v) => {
                Some(parse_value(v).map_err(|p| err(format!("{at} expose: {p}. {EXPOSE_FIX}")))?)
            }
            None => None,
        };
        let mut ports = Vec::new();
        for (key, v) in &rule.ports {
            let (port, protocol) =
                parse_port_key(key).map_err(|p| err(format!("{at} ports.\"{key}\": {p}")))?;
            let expose = parse_value(v)
                .map_err(|p| err(format!("{at} ports.\"{key}\": {p}. {EXPOSE_FIX}")))?;
            ports.push(PortRule {
                key: key.clone(),
                port,
                protocol,
                expose,
            });
        }
        containers.push(ContainerRule {
            selector: rule.selector,
            expose,
            ports,
        });
    }
    let swarm = match raw.swarm {
        None => SwarmRule::default(),
        Some(s) => {
            let nodes_only = match s.cluster_ports.as_deref() {
                None | Some("open") => false,
                Some("nodes") => true,
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
                    "[swarm] join-from has no effect without cluster-ports = \"nodes\"; add it, or remove join-from".into(),
                ));
            }
            SwarmRule {
                nodes_only,
                join_from,
            }
        }
    };
    Ok(PolicyFile {
        default: raw.default,
        containers,
        swarm,
    })
}

fn parse_value(v: &ExposeValue) -> Result<Expose, String> {
    match v {
        ExposeValue::Word(w) => parse_expose(w),
        ExposeValue::List(items) => parse_cidrs(items.iter().map(String::as_str)),
    }
}
