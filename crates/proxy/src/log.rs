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

    fn write(&self, line: &str) {
        let mut w = self.w.lock().unwrap_or_else(|e| e.into_inner());
        // One write per line: a second syscall for the newline doubled the
        // logging cost per request.
        let mut b = Vec::with_capacity(line.len() + 1);
        b.extend_from_slice(line.as_bytes());
        b.push(b'\n');
        let _ = w.write_all(&b);
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

#[derive(Serialize)]
struct Line<'a> {
    ts: String,
    #[serde(flatten)]
    fields: &'a Fields,
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
                action: self.fields.action.unwrap_or("unknown").to_string(),
            })
            .inc();
        self.metrics.duration.observe(secs);
        if self.sink.only_denials && self.fields.decision == "allow" {
            return;
        }
        let line = Line {
            ts: jiff::Timestamp::now().to_string(),
            fields: &self.fields,
            bytes: self.bytes,
            duration_ms: (secs * 1e6).round() / 1e3,
        };
        if let Ok(s) = serde_json::to_string(&line) {
            self.sink.write(&s);
        }
    }
}
