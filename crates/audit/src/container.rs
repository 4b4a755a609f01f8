//! Container front end: `(container, image user, exposure) -> findings`.
//!
//! Works on the inventory dockward already reads for `status` (one list and
//! one inspect per container), running and stopped alike: a stopped
//! privileged container is one `docker start` away from being a running
//! one, and docker-bench-security only looks at running ones.
//!
//! The user check resolves what the process really runs as: dockerd copies
//! the image's USER into `Config.User` at create time, but an empty value
//! still means root, and `0`, `0:0`, `root:root` and `00` are all uid 0
//! (docker-bench-security passes `--user 0:0` and `root:root`).
//!
//! A port bound to all interfaces is rated by whether it is reachable from
//! outside: the CLI passes dockward firewall's verdict per port when the
//! firewall is in force, and an unreachable port is a low finding, not a
//! high one.

use crate::dockerfile::is_root;
use crate::rules::host::{
    CONTAINER_CGROUP_PARENT, CONTAINER_DANGEROUS_CAPABILITY, CONTAINER_DEFAULT_BRIDGE,
    CONTAINER_DEVICE, CONTAINER_DOCKER_SOCKET, CONTAINER_HEALTH, CONTAINER_HOST_NAMESPACE,
    CONTAINER_HOST_NETWORK, CONTAINER_MOUNT_PROPAGATION, CONTAINER_NEW_PRIVILEGES,
    CONTAINER_NO_CPU_LIMIT, CONTAINER_NO_MEMORY_LIMIT, CONTAINER_NO_PIDS_LIMIT,
    CONTAINER_PORT_ALL_INTERFACES, CONTAINER_PRIVILEGED, CONTAINER_PRIVILEGED_PORT,
    CONTAINER_RESTART_POLICY, CONTAINER_ROOT_USER, CONTAINER_SENSITIVE_MOUNT, CONTAINER_ULIMIT,
    CONTAINER_UNCONFINED, CONTAINER_WRITABLE_ROOTFS, LABEL_INVALID,
};
use crate::rules::Rule;
use crate::runcmd::{self, Change};
use crate::{Finding, Location, Severity, Suppression};
use dockward_hostpower::{classify, dangerous_capability, unconfined, Mount};
use dockward_model::{Container, Protocol, PublishedPort, Reach, Recreate};
use std::collections::BTreeMap;

/// dockward firewall's verdict for a container port, in its own words
/// (`public`, `local only`, `local + from <CIDRs>`, `blocked`), keyed by
/// container id, container port and protocol. Empty when the firewall is
/// not in force.
pub type Exposure = BTreeMap<(String, u16, Protocol), Reach>;

struct Ctx<'a> {
    c: &'a Container,
    out: Vec<Finding>,
}

impl Ctx<'_> {
    fn emit(&mut self, rule: &Rule, evidence: String, fix: String) -> &mut Finding {
        let loc = Location::Container {
            name: self.c.name.clone(),
            id: self.c.id.chars().take(12).collect(),
        };
        self.out.push(rule.finding(loc, evidence, fix));
        let n = self.out.len() - 1;
        &mut self.out[n]
    }

    /// The fix for a setting only a new container can change: the compose
    /// file's snippet for a compose container (it is recreated from its
    /// file), else the `docker run` steps with `changes` applied, else (the
    /// command could not be rebuilt) what to change in words.
    fn recreate(&self, changes: &[Change], flag: &str, compose: &str) -> String {
        let notes: String = changes
            .iter()
            .filter_map(|ch| match ch {
                Change::Note(n) => Some(format!("\n{n}")),
                _ => None,
            })
            .collect();
        if let Some(cp) = self.c.compose.as_ref().filter(|cp| !cp.service.is_empty()) {
            return format!(
                "in the compose file of project {}: services:\n  {}:\n    {compose}\nthen `docker compose up -d {}`{notes}",
                cp.project, cp.service, cp.service
            );
        }
        let why = match &self.c.recreate {
            Recreate::Run(spec) => match runcmd::commands(self.c, spec, changes) {
                Some(cmd) => return cmd,
                None => "a value in its settings cannot be quoted for a shell".to_string(),
            },
            Recreate::Unsupported(key) => {
                format!("dockward cannot rebuild its command: it uses {key}")
            }
            Recreate::Unknown => "its settings were not read".to_string(),
        };
        format!(
            "recreate {name} with the options it has now, changed: {flag}\n\
             ({name} was started with `docker run` ({image}) and {why}: \
             `docker inspect {name}` lists them){notes}",
            name = self.c.name,
            image = self.c.image
        )
    }

    /// Marks the last finding as accepted: it does not count, and says why.
    fn accept(&mut self, reason: String) {
        if let Some(f) = self.out.last_mut() {
            f.suppressed = Some(Suppression {
                kind: "accepted".into(),
                reason,
            });
        }
    }
}

/// A known Docker API filtering proxy, by image name: its socket mount is
/// what it is for, and telling it to put a proxy in front of itself would
/// be a circular fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SocketProxy {
    /// dockward's own images (the proxy; the firewall, which reads
    /// events): the mount is accepted.
    Dockward,
    /// tecnativa/docker-socket-proxy and its kin: filtering, with known
    /// holes (ANCHORS.md §1); the fix is the drop-in replacement.
    Other,
}

pub(crate) fn socket_proxy(image: &str) -> Option<SocketProxy> {
    // `registry:5000/ns/name:tag@sha256:…` -> `registry:5000/ns/name`
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    let name_end = no_digest.len() - last.len() + last.split(':').next().unwrap_or(last).len();
    let name = no_digest[..name_end].to_ascii_lowercase();
    // Docker Hub's spellings of one name.
    let name = name
        .strip_prefix("docker.io/library/")
        .or_else(|| name.strip_prefix("docker.io/"))
        .unwrap_or(&name);
    // Accepting hides a critical finding, so only the exact names
    // dockward's own scripts build: `someone/dockward-proxy` from any
    // registry is somebody else's image and is judged like any other.
    if matches!(
        name,
        "dockward-proxy" | "dockward-firewall" | "dockward/proxy" | "dockward/firewall"
    ) {
        return Some(SocketProxy::Dockward);
    }
    // Another proxy only changes the fix, never hides the finding: a
    // mirror of these images is still one of them.
    let known = [
        "tecnativa/docker-socket-proxy",
        "linuxserver/socket-proxy",
        "wollomatic/socket-proxy",
        "fluencelabs/docker-socket-proxy",
    ];
    known
        .iter()
        .any(|k| name == *k || name.ends_with(&format!("/{k}")))
        .then_some(SocketProxy::Other)
}

/// The user a container runs as: its own `Config.User`, else the image's.
fn effective_user<'a>(c: &'a Container, image_user: Option<&'a str>) -> (&'a str, &'static str) {
    if !c.user.trim().is_empty() {
        (c.user.as_str(), "container")
    } else {
        (image_user.unwrap_or(""), "image")
    }
}

/// Audits one container. `image_user` is the USER of its image when known.
pub fn audit_container(
    c: &Container,
    image_user: Option<&str>,
    exposure: &Exposure,
) -> Vec<Finding> {
    let mut cx = Ctx { c, out: Vec::new() };
    if c.privileged {
        cx.emit(
            &CONTAINER_PRIVILEGED,
            format!(
                "{} ({}) runs with --privileged",
                c.name,
                if c.is_running() { "running" } else { "stopped" }
            ),
            cx.recreate(
                &[
                    Change::Drop("--privileged", None),
                    Change::Note("if it needs one capability or device, add just that one (--cap-add NAME, --device PATH)".into()),
                ],
                "(without --privileged; --cap-add <the one capability needed>)",
                "privileged: false",
            ),
        );
    }
    let (user, from) = effective_user(c, image_user);
    if is_root(user) && !c.privileged {
        let shown = if user.trim().is_empty() {
            "no user set (root)".to_string()
        } else {
            format!("user {user:?} (uid 0)")
        };
        cx.emit(
            &CONTAINER_ROOT_USER,
            format!("{shown}, from the {from}"),
            cx.recreate(
                &[Change::Set("--user", "10001:10001".into())],
                "--user 10001:10001",
                "user: \"10001:10001\"",
            ),
        );
    }
    for p in dockward_firewall::policy::label_problems(&c.labels) {
        cx.emit(
            &LABEL_INVALID,
            format!("label {}={}: {}", p.label, p.value, p.problem),
            cx.recreate(
                &[
                    Change::Drop("--label", Some(format!("{}={}", p.label, p.value))),
                    Change::Note(format!(
                        "add it back corrected ({}): --label KEY=VALUE",
                        p.problem
                    )),
                ],
                "(with the label corrected: --label <key>=<value>)",
                "labels:\n      <key>: <value>   # corrected",
            ),
        );
    }
    if c.host_network() {
        cx.emit(
            &CONTAINER_HOST_NETWORK,
            "network mode host".to_string(),
            cx.recreate(
                &host_network_changes(c),
                "--network bridge -p 127.0.0.1:<port>:<port>",
                "network_mode: bridge",
            ),
        );
    }
    for (mode, flag, cis) in [
        (&c.pid_mode, "pid", "5.16"),
        (&c.ipc_mode, "ipc", "5.17"),
        (&c.uts_mode, "uts", "5.21"),
        (&c.userns_mode, "userns", "5.31"),
    ] {
        if mode == "host" {
            let fix = cx.recreate(
                &[Change::Drop(flag_name(flag), Some("host".into()))],
                &format!("(without --{flag} host)"),
                &format!("# remove `{flag}: host`"),
            );
            cx.emit(&CONTAINER_HOST_NAMESPACE, format!("--{flag} host"), fix)
                .cis = Some(cis.to_string());
        }
    }
    for cap in &c.cap_add {
        if dangerous_capability(cap) {
            cx.emit(
                &CONTAINER_DANGEROUS_CAPABILITY,
                format!("--cap-add {cap}"),
                cx.recreate(
                    &[Change::Drop("--cap-add", Some(cap.clone()))],
                    &format!("--cap-drop ALL (without --cap-add {cap})"),
                    "cap_drop: [ALL]",
                ),
            );
        }
    }
    // dockerd itself adds `label=disable` to privileged containers and to
    // those sharing the host's pid or ipc namespace (moby
    // daemon/create.go); that finding is already made, so it is not
    // reported twice as a choice the user made.
    let implied_label_off = c.privileged || c.pid_mode == "host" || c.ipc_mode == "host";
    for opt in &c.security_opt {
        if implied_label_off && opt.trim().eq_ignore_ascii_case("label=disable") {
            continue;
        }
        if let Some(cis) = unconfined(opt) {
            let fix = cx.recreate(
                &[Change::Drop("--security-opt", Some(opt.clone()))],
                &format!("(without --security-opt {opt})"),
                "# remove it from security_opt",
            );
            let f = cx.emit(&CONTAINER_UNCONFINED, format!("--security-opt {opt}"), fix);
            f.cis = cis.map(str::to_string);
        }
    }
    for m in &c.mounts {
        if m.kind != "bind" {
            continue;
        }
        let rw = if m.read_only {
            "read-only"
        } else {
            "read-write"
        };
        match classify(&m.source) {
            Some(Mount::Socket) => socket(&mut cx, m, rw),
            Some(Mount::Sensitive) => {
                cx.emit(
                    &CONTAINER_SENSITIVE_MOUNT,
                    format!("bind {} -> {} ({rw})", m.source, m.destination),
                    cx.recreate(
                        &[
                            Change::DropMount(m.destination.clone()),
                            Change::Note(format!(
                                "if it needs one file of {}, add just that one read-only: --volume FILE:{}/FILE:ro",
                                m.source, m.destination
                            )),
                        ],
                        &format!("-v <the one file or directory needed>:{}:ro", m.destination),
                        &format!(
                            "volumes:\n      - <the one file or directory needed>:{}:ro",
                            m.destination
                        ),
                    ),
                );
            }
            None => {}
        }
    }
    for d in &c.devices {
        cx.emit(
            &CONTAINER_DEVICE,
            format!("--device {d}"),
            cx.recreate(
                &[Change::DropDevice(d.clone())],
                "(without --device, or --device <path>:<path>:r)",
                "# remove the device, or narrow it: devices: [\"<path>:<path>:r\"]",
            ),
        );
    }
    // One finding per port: Docker lists `0.0.0.0` and `::` bindings of
    // one `-p` separately, and both have the same fix.
    let mut seen: Vec<(Option<u16>, u16, Protocol)> = Vec::new();
    for p in c
        .ports
        .iter()
        .filter(|p| all_interfaces(p.host_ip.as_deref()))
    {
        let key = (p.host_port, p.container_port, p.protocol);
        if p.host_port.is_some() && seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let hosts: Vec<String> = c
            .ports
            .iter()
            .filter(|q| {
                all_interfaces(q.host_ip.as_deref())
                    && (q.host_port, q.container_port, q.protocol) == key
            })
            .map(|q| match q.host_ip.as_deref().map(str::trim) {
                None | Some("") => "0.0.0.0".to_string(),
                Some("::" | "[::]") => "[::]".to_string(),
                Some(h) => h.to_string(),
            })
            .collect();
        let hosts = if p.host_port.is_none() {
            vec![hosts.first().cloned().unwrap_or_default()]
        } else {
            hosts
        };
        port(&mut cx, p, &hosts.join(" and "), exposure);
    }
    runtime(&mut cx);
    cx.out
}

/// The runtime options of CIS section 5 that bound what a container may
/// use or do: each a low finding, but for shared mount propagation and an
/// unhealthy container.
fn runtime(cx: &mut Ctx<'_>) {
    let c = cx.c;
    let l = &c.limits;
    let mut privileged_ports: Vec<(u16, Protocol)> = Vec::new();
    for p in &c.ports {
        if let Some(h) = p.host_port.filter(|h| *h > 0 && *h < 1024) {
            if !privileged_ports.contains(&(h, p.protocol)) {
                privileged_ports.push((h, p.protocol));
            }
        }
    }
    for (h, proto) in privileged_ports {
        cx.emit(
            &CONTAINER_PRIVILEGED_PORT,
            format!("host port {h}/{proto} is below 1024"),
            "publish on a port of 1024 or above behind the reverse proxy (-p 8080:80), or accept it for the proxy itself in .dockward.toml".to_string(),
        );
    }
    if l.memory <= 0 {
        let fix = cx.recreate(
            &[
                Change::Set("--memory", "512m".into()),
                Change::Note("size --memory to the service".into()),
            ],
            "--memory 512m (sized to the service)",
            "mem_limit: 512m",
        );
        cx.emit(&CONTAINER_NO_MEMORY_LIMIT, "no --memory".to_string(), fix);
    }
    let default_weight = l.cpu_shares == 0 || l.cpu_shares == 1024;
    if l.nano_cpus <= 0 && l.cpu_quota <= 0 && default_weight {
        let fix = cx.recreate(
            &[Change::Set("--cpus", "1".into())],
            "--cpus 1",
            "cpus: 1.0",
        );
        cx.emit(
            &CONTAINER_NO_CPU_LIMIT,
            "no --cpus, --cpu-quota or --cpu-shares".to_string(),
            fix,
        );
    }
    if !c.readonly_rootfs && !c.privileged {
        let fix = cx.recreate(
            &[
                Change::Flag("--read-only"),
                Change::Note("give each path it writes a volume or --tmpfs".into()),
            ],
            "--read-only (with --tmpfs or a volume for the paths it writes)",
            "read_only: true",
        );
        cx.emit(
            &CONTAINER_WRITABLE_ROOTFS,
            "root filesystem writable".to_string(),
            fix,
        );
    }
    let unbounded = match l.restart.as_str() {
        "always" | "unless-stopped" => Some(format!("--restart {}", l.restart)),
        "on-failure" if l.restart_max == 0 || l.restart_max > 5 => Some(format!(
            "--restart on-failure{}",
            if l.restart_max > 0 {
                format!(":{}", l.restart_max)
            } else {
                String::new()
            }
        )),
        _ => None,
    };
    if let Some(policy) = unbounded {
        let fix = cx.recreate(
            &[Change::Set("--restart", "on-failure:5".into())],
            "--restart on-failure:5",
            "restart: on-failure:5",
        );
        cx.emit(&CONTAINER_RESTART_POLICY, policy, fix);
    }
    if !l.ulimits.is_empty() {
        let fix = cx.recreate(
            &[Change::Drop("--ulimit", None)],
            "(without --ulimit, if the daemon's defaults serve)",
            "# remove ulimits: if the daemon's defaults serve",
        );
        cx.emit(
            &CONTAINER_ULIMIT,
            format!("--ulimit {}", l.ulimits.join(" --ulimit ")),
            fix,
        );
    }
    for m in &c.mounts {
        if matches!(m.propagation.as_str(), "shared" | "rshared") {
            let ro = if m.read_only { ":ro" } else { "" };
            let fix = cx.recreate(
                &[
                    Change::DropMount(m.destination.clone()),
                    Change::Add("--volume", format!("{}:{}{ro}", m.source, m.destination)),
                ],
                &format!(
                    "-v {}:{}{ro} (private propagation)",
                    m.source, m.destination
                ),
                &format!(
                    "volumes:\n      - {}:{}{ro}   # no :shared / :rshared",
                    m.source, m.destination
                ),
            );
            cx.emit(
                &CONTAINER_MOUNT_PROPAGATION,
                format!(
                    "bind {} -> {} with {} propagation",
                    m.source, m.destination, m.propagation
                ),
                fix,
            );
        }
    }
    if !l.cgroup_parent.is_empty() {
        let fix = cx.recreate(
            &[Change::Drop("--cgroup-parent", None)],
            "(without --cgroup-parent)",
            "# remove cgroup_parent",
        );
        cx.emit(
            &CONTAINER_CGROUP_PARENT,
            format!("--cgroup-parent {}", l.cgroup_parent),
            fix,
        );
    }
    let nnp = c.security_opt.iter().any(|o| {
        let o = o.trim().to_ascii_lowercase();
        o == "no-new-privileges" || o == "no-new-privileges:true" || o == "no-new-privileges=true"
    });
    if !nnp && !c.privileged {
        let fix = cx.recreate(
            &[Change::Add("--security-opt", "no-new-privileges".into())],
            "--security-opt no-new-privileges",
            "security_opt: [\"no-new-privileges:true\"]",
        );
        cx.emit(
            &CONTAINER_NEW_PRIVILEGES,
            "no --security-opt no-new-privileges".to_string(),
            fix,
        );
    }
    if l.health == "unhealthy" {
        let name = &c.name;
        let f = cx.emit(
            &CONTAINER_HEALTH,
            "unhealthy: its own health check fails".to_string(),
            format!("docker inspect --format '{{{{json .State.Health}}}}' {name}   (the last checks and their output)"),
        );
        f.severity = Severity::Medium;
    } else if !l.healthcheck {
        cx.emit(
            &CONTAINER_HEALTH,
            "no health check".to_string(),
            match &c.compose {
                Some(cp) if !cp.service.is_empty() => format!(
                    "in the compose file of project {}: services:\n  {}:\n    healthcheck:\n      test: [\"CMD-SHELL\", \"<a command that fails when the service does>\"]",
                    cp.project, cp.service
                ),
                _ => "add HEALTHCHECK to its image, or recreate it with --health-cmd '<a command that fails when the service does>'".to_string(),
            },
        );
    }
    if l.pids <= 0 {
        let fix = cx.recreate(
            &[Change::Set("--pids-limit", "256".into())],
            "--pids-limit 256",
            "pids_limit: 256",
        );
        cx.emit(&CONTAINER_NO_PIDS_LIMIT, "no --pids-limit".to_string(), fix);
    }
    if matches!(c.network_mode.as_str(), "default" | "bridge") {
        let fix = cx.recreate(
            &[
                Change::Before(
                    "(docker network inspect app-net >/dev/null 2>&1 || docker network create app-net)".into(),
                ),
                Change::Set("--network", "app-net".into()),
                Change::Note("put the containers that talk to each other on app-net, and only those".into()),
            ],
            "--network app-net (a network of its own: docker network create app-net)",
            "networks: [app]   # compose creates a network per project unless network_mode is set",
        );
        cx.emit(
            &CONTAINER_DEFAULT_BRIDGE,
            "on the default bridge (docker0)".to_string(),
            fix,
        );
    }
}

fn socket(cx: &mut Ctx<'_>, m: &dockward_model::Mount, rw: &str) {
    let evidence = format!("bind {} -> {} ({rw})", m.source, m.destination);
    match socket_proxy(&cx.c.image) {
        Some(SocketProxy::Dockward) => {
            cx.emit(
                &CONTAINER_DOCKER_SOCKET,
                evidence,
                "keep it on an internal network only its clients join, and no port published"
                    .into(),
            );
            cx.accept(format!(
                "{} is dockward's filtering proxy ({}): the socket is what it guards",
                cx.c.name, cx.c.image
            ));
        }
        Some(SocketProxy::Other) => {
            let fix = cx.recreate(
                &[Change::Image(PROXY_IMAGE.into())],
                &format!("the image dockward-proxy in place of {} (the same -e variables: it reads tecnativa's)", cx.c.image),
                &format!("image: {PROXY_IMAGE}   # the same environment: variables; it reads tecnativa's"),
            );
            cx.emit(
                &CONTAINER_DOCKER_SOCKET,
                format!(
                    "{evidence}; {} is a filtering proxy with known holes (POST /containers/create with a host bind passes when CONTAINERS and POST are on)",
                    cx.c.image
                ),
                fix,
            );
        }
        None => {
            let fix = cx.recreate(
                &[
                    Change::Before(format!(
                        "(docker network inspect {API_NET} >/dev/null 2>&1 || docker network create {API_NET})"
                    )),
                    Change::Before(format!(
                        "(docker inspect docker-proxy >/dev/null 2>&1 || docker run -d --name docker-proxy --restart unless-stopped --network {API_NET} -e CONTAINERS=1 -v /var/run/docker.sock:/var/run/docker.sock:ro {PROXY_IMAGE})"
                    )),
                    Change::DropMount(m.destination.clone()),
                    Change::Add("--env", "DOCKER_HOST=tcp://docker-proxy:2375".into()),
                    Change::Connect(API_NET.into()),
                ],
                "-e DOCKER_HOST=tcp://docker-proxy:2375, without the docker.sock volume, on a network shared with a `dockward proxy` container named docker-proxy",
                &format!("environment:\n      DOCKER_HOST: tcp://docker-proxy:2375   # and remove the docker.sock volume\n  docker-proxy:\n    image: {PROXY_IMAGE}\n    environment:\n      CONTAINERS: 1   # what this client reads; docs/proxy.md\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock:ro"),
            );
            cx.emit(&CONTAINER_DOCKER_SOCKET, evidence, fix);
        }
    }
}

/// The image the fixes name for dockward's proxy, as `scripts/package.sh`
/// tags it.
const PROXY_IMAGE: &str = concat!("dockward-proxy:", env!("CARGO_PKG_VERSION"));
/// The network a client and its `dockward proxy` share.
const API_NET: &str = "dockward-api";

fn flag_name(ns: &str) -> &'static str {
    match ns {
        "pid" => "--pid",
        "ipc" => "--ipc",
        "uts" => "--uts",
        _ => "--userns",
    }
}

/// Off the host's network: the default bridge, publishing what the image
/// exposes on loopback only.
fn host_network_changes(c: &Container) -> Vec<Change> {
    let mut v = vec![Change::Drop("--network", Some("host".into()))];
    if let Recreate::Run(spec) = &c.recreate {
        for e in &spec.exposed {
            let (port, proto) = e.split_once('/').unwrap_or((e, "tcp"));
            v.push(Change::Add(
                "--publish",
                format!("127.0.0.1:{port}:{port}/{proto}"),
            ));
        }
    }
    v
}

fn all_interfaces(ip: Option<&str>) -> bool {
    matches!(
        ip.map(str::trim),
        None | Some("" | "0.0.0.0" | "::" | "[::]")
    )
}

fn port(cx: &mut Ctx<'_>, p: &PublishedPort, hosts: &str, exposure: &Exposure) {
    let c = cx.c;
    let hp = p
        .host_port
        .map_or_else(|| "<random>".to_string(), |h| h.to_string());
    let bound = format!("{hosts} port {hp} -> {}/{}", p.container_port, p.protocol);
    let verdict = exposure.get(&(c.id.clone(), p.container_port, p.protocol));
    let (severity, reach, accepted) = match verdict {
        None => (
            Severity::High,
            "reachable from outside: no dockward firewall in force".to_string(),
            None,
        ),
        Some(Reach::Public) => {
            let by = match c.labels.get("dockward.expose") {
                Some(v) => format!("label dockward.expose={v}"),
                None => "the firewall policy file".to_string(),
            };
            (
                Severity::Medium,
                format!("reachable from outside: public by {by}"),
                Some(format!("public by policy ({by})")),
            )
        }
        Some(v) => (
            Severity::Low,
            format!("not reachable from outside: dockward firewall verdict {v}"),
            Some(format!("dockward firewall keeps it {v}")),
        ),
    };
    let fix = cx.recreate(
        &[
            Change::LocalPort(
                p.host_port,
                format!("{}/{}", p.container_port, p.protocol),
            ),
            Change::Note("or keep it bound and let the firewall close it: `dockward firewall apply` (unlabeled ports become local only)".into()),
        ],
        &format!("-p 127.0.0.1:{hp}:{}/{}", p.container_port, p.protocol),
        &format!(
            "ports:\n      - \"127.0.0.1:{hp}:{}/{}\"",
            p.container_port, p.protocol
        ),
    );
    let f = cx.emit(
        &CONTAINER_PORT_ALL_INTERFACES,
        format!("{bound}; {reach}"),
        fix,
    );
    f.severity = severity;
    if let Some(why) = accepted {
        cx.accept(why);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockward_model::{ContainerState, Mount as M};

    fn base() -> Container {
        Container {
            id: "0123456789abcdef".into(),
            name: "app".into(),
            image: "app:1".into(),
            user: "app".into(),
            state: ContainerState::Running,
            network_mode: "shop".into(),
            readonly_rootfs: true,
            security_opt: vec!["no-new-privileges".into()],
            limits: hardened(),
            ..Container::default()
        }
    }

    /// Every CIS section-5 limit set.
    fn hardened() -> dockward_model::Limits {
        dockward_model::Limits {
            memory: 512 << 20,
            nano_cpus: 1_000_000_000,
            pids: 256,
            restart: "on-failure".into(),
            restart_max: 5,
            healthcheck: true,
            health: "healthy".into(),
            ..Default::default()
        }
    }

    #[test]
    fn each_runtime_option_trips_its_rule_and_only_it() {
        let cases: Vec<(&str, Container)> = vec![
            (
                "container-no-memory-limit",
                Container {
                    limits: dockward_model::Limits {
                        memory: 0,
                        ..hardened()
                    },
                    ..base()
                },
            ),
            (
                "container-no-cpu-limit",
                Container {
                    limits: dockward_model::Limits {
                        nano_cpus: 0,
                        ..hardened()
                    },
                    ..base()
                },
            ),
            (
                "container-writable-rootfs",
                Container {
                    readonly_rootfs: false,
                    ..base()
                },
            ),
            (
                "container-restart-policy",
                Container {
                    limits: dockward_model::Limits {
                        restart: "unless-stopped".into(),
                        ..hardened()
                    },
                    ..base()
                },
            ),
            (
                "container-restart-policy",
                Container {
                    limits: dockward_model::Limits {
                        restart_max: 0,
                        ..hardened()
                    },
                    ..base()
                },
            ),
            (
                "container-ulimit",
                Container {
                    limits: dockward_model::Limits {
                        ulimits: vec!["nofile=1:2".into()],
                        ..hardened()
                    },
                    ..base()
                },
            ),
            (
                "container-cgroup-parent",
                Container {
                    limits: dockward_model::Limits {
                        cgroup_parent: "/x".into(),
                        ..hardened()
                    },
                    ..base()
                },
            ),
            (
                "container-new-privileges",
                Container {
                    security_opt: vec![],
                    ..base()
                },
            ),
            (
                "container-health",
                Container {
                    limits: dockward_model::Limits {
                        healthcheck: false,
                        ..hardened()
                    },
                    ..base()
                },
            ),
            (
                "container-health",
                Container {
                    limits: dockward_model::Limits {
                        health: "unhealthy".into(),
                        ..hardened()
                    },
                    ..base()
                },
            ),
            (
                "container-no-pids-limit",
                Container {
                    limits: dockward_model::Limits {
                        pids: -1,
                        ..hardened()
                    },
                    ..base()
                },
            ),
            (
                "container-default-bridge",
                Container {
                    network_mode: "default".into(),
                    ..base()
                },
            ),
            (
                "container-mount-propagation",
                Container {
                    mounts: vec![M {
                        kind: "bind".into(),
                        source: "/srv".into(),
                        destination: "/srv".into(),
                        read_only: false,
                        propagation: "rshared".into(),
                    }],
                    ..base()
                },
            ),
            (
                "container-privileged-port",
                Container {
                    ports: vec![PublishedPort {
                        host_ip: Some("127.0.0.1".into()),
                        host_port: Some(80),
                        container_port: 80,
                        host_port_end: None,
                        protocol: Protocol::Tcp,
                    }],
                    ..base()
                },
            ),
        ];
        for (rule, c) in cases {
            let f = audit_container(&c, None, &Exposure::new());
            assert_eq!(ids(&f), [rule], "{f:#?}");
        }
        // A weight other than the default is a CPU setting; on-failure:3 is bounded.
        let c = Container {
            limits: dockward_model::Limits {
                nano_cpus: 0,
                cpu_shares: 512,
                restart_max: 3,
                ..hardened()
            },
            ..base()
        };
        assert!(audit_container(&c, None, &Exposure::new()).is_empty());
        let unhealthy = Container {
            limits: dockward_model::Limits {
                health: "unhealthy".into(),
                ..hardened()
            },
            ..base()
        };
        assert_eq!(
            audit_container(&unhealthy, None, &Exposure::new())[0].severity,
            Severity::Medium
        );
    }

    fn ids(f: &[Finding]) -> Vec<&str> {
        let mut v: Vec<&str> = f.iter().map(|f| f.rule.as_str()).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn clean_container_has_no_findings() {
        assert!(audit_container(&base(), None, &Exposure::new()).is_empty());
    }

    #[test]
    fn a_mistyped_dockward_label_is_a_finding_with_the_word_meant() {
        let mut c = base();
        c.labels.insert("dockward.exposed".into(), "public".into());
        c.labels.insert("dockward.test".into(), "1".into());
        let f = audit_container(&c, None, &Exposure::new());
        assert_eq!(ids(&f), ["label-invalid"]);
        assert!(
            f[0].evidence.contains("did you mean dockward.expose?"),
            "{}",
            f[0].evidence
        );
        c.labels.clear();
        c.labels.insert("dockward.expose".into(), "pubic".into());
        let f = audit_container(&c, None, &Exposure::new());
        assert!(
            f[0].evidence.contains("did you mean public?"),
            "{}",
            f[0].evidence
        );
    }

    #[test]
    fn root_however_spelled() {
        for u in ["", "root", "0", "0:0", "root:root", "00", " 0 "] {
            let c = Container {
                user: u.into(),
                ..base()
            };
            assert_eq!(
                ids(&audit_container(&c, None, &Exposure::new())),
                ["container-root-user"],
                "{u:?}"
            );
        }
        // Empty container user: the image's user decides.
        let c = Container {
            user: String::new(),
            ..base()
        };
        assert!(audit_container(&c, Some("app"), &Exposure::new()).is_empty());
        assert_eq!(
            ids(&audit_container(&c, Some("0:0"), &Exposure::new())),
            ["container-root-user"]
        );
        let c = Container {
            user: "1000:0".into(),
            ..base()
        };
        assert!(audit_container(&c, None, &Exposure::new()).is_empty());
    }

    #[test]
    fn host_power() {
        let c = Container {
            privileged: true,
            network_mode: "host".into(),
            pid_mode: "host".into(),
            cap_add: vec!["cap_sys_admin".into(), "CHOWN".into()],
            security_opt: vec!["seccomp=unconfined".into(), "no-new-privileges".into()],
            devices: vec!["/dev/fuse:/dev/fuse:rwm".into()],
            mounts: vec![
                M {
                    kind: "bind".into(),
                    source: "/var/run/docker.sock".into(),
                    destination: "/s".into(),
                    read_only: false,
                    propagation: String::new(),
                },
                M {
                    kind: "bind".into(),
                    source: "/etc".into(),
                    destination: "/h".into(),
                    read_only: true,
                    propagation: String::new(),
                },
                M {
                    kind: "bind".into(),
                    source: "/srv/data".into(),
                    destination: "/d".into(),
                    read_only: false,
                    propagation: String::new(),
                },
                M {
                    kind: "volume".into(),
                    source: "etc".into(),
                    destination: "/v".into(),
                    read_only: false,
                    propagation: String::new(),
                },
            ],
            state: ContainerState::Exited,
            ..base()
        };
        assert_eq!(
            ids(&audit_container(&c, None, &Exposure::new())),
            [
                "container-dangerous-capability",
                "container-device",
                "container-docker-socket",
                "container-host-namespace",
                "container-host-network",
                "container-privileged",
                "container-sensitive-mount",
                "container-unconfined",
            ]
        );
    }

    #[test]
    fn ports_rated_by_reachability() {
        let p = |ip: Option<&str>, port: u16| PublishedPort {
            host_ip: ip.map(str::to_string),
            host_port: Some(port),
            container_port: port,
            host_port_end: None,
            protocol: Protocol::Tcp,
        };
        let c = Container {
            ports: vec![
                p(Some("0.0.0.0"), 8080),
                p(Some("127.0.0.1"), 8081),
                p(Some("::"), 8082),
                p(None, 8083),
            ],
            ..base()
        };
        let f = audit_container(&c, None, &Exposure::new());
        assert_eq!(f.len(), 3);
        assert!(f.iter().all(|f| f.severity == Severity::High));
        let mut e = Exposure::new();
        e.insert((c.id.clone(), 8080, Protocol::Tcp), Reach::LocalOnly);
        e.insert((c.id.clone(), 8082, Protocol::Tcp), Reach::Public);
        let f = audit_container(&c, None, &e);
        let sev: Vec<_> = f.iter().map(|f| f.severity).collect();
        assert_eq!(sev, [Severity::Low, Severity::Medium, Severity::High]);
        assert!(
            f[0].evidence.contains("not reachable from outside"),
            "{}",
            f[0].evidence
        );
        // Kept local by the firewall, or public by policy: accepted, named.
        let why = |f: &Finding| f.suppressed.as_ref().map(|s| s.reason.clone());
        assert_eq!(
            why(&f[0]).as_deref(),
            Some("dockward firewall keeps it local only")
        );
        assert_eq!(
            why(&f[1]).as_deref(),
            Some("public by policy (the firewall policy file)")
        );
        assert_eq!(why(&f[2]), None);
        let mut labelled = c;
        labelled
            .labels
            .insert("dockward.expose".into(), "public".into());
        let f = audit_container(&labelled, None, &e);
        assert_eq!(
            why(&f[1]).as_deref(),
            Some("public by policy (label dockward.expose=public)")
        );
    }

    #[test]
    fn one_finding_per_port_naming_both_addresses() {
        let p = |ip: &str, port: u16| PublishedPort {
            host_ip: Some(ip.into()),
            host_port: Some(port),
            container_port: 80,
            host_port_end: None,
            protocol: Protocol::Tcp,
        };
        let c = Container {
            ports: vec![p("0.0.0.0", 8080), p("::", 8080), p("0.0.0.0", 8081)],
            ..base()
        };
        let f = audit_container(&c, None, &Exposure::new());
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(
            f[0].evidence
                .starts_with("0.0.0.0 and [::] port 8080 -> 80/tcp"),
            "{}",
            f[0].evidence
        );
        assert!(
            f[1].evidence.starts_with("0.0.0.0 port 8081"),
            "{}",
            f[1].evidence
        );
    }

    #[test]
    fn fixes_are_complete_or_say_what_to_recreate_from() {
        let c = Container {
            privileged: true,
            ..base()
        };
        let f = audit_container(&c, None, &Exposure::new());
        assert!(!f[0].remediation.contains('…'), "{}", f[0].remediation);
        assert!(
            f[0].remediation.contains("docker inspect app"),
            "{}",
            f[0].remediation
        );
        let mut c = c;
        c.compose = Some(dockward_model::Compose {
            project: "shop".into(),
            service: "web".into(),
        });
        let f = audit_container(&c, None, &Exposure::new());
        assert!(
            f[0].remediation.contains("docker compose up -d web"),
            "{}",
            f[0].remediation
        );
    }

    #[test]
    fn a_docker_run_container_gets_commands_with_the_one_change() {
        let opt = |f: &str, v: &str| dockward_model::RunOption {
            flag: f.into(),
            value: Some(v.into()),
        };
        let c = Container {
            mounts: vec![M {
                kind: "bind".into(),
                source: "/var/run/docker.sock".into(),
                destination: "/var/run/docker.sock".into(),
                read_only: true,
                propagation: String::new(),
            }],
            recreate: Recreate::Run(dockward_model::RunSpec {
                options: vec![
                    opt("--volume", "/var/run/docker.sock:/var/run/docker.sock:ro"),
                    opt("--restart", "always"),
                ],
                env: 1,
                image: "traefik:v3".into(),
                ..Default::default()
            }),
            ..base()
        };
        let f = audit_container(&c, None, &Exposure::new());
        let fix = &f[0].remediation;
        for want in [
            "docker network create dockward-api",
            "docker run -d --name docker-proxy",
            concat!("dockward-proxy:", env!("CARGO_PKG_VERSION")),
            "docker create --name app --env-file app.env --restart always --env DOCKER_HOST=tcp://docker-proxy:2375 traefik:v3",
            "docker network connect dockward-api app",
        ] {
            assert!(fix.contains(want), "{want:?} in {fix}");
        }
        assert!(
            !fix.contains("--volume /var/run/docker.sock:/var/run/docker.sock:ro traefik"),
            "{fix}"
        );
    }

    #[test]
    fn a_socket_proxy_is_not_told_to_put_a_proxy_in_front_of_itself() {
        let sock = M {
            kind: "bind".into(),
            source: "/var/run/docker.sock".into(),
            destination: "/var/run/docker.sock".into(),
            read_only: true,
            propagation: String::new(),
        };
        let with = |image: &str| Container {
            image: image.into(),
            mounts: vec![sock.clone()],
            ..base()
        };
        let own = audit_container(&with("dockward-proxy:0.1.0"), None, &Exposure::new());
        assert_eq!(own.len(), 1);
        let own2 = audit_container(&with("dockward/proxy:dev"), None, &Exposure::new());
        assert_eq!(
            own2[0].suppressed.as_ref().map(|s| s.kind.as_str()),
            Some("accepted")
        );
        assert_eq!(
            own[0].suppressed.as_ref().map(|s| s.kind.as_str()),
            Some("accepted")
        );
        for img in [
            "tecnativa/docker-socket-proxy:latest",
            "ghcr.io/tecnativa/docker-socket-proxy",
            "wollomatic/socket-proxy:1@sha256:ab",
        ] {
            let f = audit_container(&with(img), None, &Exposure::new());
            assert!(f[0].suppressed.is_none(), "{img}");
            assert!(
                f[0].remediation.contains("dockward-proxy in place of"),
                "{img}: {}",
                f[0].remediation
            );
            assert!(!f[0].remediation.contains("DOCKER_HOST"), "{img}");
        }
        let f = audit_container(&with("traefik:v3"), None, &Exposure::new());
        assert!(
            f[0].remediation
                .contains("DOCKER_HOST=tcp://docker-proxy:2375"),
            "{}",
            f[0].remediation
        );
    }
}
