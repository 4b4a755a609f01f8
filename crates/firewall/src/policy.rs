//! Who may reach a published port: labels and the policy file, resolved to
//! one verdict per container port.
//!
//! Precedence, most specific first (a label wins for its container):
//! `dockward.expose.<port>[/<proto>]` label, `dockward.expose` label, the
//! file's per-port entry, the file's container entry, the file's `default`,
//! and finally `local`. Ports are *container* ports, the stable name of a
//! service: host ports may be random and change on every start.
//!
//! A bad policy file is an error and the caller applies nothing, so the
//! previous good ruleset stays in force. A bad label is one container's
//! problem: that container's ports are closed (`deny`) and the problem is
//! reported, naming the container, the label and the value, while every
//! other container's verdict goes on as usual — one typo must not freeze
//! everyone else's updates, and must never open anything. A network with
//! a bad `dockward.isolate` label is isolated.

use dockward_model::{Container, Inventory, Protocol};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

pub const LABEL_EXPOSE: &str = "dockward.expose";
pub const LABEL_ALLOW_FROM: &str = "dockward.allow-from";
pub const LABEL_ISOLATE: &str = "dockward.isolate";

/// The default stance for published ports without an explicit verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stance {
    /// Reachable from this host and from Docker networks only.
    #[default]
    Local,
    /// Closed to everything that crosses the firewall.
    Deny,
    /// Open, as Docker leaves it.
    Public,
}

/// The verdict for one published container port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "from")]
pub enum Expose {
    Public,
    Local,
    Deny,
    /// Local, plus these sources.
    From(Vec<IpNet>),
}

impl Expose {
    pub fn describe(&self) -> dockward_model::Reach {
        use dockward_model::Reach;
        match self {
            Self::Public => Reach::Public,
            Self::Local => Reach::LocalOnly,
            Self::Deny => Reach::Blocked,
            Self::From(n) => Reach::From(n.iter().map(|n| n.to_string()).collect()),
        }
    }

    /// One word for summaries: `public`, `local`, `from-list`, `blocked`.
    pub fn describe_kind(&self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Local => "local",
            Self::Deny => "blocked",
            Self::From(_) => "from-list",
        }
    }

    /// Does the new verdict allow less than the old one? (Then established
    /// connections must be cut.)
    pub fn narrows(old: &Expose, new: &Expose) -> bool {
        match (old, new) {
            (_, Expose::Public) => false,
            (Expose::Public, _) => true,
            (_, Expose::Deny) => !matches!(old, Expose::Deny),
            (Expose::Deny, _) => false,
            (Expose::Local, _) => false,
            (Expose::From(a), Expose::From(b)) => a.iter().any(|n| !b.contains(n)),
            (Expose::From(_), Expose::Local) => true,
        }
    }
}

impl From<Stance> for Expose {
    fn from(s: Stance) -> Self {
        match s {
            Stance::Local => Expose::Local,
            Stance::Deny => Expose::Deny,
            Stance::Public => Expose::Public,
        }
    }
}

/// The policy file (TOML). Documented in docs/firewall-policy.md.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Default stance for published ports: `local` (default), `deny`, `public`.
    #[serde(default)]
    pub default: Option<Stance>,
    #[serde(default, rename = "container")]
    pub containers: Vec<ContainerRule>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerRule {
    #[serde(rename = "match")]
    pub selector: Selector,
    /// `public`, `local`, `deny`, or a list of addresses/CIDRs.
    pub expose: Option<ExposeValue>,
    /// Per container port (`"80"` or `"80/tcp"`), same values as `expose`.
    #[serde(default)]
    pub ports: BTreeMap<String, ExposeValue>,
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

    pub fn matches(&self, c: &Container) -> bool {
        let compose = c.compose.as_ref();
        self.name.as_ref().is_none_or(|n| *n == c.name)
            && self
                .compose_project
                .as_ref()
                .is_none_or(|p| compose.is_some_and(|c| c.project == *p))
            && self
                .compose_service
                .as_ref()
                .is_none_or(|s| compose.is_some_and(|c| c.service == *s))
            && self.label.as_ref().is_none_or(|l| match l.split_once('=') {
                Some((k, v)) => c.labels.get(k).is_some_and(|x| x == v),
                None => c.labels.contains_key(l.as_str()),
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("container {container}: label {label}={value}: {problem}. {fix}")]
    Label {
        container: String,
        label: String,
        value: String,
        problem: String,
        fix: &'static str,
    },
    #[error("network {network}: label {label}={value}: {problem}. Use true or false")]
    NetworkLabel {
        network: String,
        label: String,
        value: String,
        problem: String,
    },
    #[error("policy file {path}: {message}. See docs/firewall-policy.md for the format")]
    File { path: String, message: String },
}

const EXPOSE_FIX: &str = "Use public, local, deny, or a comma-separated list of addresses or CIDRs such as 192.0.2.0/24,2001:db8::/48";

/// Parse the policy file's text.
pub fn parse_file(path: &str, text: &str) -> Result<PolicyFile, PolicyError> {
    let file: PolicyFile = toml::from_str(text).map_err(|e| PolicyError::File {
        path: path.to_string(),
        message: e
            .to_string()
            .lines()
            .collect::<Vec<_>>()
            .join(" ")
            .trim()
            .to_string(),
    })?;
    for (i, rule) in file.containers.iter().enumerate() {
        let at = format!("[[container]] #{}", i + 1);
        if rule.selector.is_empty() {
            return Err(PolicyError::File {
                path: path.into(),
                message: format!(
                    "{at} has an empty match; give name, compose_project, compose_service or label"
                ),
            });
        }
        if let Some(v) = &rule.expose {
            parse_value(v).map_err(|p| PolicyError::File {
                path: path.into(),
                message: format!("{at} expose: {p}. {EXPOSE_FIX}"),
            })?;
        }
        for (port, v) in &rule.ports {
            parse_port_key(port).map_err(|p| PolicyError::File {
                path: path.into(),
                message: format!("{at} ports.\"{port}\": {p}"),
            })?;
            parse_value(v).map_err(|p| PolicyError::File {
                path: path.into(),
                message: format!("{at} ports.\"{port}\": {p}. {EXPOSE_FIX}"),
            })?;
        }
    }
    Ok(file)
}

fn parse_value(v: &ExposeValue) -> Result<Expose, String> {
    match v {
        ExposeValue::Word(w) => parse_expose(w),
        ExposeValue::List(items) => parse_cidrs(items.iter().map(String::as_str)),
    }
}

/// `public` | `local` | `deny` | `a,b,c` (addresses or CIDRs).
pub fn parse_expose(s: &str) -> Result<Expose, String> {
    match s.trim() {
        "public" => Ok(Expose::Public),
        "local" => Ok(Expose::Local),
        "deny" => Ok(Expose::Deny),
        "" => Err("empty value".into()),
        list => parse_cidrs(list.split(',')),
    }
}

fn parse_cidrs<'a>(items: impl Iterator<Item = &'a str>) -> Result<Expose, String> {
    let mut nets = Vec::new();
    for item in items {
        let item = item.trim();
        if item.is_empty() {
            return Err("empty entry in the address list".into());
        }
        let net = match item.parse::<IpNet>() {
            Ok(n) => n.trunc(),
            Err(_) => match item.parse::<IpAddr>() {
                Ok(a) => IpNet::from(a),
                Err(_) => return Err(format!("`{item}` is not an IP address or CIDR")),
            },
        };
        if !nets.contains(&net) {
            nets.push(net);
        }
    }
    if nets.is_empty() {
        return Err("empty address list".into());
    }
    nets.sort();
    Ok(Expose::From(nets))
}

/// `80` or `80/tcp` → (80, Some(tcp)).
fn parse_port_key(s: &str) -> Result<(u16, Option<Protocol>), String> {
    let (p, proto) = match s.split_once('/') {
        Some((p, proto)) => (
            p,
            Some(
                Protocol::parse(proto)
                    .ok_or_else(|| format!("unknown protocol `{proto}` (use tcp, udp or sctp)"))?,
            ),
        ),
        None => (s, None),
    };
    let port: u16 = p
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("`{p}` is not a port number (1-65535)"))?;
    Ok((port, proto))
}

/// Where a verdict came from (shown by `plan`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "detail")]
pub enum Source {
    Label(String),
    File(String),
    Default,
    /// A bad label on the container: closed until it is fixed.
    Invalid(String),
}

/// One published container port with its verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortVerdict {
    pub container: String,
    pub container_id: String,
    pub protocol: Protocol,
    pub container_port: u16,
    pub expose: Expose,
    pub source: Source,
}

/// A network whose containers may not reach each other, with the allowed
/// (source container, destination container) pairs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Isolation {
    pub network: String,
    pub allow: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolved {
    pub stance: Stance,
    pub ports: Vec<PortVerdict>,
    pub isolated: Vec<Isolation>,
    /// Bad labels: each closed what it was on.
    pub problems: Vec<String>,
}

impl Resolved {
    pub fn verdict(&self, container: &str, port: u16, proto: Protocol) -> Option<&Expose> {
        self.ports
            .iter()
            .find(|p| p.container == container && p.container_port == port && p.protocol == proto)
            .map(|p| &p.expose)
    }
}

/// Resolve the verdict of every published port of every container. It
/// cannot fail: a bad label closes what it is on and is reported in
/// [`Resolved::problems`] (the policy file was checked when it was parsed).
pub fn resolve(inv: &Inventory, file: &PolicyFile) -> Resolved {
    let stance = file.default.unwrap_or_default();
    let mut ports = Vec::new();
    let mut problems = Vec::new();
    for c in &inv.containers {
        let labels = match container_labels(c) {
            Ok(l) => Ok(l),
            Err(e) => {
                let msg = e.to_string();
                problems.push(format!("{msg}; its ports are closed until it is fixed"));
                Err(msg)
            }
        };
        let rules: Vec<(usize, &ContainerRule)> = file
            .containers
            .iter()
            .enumerate()
            .filter(|(_, r)| r.selector.matches(c))
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for p in &c.ports {
            if !seen.insert((p.container_port, p.protocol)) {
                continue;
            }
            let (expose, source) = match &labels {
                Ok(labels) => verdict_for(c, p.container_port, p.protocol, labels, &rules, stance),
                Err(msg) => (Expose::Deny, Source::Invalid(msg.clone())),
            };
            ports.push(PortVerdict {
                container: c.name.clone(),
                container_id: c.id.clone(),
                protocol: p.protocol,
                container_port: p.container_port,
                expose,
                source,
            });
        }
    }
    let isolated = isolation(inv, &mut problems);
    Resolved {
        stance,
        ports,
        isolated,
        problems,
    }
}

struct ContainerLabels {
    all: Option<Expose>,
    /// (port, protocol or any) → verdict and the label key.
    ports: Vec<(u16, Option<Protocol>, Expose, String)>,
}

fn container_labels(c: &Container) -> Result<ContainerLabels, PolicyError> {
    let err = |label: &str, value: &str, problem: String, fix| PolicyError::Label {
        container: c.name.clone(),
        label: label.to_string(),
        value: value.to_string(),
        problem,
        fix,
    };
    let mut out = ContainerLabels {
        all: None,
        ports: Vec::new(),
    };
    for (k, v) in &c.labels {
        if k == LABEL_EXPOSE {
            out.all = Some(parse_expose(v).map_err(|p| err(k, v, p, EXPOSE_FIX))?);
        } else if let Some(port) = k.strip_prefix("dockward.expose.") {
            let (port, proto) = parse_port_key(port).map_err(|p| {
                err(k, v, p, "Name the container port as dockward.expose.<port> or dockward.expose.<port>/<tcp|udp|sctp>")
            })?;
            let e = parse_expose(v).map_err(|p| err(k, v, p, EXPOSE_FIX))?;
            out.ports.push((port, proto, e, k.clone()));
        } else if k == LABEL_ALLOW_FROM && allow_from_names(v).is_empty() {
            return Err(err(
                k,
                v,
                "no container names given".into(),
                "Give a comma-separated list of container or compose service names",
            ));
        }
    }
    Ok(out)
}

fn verdict_for(
    c: &Container,
    port: u16,
    proto: Protocol,
    labels: &ContainerLabels,
    rules: &[(usize, &ContainerRule)],
    stance: Stance,
) -> (Expose, Source) {
    // Exact protocol beats "any protocol".
    let by_label = labels
        .ports
        .iter()
        .filter(|(p, pr, _, _)| *p == port && (pr.is_none() || *pr == Some(proto)))
        .max_by_key(|(_, pr, _, _)| pr.is_some());
    if let Some((_, _, e, key)) = by_label {
        return (e.clone(), Source::Label(key.clone()));
    }
    if let Some(e) = &labels.all {
        return (e.clone(), Source::Label(LABEL_EXPOSE.into()));
    }
    // The last matching file entry wins, as later entries refine earlier ones.
    for (i, r) in rules.iter().rev() {
        let by_port = r
            .ports
            .iter()
            .filter_map(|(k, v)| {
                let (p, pr) = parse_port_key(k).ok()?;
                (p == port && (pr.is_none() || pr == Some(proto))).then_some((pr.is_some(), k, v))
            })
            .max_by_key(|(exact, _, _)| *exact);
        if let Some((_, k, v)) = by_port {
            if let Ok(e) = parse_value(v) {
                return (
                    e,
                    Source::File(format!("[[container]] #{} ports.\"{k}\"", i + 1)),
                );
            }
        }
        if let Some(v) = &r.expose {
            if let Ok(e) = parse_value(v) {
                return (e, Source::File(format!("[[container]] #{} expose", i + 1)));
            }
        }
    }
    let _ = c;
    (stance.into(), Source::Default)
}

fn allow_from_names(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn isolation(inv: &Inventory, problems: &mut Vec<String>) -> Vec<Isolation> {
    let mut out = Vec::new();
    for n in &inv.networks {
        let Some(v) = n.labels.get(LABEL_ISOLATE) else {
            continue;
        };
        let on = match v.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => {
                let e = PolicyError::NetworkLabel {
                    network: n.name.clone(),
                    label: LABEL_ISOLATE.into(),
                    value: v.clone(),
                    problem: "not a boolean".into(),
                };
                problems.push(format!("{e}; the network is isolated until it is fixed"));
                true
            }
        };
        if !on {
            continue;
        }
        let members: Vec<&Container> = inv
            .containers
            .iter()
            .filter(|c| c.networks.iter().any(|a| a.is_on(n)))
            .collect();
        let mut allow = Vec::new();
        for dst in &members {
            let Some(names) = dst.labels.get(LABEL_ALLOW_FROM) else {
                continue;
            };
            for name in allow_from_names(names) {
                for src in &members {
                    if src.id == dst.id {
                        continue;
                    }
                    // A compose service name counts only within the
                    // target's own project: labels are claims any
                    // container can make, and a project is the scope in
                    // which compose itself resolves service names.
                    let by_service = matches!(
                        (&src.compose, &dst.compose),
                        (Some(a), Some(b)) if a.project == b.project && a.service == name
                    );
                    if src.name == name || by_service {
                        allow.push((src.name.clone(), dst.name.clone()));
                    }
                }
            }
        }
        allow.sort();
        allow.dedup();
        out.push(Isolation {
            network: n.name.clone(),
            allow,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockward_model::{Attachment, Compose, ContainerState, Network, PublishedPort};

    fn c(name: &str, labels: &[(&str, &str)], ports: &[(u16, Protocol)]) -> Container {
        Container {
            id: format!("{name}-id"),
            name: name.into(),
            state: ContainerState::Running,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ports: ports
                .iter()
                .map(|(p, pr)| PublishedPort {
                    host_ip: Some("0.0.0.0".into()),
                    host_port: Some(*p + 10000),
                    host_port_end: None,
                    container_port: *p,
                    protocol: *pr,
                })
                .collect(),
            networks: vec![Attachment {
                network: "app".into(),
                ipv4: Some("172.20.0.2".into()),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn inv(cs: Vec<Container>) -> Inventory {
        Inventory {
            containers: cs,
            networks: vec![Network {
                name: "app".into(),
                id: "app-id".into(),
                driver: "bridge".into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn default_is_local() {
        let r = resolve(
            &inv(vec![c("a", &[], &[(80, Protocol::Tcp)])]),
            &PolicyFile::default(),
        );
        assert_eq!(r.verdict("a", 80, Protocol::Tcp), Some(&Expose::Local));
        assert_eq!(r.ports[0].source, Source::Default);
    }

    #[test]
    fn port_label_beats_container_label_beats_file() {
        let file = parse_file(
            "p.toml",
            r#"
default = "deny"
[[container]]
match = { name = "a" }
expose = "public"
ports = { "53/udp" = ["10.0.0.0/8"] }
"#,
        )
        .unwrap();
        let a = c(
            "a",
            &[("dockward.expose.80/tcp", "192.0.2.0/24, 2001:db8::/32")],
            &[
                (80, Protocol::Tcp),
                (443, Protocol::Tcp),
                (53, Protocol::Udp),
            ],
        );
        let b = c(
            "b",
            &[("dockward.expose", "local"), ("dockward.expose.22", "deny")],
            &[(8080, Protocol::Tcp), (22, Protocol::Tcp)],
        );
        let other = c("other", &[], &[(9000, Protocol::Tcp)]);
        let r = resolve(&inv(vec![a, b, other]), &file);
        assert_eq!(
            r.verdict("a", 80, Protocol::Tcp),
            Some(&Expose::From(vec![
                "192.0.2.0/24".parse().unwrap(),
                "2001:db8::/32".parse().unwrap()
            ]))
        );
        assert_eq!(r.verdict("a", 443, Protocol::Tcp), Some(&Expose::Public));
        assert_eq!(
            r.verdict("a", 53, Protocol::Udp),
            Some(&Expose::From(vec!["10.0.0.0/8".parse().unwrap()]))
        );
        assert_eq!(r.verdict("b", 8080, Protocol::Tcp), Some(&Expose::Local));
        assert_eq!(r.verdict("b", 22, Protocol::Tcp), Some(&Expose::Deny));
        assert_eq!(r.verdict("other", 9000, Protocol::Tcp), Some(&Expose::Deny));
    }

    #[test]
    fn bad_label_closes_its_container_and_names_label_and_value() {
        let good = c(
            "api",
            &[("dockward.expose", "public")],
            &[(8080, Protocol::Tcp)],
        );
        for (label, value, says) in [
            (
                "dockward.expose",
                "10.0.0.300/8",
                "not an IP address or CIDR",
            ),
            ("dockward.expose", "pubic", ""),
            ("dockward.expose.http", "public", ""),
            ("dockward.expose.80/icmp", "public", ""),
        ] {
            let bad = c("web", &[(label, value)], &[(80, Protocol::Tcp)]);
            let r = resolve(&inv(vec![bad, good.clone()]), &PolicyFile::default());
            assert_eq!(
                r.verdict("web", 80, Protocol::Tcp),
                Some(&Expose::Deny),
                "{label}"
            );
            assert_eq!(r.verdict("api", 8080, Protocol::Tcp), Some(&Expose::Public));
            let e = &r.problems[0];
            assert!(e.contains("container web"), "{e}");
            assert!(e.contains(&format!("{label}={value}")), "{e}");
            assert!(e.contains(says), "{e}");
            assert!(e.contains("closed until it is fixed"), "{e}");
        }
        // A bad label on a container without ports is still reported.
        let bad = c("idle", &[("dockward.expose", "x")], &[]);
        assert_eq!(
            resolve(&inv(vec![bad]), &PolicyFile::default())
                .problems
                .len(),
            1
        );
    }

    #[test]
    fn bad_file_is_an_error_with_the_path() {
        for text in [
            "default = \"open\"",
            "[[container]]\nexpose = \"public\"\n[container.match]\n",
            "[[container]]\nmatch = { name = \"a\" }\nexpose = \"x.y\"",
            "[[container]]\nmatch = { name = \"a\" }\nports = { \"http\" = \"public\" }",
            "unknown = 1",
        ] {
            let e = parse_file("/etc/dockward/firewall.toml", text)
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("policy file /etc/dockward/firewall.toml:"),
                "{e}"
            );
        }
    }

    #[test]
    fn selectors() {
        let mut x = c("proj-web-1", &[("tier", "front")], &[]);
        x.compose = Some(Compose {
            project: "proj".into(),
            service: "web".into(),
        });
        let s = |t: &str| -> Selector { toml::from_str(t).unwrap() };
        assert!(s("compose_project = \"proj\"\ncompose_service = \"web\"").matches(&x));
        assert!(!s("compose_project = \"other\"").matches(&x));
        assert!(s("label = \"tier=front\"").matches(&x));
        assert!(s("label = \"tier\"").matches(&x));
        assert!(!s("label = \"tier=back\"").matches(&x));
        assert!(s("name = \"proj-web-1\"").matches(&x));
    }

    #[test]
    fn isolation_and_allow_from() {
        let mut i = inv(vec![
            c("db", &[("dockward.allow-from", "api, ghost")], &[]),
            c("api", &[], &[]),
            c("web", &[], &[]),
        ]);
        i.networks[0]
            .labels
            .insert(LABEL_ISOLATE.into(), "true".into());
        let r = resolve(&i, &PolicyFile::default());
        assert_eq!(r.isolated.len(), 1);
        assert_eq!(
            r.isolated[0].allow,
            vec![("api".to_string(), "db".to_string())]
        );
        // A compose service name is trusted only within the target's own
        // project; a container outside compose is trusted by name only.
        let svc = |name: &str, project: &str, service: &str, labels: &[(&str, &str)]| {
            let mut x = c(name, labels, &[]);
            x.compose = Some(Compose {
                project: project.into(),
                service: service.into(),
            });
            x
        };
        let mut j = inv(vec![
            svc("p-db-1", "p", "db", &[("dockward.allow-from", "api")]),
            svc("p-api-1", "p", "api", &[]),
            svc("q-api-1", "q", "api", &[]),
            c("lone", &[("dockward.allow-from", "api")], &[]),
        ]);
        j.networks[0]
            .labels
            .insert(LABEL_ISOLATE.into(), "true".into());
        let r = resolve(&j, &PolicyFile::default());
        assert_eq!(
            r.isolated[0].allow,
            vec![("p-api-1".to_string(), "p-db-1".to_string())]
        );
        i.networks[0]
            .labels
            .insert(LABEL_ISOLATE.into(), "maybe".into());
        let r = resolve(&i, &PolicyFile::default());
        assert_eq!(r.isolated.len(), 1, "a bad isolate label isolates");
        let e = &r.problems[0];
        assert!(e.contains("network app") && e.contains("maybe"), "{e}");
    }

    #[test]
    fn narrowing() {
        let n = |s: &str| parse_expose(s).unwrap();
        assert!(Expose::narrows(&n("public"), &n("local")));
        assert!(Expose::narrows(&n("local"), &n("deny")));
        assert!(!Expose::narrows(&n("local"), &n("public")));
        assert!(!Expose::narrows(&n("local"), &n("10.0.0.0/8")));
        assert!(Expose::narrows(&n("10.0.0.0/8"), &n("local")));
        assert!(Expose::narrows(
            &n("10.0.0.0/8,192.0.2.1"),
            &n("10.0.0.0/8")
        ));
        assert!(!Expose::narrows(
            &n("10.0.0.0/8"),
            &n("10.0.0.0/8,192.0.2.1")
        ));
    }
}
