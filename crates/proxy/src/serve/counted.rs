//! An answer's body that counts its bytes and writes the request's audit
//! line when it ends (or fails, or is dropped): a stream's line is written
//! when the stream ends, not when its head is sent.

use crate::log::Record;
use crate::upstream::{Body, BoxError};
use bytes::Bytes;
use hyper::body::Frame;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Counts response bytes and writes the audit line when the stream ends.
pub(super) struct Counted {
    pub(super) inner: Body,
    pub(super) rec: Option<Record>,
}

impl hyper::body::Body for Counted {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let p = Pin::new(&mut self.inner).poll_frame(cx);
        match &p {
            Poll::Ready(Some(Ok(f))) => {
                if let (Some(d), Some(r)) = (f.data_ref(), self.rec.as_mut()) {
                    r.bytes += d.len() as u64;
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => {
                self.rec = None;
            }
            Poll::Pending => {}
        }
        p
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listen::Peer;
    use crate::log::{Fields, Shared, Sink};
    use crate::metrics::Metrics;
    use http_body_util::BodyExt;
    use std::sync::Arc;

    #[tokio::test]
    async fn the_bytes_are_counted_and_the_line_written_when_the_body_ends() {
        let out = Shared::default();
        let rec = Record::new(
            Sink::new(Box::new(out.clone())).with_filter(false),
            Arc::new(Metrics::default()),
            Fields {
                listener: "t".into(),
                client: Peer::Tcp {
                    addr: "127.0.0.1:1".into(),
                    client_cert: None,
                },
                method: "GET".into(),
                target: "/x".into(),
                action: None,
                decision: "allow",
                rule: String::new(),
                status: 200,
            },
            std::time::Instant::now(),
        );
        let mut body = Counted {
            inner: crate::upstream::full("0123456789"),
            rec: Some(rec),
        };
        let first = body.frame().await.unwrap().unwrap();
        assert_eq!(first.data_ref().map(|d| d.len()), Some(10));
        assert!(out.0.lock().unwrap().is_empty(), "not before the end");
        assert!(body.frame().await.is_none());
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["bytes"], 10);
    }
}
