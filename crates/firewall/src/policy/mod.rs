//! Who may reach a published port: labels and the policy file, resolved to
//! one verdict per container port.
//!
//! Precedence, most specific first (a label wins for its container):
//! `dockward.expose.<port>[/<proto>]` label, `dockward.expose` label, the
//! file's per-port entry, the file's container entry, the file's `default`,
//! and finally `local`. Ports are *container* ports, the stable name of a
//! service: host ports may be random and change on every start.
//!
//! Docker merges an image's labels into its containers' labels
//! (`Config.Labels`), so `dockward.expose=public` in an image someone pulled
//! would open its ports past the operator's default. Only a label the
//! container set itself may open anything: a value equal to the image's
//! may be either, and is honoured only as far as it closes more than what
//! would decide without it (the narrowest reading of the merged labels;
//! [`Expose::meet`]). The same holds for `dockward.allow-from`. Each such
//! label that lost something is reported. See
//! [`dockward_model::Container::label_origin`].
//!
//! A bad policy file is an error and the caller applies nothing, so the
//! previous good ruleset stays in force. A bad label is one container's
//! problem: that container's ports are closed (`deny`) and the problem is
//! reported, naming the container, the label and the value, while every
//! other container's verdict goes on as usual — one typo must not freeze
//! everyone else's updates, and must never open anything. A network with
//! a bad `dockward.isolate` label is isolated.

mod edit;
mod error;
mod expose;
mod file;
mod labels;
mod vocabulary;

pub use edit::{apply_edit, Edit, Target, Verb};
pub use error::PolicyError;
pub use expose::{parse_expose, Expose, Stance};
pub use file::{
    parse_file, ContainerRule, ExposeValue, Match, PolicyFile, PortRule, Rule, Selector,
    ServiceRule, ServiceSelector, SwarmRule,
};
pub use labels::{LABEL_ALLOW_FROM, LABEL_EXPOSE, LABEL_ISOLATE};
pub use vocabulary::{label_problems, LabelProblem};

use dockward_model::{
    Container, Inventory, LabelOrigin, Protocol, PublishMode, Service, COMPOSE_PROJECT,
    COMPOSE_SERVICE,
};
use labels::{allow_from_names, container_labels, service_labels, ContainerLabels};
use serde::Serialize;

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

/// One published port of a Swarm service with its verdict, on every node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceVerdict {
    pub service: String,
    pub service_id: String,
    pub protocol: Protocol,
    /// The port inside its tasks: the one labels and file entries name.
    pub target: u16,
    /// The port on the nodes.
    pub published: u16,
    pub mode: PublishMode,
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
    /// Swarm services' ports (known on a manager, or on a worker told by
    /// its managers).
    pub services: Vec<ServiceVerdict>,
    pub isolated: Vec<Isolation>,
    /// Bad labels: each closed what it was on.
    pub problems: Vec<String>,
    /// The policy file's `[swarm]` table.
    #[serde(skip)]
    pub swarm: SwarmRule,
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
        // Mistyped keys open nothing and close nothing: said, not acted on.
        for p in label_problems(&c.labels) {
            if p.label != LABEL_EXPOSE && !p.label.starts_with("dockward.expose.") {
                problems.push(format!("container {}: {}", c.name, p.problem));
            }
        }
        let labels = match container_labels(c) {
            Ok(l) => Ok(l),
            Err(e) => {
                let msg = e.to_string();
                problems.push(format!("{msg}; its ports are closed until it is fixed"));
                Err(msg)
            }
        };
        let rules: Vec<(usize, &ContainerRule, bool)> = file
            .containers
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match r.selector.matches(c) {
                Match::No => None,
                Match::Sure => Some((i, r, false)),
                Match::MaybeImage => Some((i, r, true)),
            })
            .collect();
        // A Swarm task: its service's labels and entries come after the
        // container's own (a bad service label is said once, below).
        let task_of = service_of(inv, c);
        let svc_labels = task_of.and_then(|s| service_labels(s).ok());
        let svc_rules = match (task_of, task_stub(c)) {
            (Some(s), _) => service_rules(file, s),
            // A worker that knows no service still knows its tasks' by
            // their name and stack: `[[service]]` entries apply to them.
            (None, Some(stub)) => service_rules(file, &stub),
            (None, None) => Vec::new(),
        };
        let mut seen = std::collections::BTreeSet::new();
        for p in &c.ports {
            if !seen.insert((p.container_port, p.protocol)) {
                continue;
            }
            let (expose, source) = match &labels {
                Ok(labels) => {
                    let claims: Vec<&ContainerLabels> =
                        std::iter::once(labels).chain(svc_labels.as_ref()).collect();
                    let entries =
                        from_entries(p.container_port, p.protocol, "container", &rules).chain(
                            from_entries(p.container_port, p.protocol, "service", &svc_rules),
                        );
                    let (v, widening) =
                        verdict_for(p.container_port, p.protocol, &claims, entries, stance);
                    for source in widening {
                        say_once(&mut problems, image_label_problem(c, &source, "open ports"));
                    }
                    v
                }
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
    let services = services(inv, file, stance, &mut problems);
    let isolated = isolation(inv, &mut problems);
    Resolved {
        stance,
        ports,
        services,
        isolated,
        problems,
        swarm: file.swarm.clone(),
    }
}

/// Every published port of every Swarm service this node knows of.
fn services(
    inv: &Inventory,
    file: &PolicyFile,
    stance: Stance,
    problems: &mut Vec<String>,
) -> Vec<ServiceVerdict> {
    let mut out = Vec::new();
    let Some(swarm) = &inv.swarm else {
        return out;
    };
    for svc in &swarm.services {
        for p in label_problems(&svc.labels) {
            if p.label != LABEL_EXPOSE && !p.label.starts_with("dockward.expose.") {
                problems.push(format!("service {}: {}", svc.name, p.problem));
            }
        }
        let labels = service_labels(svc).map_err(|e| {
            let msg = e.to_string();
            problems.push(format!(
                "{msg}; its ports are closed on every node until it is fixed"
            ));
            msg
        });
        let rules = service_rules(file, svc);
        for p in &svc.ports {
            // Swarm has not chosen the port yet: nothing is published.
            let Some(published) = p.published else {
                continue;
            };
            let (expose, source) = match &labels {
                Ok(l) => {
                    let entries = from_entries(p.target, p.protocol, "service", &rules);
                    verdict_for(p.target, p.protocol, &[l], entries, stance).0
                }
                Err(msg) => (Expose::Deny, Source::Invalid(msg.clone())),
            };
            out.push(ServiceVerdict {
                service: svc.name.clone(),
                service_id: svc.id.clone(),
                protocol: p.protocol,
                target: p.target,
                published,
                mode: p.mode,
                expose,
                source,
            });
        }
    }
    out
}

/// The service a task container belongs to: by the id Swarm labels it
/// with, and only when the container set that label itself (an image
/// could carry a forged one to borrow a public service's verdict).
fn service_of<'a>(inv: &'a Inventory, c: &Container) -> Option<&'a Service> {
    const SERVICE_ID: &str = "com.docker.swarm.service.id";
    let id = c.labels.get(SERVICE_ID)?;
    if c.label_origin(SERVICE_ID) != LabelOrigin::Own {
        return None;
    }
    inv.swarm.as_ref()?.services.iter().find(|s| s.id == *id)
}

/// A task container's service as the container alone tells it: the name
/// and stack Swarm labelled it with (its own labels, not its image's), no
/// service labels. `None` for anything else.
fn task_stub(c: &Container) -> Option<Service> {
    const SERVICE_NAME: &str = "com.docker.swarm.service.name";
    let own = |k: &str| {
        c.labels
            .get(k)
            .filter(|_| c.label_origin(k) == LabelOrigin::Own)
    };
    let name = own(SERVICE_NAME)?;
    let mut labels = std::collections::BTreeMap::new();
    if let Some(stack) = own(dockward_model::STACK_NAMESPACE) {
        labels.insert(dockward_model::STACK_NAMESPACE.to_string(), stack.clone());
    }
    Some(Service {
        name: name.clone(),
        labels,
        ..Service::default()
    })
}

/// The `[[service]]` entries that select `svc` (never through an image).
fn service_rules<'a>(file: &'a PolicyFile, svc: &Service) -> Vec<(usize, &'a ServiceRule, bool)> {
    file.services
        .iter()
        .enumerate()
        .filter(|(_, r)| r.selector.matches(svc))
        .map(|(i, r)| (i, r, false))
        .collect()
}

/// What the matching entries of one table (`container` or `service`) say
/// about a port, the last matching one first, as later entries refine
/// earlier ones; each with whether the image may have made the match.
fn from_entries<'a, S>(
    port: u16,
    proto: Protocol,
    table: &'a str,
    rules: &'a [(usize, &'a Rule<S>, bool)],
) -> impl Iterator<Item = (Expose, Source, bool)> + 'a {
    rules.iter().rev().filter_map(move |(i, r, maybe)| {
        from_entry(port, proto, table, *i, r).map(|(e, s)| (e, s, *maybe))
    })
}

/// The verdict of one port, and where each verdict that may be the
/// image's and would have opened more came from (to report).
fn verdict_for(
    port: u16,
    proto: Protocol,
    labels: &[&ContainerLabels],
    entries: impl Iterator<Item = (Expose, Source, bool)>,
    stance: Stance,
) -> ((Expose, Source), Vec<Source>) {
    // Everything that may decide, in precedence order: labels (the
    // container's, then its service's), then file entries, then the
    // default. Each says whether the image may have made it.
    let claims = labels.iter().flat_map(|labels| {
        labels
            .ports
            .iter()
            .filter(|(p, pr, _)| *p == port && (pr.is_none() || *pr == Some(proto)))
            .map(|(_, _, c)| c)
            .chain(labels.all.as_ref())
            .map(|c| {
                (
                    c.expose.clone(),
                    Source::Label(c.key.clone()),
                    c.maybe_image,
                )
            })
    });
    let default = std::iter::once((stance.into(), Source::Default, false));
    // Every way of reading the merged labels is possible (each label the
    // container's own, or the image's), so the verdict is the narrowest of
    // them: the meet of everything the image may have made, down to the
    // first thing it surely did not.
    let mut unsure = Vec::new();
    let mut verdict = None;
    for (e, src, maybe) in claims.chain(entries).chain(default) {
        if maybe {
            unsure.push((e, src));
        } else {
            verdict = Some((e, src));
            break;
        }
    }
    let mut verdict = verdict.unwrap_or((Expose::Deny, Source::Default));
    let mut widening = Vec::new();
    for (e, src) in unsure {
        let met = verdict.0.meet(&e);
        if met != e {
            widening.push(src.clone());
        }
        if met != verdict.0 {
            verdict = (met, src);
        }
    }
    (verdict, widening)
}

/// What one matching policy file entry says about a port, if anything.
fn from_entry<S>(
    port: u16,
    proto: Protocol,
    table: &str,
    i: usize,
    r: &Rule<S>,
) -> Option<(Expose, Source)> {
    let by_port = r
        .ports
        .iter()
        .filter(|p| p.port == port && p.protocol.is_none_or(|pr| pr == proto))
        .max_by_key(|p| p.protocol.is_some());
    if let Some(p) = by_port {
        return Some((
            p.expose.clone(),
            Source::File(format!("[[{table}]] #{} ports.\"{}\"", i + 1, p.key)),
        ));
    }
    let e = r.expose.clone()?;
    Some((e, Source::File(format!("[[{table}]] #{} expose", i + 1))))
}

/// The problem line for a label, or a file entry matched through a label,
/// that may be the image's and was not allowed to open what it asks for.
fn image_label_problem(c: &Container, source: &Source, what: &str) -> String {
    let why = match &c.image_labels {
        Some(_) => format!("its image {} sets the same value", c.image),
        None => format!("the labels of its image {} could not be read", c.image),
    };
    let claim = match source {
        Source::Label(key) => {
            let value = c.labels.get(key).map(String::as_str).unwrap_or_default();
            format!("label {key}={value} may be the image's ({why})")
        }
        other => format!(
            "policy file entry {} matched it through a label that may be the image's ({why})",
            match other {
                Source::File(at) => at.as_str(),
                _ => "?",
            }
        ),
    };
    format!(
        "container {}: {claim}; an image's labels cannot {what}, so it counts only where it \
         closes more. Set the verdict in the policy file by container name, or with a label \
         value other than the image's (docs/firewall.md)",
        c.name
    )
}

/// Add `msg` to `problems` unless it is there: a label is said once,
/// however many ports or peers it touched.
fn say_once(problems: &mut Vec<String>, msg: String) {
    if !problems.contains(&msg) {
        problems.push(msg);
    }
}

/// Compose's two labels on `c` were set when it was created, not by its
/// image.
fn compose_is_own(c: &Container) -> bool {
    [COMPOSE_PROJECT, COMPOSE_SERVICE]
        .iter()
        .all(|k| c.label_origin(k) == LabelOrigin::Own)
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
            if dst.label_origin(LABEL_ALLOW_FROM) != LabelOrigin::Own {
                let source = Source::Label(LABEL_ALLOW_FROM.into());
                say_once(problems, image_label_problem(dst, &source, "let peers in"));
                continue;
            }
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
                    // An image can claim a compose project and service
                    // too: only compose's own labels let a peer in.
                    let by_service = by_service && {
                        let own = compose_is_own(src) && compose_is_own(dst);
                        if !own && src.name != name {
                            let source = Source::Label(COMPOSE_SERVICE.into());
                            let what = format!("let it into {}", dst.name);
                            say_once(problems, image_label_problem(src, &source, &what));
                        }
                        own
                    };
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
    use std::collections::BTreeMap;

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
            // The image has no labels: every label is the container's own.
            image_labels: Some(BTreeMap::new()),
            ..Default::default()
        }
    }

    /// As docker-compose creates it: its labels, and the model's reading.
    fn compose(mut x: Container, project: &str, service: &str) -> Container {
        x.labels.insert(COMPOSE_PROJECT.into(), project.into());
        x.labels.insert(COMPOSE_SERVICE.into(), service.into());
        x.compose = Some(Compose {
            project: project.into(),
            service: service.into(),
        });
        x
    }

    fn from_image(mut x: Container, image: Option<&[(&str, &str)]>) -> Container {
        x.image = "vendor/app:1".into();
        x.image_labels = image.map(|l| {
            l.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        });
        // Docker merges the image's labels under the container's.
        for (k, v) in x.image_labels.clone().unwrap_or_default() {
            x.labels.entry(k).or_insert(v);
        }
        x
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
        let x = compose(c("proj-web-1", &[("tier", "front")], &[]), "proj", "web");
        let s = |t: &str| -> Selector { toml::from_str(t).unwrap() };
        let m = |t: &str| s(t).matches(&x);
        assert_eq!(
            m("compose_project = \"proj\"\ncompose_service = \"web\""),
            Match::Sure
        );
        assert_eq!(m("compose_project = \"other\""), Match::No);
        assert_eq!(m("label = \"tier=front\""), Match::Sure);
        assert_eq!(m("label = \"tier\""), Match::Sure);
        assert_eq!(m("label = \"tier=back\""), Match::No);
        assert_eq!(m("name = \"proj-web-1\""), Match::Sure);
        // Matched through the image's labels: the image could have made
        // the match.
        let y = from_image(
            c("y", &[], &[]),
            Some(&[
                ("tier", "front"),
                (COMPOSE_PROJECT, "proj"),
                (COMPOSE_SERVICE, "web"),
            ]),
        );
        assert_eq!(s("label = \"tier=front\"").matches(&y), Match::MaybeImage);
        assert_eq!(
            s("name = \"y\"\ncompose_project = \"proj\"").matches(&y),
            Match::MaybeImage
        );
        assert_eq!(s("name = \"y\"").matches(&y), Match::Sure);
    }

    #[test]
    fn file_entries_matched_through_an_image_only_narrow() {
        let file = parse_file(
            "p.toml",
            r#"
default = "deny"
[[container]]
match = { label = "tier=front" }
expose = "public"
[[container]]
match = { name = "named" }
expose = "public"
[[container]]
match = { label = "quarantine" }
expose = "deny"
"#,
        )
        .unwrap();
        let tcp = [(80, Protocol::Tcp)];
        let r = resolve(
            &inv(vec![
                // Only the image says tier=front: the entry may not open.
                from_image(c("img", &[], &tcp), Some(&[("tier", "front")])),
                // The container says it: it opens.
                from_image(c("own", &[("tier", "front")], &tcp), Some(&[])),
                // Selected by name, and the image asks for quarantine:
                // closing is always allowed, and the later entry wins.
                from_image(c("named", &[], &tcp), Some(&[("quarantine", "1")])),
            ]),
            &file,
        );
        assert_eq!(r.verdict("img", 80, Protocol::Tcp), Some(&Expose::Deny));
        assert_eq!(r.verdict("own", 80, Protocol::Tcp), Some(&Expose::Public));
        assert_eq!(r.verdict("named", 80, Protocol::Tcp), Some(&Expose::Deny));
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(
            r.problems[0].starts_with("container img: policy file entry [[container]] #1 expose"),
            "{}",
            r.problems[0]
        );
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
            compose(c(name, labels, &[]), project, service)
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

    #[test]
    fn an_images_labels_narrow_and_never_open() {
        let tcp = |p| (p, Protocol::Tcp);
        let file = parse_file(
            "p.toml",
            r#"
[[container]]
match = { name = "filed" }
expose = ["10.0.0.0/8", "192.0.2.0/24"]
"#,
        )
        .unwrap();
        let cs = vec![
            // The image opens its port: ignored, reported.
            from_image(
                c("img-public", &[], &[tcp(80)]),
                Some(&[("dockward.expose", "public")]),
            ),
            // The container says the same as the image: it cannot be told
            // apart, so it counts as the image's (fails closed).
            from_image(
                c("same", &[("dockward.expose", "public")], &[tcp(80)]),
                Some(&[("dockward.expose", "public")]),
            ),
            // The container's own, different value counts.
            from_image(
                c("own", &[("dockward.expose", "public")], &[tcp(80)]),
                Some(&[("dockward.expose", "deny")]),
            ),
            // The image closes its port: that holds.
            from_image(
                c("img-deny", &[], &[tcp(80)]),
                Some(&[("dockward.expose", "deny")]),
            ),
            // The image's labels are unknown: every label may be the
            // image's.
            from_image(
                c("unknown", &[("dockward.expose", "public")], &[tcp(80)]),
                None,
            ),
            // The container's own port label is more specific than the
            // image's general one, whatever the image meant.
            from_image(
                c(
                    "specific",
                    &[("dockward.expose.80", "public")],
                    &[tcp(80), tcp(81)],
                ),
                Some(&[("dockward.expose", "deny")]),
            ),
            // The image's port label sits above the container's own
            // general one: only its narrowing counts.
            from_image(
                c("under", &[("dockward.expose", "deny")], &[tcp(80)]),
                Some(&[("dockward.expose.80", "public")]),
            ),
            // An image's address list meets the file's.
            from_image(
                c("filed", &[], &[tcp(80)]),
                Some(&[("dockward.expose", "192.0.2.7,198.51.100.0/24")]),
            ),
        ];
        let r = resolve(&inv(cs), &file);
        let v = |n| r.verdict(n, 80, Protocol::Tcp).cloned();
        assert_eq!(v("img-public"), Some(Expose::Local));
        assert_eq!(r.ports[0].source, Source::Default);
        assert_eq!(v("same"), Some(Expose::Local));
        assert_eq!(v("own"), Some(Expose::Public));
        assert_eq!(v("img-deny"), Some(Expose::Deny));
        assert_eq!(v("unknown"), Some(Expose::Local));
        assert_eq!(v("specific"), Some(Expose::Public));
        assert_eq!(
            r.verdict("specific", 81, Protocol::Tcp),
            Some(&Expose::Deny)
        );
        assert_eq!(v("under"), Some(Expose::Deny));
        assert_eq!(
            v("filed"),
            Some(Expose::From(vec!["192.0.2.7/32".parse().unwrap()]))
        );
        let said = |name: &str| {
            r.problems
                .iter()
                .filter(|p| p.starts_with(&format!("container {name}: ")))
                .cloned()
                .collect::<Vec<_>>()
        };
        for name in ["img-public", "same", "unknown", "under", "filed"] {
            let p = said(name);
            assert_eq!(p.len(), 1, "{name}: {:?}", r.problems);
            assert!(
                p[0].contains("label dockward.expose") && p[0].contains("policy file"),
                "{}",
                p[0]
            );
        }
        assert!(said("unknown")[0].contains("could not be read"));
        assert!(said("same")[0].contains("vendor/app:1 sets the same value"));
        for name in ["own", "img-deny", "specific"] {
            assert!(said(name).is_empty(), "{name}: {:?}", r.problems);
        }
    }

    #[test]
    fn an_images_allow_from_lets_nobody_in() {
        let mut i = inv(vec![
            from_image(c("db", &[], &[]), Some(&[("dockward.allow-from", "api")])),
            from_image(
                c("db2", &[("dockward.allow-from", "api")], &[]),
                Some(&[("dockward.allow-from", "web")]),
            ),
            c("api", &[], &[]),
        ]);
        i.networks[0]
            .labels
            .insert(LABEL_ISOLATE.into(), "true".into());
        let r = resolve(&i, &PolicyFile::default());
        assert_eq!(
            r.isolated[0].allow,
            vec![("api".to_string(), "db2".to_string())]
        );
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(r.problems[0].starts_with("container db: label dockward.allow-from=api"));
    }

    #[test]
    fn an_image_claiming_a_compose_service_is_not_let_in() {
        let mut fake = from_image(
            c("fake", &[], &[]),
            Some(&[(COMPOSE_PROJECT, "p"), (COMPOSE_SERVICE, "api")]),
        );
        fake.compose = Some(Compose {
            project: "p".into(),
            service: "api".into(),
        });
        let mut i = inv(vec![
            compose(
                c("p-db-1", &[("dockward.allow-from", "api")], &[]),
                "p",
                "db",
            ),
            compose(c("p-api-1", &[], &[]), "p", "api"),
            fake,
        ]);
        i.networks[0]
            .labels
            .insert(LABEL_ISOLATE.into(), "true".into());
        let r = resolve(&i, &PolicyFile::default());
        assert_eq!(
            r.isolated[0].allow,
            vec![("p-api-1".to_string(), "p-db-1".to_string())]
        );
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(
            r.problems[0].starts_with("container fake: label com.docker.compose.service=api")
                && r.problems[0].contains("let it into p-db-1"),
            "{}",
            r.problems[0]
        );
    }

    #[test]
    fn meet_is_the_narrower() {
        let n = |s: &str| parse_expose(s).unwrap();
        assert_eq!(n("public").meet(&n("local")), n("local"));
        assert_eq!(n("deny").meet(&n("public")), n("deny"));
        assert_eq!(n("10.0.0.0/8").meet(&n("public")), n("10.0.0.0/8"));
        assert_eq!(n("10.0.0.0/8").meet(&n("local")), n("local"));
        assert_eq!(n("10.0.0.0/8").meet(&n("192.0.2.0/24")), n("local"));
        assert_eq!(
            n("10.0.0.0/8,2001:db8::/32").meet(&n("10.1.0.0/16,2001:db8:1::/48,192.0.2.1")),
            n("10.1.0.0/16,2001:db8:1::/48")
        );
        // Commutative.
        let (a, b) = (n("10.0.0.0/8,192.0.2.1"), n("10.0.0.0/24,192.0.2.0/24"));
        assert_eq!(a.meet(&b), b.meet(&a));
        assert_eq!(a.meet(&b), n("10.0.0.0/24,192.0.2.1"));
    }
}
