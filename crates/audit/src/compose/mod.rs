//! Compose front end: `(path, text, env) -> findings`.
//!
//! The YAML is read into a tree that keeps line:column per node (see
//! [`yaml`]), so anchors and `<<` merge keys are already resolved and a
//! finding points at the key or list item at fault. String values are
//! interpolated as compose does (`${VAR}`, `${VAR:-default}`, `${VAR-default}`,
//! `$$`) from `env`, a plain map the CLI builds from the process environment
//! and `.env`: nothing is read here. Secrets are judged on the text as
//! written (a `${VAR}` reference is not a literal) and never printed.
//!
//! A service without `user:` is not reported: it runs as its image's USER,
//! which the compose file does not show; `dockerfile-root-user` (for images
//! built here) and `container-root-user` (on a live host) see it, and
//! reporting every service would drown the explicit `user: root` cases.

mod schema;
mod yaml;

use crate::dockerfile::{secret_name, unpinned};
use crate::interpolate::{has_reference, interpolate, Dialect};
use crate::rules::files::{
    COMPOSE_DANGEROUS_CAPABILITY, COMPOSE_DEVICE, COMPOSE_DOCKER_SOCKET, COMPOSE_ENV_FILE_SECRET,
    COMPOSE_HOST_NAMESPACE, COMPOSE_HOST_NETWORK, COMPOSE_PORT_ALL_INTERFACES, COMPOSE_PRIVILEGED,
    COMPOSE_ROOT_USER, COMPOSE_SECRET, COMPOSE_SECRET_FILE, COMPOSE_SENSITIVE_MOUNT,
    COMPOSE_UNCONFINED, COMPOSE_UNPINNED_IMAGE,
};
use crate::rules::host::LABEL_INVALID;
use crate::rules::Rule;
use crate::{dockerfile, suppress, Diagnostic, Finding, Location};
use dockward_hostpower::{classify, dangerous_capability, unconfined, Mount};
use std::collections::BTreeMap;
use yaml::{Node, Value};

/// Variables for interpolation (environment and `.env`, merged by the CLI).
pub type ComposeEnv = BTreeMap<String, String>;

struct Ctx<'a> {
    path: &'a str,
    env: &'a ComposeEnv,
    out: Vec<(Finding, Vec<u32>)>,
    /// Top-level networks that are the host's own network (a stack's
    /// `external: true` network named `host`): joining one is
    /// `network_mode: host` in Swarm.
    host_networks: Vec<String>,
}

impl Ctx<'_> {
    fn text(&self, n: &Node) -> Option<String> {
        let lookup = |k: &str| self.env.get(k).cloned();
        match &n.value {
            Value::Str(s) => Some(interpolate(s, &lookup, Dialect::Compose)),
            _ => n.scalar(),
        }
    }

    fn emit(
        &mut self,
        rule: &Rule,
        at: &Node,
        evidence: String,
        fix: String,
    ) -> Option<&mut Finding> {
        let f = rule.finding(Location::file(self.path, at.line, at.column), evidence, fix);
        let mut lines = vec![at.line];
        if at.def_line != at.line && at.def_line > 0 {
            lines.push(at.def_line);
        }
        self.out.push((f, lines));
        self.out.last_mut().map(|(f, _)| f)
    }
}

/// `label-invalid` for each `dockward.*` label, in the map form
/// (`key: value`) or the list form (`- key=value`), at its line.
fn labels(cx: &mut Ctx<'_>, name: &str, under: &str, node: Option<&Node>) {
    let Some(node) = node else { return };
    let mut found: Vec<(String, String, &Node)> = Vec::new();
    match &node.value {
        Value::Map(_) => {
            for (k, v) in node.entries() {
                let key = k.scalar().unwrap_or_default();
                found.push((key, cx.text(v).unwrap_or_default(), k));
            }
        }
        _ => {
            for item in node.items() {
                let text = cx.text(item).unwrap_or_default();
                let (k, v) = text.split_once('=').unwrap_or((text.as_str(), ""));
                found.push((k.to_string(), v.to_string(), item));
            }
        }
    }
    for (k, v, at) in found {
        if !k.starts_with("dockward.") {
            continue;
        }
        let one = BTreeMap::from([(k.clone(), v.clone())]);
        for p in dockward_firewall::policy::label_problems(&one) {
            let (open, pad, then) = if under == "labels" {
                ("labels:", "      ", format!("`docker compose up -d {name}`: labels change only when the container is recreated"))
            } else {
                (
                    "deploy:\n      labels:",
                    "        ",
                    "`docker stack deploy -c <this file> <stack>`".to_string(),
                )
            };
            cx.emit(
                &LABEL_INVALID,
                at,
                format!("service {name}: {under}: {}={}: {}", p.label, p.value, p.problem),
                format!("services:\n  {name}:\n    {open}\n{pad}{}: \"{}\"   # corrected as said above (docs/firewall.md lists the labels)\nthen {then}", p.label, p.value),
            );
        }
    }
}

/// Audits one compose file. A file that is not YAML, or whose top level is
/// not a mapping, gives a [`Diagnostic`] with its position.
pub fn audit_compose(path: &str, text: &str, env: &ComposeEnv) -> Result<Vec<Finding>, Diagnostic> {
    let root =
        yaml::parse(text).map_err(|(line, col, msg)| Diagnostic::new(path, line, col, msg))?;
    if !matches!(root.value, Value::Map(_) | Value::Null) {
        return Err(Diagnostic::new(
            path,
            root.line,
            root.column,
            "a compose file is a mapping with `services:`",
        ));
    }
    let mut cx = Ctx {
        path,
        env,
        out: Vec::new(),
        host_networks: Vec::new(),
    };
    cx.host_networks = host_networks(&cx, &root);
    schema::check(path, &root, &|n| cx.text(n))?;
    if let Some((_, services)) = root.get("services") {
        for (name_node, svc) in services.entries() {
            let name = name_node.scalar().unwrap_or_default();
            service(&mut cx, &name, svc);
        }
    }
    Ok(cx
        .out
        .into_iter()
        .map(|(mut f, lines)| {
            suppress::apply(text, &mut f, &lines);
            f
        })
        .collect())
}

/// A file an `env_file:` entry names, as the edge read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFile {
    /// Permission bits.
    pub mode: u32,
    pub text: String,
}

/// The `env_file:` files of a compose file's services, read through
/// `read` (given the path as written, interpolated; the edge resolves it
/// against the compose file's directory): a file that holds a secret and
/// that other users may read is reported (`compose-env-file-secret`). An
/// env file is the right place for a secret; a world-readable one hands
/// it to every account on the host. A file `read` cannot read is not
/// judged here (`docker compose` refuses to start without a required one).
pub fn audit_env_files(
    path: &str,
    text: &str,
    env: &ComposeEnv,
    read: &dyn Fn(&str) -> Option<EnvFile>,
) -> Vec<Finding> {
    let Ok(root) = yaml::parse(text) else {
        return Vec::new();
    };
    let mut cx = Ctx {
        path,
        env,
        out: Vec::new(),
        host_networks: Vec::new(),
    };
    cx.host_networks = host_networks(&cx, &root);
    // Top-level `secrets:` from a file: a secret by definition, so any
    // group or other read bit is too much.
    if let Some((_, secrets)) = root.get("secrets") {
        for (name_node, def) in secrets.entries() {
            let name = name_node.scalar().unwrap_or_default();
            let Some((_, at)) = def.get("file") else {
                continue;
            };
            let Some(p) = cx.text(at) else { continue };
            let Some(f) = read(&p) else { continue };
            if f.mode & 0o044 != 0 {
                cx.emit(
                    &COMPOSE_SECRET_FILE,
                    at,
                    format!(
                        "secret {name}: file {p} is readable by {} (mode {:o})",
                        if f.mode & 0o004 != 0 { "every user of this host" } else { "its group" },
                        f.mode & 0o777
                    ),
                    format!("chmod 600 {p}   (compose mounts it into the container; the host copy needs no other reader)"),
                );
            }
        }
    }
    let services = root
        .get("services")
        .map(|(_, s)| s.entries())
        .unwrap_or(&[]);
    for (name_node, svc) in services {
        let name = name_node.scalar().unwrap_or_default();
        let Some((_, files)) = svc.get("env_file") else {
            continue;
        };
        let nodes: Vec<&Node> = match &files.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![files],
        };
        for n in nodes {
            // Short syntax, or `{path: …, required: …}`.
            let at = n.get("path").map_or(n, |(_, p)| p);
            let Some(p) = cx.text(at) else { continue };
            let Some(f) = read(&p) else { continue };
            if f.mode & 0o044 == 0 {
                continue;
            }
            let secrets: Vec<String> = crate::artifact::parse_dotenv(&f.text)
                .into_iter()
                .filter(|(k, v)| secret_name(k) && !v.trim().is_empty())
                .map(|(k, _)| k)
                .collect();
            if secrets.is_empty() {
                continue;
            }
            let who = if f.mode & 0o004 != 0 {
                "every user of this host"
            } else {
                "its group"
            };
            cx.emit(
                &COMPOSE_ENV_FILE_SECRET,
                at,
                format!(
                    "service {name}: env_file {p} holds {} (values redacted), readable by {who} (mode {:o})",
                    secrets.join(", "),
                    f.mode & 0o777
                ),
                format!("chmod 600 {p}   (and keep it out of version control: add it to .gitignore)"),
            );
        }
    }
    cx.out
        .into_iter()
        .map(|(mut f, lines)| {
            suppress::apply(text, &mut f, &lines);
            f
        })
        .collect()
}

/// The top-level networks that are the host's network: `external: true`
/// and named `host` (by `name:`, or by their key without one).
fn host_networks(cx: &Ctx<'_>, root: &Node) -> Vec<String> {
    let Some((_, nets)) = root.get("networks") else {
        return Vec::new();
    };
    nets.entries()
        .iter()
        .filter_map(|(key, net)| {
            let key = key.scalar()?;
            let external = net
                .get("external")
                .and_then(|(_, v)| cx.text(v))
                .is_some_and(|v| v == "true");
            let name = net.get("name").and_then(|(_, v)| cx.text(v));
            (external && name.as_deref().unwrap_or(&key) == "host").then_some(key)
        })
        .collect()
}

fn service(cx: &mut Ctx<'_>, name: &str, svc: &Node) {
    // `labels:` are the container's; `deploy.labels` a Swarm service's:
    // dockward reads both, so both are checked.
    labels(cx, name, "labels", svc.get("labels").map(|(_, v)| v));
    let deploy = svc.get("deploy").and_then(|(_, d)| d.get("labels"));
    labels(cx, name, "deploy.labels", deploy.map(|(_, v)| v));
    if let Some((k, v)) = svc.get("privileged") {
        if cx.text(v).as_deref().and_then(schema::boolean) == Some(true) {
            cx.emit(
                &COMPOSE_PRIVILEGED,
                k,
                format!("service {name}: privileged: true"),
                format!("services:\n  {name}:\n    # remove `privileged: true`; grant only what is needed, e.g.\n    cap_add: [NET_BIND_SERVICE]"),
            );
        }
    }
    if let Some((k, v)) = svc.get("network_mode") {
        if cx.text(v).as_deref() == Some("host") {
            cx.emit(
                &COMPOSE_HOST_NETWORK,
                k,
                format!("service {name}: network_mode: host"),
                format!("services:\n  {name}:\n    # remove `network_mode: host` and publish only what is needed\n    ports:\n      - \"127.0.0.1:8080:80\""),
            );
        }
    }
    if let Some((k, nets)) = svc.get("networks") {
        let joined: Vec<String> = nets
            .items()
            .iter()
            .filter_map(|n| cx.text(n))
            .chain(nets.entries().iter().filter_map(|(k, _)| k.scalar()))
            .collect();
        if let Some(host) = joined.iter().find(|n| cx.host_networks.contains(n)) {
            cx.emit(
                &COMPOSE_HOST_NETWORK,
                k,
                format!("service {name}: networks: {host} (the host's network)"),
                format!("services:\n  {name}:\n    # leave the `{host}` network (the host's own) and publish only what is needed\n    ports:\n      - \"127.0.0.1:8080:80\""),
            );
        }
    }
    for (key, cis) in [
        ("pid", "5.16"),
        ("ipc", "5.17"),
        ("uts", "5.21"),
        ("userns_mode", "5.31"),
    ] {
        if let Some((k, v)) = svc.get(key) {
            if cx.text(v).as_deref() == Some("host") {
                if let Some(f) = cx.emit(
                    &COMPOSE_HOST_NAMESPACE,
                    k,
                    format!("service {name}: {key}: host"),
                    format!("services:\n  {name}:\n    # remove `{key}: host`"),
                ) {
                    f.cis = Some(cis.to_string());
                }
            }
        }
    }
    if let Some((k, v)) = svc.get("user") {
        if let Some(u) = cx.text(v) {
            if dockerfile::is_root(&u) && !u.trim().is_empty() {
                cx.emit(
                    &COMPOSE_ROOT_USER,
                    k,
                    format!("service {name}: user: {u}"),
                    format!("services:\n  {name}:\n    user: \"10001:10001\""),
                );
            }
        }
    }
    if let Some((_, caps)) = svc.get("cap_add") {
        for item in caps.items() {
            let Some(raw) = cx.text(item) else { continue };
            if dangerous_capability(&raw) {
                cx.emit(
                    &COMPOSE_DANGEROUS_CAPABILITY,
                    item,
                    format!("service {name}: cap_add: {raw}"),
                    format!("services:\n  {name}:\n    cap_drop: [ALL]\n    cap_add: []   # remove {raw}; add back only what the service needs"),
                );
            }
        }
    }
    if let Some((_, opts)) = svc.get("security_opt") {
        for item in opts.items() {
            let Some(raw) = cx.text(item) else { continue };
            let Some(cis) = unconfined(&raw) else {
                continue;
            };
            let f = cx.emit(
                &COMPOSE_UNCONFINED,
                item,
                format!("service {name}: security_opt: {raw}"),
                format!("services:\n  {name}:\n    # remove `{raw}` from security_opt; if a call is really needed:\n    security_opt:\n      - seccomp=./seccomp.json"),
            );
            if let (Some(f), Some(c)) = (f, cis) {
                f.cis = Some(c.to_string());
            }
        }
    }
    if let Some((_, vols)) = svc.get("volumes") {
        for item in vols.items() {
            volume(
                cx,
                name,
                item,
                svc.get("image").and_then(|(_, v)| cx.text(v)),
            );
        }
    }
    if let Some((_, devs)) = svc.get("devices") {
        for item in devs.items() {
            let shown = match &item.value {
                Value::Map(_) => item.get("source").and_then(|(_, v)| cx.text(v)),
                _ => cx.text(item),
            }
            .unwrap_or_default();
            cx.emit(
                &COMPOSE_DEVICE,
                item,
                format!("service {name}: devices: {shown}"),
                format!("services:\n  {name}:\n    # remove the device, or narrow it to read-only:\n    devices:\n      - \"{}:r\"", shown.split(':').take(2).collect::<Vec<_>>().join(":")),
            );
        }
    }
    if let Some((_, env)) = svc.get("environment") {
        environment(cx, name, env, Vars::Environment);
    }
    // Build arguments land in the image's history (`docker history`),
    // readable by whoever can pull it.
    if let Some((_, build)) = svc.get("build") {
        if let Some((_, args)) = build.get("args") {
            environment(cx, name, args, Vars::BuildArgs);
        }
    }
    if let Some((_, ports)) = svc.get("ports") {
        let stack = swarm_service(cx, svc);
        for item in ports.items() {
            match &stack {
                Some(expose) => stack_port(cx, name, item, expose.as_deref()),
                None => port(cx, name, item),
            }
        }
    }
    if let Some((_, image)) = svc.get("image") {
        if svc.get("build").is_none() {
            if let Some(img) = cx.text(image) {
                if unpinned(&img) {
                    let repo = img
                        .rsplit_once(':')
                        .filter(|(_, t)| !t.contains('/'))
                        .map_or(img.as_str(), |(r, _)| r);
                    cx.emit(
                        &COMPOSE_UNPINNED_IMAGE,
                        image,
                        format!("service {name}: image: {img}"),
                        format!(
                            "services:\n  {name}:\n    image: {repo}:<version>@sha256:<digest>"
                        ),
                    );
                }
            }
        }
    }
}

fn volume(cx: &mut Ctx<'_>, name: &str, item: &Node, image: Option<String>) {
    let (source, target, long) = match &item.value {
        Value::Map(_) => {
            let ty = item
                .get("type")
                .and_then(|(_, v)| cx.text(v))
                .unwrap_or_default();
            let src = item
                .get("source")
                .and_then(|(_, v)| cx.text(v))
                .unwrap_or_default();
            if !(ty == "bind" || (ty.is_empty() && src.starts_with('/'))) {
                return;
            }
            let tgt = item
                .get("target")
                .and_then(|(_, v)| cx.text(v))
                .unwrap_or_default();
            (src, tgt, true)
        }
        _ => {
            let Some(s) = cx.text(item) else { return };
            let mut parts = s.splitn(3, ':');
            let src = parts.next().unwrap_or("").to_string();
            let Some(tgt) = parts.next() else { return };
            (src, tgt.to_string(), false)
        }
    };
    if !(source.starts_with('/') || source.starts_with('.') || source.starts_with('~')) {
        return;
    }
    let syntax = if long { "long syntax" } else { "short syntax" };
    match classify(&source) {
        Some(Mount::Socket) => {
            let evidence = format!("service {name}: volume {source} -> {target} ({syntax})");
            match crate::container::socket_proxy(&image.unwrap_or_default()) {
                Some(crate::container::SocketProxy::Dockward) => {
                    if let Some(f) = cx.emit(
                        &COMPOSE_DOCKER_SOCKET,
                        item,
                        evidence,
                        "keep it on an internal network only its clients join".into(),
                    ) {
                        f.suppressed = Some(crate::Suppression {
                            kind: "accepted".into(),
                            reason: format!("service {name} runs dockward: the socket is what it guards or reads"),
                        });
                    }
                }
                Some(crate::container::SocketProxy::Other) => {
                    cx.emit(
                        &COMPOSE_DOCKER_SOCKET,
                        item,
                        format!("{evidence}; a filtering proxy with known holes"),
                        format!("services:\n  {name}:\n    image: dockward-proxy   # the same environment: it reads tecnativa's variables"),
                    );
                }
                None => {
                    cx.emit(
                        &COMPOSE_DOCKER_SOCKET,
                        item,
                        evidence,
                        format!("services:\n  {name}:\n    # remove the docker.sock volume; if the API is needed, use a filtering proxy:\n    environment:\n      DOCKER_HOST: tcp://docker-proxy:2375"),
                    );
                }
            }
        }
        Some(Mount::Sensitive) => {
            cx.emit(
                &COMPOSE_SENSITIVE_MOUNT,
                item,
                format!("service {name}: volume {source} -> {target} ({syntax})"),
                format!("services:\n  {name}:\n    volumes:\n      # mount only the file or directory needed, read-only:\n      - ./needed-file:{target}:ro"),
            );
        }
        None => {}
    }
}

/// Which variables of a service: its `environment:` or its `build.args:`.
#[derive(Clone, Copy)]
enum Vars {
    Environment,
    BuildArgs,
}

fn environment(cx: &mut Ctx<'_>, name: &str, env: &Node, vars: Vars) {
    let fix = |var: &str| {
        match vars {
        Vars::Environment => format!("services:\n  {name}:\n    environment:\n      {var}: ${{{var}}}   # value in an untracked .env file, or use compose secrets"),
        Vars::BuildArgs => format!("services:\n  {name}:\n    build:\n      # remove {var} from args; pass it as a build secret instead:\n      secrets: [{id}]\nsecrets:\n  {id}:\n    environment: {var}\n# and in the Dockerfile: RUN --mount=type=secret,id={id},env={var} <command>", id = var.to_ascii_lowercase()),
    }
    };
    let what = match vars {
        Vars::Environment => "environment",
        Vars::BuildArgs => "build.args",
    };
    match &env.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                let Some(var) = k.scalar() else { continue };
                let literal = match &v.value {
                    Value::Null => false,
                    Value::Str(s) => !s.trim().is_empty() && !has_reference(s, Dialect::Compose),
                    _ => true,
                };
                if literal && secret_name(&var) {
                    cx.emit(
                        &COMPOSE_SECRET,
                        k,
                        format!("service {name}: {what} {var}=<redacted>"),
                        fix(&var),
                    );
                }
            }
        }
        Value::Seq(items) => {
            for item in items {
                let Some(s) = item.scalar() else { continue };
                let Some((var, value)) = s.split_once('=') else {
                    continue;
                };
                if secret_name(var)
                    && !value.trim().is_empty()
                    && !has_reference(value, Dialect::Compose)
                {
                    cx.emit(
                        &COMPOSE_SECRET,
                        item,
                        format!("service {name}: {what} {var}=<redacted>"),
                        fix(var),
                    );
                }
            }
        }
        _ => {}
    }
}

/// Short syntax `[[ip:][published]:]target[/proto]`: (host ip, published, target).
pub(crate) fn parse_port(spec: &str) -> (Option<String>, Option<String>, String) {
    let spec = spec.trim();
    let spec = spec.rsplit_once('/').map_or(spec, |(s, _)| s);
    if let Some(rest) = spec.strip_prefix('[') {
        if let Some((ip, after)) = rest.split_once(']') {
            let after = after.trim_start_matches(':');
            let (published, target) = after.split_once(':').unwrap_or(("", after));
            let published = (!published.is_empty()).then(|| published.to_string());
            return (Some(ip.to_string()), published, target.to_string());
        }
    }
    let parts: Vec<&str> = spec.split(':').collect();
    match parts.as_slice() {
        [target] => (None, None, (*target).to_string()),
        [published, target] => (None, Some((*published).to_string()), (*target).to_string()),
        [ip @ .., published, target] => (
            Some(ip.join(":")),
            Some((*published).to_string()),
            (*target).to_string(),
        ),
        [] => (None, None, String::new()),
    }
}

fn all_interfaces(ip: Option<&str>) -> bool {
    match ip.map(str::trim) {
        None | Some("" | "0.0.0.0" | "::" | "[::]") => true,
        Some(_) => false,
    }
}

/// A service written for `docker stack deploy`: its `deploy:` says how
/// Swarm places it (`mode`, `placement`, `labels`, `endpoint_mode`), or a
/// port says its publish `mode`. docker compose reads `deploy.resources`
/// and `deploy.replicas` too, so those alone do not make a stack.
/// `Some(label)`: a stack service, with its `deploy.labels`
/// `dockward.expose` when it has one.
fn swarm_service(cx: &Ctx<'_>, svc: &Node) -> Option<Option<String>> {
    let deploy = svc.get("deploy").map(|(_, d)| d);
    let by_deploy = deploy.is_some_and(|d| {
        [
            "mode",
            "placement",
            "labels",
            "endpoint_mode",
            "update_config",
        ]
        .iter()
        .any(|k| d.get(k).is_some())
    });
    let by_port = svc
        .get("ports")
        .is_some_and(|(_, ps)| ps.items().iter().any(|p| p.get("mode").is_some()));
    if !(by_deploy || by_port) {
        return None;
    }
    let expose = deploy
        .and_then(|d| d.get("labels"))
        .and_then(|(_, l)| match &l.value {
            Value::Map(_) => l.get("dockward.expose").and_then(|(_, v)| cx.text(v)),
            _ => l.items().iter().find_map(|i| {
                cx.text(i)?
                    .strip_prefix("dockward.expose=")
                    .map(str::to_string)
            }),
        });
    Some(expose)
}

/// A port of a stack service: Swarm ignores `host_ip`, so the fix is the
/// policy label (or host mode), never an address. An ingress port is
/// open on every node; a host-mode one on each node with a task.
fn stack_port(cx: &mut Ctx<'_>, name: &str, item: &Node, expose: Option<&str>) {
    if expose.is_some_and(|v| dockward_firewall::policy::parse_expose(v).is_ok()) {
        return;
    }
    let (published, target, mode) = match &item.value {
        Value::Map(_) => {
            let get = |k: &str| item.get(k).and_then(|(_, v)| cx.text(v));
            (
                get("published"),
                get("target").unwrap_or_default(),
                get("mode"),
            )
        }
        _ => {
            let Some(s) = cx.text(item) else { return };
            let (_, p, t) = parse_port(&s);
            (p, t, None)
        }
    };
    let Some(published) = published else { return };
    let fix = format!("services:\n  {name}:\n    deploy:\n      labels:\n        dockward.expose: local   # or public, or a CIDR list; dockward firewall enforces it on every node\nthen `docker stack deploy -c <this file> <stack>`");
    if mode.as_deref() == Some("host") {
        cx.emit(
            &COMPOSE_PORT_ALL_INTERFACES,
            item,
            format!("service {name}: port {published}->{target} in host mode, on every address of each node with a task, with no dockward.expose label"),
            fix,
        );
    } else {
        cx.emit(
            &crate::rules::swarm::SERVICE_PORT_ALL_NODES,
            item,
            format!("service {name}: port {published}->{target} in ingress mode: every node, every address, with no dockward.expose label"),
            fix,
        );
    }
}

fn port(cx: &mut Ctx<'_>, name: &str, item: &Node) {
    let (ip, published, target) = match &item.value {
        Value::Map(_) => {
            let get = |k: &str| item.get(k).and_then(|(_, v)| cx.text(v));
            (
                get("host_ip"),
                get("published"),
                get("target").unwrap_or_default(),
            )
        }
        _ => {
            let Some(s) = cx.text(item) else { return };
            parse_port(&s)
        }
    };
    if !all_interfaces(ip.as_deref()) {
        return;
    }
    let host = published.clone().unwrap_or_else(|| "<random>".to_string());
    let shown = match &ip {
        Some(ip) if !ip.is_empty() => format!("{ip}:{host}->{target}"),
        _ => format!("{host}->{target} (no host IP)"),
    };
    let fixed = published.unwrap_or_else(|| target.clone());
    cx.emit(
        &COMPOSE_PORT_ALL_INTERFACES,
        item,
        format!("service {name}: port {shown}"),
        format!("services:\n  {name}:\n    ports:\n      - \"127.0.0.1:{fixed}:{target}\"   # long syntax: host_ip: 127.0.0.1"),
    );
}

#[cfg(test)]
mod tests;
