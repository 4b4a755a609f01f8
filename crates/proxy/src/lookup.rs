//! Looking up the containers a request acts on or names, for
//! `Policy::judge_container`: one inspect each, made before anything is
//! forwarded. A lookup that fails refuses the request.
//!
//! Inspects are cached ([`Cache`]) while the proxy's own subscription to
//! dockerd's `/events` runs: any container event other than an exec's or
//! a health check's empties the cache (a rename, a create reusing a name,
//! a destroy), and while the subscription is down nothing is cached. A
//! stale entry in the instant before its event arrives gains nothing: the
//! request is forwarded with the full id of the container that was judged,
//! never the name, and bind sources are resolved again at every use.

use bytes::Bytes;
use dockward_apiguard::power::binds::HostFs;
use dockward_apiguard::Deny;
use http_body_util::BodyExt;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Inspect bodies by the name or id they were asked for.
#[derive(Debug, Default)]
pub struct Cache {
    map: Mutex<HashMap<String, Bytes>>,
    /// The `/events` subscription is up: entries can be trusted.
    live: AtomicBool,
}

/// Entries kept at most; beyond, the cache starts over.
const CAP: usize = 4096;

impl Cache {
    pub fn get(&self, key: &str) -> Option<Bytes> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        self.map.lock().ok()?.get(key).cloned()
    }

    pub fn put(&self, key: &str, body: Bytes) {
        if !self.live.load(Ordering::Acquire) {
            return;
        }
        if let Ok(mut m) = self.map.lock() {
            if m.len() >= CAP {
                m.clear();
            }
            m.insert(key.to_string(), body);
        }
    }

    fn clear(&self) {
        if let Ok(mut m) = self.map.lock() {
            m.clear();
        }
    }

    /// Whether an `/events` line leaves every cached inspect as it was.
    pub fn harmless_event(line: &[u8]) -> bool {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
            return false;
        };
        let action = v.get("Action").and_then(|a| a.as_str()).unwrap_or("");
        action.starts_with("exec_") || action.starts_with("health_status")
    }

    /// Follows dockerd's container events for as long as the proxy runs,
    /// emptying the cache on every event that can change an inspect.
    pub async fn follow(self: Arc<Self>, upstream: crate::Upstream) {
        let filter = "%7B%22type%22%3A%5B%22container%22%5D%7D";
        loop {
            let req = format!("GET /events?filters={filter} HTTP/1.1\r\nHost: docker\r\n\r\n");
            {
                if let Ok((parts, mut body)) = crate::stream::get(&upstream, req.as_bytes()).await {
                    if parts.status == hyper::StatusCode::OK {
                        self.clear();
                        self.live.store(true, Ordering::Release);
                        let mut buf = Vec::new();
                        while let Some(Ok(frame)) = body.frame().await {
                            let Ok(data) = frame.into_data() else {
                                continue;
                            };
                            buf.extend_from_slice(&data);
                            while let Some(i) = buf.iter().position(|b| *b == b'\n') {
                                let line: Vec<u8> = buf.drain(..=i).collect();
                                if !Self::harmless_event(&line) {
                                    self.clear();
                                }
                            }
                        }
                    }
                }
            }
            self.live.store(false, Ordering::Release);
            self.clear();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// The host's filesystem as this process sees it.
pub struct HostView;

impl HostFs for HostView {
    fn canonicalize(&self, path: &Path) -> std::io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }
}

/// Container names and ids are `[A-Za-z0-9][A-Za-z0-9_.-]*` (moby
/// `restrictedNameChars`); anything else names no container, and must
/// not be put into an upstream path.
pub fn plausible(name: &str) -> bool {
    let mut c = name.chars();
    c.next().is_some_and(|f| f.is_ascii_alphanumeric())
        && c.all(|x| x.is_ascii_alphanumeric() || matches!(x, '_' | '.' | '-'))
}

pub fn no_such(name: &str) -> Deny {
    Deny {
        status: 404,
        rule: "container lookup".into(),
        hint: format!("No such container: {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_that_keep_the_cache() {
        assert!(Cache::harmless_event(
            br#"{"Type":"container","Action":"exec_create: ls"}"#
        ));
        assert!(Cache::harmless_event(
            br#"{"Type":"container","Action":"health_status: healthy"}"#
        ));
        for e in [
            &br#"{"Action":"rename"}"#[..],
            br#"{"Action":"destroy"}"#,
            br#"{"Action":"create"}"#,
            b"garbage",
        ] {
            assert!(!Cache::harmless_event(e));
        }
        let c = Cache::default();
        c.put("a", Bytes::from_static(b"x"));
        assert_eq!(
            c.get("a"),
            None,
            "nothing is cached while events are not followed"
        );
        c.live.store(true, Ordering::Release);
        c.put("a", Bytes::from_static(b"x"));
        assert_eq!(c.get("a"), Some(Bytes::from_static(b"x")));
    }
}
