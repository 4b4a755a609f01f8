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
//! - even with `POST=1`, bodies that give power over the host are refused
//!   unless the check is named in `ALLOW_HOST_POWER`;
//! - API versions below 1.24 are refused (`DOCKWARD_MIN_API_VERSION`);
//! - paths are matched exactly, once decoded, case-sensitively.

use crate::gojson;
use crate::path::{normalize, Target, Version};
use crate::power::{check, checks_body, CHECKS};
use crate::route::{classify, Route, Section};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `environment`, or the policy file's `name`.
    pub name: String,
    /// From a policy file: exactly the actions allowed (sections, POST and
    /// the toggles are then unused).
    pub actions: Option<BTreeSet<&'static str>>,
    pub sections: BTreeSet<Section>,
    pub post: bool,
    /// Actions allowed whatever POST says (ALLOW_START, …).
    pub toggled: BTreeMap<&'static str, &'static str>,
    /// Actions refused even when their section is on (ALLOW_LOGS=0, …).
    pub denied: BTreeMap<&'static str, &'static str>,
    /// Host-power checks the operator allowed.
    pub allow_power: BTreeSet<String>,
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

    /// The short text body of the 403/400/413 answer.
    pub fn body(&self) -> String {
        format!("dockward proxy: denied by {}. {}\n", self.rule, self.hint)
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
            ("ALLOW_START", &["containers.start"][..]),
            ("ALLOW_STOP", &["containers.stop"][..]),
            (
                "ALLOW_RESTARTS",
                &["containers.stop", "containers.restart", "containers.kill"][..],
            ),
            ("ALLOW_PAUSE", &["containers.pause"][..]),
            ("ALLOW_UNPAUSE", &["containers.unpause"][..]),
        ] {
            if flag(env, var)?.unwrap_or(false) {
                toggled.extend(actions.iter().map(|a| (*a, var)));
            }
        }
        // action → the variable that refused it.
        let mut denied = BTreeMap::new();
        for (var, actions) in [
            (
                "ALLOW_ARCHIVE",
                &["containers.archive_get", "containers.archive_put"][..],
            ),
            ("ALLOW_CHANGES", &["containers.changes"][..]),
            ("ALLOW_EXPORT", &["containers.export"][..]),
            ("ALLOW_LOGS", &["containers.logs"][..]),
            ("ALLOW_TOP", &["containers.top"][..]),
        ] {
            if flag(env, var)? == Some(false) {
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
            if !CHECKS.contains(&c) {
                return Err(format!(
                    "ALLOW_HOST_POWER: unknown check {c:?}; known: {}",
                    CHECKS.join(", ")
                ));
            }
            allow_power.insert(c.to_string());
        }
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
        let allowed = |rule: String| Allowed {
            check_body: checks_body(route.action),
            target: t.clone(),
            route: route.clone(),
            rule,
        };
        if let Some(actions) = &self.actions {
            let (n, a) = (&self.name, route.action);
            if self.denied.contains_key(a) {
                return Err(Deny::new(
                    403,
                    format!("policy {n}: deny {a}"),
                    format!("remove {a:?} from deny in policy {n:?}"),
                ));
            }
            if !actions.contains(a) {
                return Err(Deny::new(
                    403,
                    format!("policy {n}"),
                    format!(
                        "{a} ({method} {}) is not allowed; add {a:?} to allow in policy {n:?}",
                        t.path
                    ),
                ));
            }
            return Ok(allowed(format!("policy {n}: allow {a}")));
        }
        if let Some(var) = self.toggled.get(route.action) {
            return Ok(allowed(format!("{var}=1")));
        }
        if !self.sections.contains(&route.section) {
            let var = route.section.var();
            return Err(Deny::new(
                403,
                format!("section {var}"),
                format!("{var} is off; set {var}=1 to allow {method} {}", t.path),
            ));
        }
        if let Some(var) = self.denied.get(route.action) {
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
        if route.action == "containers.attach_ws" && !self.post {
            return Err(Deny::new(
                403,
                "POST=0 (attach websocket)",
                "the attach websocket writes to the container's stdin; it needs POST=1",
            ));
        }
        Ok(allowed(format!(
            "section {}=1{}",
            route.section.var(),
            if write { ", POST=1" } else { "" }
        )))
    }

    /// Decides on a buffered body; on success returns the canonical bytes
    /// to forward (`None`: forward the empty body).
    pub fn decide_body(&self, a: &Allowed, body: &[u8]) -> Result<Option<Vec<u8>>, Deny> {
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
        let refusals: Vec<_> = check(a.route.action, value.as_ref())
            .into_iter()
            .filter(|r| !self.allow_power.contains(r.check))
            .collect();
        if let Some(r) = refusals.first() {
            let all: Vec<String> = refusals.iter().map(|r| r.detail.clone()).collect();
            return Err(Deny::new(
                403,
                format!("host-power check {}", r.check),
                format!("{} gives power over the host ({}); allow it explicitly with ALLOW_HOST_POWER={}", a.route.action, all.join("; "), r.check),
            ));
        }
        Ok(value.map(|v| v.to_bytes()))
    }
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

    #[test]
    fn bodies() {
        let p = env(&[("CONTAINERS", "1"), ("POST", "1")]);
        let a = p.decide_head("POST", "/v1.41/containers/create").unwrap();
        assert!(a.check_body);
        let ok = p
            .decide_body(&a, br#"{"Image":"x","HostConfig":{"Binds":["/srv:/srv"]}}"#)
            .unwrap()
            .unwrap();
        assert_eq!(ok, br#"{"Image":"x","HostConfig":{"Binds":["/srv:/srv"]}}"#);
        let d = p
            .decide_body(&a, br#"{"Image":"x","HostConfig":{"Privileged":true}}"#)
            .unwrap_err();
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
            .decide_body(&a, br#"{"Image":"x","Image":"y"}"#)
            .unwrap_err();
        assert_eq!(d.status, 400);
        let p = env(&[
            ("CONTAINERS", "1"),
            ("POST", "1"),
            ("ALLOW_HOST_POWER", "privileged"),
        ]);
        assert!(p
            .decide_body(&a, br#"{"Image":"x","HostConfig":{"Privileged":true}}"#)
            .is_ok());
        let big = vec![b' '; p.max_body + 1];
        assert_eq!(p.decide_body(&a, &big).unwrap_err().status, 413);
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
    }
}
