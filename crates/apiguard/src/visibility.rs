//! What a client may see: only the containers matching a label or name
//! selector, in lists, inspect and `/events`; every other container is
//! answered as if it did not exist (404 "No such container"). Optionally
//! `Config.Env` values are replaced by `<redacted>` in inspect results,
//! because that is where secrets passed with `-e` end up.
//!
//! Pure: the proxy edge gives response bodies and event lines, and forwards
//! what comes back. Responses are dockerd's own JSON, so serde_json reads
//! them (the Go-compatible reader is for request bodies a client wrote).

use globset::{Glob, GlobMatcher};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Visibility {
    /// `key` or `key=value`; a container matching any selector is visible.
    labels: Vec<(String, Option<String>)>,
    names: Vec<GlobMatcher>,
    pub scrub_env: bool,
}

impl PartialEq for Visibility {
    fn eq(&self, o: &Self) -> bool {
        self.labels == o.labels
            && self.scrub_env == o.scrub_env
            && self
                .names
                .iter()
                .map(|g| g.glob().glob())
                .eq(o.names.iter().map(|g| g.glob().glob()))
    }
}

impl Eq for Visibility {}

impl Visibility {
    pub fn new(labels: &[String], names: &[String], scrub_env: bool) -> Result<Self, String> {
        let labels = labels
            .iter()
            .map(|l| match l.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (l.clone(), None),
            })
            .collect();
        let names = names
            .iter()
            .map(|n| {
                Glob::new(n.trim_start_matches('/'))
                    .map(|g| g.compile_matcher())
                    .map_err(|e| format!("visible_names {n:?}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            labels,
            names,
            scrub_env,
        })
    }

    /// Whether selectors restrict anything (otherwise only scrubbing).
    pub fn filters(&self) -> bool {
        !self.labels.is_empty() || !self.names.is_empty()
    }

    /// A container by its name (with or without Docker's `/`) and labels.
    pub fn visible(&self, name: &str, labels: Option<&serde_json::Map<String, Value>>) -> bool {
        if !self.filters() {
            return true;
        }
        let name = name.trim_start_matches('/');
        self.names.iter().any(|g| g.is_match(name))
            || self.labels.iter().any(|(k, v)| {
                labels.and_then(|l| l.get(k)).is_some_and(|got| match v {
                    None => true,
                    Some(want) => got.as_str() == Some(want),
                })
            })
    }

    /// `GET /containers/json`: the visible entries only.
    pub fn filter_list(&self, body: &[u8]) -> Option<Vec<u8>> {
        let Value::Array(items) = serde_json::from_slice(body).ok()? else {
            return None;
        };
        let kept: Vec<Value> = items
            .into_iter()
            .filter(|c| self.listed_visible(c))
            .collect();
        serde_json::to_vec(&kept).ok()
    }

    /// One entry of a `GET /containers/json` body: visible by any of its
    /// names and its labels.
    fn listed_visible(&self, c: &Value) -> bool {
        let labels = c.get("Labels").and_then(Value::as_object);
        c.get("Names").and_then(Value::as_array).is_some_and(|ns| {
            ns.iter()
                .filter_map(Value::as_str)
                .any(|n| self.visible(n, labels))
        })
    }

    /// `GET /containers/{id}/json`: `None` when the container is hidden,
    /// else the body with `Config.Env` values redacted when asked.
    pub fn filter_inspect(&self, body: &[u8]) -> Option<Vec<u8>> {
        let mut v: Value = serde_json::from_slice(body).ok()?;
        let name = v
            .get("Name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let labels = v
            .get("Config")
            .and_then(|c| c.get("Labels"))
            .and_then(Value::as_object)
            .cloned();
        if !self.visible(&name, labels.as_ref()) {
            return None;
        }
        if self.scrub_env {
            if let Some(env) = v
                .get_mut("Config")
                .and_then(|c| c.get_mut("Env"))
                .and_then(Value::as_array_mut)
            {
                for e in env.iter_mut() {
                    if let Some(s) = e.as_str() {
                        let key = s.split_once('=').map_or(s, |(k, _)| k);
                        *e = Value::String(format!("{key}=<redacted>"));
                    }
                }
            }
        }
        serde_json::to_vec(&v).ok()
    }

    /// The ids of the visible containers in a `GET /containers/json?all=1`
    /// body: what an `/events` subscription starts out knowing.
    pub fn visible_ids(&self, list: &[u8]) -> std::collections::HashSet<String> {
        let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(list) else {
            return Default::default();
        };
        items
            .iter()
            .filter(|c| self.listed_visible(c))
            .filter_map(|c| c.get("Id").and_then(Value::as_str).map(str::to_string))
            .collect()
    }

    /// One `/events` line: keep it unless it is about a hidden container.
    ///
    /// Container events carry the container's name and labels, so they are
    /// judged on their own, and a visible container's id is remembered in
    /// `known`. Other events that name a container (a network's `connect`
    /// and `disconnect`: `Actor.Attributes.container`) carry only its id:
    /// kept for a container known to be visible (from the list taken when
    /// the subscription started, or from its own events since), else the
    /// caller must look the container up ([`Event::Ask`]), so a hidden
    /// container's id never leaks through them.
    pub fn judge_event(&self, line: &[u8], known: &mut std::collections::HashSet<String>) -> Event {
        if !self.filters() {
            return Event::Keep;
        }
        let Ok(v) = serde_json::from_slice::<Value>(line) else {
            return Event::Drop;
        };
        let actor = v.get("Actor");
        let attrs = actor
            .and_then(|a| a.get("Attributes"))
            .and_then(Value::as_object);
        if v.get("Type").and_then(Value::as_str) != Some("container") {
            return match attrs.and_then(|a| a.get("container")) {
                None => Event::Keep,
                Some(Value::String(id)) if known.contains(id) => Event::Keep,
                Some(Value::String(id)) => Event::Ask(id.clone()),
                Some(_) => Event::Drop,
            };
        }
        let name = attrs
            .and_then(|a| a.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if !self.visible(name, attrs) {
            return Event::Drop;
        }
        if let Some(id) = actor.and_then(|a| a.get("ID")).and_then(Value::as_str) {
            known.insert(id.to_string());
        }
        Event::Keep
    }
}

/// What to do with one `/events` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Keep,
    Drop,
    /// It names this container by id only, and whether it is visible is
    /// not known yet: inspect it ([`Visibility::filter_inspect`]) and keep
    /// the line only if it is.
    Ask(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v() -> Visibility {
        Visibility::new(
            &["traefik.enable=true".into(), "team".into()],
            &["web-*".into()],
            true,
        )
        .unwrap()
    }

    #[test]
    fn lists_inspect_and_events() {
        let list = br#"[{"Names":["/web-1"],"Labels":{}},{"Names":["/db"],"Labels":{"traefik.enable":"true"}},{"Names":["/x"],"Labels":{"traefik.enable":"false"}},{"Names":["/y"],"Labels":{"team":"a"}}]"#;
        let out: Value = serde_json::from_slice(&v().filter_list(list).unwrap()).unwrap();
        let names: Vec<&str> = out
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["Names"][0].as_str().unwrap())
            .collect();
        assert_eq!(names, ["/web-1", "/db", "/y"]);
        let hidden = br#"{"Name":"/x","Config":{"Labels":{},"Env":["A=1"]}}"#;
        assert!(v().filter_inspect(hidden).is_none());
        let shown = br#"{"Name":"/web-2","Config":{"Labels":{},"Env":["DB_PASSWORD=hunter2","PATH=/bin"]}}"#;
        let out = String::from_utf8(v().filter_inspect(shown).unwrap()).unwrap();
        assert!(
            out.contains("DB_PASSWORD=<redacted>") && !out.contains("hunter2"),
            "{out}"
        );
        let mut known = std::collections::HashSet::new();
        let mut keep = |line: &[u8]| v().judge_event(line, &mut known) == Event::Keep;
        assert!(keep(
            br#"{"Type":"container","Actor":{"ID":"w3","Attributes":{"name":"web-3"}}}"#
        ));
        assert!(!keep(
            br#"{"Type":"container","Actor":{"ID":"d2","Attributes":{"name":"db2"}}}"#
        ));
        assert!(keep(
            br#"{"Type":"network","Actor":{"Attributes":{"name":"bridge"}}}"#
        ));
        assert!(!keep(b"not json"));
        // A network event names a container by id only: kept for one seen
        // to be visible, dropped for a hidden or unknown one.
        let connect = |id: &str| {
            format!(
                r#"{{"Type":"network","Action":"connect","Actor":{{"ID":"n","Attributes":{{"container":"{id}","name":"bridge"}}}}}}"#
            )
        };
        assert!(keep(connect("w3").as_bytes()));
        assert!(!keep(connect("d2").as_bytes()));
        assert_eq!(
            v().judge_event(connect("never-seen").as_bytes(), &mut known),
            Event::Ask("never-seen".into())
        );
        let list = br#"[{"Id":"a1","Names":["/web-9"],"Labels":{}},{"Id":"b2","Names":["/db"],"Labels":{}}]"#;
        let ids = v().visible_ids(list);
        assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["a1"]);
    }
}
