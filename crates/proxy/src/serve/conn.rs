//! One client connection, HTTP/1.1 without hyper: each request head is
//! read once by `framing::request`, a head that cannot be framed one way
//! only is refused with 400 and the connection closes, and every other
//! request goes to `forward`; the connection is kept while both the client
//! and the answer allow it.
//!
//! A request head must arrive whole within the header timeout, counted
//! from the connection's start for the first request and from the first
//! byte for the next ones (an idle kept-alive connection waits, as it did
//! under hyper). Answers the proxy makes itself (refusals, 502s, the
//! filtered `/events` stream) are hyper responses written by [`reply`].

use super::ctx::Ctx;
use super::forward;
use crate::framing::{chunk_head, request, LAST_CHUNK};
use crate::upstream::Body;
use bytes::BytesMut;
use dockward_apiguard::Deny;
use http_body_util::BodyExt;
use hyper::body::Body as _;
use hyper::Response;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A client's byte stream: unix, TCP or TLS.
pub(super) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The client's connection and what was read from it and not used yet.
pub(super) struct Client<T> {
    pub(super) io: T,
    pub(super) buf: BytesMut,
}

/// What the connection does after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum After {
    Keep,
    Close,
}

enum Next {
    Head(request::Head),
    End,
    Refused(request::Refusal),
}

/// Serves requests on `io` until either side ends the connection or the
/// proxy stops (between requests).
pub(super) async fn run<T: Io>(io: T, ctx: Arc<Ctx>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut c = Client {
        io,
        buf: BytesMut::new(),
    };
    let mut first = true;
    loop {
        let head = match next_head(&mut c, &ctx, first, &mut stop).await {
            Next::Head(h) => h,
            Next::End => break,
            Next::Refused(why) => {
                refuse_framing(&mut c, &ctx, why).await;
                break;
            }
        };
        first = false;
        if forward::request(&mut c, head, &ctx).await == After::Close || *stop.borrow() {
            break;
        }
        // A kept-alive connection keeps a small buffer for its next head
        // (one allocation less per request); a large one is let go.
        if c.buf.is_empty() && c.buf.capacity() > 16 * 1024 {
            c.buf = BytesMut::new();
        }
    }
    let _ = c.io.shutdown().await;
}

async fn next_head<T: Io>(
    c: &mut Client<T>,
    ctx: &Ctx,
    first: bool,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Next {
    let timeout = ctx.opts.header_timeout;
    let max = ctx.opts.max_header.max(8192);
    let mut deadline = first.then(|| Instant::now() + timeout);
    loop {
        match request::parse(&mut c.buf, max) {
            Ok(Some(h)) => return Next::Head(h),
            Ok(None) => {}
            Err(why) => return Next::Refused(why),
        }
        if deadline.is_none() && !c.buf.is_empty() {
            deadline = Some(Instant::now() + timeout);
        }
        c.buf.reserve(4096);
        let read = c.io.read_buf(&mut c.buf);
        let n = match deadline {
            Some(d) => match tokio::time::timeout_at(d.into(), read).await {
                Ok(r) => r,
                Err(_) => return Next::End,
            },
            // Idle between requests: the proxy stopping ends it.
            None => tokio::select! {
                r = read => r,
                _ = stop.wait_for(|s| *s) => return Next::End,
            },
        };
        match n {
            Ok(0) | Err(_) => return Next::End,
            Ok(_) => {}
        }
    }
}

/// 400 for a head that cannot be framed one way only (431 for one too
/// large), and the connection closes: nothing after it can be trusted.
async fn refuse_framing<T: Io>(c: &mut Client<T>, ctx: &Ctx, why: request::Refusal) {
    let rec = ctx.record("", "", Instant::now());
    let status = if why == "the request head is too large" {
        431
    } else {
        400
    };
    let r = ctx.deny(
        rec,
        &Deny {
            status,
            rule: "HTTP framing".into(),
            hint: format!(
                "{why}; framing that could be read two ways is refused (RFC 9112 §6): \
                 send one Content-Length, or Transfer-Encoding: chunked alone"
            ),
        },
    );
    let _ = reply(&mut c.io, r, false, false, false).await;
}

/// Writes an answer the proxy made: framed by its known length, else
/// chunked (or, to an HTTP/1.0 client, until the connection closes); to a
/// HEAD request, the head alone. `Keep` when the connection may carry the
/// next request.
pub(super) async fn reply<W: AsyncWrite + Unpin>(
    io: &mut W,
    res: Response<Body>,
    keep: bool,
    http_1_0: bool,
    to_head: bool,
) -> After {
    let (parts, mut body) = res.into_parts();
    let exact = body.size_hint().exact();
    let chunked = exact.is_none() && !http_1_0;
    let keep = keep && (exact.is_some() || chunked);
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {} {}\r\n",
            parts.status.as_u16(),
            parts.status.canonical_reason().unwrap_or("")
        )
        .as_bytes(),
    );
    for (k, v) in &parts.headers {
        if k == hyper::header::CONTENT_LENGTH
            || k == hyper::header::TRANSFER_ENCODING
            || k == hyper::header::CONNECTION
        {
            continue;
        }
        out.extend_from_slice(k.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    match exact {
        Some(n) => out.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes()),
        None if chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        None => {}
    }
    if !keep {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if to_head {
        // (The body is dropped unread; its audit line is written then.)
        let ok = io.write_all(&out).await.is_ok() && io.flush().await.is_ok();
        return if ok && keep {
            After::Keep
        } else {
            After::Close
        };
    }
    // A stream's head goes out now: its first piece may be long in coming.
    if exact.is_none() {
        if io.write_all(&out).await.is_err() || io.flush().await.is_err() {
            return After::Close;
        }
        out.clear();
    }
    loop {
        match body.frame().await {
            Some(Ok(f)) => {
                let Ok(d) = f.into_data() else { continue };
                if d.is_empty() {
                    continue;
                }
                if chunked {
                    out.extend_from_slice(&chunk_head(d.len()));
                }
                out.extend_from_slice(&d);
                if chunked {
                    out.extend_from_slice(b"\r\n");
                }
                // The whole answer in one write when it is one piece.
                if body.is_end_stream() {
                    continue;
                }
                if io.write_all(&out).await.is_err() || io.flush().await.is_err() {
                    return After::Close;
                }
                out.clear();
            }
            None => break,
            Some(Err(_)) => return After::Close,
        }
    }
    if chunked {
        out.extend_from_slice(LAST_CHUNK);
    }
    if io.write_all(&out).await.is_err() || io.flush().await.is_err() {
        return After::Close;
    }
    if keep {
        After::Keep
    } else {
        After::Close
    }
}
