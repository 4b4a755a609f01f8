//! Daemon front end: daemon settings -> findings.
//!
//! dockerd takes its settings from /etc/docker/daemon.json and from its
//! command line (systemd unit, `DOCKER_OPTS` in /etc/default/docker). Both are
//! parsed into one plain [`DaemonSettings`]; the CLI merges what it found and
//! calls [`audit_daemon`] once, so a TCP socket given only with `-H` is seen
//! (docker-bench-security misses it) and `tlsverify` counts from either place.
//! Every field is `Option`: "not set" is distinct from "set to the default",
//! and evidence says which.

use crate::rules::host::{
    DAEMON_AUFS, DAEMON_AUTHORIZATION, DAEMON_BASE_DEVICE_SIZE, DAEMON_CGROUP_PARENT,
    DAEMON_DEFAULT_BIND_ALL, DAEMON_EXPERIMENTAL, DAEMON_ICC, DAEMON_INSECURE_REGISTRY,
    DAEMON_IPTABLES_DISABLED, DAEMON_LIVE_RESTORE, DAEMON_LOG_LEVEL, DAEMON_NO_NEW_PRIVILEGES,
    DAEMON_REMOTE_LOGGING, DAEMON_TCP_WITHOUT_TLS, DAEMON_USERLAND_PROXY, DAEMON_USERNS_REMAP,
};
use crate::rules::Rule;
use crate::{Diagnostic, Finding, Location};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The daemon settings the audit looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonSettings {
    pub icc: Option<bool>,
    pub userns_remap: Option<String>,
    /// Default bind address of published ports (`ip`, `--ip`).
    pub ip: Option<String>,
    pub no_new_privileges: Option<bool>,
    pub live_restore: Option<bool>,
    /// Listening sockets (`hosts`, `-H`).
    pub hosts: Vec<String>,
    pub tlsverify: Option<bool>,
    /// `tlscacert`, `tlscert`, `tlskey`: where its TLS files are.
    pub tlscacert: Option<String>,
    pub tlscert: Option<String>,
    pub tlskey: Option<String>,
    pub iptables: Option<bool>,
    pub insecure_registries: Vec<String>,
    /// `log-level`, `-l`.
    pub log_level: Option<String>,
    /// `storage-driver`, `-s`, or the API's `Driver`.
    pub storage_driver: Option<String>,
    /// `storage-opts`, `--storage-opt`.
    pub storage_opts: Vec<String>,
    /// `cgroup-parent`.
    pub cgroup_parent: Option<String>,
    /// `authorization-plugins`, `--authorization-plugin`, or the API's
    /// `Plugins.Authorization`.
    pub authorization_plugins: Vec<String>,
    /// `log-driver`, or the API's `LoggingDriver`.
    pub log_driver: Option<String>,
    pub userland_proxy: Option<bool>,
    pub experimental: Option<bool>,
    /// The daemon is a Swarm node (from its API, not a setting): dockerd
    /// refuses to start with live-restore in swarm mode ("--live-restore
    /// daemon configuration is incompatible with swarm mode"), so it is
    /// neither asked for nor proposed there.
    #[serde(skip)]
    pub swarm: bool,
}

impl DaemonSettings {
    /// `self` overlaid with the settings `over` sets; lists are joined.
    #[must_use]
    pub fn merge(mut self, over: Self) -> Self {
        fn pick<T>(a: &mut Option<T>, b: Option<T>) {
            if b.is_some() {
                *a = b;
            }
        }
        pick(&mut self.icc, over.icc);
        pick(&mut self.userns_remap, over.userns_remap);
        pick(&mut self.ip, over.ip);
        pick(&mut self.no_new_privileges, over.no_new_privileges);
        pick(&mut self.live_restore, over.live_restore);
        pick(&mut self.tlsverify, over.tlsverify);
        pick(&mut self.iptables, over.iptables);
        pick(&mut self.log_level, over.log_level);
        pick(&mut self.tlscacert, over.tlscacert);
        pick(&mut self.tlscert, over.tlscert);
        pick(&mut self.tlskey, over.tlskey);
        pick(&mut self.storage_driver, over.storage_driver);
        pick(&mut self.cgroup_parent, over.cgroup_parent);
        pick(&mut self.log_driver, over.log_driver);
        pick(&mut self.userland_proxy, over.userland_proxy);
        pick(&mut self.experimental, over.experimental);
        self.swarm |= over.swarm;
        for (mine, theirs) in [
            (&mut self.storage_opts, over.storage_opts),
            (&mut self.authorization_plugins, over.authorization_plugins),
        ] {
            for v in theirs {
                if !mine.contains(&v) {
                    mine.push(v);
                }
            }
        }
        for h in over.hosts {
            if !self.hosts.contains(&h) {
                self.hosts.push(h);
            }
        }
        for r in over.insecure_registries {
            if !self.insecure_registries.contains(&r) {
                self.insecure_registries.push(r);
            }
        }
        self
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => parse_bool(s),
        _ => None,
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "t" | "true" => Some(true),
        "0" | "f" | "false" => Some(false),
        _ => None,
    }
}

fn as_strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Reads daemon.json. Invalid JSON, or a top level that is not an object,
/// gives a [`Diagnostic`] with line and column.
pub fn parse_daemon_json(path: &str, text: &str) -> Result<DaemonSettings, Diagnostic> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        let line = u32::try_from(e.line()).unwrap_or(u32::MAX);
        let col = u32::try_from(e.column()).unwrap_or(u32::MAX);
        let msg = match e.classify() {
            serde_json::error::Category::Eof => "unexpected end of file",
            serde_json::error::Category::Io => "could not read",
            _ => "invalid JSON",
        };
        Diagnostic::new(path, line, col, msg)
    })?;
    let Value::Object(m) = v else {
        return Err(Diagnostic::new(
            path,
            1,
            1,
            "daemon.json must be a JSON object",
        ));
    };
    let b = |k: &str| m.get(k).and_then(as_bool);
    let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(DaemonSettings {
        icc: b("icc"),
        userns_remap: s("userns-remap"),
        ip: s("ip"),
        no_new_privileges: b("no-new-privileges"),
        live_restore: b("live-restore"),
        hosts: m.get("hosts").map(as_strings).unwrap_or_default(),
        tlsverify: b("tlsverify"),
        iptables: b("iptables"),
        insecure_registries: m
            .get("insecure-registries")
            .map(as_strings)
            .unwrap_or_default(),
        log_level: s("log-level"),
        tlscacert: s("tlscacert"),
        tlscert: s("tlscert"),
        tlskey: s("tlskey"),
        storage_driver: s("storage-driver"),
        storage_opts: m.get("storage-opts").map(as_strings).unwrap_or_default(),
        cgroup_parent: s("cgroup-parent"),
        authorization_plugins: m
            .get("authorization-plugins")
            .map(as_strings)
            .unwrap_or_default(),
        log_driver: s("log-driver"),
        userland_proxy: b("userland-proxy"),
        experimental: b("experimental"),
        // A file cannot say; the host's audit learns it from the API.
        swarm: false,
    })
}

/// dockerd flags that take no value (`--flag` or `--flag=bool`).
const BOOL_FLAGS: &[&str] = &[
    "debug",
    "D",
    "experimental",
    "icc",
    "ip-forward",
    "ip-masq",
    "iptables",
    "ip6tables",
    "ipv6",
    "live-restore",
    "no-new-privileges",
    "selinux-enabled",
    "tls",
    "tlsverify",
    "userland-proxy",
    "init",
    "raw-logs",
    "validate",
    "version",
    "v",
    "help",
    "disable-legacy-registry",
    "rootless",
    "bridge-accept-fwmark",
];

/// Reads dockerd's command line (`argv`, with or without the program name).
/// Accepts `--flag=value`, `--flag value`, `-H value`, `-Hvalue` and bare
/// boolean flags; unknown flags are skipped with their value.
pub fn parse_dockerd_args<S: AsRef<str>>(args: &[S]) -> DaemonSettings {
    let mut s = DaemonSettings::default();
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let a = a.as_ref();
        i += 1;
        let (name, inline) = if let Some(long) = a.strip_prefix("--") {
            match long.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (long.to_string(), None),
            }
        } else if let Some(short) = a.strip_prefix('-') {
            let mut cs = short.chars();
            let Some(first) = cs.next() else { continue };
            let rest: String = cs.collect();
            let rest = rest.strip_prefix('=').map(str::to_string).unwrap_or(rest);
            (first.to_string(), (!rest.is_empty()).then_some(rest))
        } else {
            continue;
        };
        let boolean = BOOL_FLAGS.contains(&name.as_str());
        let value = match inline {
            Some(v) => v,
            None if boolean => "true".to_string(),
            None => match args.get(i) {
                Some(v) => {
                    i += 1;
                    v.as_ref().to_string()
                }
                None => String::new(),
            },
        };
        let flag = parse_bool(&value);
        match name.as_str() {
            "icc" => s.icc = flag,
            "userns-remap" => s.userns_remap = Some(value),
            "ip" => s.ip = Some(value),
            "no-new-privileges" => s.no_new_privileges = flag,
            "live-restore" => s.live_restore = flag,
            "H" | "host" => s.hosts.push(value),
            "tlsverify" => s.tlsverify = flag,
            "iptables" => s.iptables = flag,
            "insecure-registry" | "insecure-registries" => s.insecure_registries.push(value),
            "l" | "log-level" => s.log_level = Some(value),
            "tlscacert" => s.tlscacert = Some(value),
            "tlscert" => s.tlscert = Some(value),
            "tlskey" => s.tlskey = Some(value),
            "s" | "storage-driver" => s.storage_driver = Some(value),
            "storage-opt" => s.storage_opts.push(value),
            "cgroup-parent" => s.cgroup_parent = Some(value),
            "authorization-plugin" => s.authorization_plugins.push(value),
            "log-driver" => s.log_driver = Some(value),
            "userland-proxy" => s.userland_proxy = flag,
            "experimental" => s.experimental = flag,
            _ => {}
        }
    }
    s
}

/// Reads a `DOCKER_OPTS="…"` value (shell quoting allowed).
pub fn parse_docker_opts(opts: &str) -> DaemonSettings {
    let words: Vec<String> = crate::shell::simple_commands(opts, None)
        .into_iter()
        .flatten()
        .map(|w| w.text)
        .collect();
    parse_dockerd_args(&words)
}

/// A boolean setting as evidence: its value, or the default it falls to.
fn shown(v: &Option<bool>, default: &str) -> String {
    match v {
        Some(b) => format!("set to {b}"),
        None => format!("not set (default {default})"),
    }
}

fn finding(rule: &Rule, source: &str, evidence: String, fix: &str) -> Finding {
    rule.finding(
        Location::Daemon {
            source: source.to_string(),
        },
        evidence,
        fix,
    )
}

/// Audits merged daemon settings; `source` names where they were read
/// (`/etc/docker/daemon.json`, `dockerd command line`, …).
pub fn audit_daemon(s: &DaemonSettings, source: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    if s.icc != Some(false) {
        out.push(finding(
            &DAEMON_ICC,
            source,
            format!("icc {}", shown(&s.icc, "true")),
            "/etc/docker/daemon.json: { \"icc\": false }   (dockerd flag: --icc=false)",
        ));
    }
    if s.userns_remap
        .as_deref()
        .is_none_or(|u| u.trim().is_empty())
    {
        out.push(finding(
            &DAEMON_USERNS_REMAP,
            source,
            "userns-remap not set".to_string(),
            "/etc/docker/daemon.json: { \"userns-remap\": \"default\" }   (dockerd flag: --userns-remap=default)",
        ));
    }
    match s.ip.as_deref().map(str::trim) {
        None | Some("" | "0.0.0.0" | "::" | "[::]") => out.push(finding(
            &DAEMON_DEFAULT_BIND_ALL,
            source,
            match &s.ip {
                Some(ip) => format!("ip set to {ip}"),
                None => "ip not set (default 0.0.0.0)".to_string(),
            },
            "/etc/docker/daemon.json: { \"ip\": \"127.0.0.1\" }   (dockerd flag: --ip=127.0.0.1)",
        )),
        Some(_) => {}
    }
    if s.no_new_privileges != Some(true) {
        out.push(finding(
            &DAEMON_NO_NEW_PRIVILEGES,
            source,
            format!("no-new-privileges {}", shown(&s.no_new_privileges, "false")),
            "/etc/docker/daemon.json: { \"no-new-privileges\": true }   (dockerd flag: --no-new-privileges)",
        ));
    }
    if s.live_restore != Some(true) && !s.swarm {
        out.push(finding(
            &DAEMON_LIVE_RESTORE,
            source,
            format!("live-restore {}", shown(&s.live_restore, "false")),
            "/etc/docker/daemon.json: { \"live-restore\": true }   (dockerd flag: --live-restore)",
        ));
    }
    let tcp: Vec<&str> = s
        .hosts
        .iter()
        .map(String::as_str)
        .filter(|h| h.trim().to_ascii_lowercase().starts_with("tcp://"))
        .collect();
    if !tcp.is_empty() && s.tlsverify != Some(true) {
        out.push(finding(
            &DAEMON_TCP_WITHOUT_TLS,
            source,
            format!("listening on {} with tlsverify {}", tcp.join(", "), shown(&s.tlsverify, "false")),
            "/etc/docker/daemon.json: { \"tlsverify\": true, \"tlscacert\": \"/etc/docker/ca.pem\", \"tlscert\": \"/etc/docker/server-cert.pem\", \"tlskey\": \"/etc/docker/server-key.pem\", \"hosts\": [\"unix:///var/run/docker.sock\", \"tcp://0.0.0.0:2376\"] }   (or drop the tcp:// host)",
        ));
    }
    if s.iptables == Some(false) {
        out.push(finding(
            &DAEMON_IPTABLES_DISABLED,
            source,
            "iptables set to false".to_string(),
            "remove \"iptables\": false from /etc/docker/daemon.json (and --iptables=false from the dockerd command line)",
        ));
    }
    configuration(s, source, &mut out);
    if !s.insecure_registries.is_empty() {
        out.push(finding(
            &DAEMON_INSECURE_REGISTRY,
            source,
            format!("insecure-registries: {}", s.insecure_registries.join(", ")),
            "remove \"insecure-registries\" from /etc/docker/daemon.json (and --insecure-registry flags); install the registry's CA at /etc/docker/certs.d/<registry>/ca.crt",
        ));
    }
    out
}

/// The rest of CIS section 2, in docker-bench-security's numbering.
fn configuration(s: &DaemonSettings, source: &str, out: &mut Vec<Finding>) {
    if let Some(level) = s
        .log_level
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.eq_ignore_ascii_case("info"))
    {
        out.push(finding(
            &DAEMON_LOG_LEVEL,
            source,
            format!("log-level set to {level}"),
            "/etc/docker/daemon.json: { \"log-level\": \"info\" }   (or remove --log-level from the dockerd command line)",
        ));
    }
    if s.storage_driver.as_deref() == Some("aufs") {
        out.push(finding(
            &DAEMON_AUFS,
            source,
            "storage driver aufs".to_string(),
            "/etc/docker/daemon.json: { \"storage-driver\": \"overlay2\" }   (images and containers must be re-created under the new driver)",
        ));
    }
    if let Some(parent) = s.cgroup_parent.as_deref().filter(|p| !p.trim().is_empty()) {
        out.push(finding(
            &DAEMON_CGROUP_PARENT,
            source,
            format!("cgroup-parent set to {parent}"),
            "confirm the cgroup has the limits intended; else remove \"cgroup-parent\" from /etc/docker/daemon.json (and --cgroup-parent)",
        ));
    }
    if let Some(o) = s
        .storage_opts
        .iter()
        .find(|o| o.trim().to_ascii_lowercase().starts_with("dm.basesize"))
    {
        out.push(finding(
            &DAEMON_BASE_DEVICE_SIZE,
            source,
            format!("storage-opt {o}"),
            "remove dm.basesize from \"storage-opts\" in /etc/docker/daemon.json (and --storage-opt) unless the images need it",
        ));
    }
    if s.authorization_plugins.is_empty() {
        out.push(finding(
            &DAEMON_AUTHORIZATION,
            source,
            "no authorization plugin: every client of the socket may do everything".to_string(),
            "give clients that need the API a filtering proxy instead of the socket: `dockward proxy` (docs/proxy.md); or configure an authorization plugin (\"authorization-plugins\" in /etc/docker/daemon.json)",
        ));
    }
    match s.log_driver.as_deref().map(str::trim) {
        None | Some("" | "json-file" | "local" | "none") => out.push(finding(
            &DAEMON_REMOTE_LOGGING,
            source,
            match &s.log_driver {
                Some(d) => format!("log-driver {d}: logs stay on this host"),
                None => "log-driver not set (default json-file): logs stay on this host".to_string(),
            },
            "/etc/docker/daemon.json: { \"log-driver\": \"syslog\", \"log-opts\": { \"syslog-address\": \"udp://<log host>:514\" } }   (or journald, fluentd, gelf…)",
        )),
        Some(_) => {}
    }
    if s.userland_proxy != Some(false) {
        out.push(finding(
            &DAEMON_USERLAND_PROXY,
            source,
            format!("userland-proxy {}", shown(&s.userland_proxy, "true")),
            "/etc/docker/daemon.json: { \"userland-proxy\": false }   (restart dockerd; hairpin NAT then carries host-to-published-port traffic, and IPv6 clients of an IPv4-only container are no longer proxied)",
        ));
    }
    if s.experimental == Some(true) {
        out.push(finding(
            &DAEMON_EXPERIMENTAL,
            source,
            "experimental features on".to_string(),
            "remove \"experimental\": true from /etc/docker/daemon.json (and --experimental)",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(f: &[Finding]) -> Vec<&str> {
        let mut v: Vec<&str> = f.iter().map(|f| f.rule.as_str()).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn hardened_json_has_no_findings() {
        let s = parse_daemon_json(
            "daemon.json",
            r#"{"icc": false, "userns-remap": "default", "ip": "127.0.0.1", "no-new-privileges": true,
               "live-restore": true, "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"], "tlsverify": true,
               "userland-proxy": false, "log-driver": "syslog", "authorization-plugins": ["authz-broker"]}"#,
        )
        .unwrap();
        assert!(audit_daemon(&s, "daemon.json").is_empty());
    }

    #[test]
    fn empty_json_reports_the_defaults() {
        let s = parse_daemon_json("daemon.json", "{}").unwrap();
        assert_eq!(
            ids(&audit_daemon(&s, "daemon.json")),
            [
                "daemon-authorization",
                "daemon-default-bind-all",
                "daemon-icc",
                "daemon-live-restore",
                "daemon-no-new-privileges",
                "daemon-remote-logging",
                "daemon-userland-proxy",
                "daemon-userns-remap"
            ]
        );
    }

    #[test]
    fn the_rest_of_section_2_from_file_flags_and_api() {
        let s = parse_daemon_json(
            "daemon.json",
            r#"{"log-level": "debug", "storage-driver": "aufs", "cgroup-parent": "/big", "storage-opts": ["dm.basesize=50G"], "experimental": true}"#,
        )
        .unwrap();
        let f = audit_daemon(&s, "daemon.json");
        let found = ids(&f);
        for want in [
            "daemon-log-level",
            "daemon-aufs",
            "daemon-cgroup-parent",
            "daemon-base-device-size",
            "daemon-experimental",
        ] {
            assert!(found.contains(&want), "{want}: {found:?}");
        }
        let flags = parse_dockerd_args(&[
            "-l",
            "info",
            "--log-driver=journald",
            "--authorization-plugin",
            "opa",
            "--userland-proxy=false",
        ]);
        let f = audit_daemon(&flags, "dockerd command line");
        let found = ids(&f);
        for gone in [
            "daemon-log-level",
            "daemon-remote-logging",
            "daemon-authorization",
            "daemon-userland-proxy",
        ] {
            assert!(!found.contains(&gone), "{gone}: {found:?}");
        }
        // The API's answer wins over the files (what runs is what counts).
        let api = DaemonSettings {
            log_driver: Some("json-file".into()),
            ..DaemonSettings::default()
        };
        let merged = flags.merge(api);
        assert!(ids(&audit_daemon(&merged, "x")).contains(&"daemon-remote-logging"));
    }

    #[test]
    fn command_line_flags() {
        let s = parse_dockerd_args(&[
            "/usr/bin/dockerd",
            "--icc=false",
            "--userns-remap=default",
            "-H",
            "tcp://0.0.0.0:2375",
            "-Hunix:///run/d.sock",
            "--ip",
            "127.0.0.1",
            "--live-restore",
            "--no-new-privileges",
            "--iptables=false",
            "--insecure-registry",
            "reg:5000",
            "--containerd",
            "/run/containerd.sock",
        ]);
        assert_eq!(s.icc, Some(false));
        assert_eq!(s.userns_remap.as_deref(), Some("default"));
        assert_eq!(s.hosts, ["tcp://0.0.0.0:2375", "unix:///run/d.sock"]);
        assert_eq!(s.ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(
            (s.live_restore, s.no_new_privileges, s.iptables),
            (Some(true), Some(true), Some(false))
        );
        assert_eq!(s.insecure_registries, ["reg:5000"]);
        assert_eq!(
            ids(&audit_daemon(&s, "dockerd command line")),
            [
                "daemon-authorization",
                "daemon-insecure-registry",
                "daemon-iptables-disabled",
                "daemon-remote-logging",
                "daemon-tcp-without-tls",
                "daemon-userland-proxy"
            ]
        );
        let with_tls = s.merge(parse_dockerd_args(&["--tlsverify"]));
        assert!(!ids(&audit_daemon(&with_tls, "x")).contains(&"daemon-tcp-without-tls"));
    }

    #[test]
    fn docker_opts_and_merge() {
        let s = parse_docker_opts("-H tcp://0.0.0.0:2375 --icc=false --ip \"0.0.0.0\"");
        assert_eq!(s.hosts, ["tcp://0.0.0.0:2375"]);
        let file = parse_daemon_json("d.json", r#"{"tlsverify": "true", "icc": true}"#).unwrap();
        let merged = file.merge(s);
        assert_eq!((merged.icc, merged.tlsverify), (Some(false), Some(true)));
    }

    #[test]
    fn bad_json_is_a_diagnostic() {
        let e = parse_daemon_json("daemon.json", "{\n  \"icc\": fals\n}").unwrap_err();
        // serde_json reports the byte after the bad token: the newline ends line 2.
        assert!((2..=3).contains(&e.line), "line {}", e.line);
        assert!(parse_daemon_json("daemon.json", "[1]").is_err());
    }
}
