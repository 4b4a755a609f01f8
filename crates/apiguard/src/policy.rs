//! `(policy, request) -> decision`, in two steps because a body arrives
//! after its head: [`Policy::decide_head`] on method and target,
//! [`Policy::decide_body`] on the buffered body of the endpoints whose
//! body can give power over the host.
//!
//! The policy is built from tecnativa/docker-socket-proxy's environment
//! ([`Policy::from_env`]): one variable per section (`CONTAINERS=1`…;
//! `EVENTS`, `PING`, `VERSION` on by default), `POST` for every method but
//! GET and HEAD, `ALLOW_START`, `ALLOW_STOP`, `ALLOW_RESTARTS` (stop,
//! restart, kill), `ALLOW_PAUSE`, `ALLOW_UNPAUSE`, which — as in
//! linuxserver/docker-socket-proxy — work without `POST=1`, and
//! linuxserver's `ALLOW_ARCHIVE`, `ALLOW_CHANGES`, `ALLOW_EXPORT`,
//! `ALLOW_LOGS`, `ALLOW_TOP` (on unless set to 0) inside CONTAINERS.
//!
//! Deliberate differences, each a hole of the original (ANCHORS §1):
//! - with `POST=0` nothing can write or execute: the attach websocket
//!   (`GET /containers/{id}/attach/ws`, stdin of the container) is refused;
//! - exec creation needs `EXEC=1` (tecnativa let CONTAINERS=1 POST=1 do it);
//! - even with `POST=1`, anything that gives power over the host is
//!   refused unless its check is named in `ALLOW_HOST_POWER`: bodies and
//!   queries by allow-list ([`crate::power`]), bind sources only under
//!   `ALLOW_BIND_MOUNTS`, and entering, writing or reading a container
//!   that holds power the client may not have;
//! - reading containers' files (`archive`, `export`) is off unless
//!   `ALLOW_ARCHIVE=1` / `ALLOW_EXPORT=1` (tecnativa's `CONTAINERS=1` gave
//!   every client every container's filesystem);
//! - API versions below 1.24 are refused (`DOCKWARD_MIN_API_VERSION`);
//! - paths are matched exactly, once decoded, case-sensitively.

use crate::action::Action;
use crate::gojson;
use crate::path::{normalize, Target, Version};
use crate::power::container::Judged;
use crate::power::{binds::HostFs, check, checks_body, head_check, judges_target, Check, Env};
use crate::route::{classify, Route, Section};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `environment`, or the policy file's `name`.
    pub name: String,
    /// From a policy file: exactly the actions allowed (sections, POST and
    /// the toggles are then unused).
    pub actions: Option<BTreeSet<Action>>,
    pub sections: BTreeSet<Section>,
    pub post: bool,
    /// Actions allowed whatever POST says (ALLOW_START, …).
    pub toggled: BTreeMap<Action, &'static str>,
    /// Actions refused even when their section is on (ALLOW_LOGS=0, …).
    pub denied: BTreeMap<Action, &'static str>,
    /// Host-power checks the operator allowed.
    pub allow_power: BTreeSet<Check>,
    /// Directories whose contents may be bind-mounted (`ALLOW_BIND_MOUNTS`).
    pub bind_mounts: Vec<String>,
    pub min_api: Version,
    /// Largest body buffered for checking; above it, 413.
    pub max_body: usize,
    /// Containers this client may see, and whether `Config.Env` is hidden.
    pub visibility: Option<crate::visibility::Visibility>,
}

/// A refusal: HTTP status, the rule that refused, how to allow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deny {
    pub status: u16,
    pub rule: String,
    pub hint: String,
}

impl Deny {
    fn new(status: u16, rule: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            status,
            rule: rule.into(),
            hint: hint.into(),
        }
    }

    /// The short text body of the answer. A 403 begins with `Forbidden:`,
    /// the word scripts written for tecnativa's HAProxy look for.
    pub fn body(&self) -> String {
        let lead = match self.status {
            403 => "Forbidden: ",
            413 => "Payload too large: ",
            503 => "Service unavailable: ",
            // As dockerd answers for a container that does not exist.
            404 => return format!("{}\n", self.hint),
            _ => "Bad request: ",
        };
        format!(
            "{lead}dockward proxy: denied by {}. {}\n",
            self.rule, self.hint
        )
    }
}

/// The head was allowed: what it is, and by which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    pub target: Target,
    pub route: Route,
    pub rule: String,
    /// The body must be buffered and passed to [`Policy::decide_body`].
    pub check_body: bool,
    /// The container (or exec instance) the request enters, writes or
    /// reads: look it up and pass it to [`Policy::judge_container`].
    pub subject: Option<Subject>,
    /// The answer carries the swarm's join tokens, which this client may
    /// not have: pass it through [`crate::power::blank_join_tokens`].
    pub blank_join_tokens: bool,
}

/// What a request acts on, to be looked up before it is forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A container the request enters, writes or reads: it must be
    /// visible and hold no power the client may not have.
    Enters(String),
    /// A container the request acts on under a policy that hides
    /// containers: it must be visible.
    Visible(String),
    /// An exec instance: its container is judged as entered.
    Exec(String),
}

impl Subject {
    /// Whether the container's power counts, not only its visibility.
    pub fn enters(&self) -> bool {
        !matches!(self, Self::Visible(_))
    }
}

/// A body that passed: the canonical bytes to forward (`None`: the empty
/// body) and the containers it names, each to be judged with
/// [`Policy::judge_container`] before it is forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub value: Option<gojson::Value>,
    pub refs: Vec<crate::power::Reference>,
}

fn flag(env: &BTreeMap<String, String>, name: &str) -> Result<Option<bool>, String> {
    match env.get(name).map(|v| v.trim()) {
        None | Some("") => Ok(None),
        Some("1" | "true" | "TRUE" | "True" | "yes" | "on") => Ok(Some(true)),
        Some("0" | "false" | "FALSE" | "False" | "no" | "off") => Ok(Some(false)),
        Some(v) => Err(format!("{name}={v:?} is not 0 or 1")),
    }
}

impl Policy {
    /// The policy tecnativa's environment describes; unknown values are a
    /// one-line error naming the variable.
    pub fn from_env(env: &BTreeMap<String, String>) -> Result<Self, String> {
        let mut sections = BTreeSet::new();
        for s in Section::ALL {
            let default = matches!(s, Section::Events | Section::Ping | Section::Version);
            if flag(env, s.var())?.unwrap_or(default) {
                sections.insert(s);
            }
        }
        // action → the variable that allowed it (named in audit lines).
        let mut toggled = BTreeMap::new();
        for (var, actions) in [
            ("ALLOW_START", &[Action::ContainersStart][..]),
            ("ALLOW_STOP", &[Action::ContainersStop][..]),
            (
                "ALLOW_RESTARTS",
                &[
                    Action::ContainersStop,
                    Action::ContainersRestart,
                    Action::ContainersKill,
                ][..],
            ),
            ("ALLOW_PAUSE", &[Action::ContainersPause][..]),
            ("ALLOW_UNPAUSE", &[Action::ContainersUnpause][..]),
        ] {
            if flag(env, var)?.unwrap_or(false) {
                toggled.extend(actions.iter().map(|a| (*a, var)));
            }
        }
        // action → the variable that refused it.
        let mut denied = BTreeMap::new();
        // (variable, actions, on unless set): reading a container's files
        // is opt-in, the rest of linuxserver's toggles opt-out.
        for (var, actions, default) in [
            (
                "ALLOW_ARCHIVE",
                &[Action::ContainersArchiveGet, Action::ContainersArchivePut][..],
                false,
            ),
            ("ALLOW_CHANGES", &[Action::ContainersChanges][..], true),
            (
                "ALLOW_EXPORT",
                &[Action::ContainersExport, Action::CommitCreate][..],
                false,
            ),
            ("ALLOW_LOGS", &[Action::ContainersLogs][..], true),
            ("ALLOW_TOP", &[Action::ContainersTop][..], true),
        ] {
            if !flag(env, var)?.unwrap_or(default) {
                denied.extend(actions.iter().map(|a| (*a, var)));
            }
        }
        let mut allow_power = BTreeSet::new();
        for c in env
            .get("ALLOW_HOST_POWER")
            .map(String::as_str)
            .unwrap_or("")
            .split(',')
        {
            let c = c.trim();
            if c.is_empty() {
                continue;
            }
            let Some(check) = Check::from_id(c) else {
                return Err(format!(
                    "ALLOW_HOST_POWER: unknown check {c:?}; known: {}",
                    Check::ids()
                ));
            };
            allow_power.insert(check);
        }
        let bind_mounts = bind_dirs(
            env.get("ALLOW_BIND_MOUNTS")
                .map(String::as_str)
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty()),
            "ALLOW_BIND_MOUNTS",
        )?;
        let min_api = match env.get("DOCKWARD_MIN_API_VERSION") {
            None => Version(1, 24),
            Some(v) => {
                let (a, b) = v.trim().split_once('.').ok_or_else(|| {
                    format!("DOCKWARD_MIN_API_VERSION={v:?}: write MAJOR.MINOR, e.g. 1.24")
                })?;
                Version(
                    a.parse().map_err(|_| {
                        format!("DOCKWARD_MIN_API_VERSION={v:?}: write MAJOR.MINOR")
                    })?,
                    b.parse().map_err(|_| {
                        format!("DOCKWARD_MIN_API_VERSION={v:?}: write MAJOR.MINOR")
                    })?,
                )
            }
        };
        let max_body = match env.get("DOCKWARD_MAX_BODY") {
            None => 4 << 20,
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| format!("DOCKWARD_MAX_BODY={v:?}: write a number of bytes"))?,
        };
        Ok(Self {
            name: "environment".to_string(),
            actions: None,
            sections,
            post: flag(env, "POST")?.unwrap_or(false),
            toggled,
            denied,
            allow_power,
            bind_mounts,
            min_api,
            max_body,
            visibility: None,
        })
    }

    /// Decides on method and target alone.
    pub fn decide_head(&self, method: &str, target: &str) -> Result<Allowed, Deny> {
        let t = normalize(target).map_err(|e| {
            Deny::new(
                400,
                "path normalisation",
                format!("{e}; send the plain path"),
            )
        })?;
        if let Some(v) = t.version {
            if v < self.min_api {
                return Err(Deny::new(
                    403,
                    format!("minimum API version {}", self.min_api),
                    format!("API {v} is refused (before 1.24 a start body re-configured the container); use a current client, or set DOCKWARD_MIN_API_VERSION"),
                ));
            }
        }
        let Some(route) = classify(method, &t.segments) else {
            return Err(Deny::new(
                403,
                "unknown endpoint",
                format!(
                    "{method} {} is not a Docker Engine API endpoint dockward knows",
                    t.path
                ),
            ));
        };
        let write = !(method == "GET" || method == "HEAD");
        let allowed = |rule: String| -> Result<Allowed, Deny> {
            self.head_power(method, &t, &route)?;
            Ok(Allowed {
                check_body: checks_body(route.action),
                subject: self.subject(&t, &route)?,
                blank_join_tokens: route.action == Action::SwarmRead
                    && t.segments == ["swarm"]
                    && !self.allow_power.contains(&Check::SwarmJoin),
                target: t.clone(),
                route: route.clone(),
                rule,
            })
        };
        if let Some(actions) = &self.actions {
            let (n, a) = (&self.name, route.action);
            if self.denied.contains_key(&a) {
                return Err(Deny::new(
                    403,
                    format!("policy {n}: deny {a}"),
                    format!("remove \"{a}\" from deny in policy {n:?}"),
                ));
            }
            if !actions.contains(&a) {
                return Err(Deny::new(
                    403,
                    format!("policy {n}"),
                    format!(
                        "{a} ({method} {}) is not allowed; add \"{a}\" to allow in policy {n:?}",
                        t.path
                    ),
                ));
            }
            return allowed(format!("policy {n}: allow {a}"));
        }
        if let Some(var) = self.toggled.get(&route.action) {
            return allowed(format!("{var}=1"));
        }
        if !self.sections.contains(&route.section) {
            let var = route.section.var();
            return Err(Deny::new(
                403,
                format!("section {var}"),
                format!("{var} is off; set {var}=1 to allow {method} {}", t.path),
            ));
        }
        if let Some(var) = self.denied.get(&route.action) {
            return Err(Deny::new(
                403,
                format!("{var}=0"),
                format!("unset {var} or set it to 1"),
            ));
        }
        if write && !self.post {
            return Err(Deny::new(
                403,
                "POST=0",
                format!(
                    "POST=0 allows only GET and HEAD; set POST=1 to allow {method} {}",
                    t.path
                ),
            ));
        }
        if route.action == Action::ContainersAttachWs && !self.post {
            return Err(Deny::new(
                403,
                "POST=0 (attach websocket)",
                "the attach websocket writes to the container's stdin; it needs POST=1",
            ));
        }
        allowed(format!(
            "section {}=1{}",
            route.section.var(),
            if write { ", POST=1" } else { "" }
        ))
    }

    /// The container (or exec instance) an allowed request must be judged
    /// on before it is forwarded: what it enters, writes or reads, or — under
    /// a policy that hides containers — the container it acts on (inspect
    /// is judged on its own answer instead).
    fn subject(&self, t: &Target, route: &Route) -> Result<Option<Subject>, Deny> {
        let a = route.action;
        let id = route.id.clone();
        if a == Action::CommitCreate {
            return crate::power::query::commit_container(&t.query)
                .map(|c| c.map(Subject::Enters))
                .map_err(|e| {
                    Deny::new(
                        400,
                        "unambiguous query",
                        format!("{e}; send each parameter once"),
                    )
                });
        }
        let hides = self.visibility.as_ref().is_some_and(|v| v.filters());
        Ok(if judges_target(a) {
            if a.section() == "exec" && a != Action::ExecCreate {
                id.map(Subject::Exec)
            } else {
                id.map(Subject::Enters)
            }
        } else if hides && a.section() == "containers" && a != Action::ContainersInspect {
            id.map(Subject::Visible)
        } else {
            None
        })
    }

    /// A refusal for host power this policy does not allow; `what` is the
    /// request and `verb` how it relates to that power ("gives", "has").
    fn power_deny(
        &self,
        what: &str,
        verb: &str,
        refusals: &[crate::power::Refusal],
    ) -> Option<Deny> {
        let left: Vec<_> = refusals
            .iter()
            .filter(|r| !self.allow_power.contains(&r.check))
            .collect();
        let first = left.first()?;
        let mut checks: Vec<&str> = left.iter().map(|r| r.check.id()).collect();
        checks.dedup();
        let details: Vec<&str> = left.iter().map(|r| r.detail.as_str()).collect();
        let fix = if first.check == Check::Bind {
            "add the directory to ALLOW_BIND_MOUNTS (policy file: bind_mounts), or allow every bind with ALLOW_HOST_POWER=bind".to_string()
        } else {
            format!(
                "if this client may have that power, allow it explicitly with ALLOW_HOST_POWER={} (policy file: host_power)",
                checks.join(",")
            )
        };
        Some(Deny::new(
            403,
            format!("host-power check {}", first.check),
            format!(
                "{what} {verb} power over the host ({}); {fix}",
                details.join("; ")
            ),
        ))
    }

    /// Checks on the head alone: plugins, build queries.
    fn head_power(&self, method: &str, t: &Target, route: &Route) -> Result<(), Deny> {
        let mut refusals = Vec::new();
        if let Some((check, why)) = head_check(route.action) {
            refusals.push(crate::power::Refusal {
                check,
                detail: why.to_string(),
            });
        }
        if crate::power::swarm_secret_path(&t.segments) {
            refusals.push(crate::power::Refusal {
                check: Check::SwarmJoin,
                detail: "the unlock key decrypts the swarm's Raft log, every secret included"
                    .into(),
            });
        }
        let q = crate::power::query::check(route.action, &t.query).map_err(|e| {
            Deny::new(
                400,
                "unambiguous query",
                format!("{e}; send each parameter once, separated by '&'"),
            )
        })?;
        refusals.extend(q);
        match self.power_deny(&format!("{method} {}", t.path), "gives", &refusals) {
            Some(d) => Err(d),
            None => Ok(()),
        }
    }

    /// The environment the body checks need.
    fn env<'a>(&'a self, fs: &'a dyn HostFs) -> Env<'a> {
        Env {
            bind_allow: &self.bind_mounts,
            allowed: &self.allow_power,
            fs,
        }
    }

    /// Judges a container the request enters, writes, reads or names
    /// (`what` says how; `asked` is the name or id the client used), from
    /// dockerd's inspect: it must be visible to this policy and, when
    /// `enters`, hold no host power this policy does not allow (with
    /// `enters` false — a link, a network connect, a stop — only
    /// visibility counts). `Ok` gives its full id, to forward in place of
    /// the name.
    pub fn judge_container(
        &self,
        what: &str,
        asked: &str,
        inspect: &[u8],
        fs: &dyn HostFs,
        enters: bool,
    ) -> Result<Judged, Deny> {
        let env = self.env(fs);
        let j = crate::power::container::judge(inspect, &env).map_err(|e| {
            Deny::new(
                403,
                "container lookup",
                format!("{e}; the request is refused when its container cannot be judged"),
            )
        })?;
        if let Some(v) = &self.visibility {
            if !v.visible(&j.name, j.labels.as_ref()) {
                // As dockerd answers for one that does not exist, with the
                // name the client used: never the hidden container's own.
                return Err(Deny::new(
                    404,
                    format!("policy {}: hidden container", self.name),
                    format!("No such container: {asked}"),
                ));
            }
        }
        if !enters {
            return Ok(j);
        }
        let what = format!("{what} container {}, which", j.name);
        match self.power_deny(&what, "has", &j.power) {
            Some(d) => Err(d),
            None => Ok(j),
        }
    }

    /// Decides on a buffered body; on success returns the canonical tree
    /// to forward and the containers it names.
    pub fn decide_body(&self, a: &Allowed, body: &[u8], fs: &dyn HostFs) -> Result<Checked, Deny> {
        if body.len() > self.max_body {
            return Err(Deny::new(
                413,
                "body size cap",
                format!(
                    "bodies of {} are checked up to {} bytes (DOCKWARD_MAX_BODY)",
                    a.route.action, self.max_body
                ),
            ));
        }
        let empty = body.iter().all(u8::is_ascii_whitespace);
        let value = if empty {
            None
        } else {
            Some(gojson::parse(body).map_err(|e| {
                Deny::new(
                    400,
                    "unambiguous JSON body",
                    format!("the body of {} is refused: {e}", a.route.action),
                )
            })?)
        };
        let env = self.env(fs);
        let outcome = check(a.route.action, value.as_ref(), &env);
        if let Some(d) = self.power_deny(a.route.action.name(), "gives", &outcome.refusals) {
            return Err(d);
        }
        Ok(Checked {
            value,
            refs: outcome.refs,
        })
    }
}

/// The allow-listed bind directories: absolute, cleaned as Go cleans.
pub fn bind_dirs<'a>(
    dirs: impl Iterator<Item = &'a str>,
    what: &str,
) -> Result<Vec<String>, String> {
    dirs.map(|d| {
        if !d.starts_with('/') {
            return Err(format!(
                "{what}: {d:?} is not an absolute path; name directories like /srv/data"
            ));
        }
        let c = crate::power::binds::go_clean(d);
        if c == "/" {
            return Err(format!(
                "{what}: \"/\" would allow every host path; name the directories containers may mount, or set ALLOW_HOST_POWER=bind"
            ));
        }
        Ok(c)
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Policy {
        let m: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Policy::from_env(&m).unwrap()
    }

    fn head(p: &Policy, m: &str, t: &str) -> Result<String, String> {
        p.decide_head(m, t).map(|a| a.rule).map_err(|d| d.rule)
    }

    #[test]
    fn tecnativa_defaults() {
        let p = env(&[]);
        assert!(head(&p, "GET", "/_ping").is_ok());
        assert!(head(&p, "HEAD", "/_ping").is_ok());
        assert!(head(&p, "GET", "/v1.41/version").is_ok());
        assert!(head(&p, "GET", "/events").is_ok());
        assert_eq!(
            head(&p, "GET", "/containers/json"),
            Err("section CONTAINERS".into())
        );
        assert_eq!(head(&p, "GET", "/info"), Err("section INFO".into()));
    }

    #[test]
    fn read_only_is_read_only() {
        let p = env(&[("CONTAINERS", "1")]);
        assert!(head(&p, "GET", "/v1.41/containers/json").is_ok());
        assert!(head(&p, "GET", "/v1.41/containers/x/logs?follow=1").is_ok());
        assert_eq!(
            head(&p, "POST", "/v1.41/containers/create"),
            Err("POST=0".into())
        );
        assert_eq!(
            head(&p, "GET", "/v1.41/containers/x/attach/ws"),
            Err("POST=0 (attach websocket)".into())
        );
        assert_eq!(
            head(&p, "POST", "/v1.41/containers/x/exec"),
            Err("section EXEC".into())
        );
        assert_eq!(
            head(&p, "DELETE", "/v1.41/containers/x"),
            Err("POST=0".into())
        );
        assert_eq!(
            head(&p, "GET", "/v1.23/containers/json"),
            Err("minimum API version 1.24".into())
        );
        assert_eq!(
            head(&p, "GET", "/v1.41/containers/../info"),
            Err("path normalisation".into())
        );
        assert_eq!(
            head(&p, "GET", "/v1.41/CONTAINERS/json"),
            Err("unknown endpoint".into())
        );
        let p = env(&[("CONTAINERS", "1"), ("ALLOW_LOGS", "0")]);
        assert_eq!(
            head(&p, "GET", "/containers/x/logs"),
            Err("ALLOW_LOGS=0".into())
        );
    }

    #[test]
    fn toggles_work_without_post() {
        let p = env(&[("ALLOW_RESTARTS", "1")]);
        assert_eq!(
            head(&p, "POST", "/containers/x/restart"),
            Ok("ALLOW_RESTARTS=1".into())
        );
        assert_eq!(
            head(&p, "POST", "/containers/x/kill"),
            Ok("ALLOW_RESTARTS=1".into())
        );
        assert_eq!(
            head(&p, "POST", "/containers/x/start"),
            Err("section CONTAINERS".into())
        );
    }

    fn fs() -> crate::power::binds::fake::FakeFs {
        crate::power::binds::fake::FakeFs {
            dirs: vec!["/srv".into(), "/etc".into()],
            ..Default::default()
        }
    }

    #[test]
    fn bodies() {
        let fs = fs();
        let p = env(&[
            ("CONTAINERS", "1"),
            ("POST", "1"),
            ("ALLOW_BIND_MOUNTS", "/srv/"),
        ]);
        assert_eq!(p.bind_mounts, ["/srv"]);
        let a = p.decide_head("POST", "/v1.41/containers/create").unwrap();
        assert!(a.check_body);
        let ok = p
            .decide_body(
                &a,
                br#"{"Image":"x","HostConfig":{"Binds":["/srv:/srv"]}}"#,
                &fs,
            )
            .unwrap()
            .value
            .unwrap()
            .to_bytes();
        assert_eq!(ok, br#"{"Image":"x","HostConfig":{"Binds":["/srv:/srv"]}}"#);
        let d = p
            .decide_body(
                &a,
                br#"{"Image":"x","HostConfig":{"Binds":["/etc:/e"]}}"#,
                &fs,
            )
            .unwrap_err();
        assert_eq!(d.rule, "host-power check bind");
        assert!(d.body().contains("ALLOW_BIND_MOUNTS"), "{}", d.body());
        let d = p
            .decide_body(
                &a,
                br#"{"Image":"x","HostConfig":{"Privileged":true}}"#,
                &fs,
            )
            .unwrap_err();
        assert!(d.body().starts_with("Forbidden: "), "{}", d.body());
        assert_eq!(
            (d.status, d.rule.as_str()),
            (403, "host-power check privileged")
        );
        assert!(
            d.body().contains("ALLOW_HOST_POWER=privileged"),
            "{}",
            d.body()
        );
        let d = p
            .decide_body(&a, br#"{"Image":"x","Image":"y"}"#, &fs)
            .unwrap_err();
        assert_eq!(d.status, 400);
        let p = env(&[
            ("CONTAINERS", "1"),
            ("POST", "1"),
            ("ALLOW_HOST_POWER", "privileged"),
        ]);
        assert!(p
            .decide_body(
                &a,
                br#"{"Image":"x","HostConfig":{"Privileged":true}}"#,
                &fs
            )
            .is_ok());
        let big = vec![b' '; p.max_body + 1];
        assert_eq!(p.decide_body(&a, &big, &fs).unwrap_err().status, 413);
    }

    #[test]
    fn heads_with_host_power() {
        let p = env(&[("BUILD", "1"), ("POST", "1"), ("PLUGINS", "1")]);
        assert!(p
            .decide_head("POST", "/v1.41/build?t=x&remote=client-session")
            .is_ok());
        assert_eq!(
            head(&p, "POST", "/v1.41/build?networkmode=host"),
            Err("host-power check build-network".into())
        );
        assert_eq!(
            head(&p, "POST", "/v1.41/build?remote=http://127.0.0.1/x"),
            Err("host-power check build-remote".into())
        );
        assert_eq!(
            head(&p, "POST", "/v1.41/build?networkmode=none&networkmode=host"),
            Err("unambiguous query".into())
        );
        for t in [
            "/v1.41/plugins/pull?remote=x",
            "/v1.41/plugins/x/upgrade",
            "/v1.41/plugins/create?name=x",
            "/v1.41/plugins/x/enable",
            "/v1.41/plugins/x/set",
        ] {
            assert_eq!(
                head(&p, "POST", t),
                Err("host-power check plugin".into()),
                "{t}"
            );
        }
        assert!(p.decide_head("POST", "/v1.41/plugins/x/disable").is_ok());
        let p = env(&[
            ("GRPC", "1"),
            ("SWARM", "1"),
            ("POST", "1"),
            ("SESSION", "1"),
        ]);
        assert_eq!(
            head(&p, "POST", "/v1.41/grpc"),
            Err("host-power check build-network".into())
        );
        assert!(p.decide_head("POST", "/v1.41/session").is_ok());
        assert_eq!(
            head(&p, "POST", "/v1.41/swarm/join"),
            Err("host-power check swarm-join".into())
        );
        assert!(p.decide_head("POST", "/v1.41/swarm/leave").is_ok());
        // Reading the swarm: the tokens are blanked, the unlock key refused.
        assert!(
            p.decide_head("GET", "/v1.41/swarm")
                .unwrap()
                .blank_join_tokens
        );
        assert!(
            !p.decide_head("GET", "/v1.41/swarm/x")
                .unwrap()
                .blank_join_tokens
        );
        assert_eq!(
            head(&p, "GET", "/v1.41/swarm/unlockkey"),
            Err("host-power check swarm-join".into())
        );
        let p = env(&[("SWARM", "1"), ("ALLOW_HOST_POWER", "swarm-join")]);
        assert!(
            !p.decide_head("GET", "/v1.41/swarm")
                .unwrap()
                .blank_join_tokens
        );
        assert!(p.decide_head("GET", "/v1.41/swarm/unlockkey").is_ok());
        let p = env(&[
            ("BUILD", "1"),
            ("POST", "1"),
            ("ALLOW_HOST_POWER", "build-network"),
        ]);
        assert!(p
            .decide_head("POST", "/v1.41/build?networkmode=host")
            .is_ok());
    }

    #[test]
    fn reading_files_is_opt_in() {
        let p = env(&[("CONTAINERS", "1"), ("POST", "1"), ("EXEC", "1")]);
        for (m, t) in [
            ("GET", "/containers/x/archive?path=/"),
            ("HEAD", "/containers/x/archive?path=/"),
            ("PUT", "/containers/x/archive?path=/"),
            ("GET", "/containers/x/export"),
        ] {
            assert!(head(&p, m, t).unwrap_err().starts_with("ALLOW_"), "{m} {t}");
        }
        let p = env(&[
            ("CONTAINERS", "1"),
            ("ALLOW_ARCHIVE", "1"),
            ("ALLOW_EXPORT", "1"),
        ]);
        let a = p.decide_head("GET", "/containers/x/export").unwrap();
        assert_eq!(a.subject, Some(Subject::Enters("x".into())));
        let a = p
            .decide_head("GET", "/containers/x/archive?path=/")
            .unwrap();
        assert_eq!(a.subject, Some(Subject::Enters("x".into())));
        // Other container actions are looked up only when a policy hides
        // containers.
        assert_eq!(
            p.decide_head("GET", "/containers/x/logs").unwrap().subject,
            None
        );
        let p = env(&[("EXEC", "1"), ("POST", "1")]);
        let a = p.decide_head("POST", "/exec/e1/start").unwrap();
        assert_eq!(a.subject, Some(Subject::Exec("e1".into())));
        let a = p.decide_head("POST", "/containers/c/exec").unwrap();
        assert_eq!(a.subject, Some(Subject::Enters("c".into())));
    }

    #[test]
    fn hidden_containers_are_judged_by_visibility_and_never_named() {
        let f = crate::file::PolicyFile::parse(
            "p.toml",
            "[[policy]]\nname = \"ci\"\npreset = \"manager\"\nvisible_names = [\"app-*\"]\n",
        )
        .unwrap();
        let p = &f.policies[0].policy;
        assert_eq!(
            p.decide_head("POST", "/containers/abc/stop")
                .unwrap()
                .subject,
            Some(Subject::Visible("abc".into()))
        );
        assert_eq!(
            p.decide_head("GET", "/containers/abc/json")
                .unwrap()
                .subject,
            None,
            "inspect is judged on its own answer"
        );
        let hidden = br#"{"Id":"c9","Name":"/secret-db","Config":{"Labels":{}},"HostConfig":{}}"#;
        let d = p
            .judge_container("x", "c9", hidden, &fs(), false)
            .unwrap_err();
        assert_eq!(d.status, 404);
        assert_eq!(
            d.body(),
            "No such container: c9\n",
            "the hidden name never shows"
        );
        let shown = br#"{"Id":"c1","Name":"/app-web","Config":{"Labels":{}},"HostConfig":{"Privileged":true}}"#;
        assert!(p
            .judge_container("x", "app-web", shown, &fs(), false)
            .is_ok());
        assert_eq!(
            p.judge_container("x", "app-web", shown, &fs(), true)
                .unwrap_err()
                .status,
            403
        );
    }

    #[test]
    fn entering_a_powered_container() {
        let fs = fs();
        let p = env(&[("EXEC", "1"), ("POST", "1")]);
        let powered = br#"{"Id":"c1","Name":"/adm","HostConfig":{"Privileged":true}}"#;
        let d = p
            .judge_container("exec.create into", "adm", powered, &fs, true)
            .unwrap_err();
        assert_eq!(d.rule, "host-power check privileged");
        assert!(
            d.body().contains("container adm, which has power"),
            "{}",
            d.body()
        );
        let plain = br#"{"Id":"c2","Name":"/web","HostConfig":{"Privileged":false}}"#;
        assert_eq!(
            p.judge_container("x", "web", plain, &fs, true).unwrap().id,
            "c2"
        );
        assert_eq!(
            p.judge_container("x", "x", b"not json", &fs, true)
                .unwrap_err()
                .rule,
            "container lookup"
        );
        let p = env(&[("EXEC", "1"), ("ALLOW_HOST_POWER", "privileged")]);
        assert!(p.judge_container("x", "adm", powered, &fs, true).is_ok());
    }

    #[test]
    fn bad_environment_is_named() {
        let m: BTreeMap<String, String> = [("CONTAINERS".to_string(), "maybe".to_string())].into();
        assert_eq!(
            Policy::from_env(&m).unwrap_err(),
            "CONTAINERS=\"maybe\" is not 0 or 1"
        );
        let m: BTreeMap<String, String> =
            [("ALLOW_HOST_POWER".to_string(), "root".to_string())].into();
        assert!(Policy::from_env(&m)
            .unwrap_err()
            .starts_with("ALLOW_HOST_POWER: unknown check \"root\""));
        for bad in ["srv", "/", "/srv,relative"] {
            let m: BTreeMap<String, String> =
                [("ALLOW_BIND_MOUNTS".to_string(), bad.to_string())].into();
            assert!(
                Policy::from_env(&m)
                    .unwrap_err()
                    .starts_with("ALLOW_BIND_MOUNTS"),
                "{bad}"
            );
        }
    }
}
