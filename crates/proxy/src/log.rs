//! One JSON line per request: who (peer credentials or address), what
//! (method, target, route action), the decision and the rule behind it,
//! the status, the response bytes and the duration. Streams are logged when
//! they end, so `bytes` and `duration_ms` are the whole stream's.

use crate::listen::Peer;
use crate::metrics::{Labels, Metrics};
use serde::Serialize;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Where audit lines go (stderr unless `--audit-log FILE`).
pub struct Sink {
    w: Mutex<Box<dyn Write + Send>>,
    /// `LOG_LEVEL` warning and above: only refusals are written.
    only_denials: bool,
}

impl Sink {
    pub fn new(w: Box<dyn Write + Send>) -> Self {
        Self {
            w: Mutex::new(w),
            only_denials: false,
        }
    }

    /// Finishes the sink; with `only_denials`, allowed requests are not logged.
    pub fn with_filter(mut self, only_denials: bool) -> Arc<Self> {
        self.only_denials = only_denials;
        Arc::new(self)
    }

    /// `line` ends with its newline: one write per line (a second syscall
    /// for the newline doubled the logging cost per request).
    fn write(&self, line: &[u8]) {
        let mut w = self.w.lock().unwrap_or_else(|e| e.into_inner());
        let _ = w.write_all(line);
        let _ = w.flush();
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Fields {
    pub listener: String,
    pub client: Peer,
    pub method: String,
    pub target: String,
    pub action: Option<&'static str>,
    pub decision: &'static str,
    pub rule: String,
    pub status: u16,
}

/// A request's line, written when dropped (after the last response byte).
/// The metrics are counted at the same moment.
pub struct Record {
    sink: Arc<Sink>,
    metrics: Arc<Metrics>,
    pub fields: Fields,
    pub bytes: u64,
    start: Instant,
}

impl Record {
    pub fn new(sink: Arc<Sink>, metrics: Arc<Metrics>, fields: Fields, start: Instant) -> Self {
        Self {
            sink,
            metrics,
            fields,
            bytes: 0,
            start,
        }
    }
}

/// One audit line. The fields are spelled out rather than `#[serde(flatten)]`
/// of [`Fields`]: flatten goes through serde's generic map path, per request.
#[derive(Serialize)]
struct Line<'a> {
    ts: String,
    listener: &'a str,
    client: &'a Peer,
    method: &'a str,
    target: &'a str,
    action: Option<&'static str>,
    decision: &'static str,
    rule: &'a str,
    status: u16,
    bytes: u64,
    duration_ms: f64,
}

impl Drop for Record {
    fn drop(&mut self) {
        let secs = self.start.elapsed().as_secs_f64();
        self.metrics
            .requests
            .get_or_create(&Labels {
                decision: self.fields.decision,
                action: self.fields.action.unwrap_or("unknown"),
            })
            .inc();
        self.metrics.duration.observe(secs);
        if self.sink.only_denials && self.fields.decision == "allow" {
            return;
        }
        let f = &self.fields;
        let line = Line {
            ts: jiff::Timestamp::now().to_string(),
            listener: &f.listener,
            client: &f.client,
            method: &f.method,
            target: &f.target,
            action: f.action,
            decision: f.decision,
            rule: &f.rule,
            status: f.status,
            bytes: self.bytes,
            duration_ms: (secs * 1e6).round() / 1e3,
        };
        let mut b = Vec::with_capacity(256);
        if serde_json::to_writer(&mut b, &line).is_ok() {
            b.push(b'\n');
            self.sink.write(&b);
        }
    }
}

/// A writer whose bytes a test reads back.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Shared(pub(crate) Arc<Mutex<Vec<u8>>>);

#[cfg(test)]
impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_json_line_per_request_with_every_field_in_order() {
        let out = Shared::default();
        let sink = Sink::new(Box::new(out.clone())).with_filter(false);
        let metrics = Arc::new(Metrics::default());
        let fields = Fields {
            listener: "unix:///run/p.sock".into(),
            client: Peer::Unix {
                uid: 1000,
                gid: 998,
                pid: Some(42),
            },
            method: "GET".into(),
            target: "/v1.41/containers/json?all=1".into(),
            action: Some("containers.list"),
            decision: "allow",
            rule: "section CONTAINERS=1".into(),
            status: 200,
        };
        let mut r = Record::new(sink, metrics, fields, Instant::now());
        r.bytes = 17;
        drop(r);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.matches('\n').count(), 1);
        assert!(text.ends_with('\n'));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        // In the order of the documented shape (docs/proxy.md).
        let at: Vec<usize> = [
            "ts",
            "listener",
            "client",
            "method",
            "target",
            "action",
            "decision",
            "rule",
            "status",
            "bytes",
            "duration_ms",
        ]
        .iter()
        .map(|k| text.find(&format!("\"{k}\":")).expect(k))
        .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert_eq!(v["client"]["uid"], 1000);
        assert_eq!(v["target"], "/v1.41/containers/json?all=1");
        assert_eq!(v["bytes"], 17);
    }
}
