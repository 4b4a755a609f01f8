//! What one client connection carries between its requests: who the
//! client is and its idle upstream connection; and the answers the proxy
//! makes itself.

use super::counted::Counted;
use super::Options;
use crate::listen::Peer;
use crate::log::{Fields, Record};
use crate::upstream::{full, Body};
use dockward_apiguard::Deny;
use http_body_util::BodyExt;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use std::sync::Arc;
use std::time::Instant;

/// A JSON `{"message": …}` answer, the shape docker clients print as
/// "Error response from daemon: …".
pub(super) fn json_message(mut rec: Record, status: u16, msg: &str) -> Response<Body> {
    rec.fields.status = status;
    let body = serde_json::json!({ "message": msg.trim_end() }).to_string();
    let mut r = Response::new(
        Counted {
            inner: full(body),
            rec: Some(rec),
        }
        .boxed(),
    );
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

pub(super) struct Ctx {
    pub(super) opts: Arc<Options>,
    pub(super) peer: Peer,
    pub(super) listener: String,
    /// This client connection's upstream connection, between requests.
    pub(super) upstream: std::sync::Mutex<Option<crate::upstream::Conn>>,
}

impl Ctx {
    pub(super) fn record(&self, method: &str, target: &str, start: Instant) -> Record {
        Record::new(
            self.opts.sink.clone(),
            self.opts.metrics.clone(),
            Fields {
                listener: self.listener.clone(),
                client: self.peer.clone(),
                method: method.to_string(),
                target: target.to_string(),
                action: None,
                decision: "deny",
                rule: String::new(),
                status: 0,
            },
            start,
        )
    }

    /// This client's idle upstream connection, else a new one.
    pub(super) async fn take_upstream(&self) -> Result<crate::upstream::Conn, String> {
        let idle = self.upstream.lock().ok().and_then(|mut g| g.take());
        match idle {
            Some(s) => Ok(s),
            None => self.opts.upstream.open().await,
        }
    }

    /// Keeps `conn` for this client's next request.
    pub(super) fn put_upstream(&self, conn: crate::upstream::Conn) {
        if let Ok(mut g) = self.upstream.lock() {
            *g = Some(conn);
        }
    }

    pub(super) fn deny(&self, mut rec: Record, d: &Deny) -> Response<Body> {
        rec.fields.rule = d.rule.clone();
        json_message(rec, d.status, &d.body())
    }
}

/// 502 with the reason; the next request tries again.
pub(super) fn unreachable(ctx: &Ctx, mut rec: Record, cause: &str) -> Response<Body> {
    ctx.opts.metrics.upstream_errors.inc();
    rec.fields.rule = "upstream unreachable".into();
    let msg = format!(
        "dockward proxy: dockerd is not reachable at {} ({cause}); the proxy retries on every request",
        ctx.opts.upstream.describe()
    );
    json_message(rec, 502, &msg)
}
