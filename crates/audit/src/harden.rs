//! `dockward harden daemon`: `(daemon.json, dockerd flags) -> plan`.
//!
//! The plan is the daemon.json that fixes the daemon findings, with the
//! consequence of each change spelled out, and what cannot be changed in
//! the file said instead of done:
//!
//! - dockerd refuses to start when a setting is both a flag and a
//!   daemon.json key ("the following directives are specified both as a
//!   flag and in the configuration file"), so a setting already on the
//!   command line is left to the operator, with the flag to remove;
//! - dockerd refuses `icc: false` together with `iptables: false`, so icc
//!   is only turned off when iptables is (or becomes) on;
//! - TLS needs certificates and a registry's CA only its owner has: those
//!   stay manual.
//!
//! Key order and every key dockward does not touch are kept, so the diff
//! shows only what changes.

use crate::daemon::DaemonSettings;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// A JSON object that keeps its keys in file order (serde_json's own map
/// sorts them unless the whole workspace opts into `preserve_order`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object(pub Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Object;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Object, A::Error> {
                let mut v: Vec<(String, Value)> = Vec::new();
                while let Some((k, val)) = m.next_entry::<String, Value>()? {
                    // Last duplicate wins, as in dockerd's decoder.
                    v.retain(|(x, _)| x != &k);
                    v.push((k, val));
                }
                Ok(Object(v))
            }
        }
        d.deserialize_map(V)
    }
}

impl Object {
    pub fn get(&self, k: &str) -> Option<&Value> {
        self.0.iter().find(|(x, _)| x == k).map(|(_, v)| v)
    }

    fn set(&mut self, k: &str, v: Value) {
        match self.0.iter_mut().find(|(x, _)| x == k) {
            Some(e) => e.1 = v,
            None => self.0.push((k.to_string(), v)),
        }
    }

    fn remove(&mut self, k: &str) {
        self.0.retain(|(x, _)| x != k);
    }

    /// Pretty JSON, two-space indent, keys in order, newline at the end.
    pub fn to_pretty(&self) -> String {
        if self.0.is_empty() {
            return "{}\n".to_string();
        }
        let mut s = String::from("{\n");
        for (i, (k, v)) in self.0.iter().enumerate() {
            let val = serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".into());
            let val = val.replace('\n', "\n  ");
            let key = serde_json::to_string(k).unwrap_or_default();
            s.push_str(&format!("  {key}: {val}"));
            s.push_str(if i + 1 < self.0.len() { ",\n" } else { "\n" });
        }
        s.push_str("}\n");
        s
    }
}

/// Parses daemon.json text; the error names the file and position.
pub fn parse_object(path: &str, text: &str) -> Result<Object, String> {
    if text.trim().is_empty() {
        return Ok(Object::default());
    }
    serde_json::from_str::<Object>(text).map_err(|e| {
        format!(
            "{path}:{}:{}: {e}; fix the JSON first (dockward writes nothing to an invalid file)",
            e.line(),
            e.column()
        )
    })
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// The daemon.json key.
    pub key: String,
    /// The audit rule it fixes.
    pub rule: String,
    /// `set` or `remove`.
    pub action: String,
    /// What happens once dockerd restarts with it.
    pub consequence: String,
    /// The value written; `None` for `remove`.
    pub value: Option<Value>,
}

/// `--only` and `--skip`: daemon.json keys or audit rule ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub only: Vec<String>,
    pub skip: Vec<String>,
}

/// Every change `plan` can propose, as (key, rule).
const CHANGES: [(&str, &str); 6] = [
    ("iptables", "daemon-iptables-disabled"),
    ("icc", "daemon-icc"),
    ("userns-remap", "daemon-userns-remap"),
    ("ip", "daemon-default-bind-all"),
    ("no-new-privileges", "daemon-no-new-privileges"),
    ("live-restore", "daemon-live-restore"),
];

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Plan {
    #[serde(skip)]
    pub before: Object,
    #[serde(skip)]
    pub after: Object,
    pub changes: Vec<Change>,
    /// Fixes that cannot be made in the file, one sentence each.
    pub manual: Vec<String>,
    /// Changes proposed but left out by `--only`/`--skip`.
    pub skipped: Vec<Change>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The plan with only the changes `sel` keeps, `after` rebuilt from
    /// `before`. An id that names no change dockward can make is an error
    /// (a typo must not pass as "skipped"); one that names a change not
    /// proposed here is not. icc=false kept without the iptables change it
    /// needs is refused: dockerd would not start.
    pub fn select(self, sel: &Selection) -> Result<Self, String> {
        for (flag, ids) in [("--only", &sel.only), ("--skip", &sel.skip)] {
            for id in ids {
                if !CHANGES.iter().any(|(k, r)| id == k || id == r) {
                    let known: Vec<&str> = CHANGES.iter().map(|(k, _)| *k).collect();
                    return Err(format!(
                        "{flag} {id}: no such change; give a daemon.json key ({}) or its audit rule id",
                        known.join(", ")
                    ));
                }
            }
        }
        let named = |ids: &[String], c: &Change| ids.iter().any(|i| *i == c.key || *i == c.rule);
        let (kept, skipped): (Vec<Change>, Vec<Change>) = self
            .changes
            .into_iter()
            .partition(|c| (sel.only.is_empty() || named(&sel.only, c)) && !named(&sel.skip, c));
        let icc = kept.iter().any(|c| c.key == "icc");
        if icc && skipped.iter().any(|c| c.key == "iptables") {
            return Err("icc: dockerd refuses icc=false while iptables is off; keep the iptables change too, or skip icc".into());
        }
        let mut after = self.before.clone();
        for c in &kept {
            match &c.value {
                Some(v) => after.set(&c.key, v.clone()),
                None => after.remove(&c.key),
            }
        }
        Ok(Self {
            before: self.before,
            after,
            changes: kept,
            manual: self.manual,
            skipped,
        })
    }
}

fn flag_note(key: &str, flag: &str, want: &str) -> String {
    format!(
        "{key}: dockerd is started with {flag}; remove that flag from its command line (systemd unit or DOCKER_OPTS) and set \"{key}\": {want} in daemon.json — dockerd refuses a setting given both ways"
    )
}

fn truthy(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The plan for this daemon.json, given the flags dockerd runs with.
pub fn plan(before: &Object, flags: &DaemonSettings) -> Plan {
    let mut after = before.clone();
    let mut changes = Vec::new();
    let mut manual = Vec::new();
    let mut change =
        |after: &mut Object, key: &str, rule: &str, v: Option<Value>, consequence: &str| {
            match &v {
                Some(v) => after.set(key, v.clone()),
                None => after.remove(key),
            }
            changes.push(Change {
                key: key.to_string(),
                rule: rule.to_string(),
                action: if v.is_some() { "set" } else { "remove" }.to_string(),
                consequence: consequence.to_string(),
                value: v,
            });
        };

    // iptables first: icc=false depends on it.
    let iptables_off =
        flags.iptables == Some(false) || truthy(before.get("iptables")) == Some(false);
    let mut iptables_on_after = !iptables_off;
    if flags.iptables == Some(false) {
        manual.push(flag_note("iptables", "--iptables=false", "true"));
    } else if truthy(before.get("iptables")) == Some(false) {
        change(
            &mut after,
            "iptables",
            "daemon-iptables-disabled",
            None,
            "dockerd manages iptables again: published ports work without hand-made rules, and `dockward firewall` can close them to the outside",
        );
        iptables_on_after = true;
    }
    if flags.icc.or(truthy(before.get("icc"))) != Some(false) {
        if flags.icc.is_some() {
            manual.push(flag_note("icc", "--icc", "false"));
        } else if !iptables_on_after {
            manual.push(
                "icc: dockerd refuses icc=false while iptables is off; turn iptables on first"
                    .to_string(),
            );
        } else {
            change(
                &mut after,
                "icc",
                "daemon-icc",
                Some(Value::Bool(false)),
                "containers on the default bridge no longer reach each other; put containers that must talk on a user-defined network, or allow them with `dockward firewall` (label dockward.allow-from)",
            );
        }
    }
    let remap = flags
        .userns_remap
        .clone()
        .or_else(|| {
            before
                .get("userns-remap")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default();
    if remap.trim().is_empty() {
        if flags.userns_remap.is_some() {
            manual.push(flag_note("userns-remap", "--userns-remap", "\"default\""));
        } else {
            change(
                &mut after,
                "userns-remap",
                "daemon-userns-remap",
                Some(Value::String("default".into())),
                "root in a container maps to an unprivileged host uid. Existing images, containers and volumes are hidden until it is turned off again (dockerd keeps a separate data directory per remapping): pull or rebuild images and recreate containers; bind-mounted host files need the remapped owner (see /etc/subuid for dockremap). Containers using --privileged or --userns=host must opt out with --userns=host",
            );
        }
    }
    let ip = flags
        .ip
        .clone()
        .or_else(|| before.get("ip").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    if matches!(ip.trim(), "" | "0.0.0.0" | "::" | "[::]") {
        if flags.ip.is_some() {
            manual.push(flag_note("ip", "--ip", "\"127.0.0.1\""));
        } else {
            change(
                &mut after,
                "ip",
                "daemon-default-bind-all",
                Some(Value::String("127.0.0.1".into())),
                "a port published without an address (-p 8080:80) binds to 127.0.0.1 only; publish with an explicit address (-p 0.0.0.0:8080:80) what must be reachable from outside. Running containers keep their bindings until recreated",
            );
        }
    }
    // Each a boolean the daemon should have at `want`.
    for (key, rule, consequence, flag, want) in [
        (
            "no-new-privileges",
            "daemon-no-new-privileges",
            "setuid and file-capability binaries (sudo, su, some ping builds) no longer gain privileges inside containers; images that rely on them must run as the needed user instead",
            flags.no_new_privileges,
            true,
        ),
        (
            "live-restore",
            "daemon-live-restore",
            "containers keep running while dockerd restarts or upgrades; not compatible with swarm mode",
            flags.live_restore,
            true,
        ),
        (
            "userland-proxy",
            "daemon-userland-proxy",
            "no docker-proxy process per published port: the kernel's NAT carries all of it, including traffic from the host to its own published ports (hairpin); an IPv4-only container is then no longer reachable over IPv6 through the proxy",
            flags.userland_proxy,
            false,
        ),
    ] {
        // dockerd would not start: live-restore is refused in swarm mode.
        if key == "live-restore" && flags.swarm {
            continue;
        }
        if flag.or(truthy(before.get(key))) != Some(want) {
            if flag.is_some() {
                manual.push(flag_note(key, &format!("--{key}"), &want.to_string()));
            } else {
                change(&mut after, key, rule, Some(Value::Bool(want)), consequence);
            }
        }
    }
    let mut hosts: Vec<String> = flags.hosts.clone();
    if let Some(Value::Array(a)) = before.get("hosts") {
        hosts.extend(a.iter().filter_map(Value::as_str).map(str::to_string));
    }
    let tcp: Vec<&String> = hosts
        .iter()
        .filter(|h| h.trim().to_ascii_lowercase().starts_with("tcp://"))
        .collect();
    let tls = flags.tlsverify == Some(true) || truthy(before.get("tlsverify")) == Some(true);
    if !tcp.is_empty() && !tls {
        manual.push(format!(
            "tlsverify: dockerd listens on {} without client certificates; create a CA and server certificate (docs.docker.com/engine/security/protect-access/), then set \"tlsverify\": true, \"tlscacert\", \"tlscert\" and \"tlskey\" — or drop the tcp:// host",
            tcp.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    let insecure = before
        .get("insecure-registries")
        .is_some_and(|v| v.as_array().is_some_and(|a| !a.is_empty()))
        || !flags.insecure_registries.is_empty();
    if insecure {
        manual.push("insecure-registries: install each registry's CA at /etc/docker/certs.d/<registry>/ca.crt, then remove it from insecure-registries".to_string());
    }
    Plan {
        before: before.clone(),
        after,
        changes,
        manual,
        skipped: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::{audit_daemon, parse_daemon_json, parse_dockerd_args};

    fn keys(p: &Plan) -> Vec<&str> {
        p.changes.iter().map(|c| c.key.as_str()).collect()
    }

    #[test]
    fn empty_file_gets_every_fix_and_then_audits_clean() {
        let before = parse_object("d.json", "").unwrap();
        let p = plan(&before, &DaemonSettings::default());
        assert_eq!(
            keys(&p),
            [
                "icc",
                "userns-remap",
                "ip",
                "no-new-privileges",
                "live-restore",
                "userland-proxy"
            ]
        );
        let after = parse_daemon_json("d.json", &p.after.to_pretty()).unwrap();
        assert!(fixable(&after).is_empty(), "{:?}", fixable(&after));
        assert!(p.manual.is_empty());
    }

    /// What the daemon audit still finds that a daemon.json edit can fix:
    /// not an authorization plugin or a remote log destination, which
    /// need a decision only the operator can make.
    fn fixable(s: &DaemonSettings) -> Vec<String> {
        audit_daemon(s, "d.json")
            .into_iter()
            .map(|f| f.rule)
            .filter(|r| r != "daemon-authorization" && r != "daemon-remote-logging")
            .collect()
    }

    #[test]
    fn only_and_skip_pick_changes_by_key_or_rule() {
        let before = parse_object("d.json", r#"{"iptables": false, "debug": true}"#).unwrap();
        let sel = |only: &[&str], skip: &[&str]| Selection {
            only: only.iter().map(|s| s.to_string()).collect(),
            skip: skip.iter().map(|s| s.to_string()).collect(),
        };
        let p = plan(&before, &DaemonSettings::default());
        let q = p
            .clone()
            .select(&sel(&[], &["userns-remap", "daemon-default-bind-all"]))
            .unwrap();
        assert_eq!(
            keys(&q),
            [
                "iptables",
                "icc",
                "no-new-privileges",
                "live-restore",
                "userland-proxy"
            ]
        );
        let skipped: Vec<&str> = q.skipped.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(skipped, ["userns-remap", "ip"]);
        assert_eq!(q.after.get("userns-remap"), None);
        assert_eq!(q.after.get("iptables"), None, "removed");
        assert_eq!(q.after.get("debug"), Some(&Value::Bool(true)), "untouched");
        let q = p.clone().select(&sel(&["ip"], &[])).unwrap();
        assert_eq!(keys(&q), ["ip"]);
        assert_eq!(
            q.after.get("iptables"),
            Some(&Value::Bool(false)),
            "left alone"
        );
        // A typo is an error; a change not proposed here is not.
        let e = p.clone().select(&sel(&["userns"], &[])).unwrap_err();
        assert!(e.contains("--only userns: no such change"), "{e}");
        assert!(p.clone().select(&sel(&[], &["tlsverify"])).is_err());
        let done = plan(
            &parse_object("d.json", r#"{"ip": "127.0.0.1"}"#).unwrap(),
            &DaemonSettings::default(),
        );
        assert!(done.select(&sel(&[], &["ip"])).is_ok());
        // icc=false without iptables back on: dockerd would not start.
        let e = p.select(&sel(&["icc"], &[])).unwrap_err();
        assert!(e.contains("keep the iptables change too"), "{e}");
    }

    #[test]
    fn keeps_order_and_unrelated_keys() {
        let before = parse_object(
            "d.json",
            r#"{"log-driver": "journald", "icc": true, "data-root": "/srv/docker"}"#,
        )
        .unwrap();
        let p = plan(&before, &DaemonSettings::default());
        let text = p.after.to_pretty();
        let order: Vec<&str> = p.after.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            order,
            [
                "log-driver",
                "icc",
                "data-root",
                "userns-remap",
                "ip",
                "no-new-privileges",
                "live-restore",
                "userland-proxy"
            ]
        );
        assert!(text.contains("\"icc\": false"), "{text}");
        assert!(
            text.starts_with("{\n  \"log-driver\": \"journald\",\n"),
            "{text}"
        );
    }

    #[test]
    fn flags_and_iptables_constraints() {
        let before = parse_object("d.json", r#"{"iptables": false}"#).unwrap();
        let p = plan(&before, &DaemonSettings::default());
        assert!(keys(&p).contains(&"iptables") && keys(&p).contains(&"icc"));
        assert!(p.after.get("iptables").is_none());
        // On the command line: left to the operator, never duplicated.
        let flags = parse_dockerd_args(&[
            "--iptables=false",
            "--live-restore",
            "--ip=0.0.0.0",
            "-H",
            "tcp://0.0.0.0:2375",
        ]);
        let p = plan(&parse_object("d.json", "{}").unwrap(), &flags);
        assert_eq!(
            keys(&p),
            ["userns-remap", "no-new-privileges", "userland-proxy"]
        );
        assert!(
            !p.manual.iter().any(|m| m.starts_with("live-restore")),
            "the flag already turns it on"
        );
        assert!(p
            .manual
            .iter()
            .any(|m| m.starts_with("ip: dockerd is started with --ip")));
        assert!(p
            .manual
            .iter()
            .any(|m| m.starts_with("iptables: dockerd is started with --iptables=false")));
        assert!(p
            .manual
            .iter()
            .any(|m| m.starts_with("icc: dockerd refuses")));
        assert!(p.manual.iter().any(|m| m.starts_with("tlsverify:")));
    }

    #[test]
    fn invalid_json_names_the_place() {
        let e = parse_object("/etc/docker/daemon.json", "{\"icc\": fals}").unwrap_err();
        assert!(e.starts_with("/etc/docker/daemon.json:1:"), "{e}");
        assert!(parse_object("d.json", "[1]").is_err());
        assert_eq!(
            parse_object("d.json", "{\"a\":1,\"a\":2}").unwrap().0.len(),
            1
        );
    }

    #[test]
    fn a_swarm_node_is_never_given_live_restore() {
        // dockerd refuses to start with it in swarm mode.
        let before = parse_object("d.json", "").unwrap();
        let swarm = DaemonSettings {
            swarm: true,
            ..DaemonSettings::default()
        };
        let p = plan(&before, &swarm);
        assert!(!keys(&p).contains(&"live-restore"), "{:?}", keys(&p));
        let mut after = parse_daemon_json("d.json", &p.after.to_pretty()).unwrap();
        after.swarm = true;
        assert!(fixable(&after).is_empty());
        after.swarm = false;
        assert_eq!(fixable(&after), ["daemon-live-restore"]);
    }
}
