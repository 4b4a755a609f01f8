//! `/events` subscriptions to dockerd without hyper's client connection.
//!
//! Why: an `/events` subscription is idle almost all of its life, and a
//! thousand of them must fit in 30 MB (docs/BENCHMARKS.md §6). hyper's HTTP/1 client
//! connection costs about 20 KB of heap per connection whatever it carries:
//! an 8 KiB write buffer, the read buffer, a request channel whose first
//! block holds 32 requests, a dispatcher and a driver task (measured with
//! heaptrack). A subscription needs none of that: one request head out, one
//! response head in, then a body read as it comes. So this module writes
//! the head itself, parses the answer with `framing::response` and decodes
//! the body's framing with the sans-I/O [`Decoder`] of `framing`. The body
//! is a hyper body because the visibility filter (`events`) reworks it as
//! a stream of lines.

use crate::framing::{response, Decoded, Decoder};
use crate::upstream::{Body, BoxError, Upstream};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Frame;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};

/// Largest response head accepted from dockerd.
const MAX_HEAD: usize = 64 * 1024;
/// Bytes asked of the socket per read: events are a few hundred bytes.
const READ: usize = 2048;

/// Send `head` (a request head without a body) on a new connection to
/// dockerd and return the response head with a body that reads the rest
/// from that connection.
pub async fn get(
    upstream: &Upstream,
    head: &[u8],
) -> Result<(hyper::http::response::Parts, Body), String> {
    let mut io = upstream.stream().await.map_err(|e| e.to_string())?;
    io.write_all(head)
        .await
        .map_err(|e| format!("cannot send the request to dockerd: {e}"))?;
    let mut buf = BytesMut::with_capacity(READ);
    loop {
        if let Some(h) = response::parse(&mut buf, false)? {
            let parts = h.parts()?;
            let body = match h.body {
                None => crate::upstream::full(Bytes::new()),
                Some(dec) => RawBody { io, buf, dec }.boxed(),
            };
            return Ok((parts, body));
        }
        if buf.len() >= MAX_HEAD {
            return Err("dockerd's response head is over 64 KiB".into());
        }
        buf.reserve(READ);
        let n = io
            .read_buf(&mut buf)
            .await
            .map_err(|e| format!("reading dockerd's answer: {e}"))?;
        if n == 0 {
            return Err("dockerd closed the connection before answering".into());
        }
    }
}

/// The body of a response read by [`get`]: what the decoder finds in the
/// buffer, refilled from the connection as needed.
struct RawBody {
    io: Box<dyn crate::upstream::Io>,
    buf: BytesMut,
    dec: Decoder,
}

impl hyper::body::Body for RawBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            match this.dec.decode(&mut this.buf) {
                Ok(Decoded::Data(d)) => return Poll::Ready(Some(Ok(Frame::data(d)))),
                Ok(Decoded::Done) => return Poll::Ready(None),
                Ok(Decoded::NeedMore) => {}
                Err(e) => return Poll::Ready(Some(Err(format!("dockerd's answer: {e}").into()))),
            }
            let mut chunk = [0u8; READ];
            let mut rb = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.io).poll_read(cx, &mut rb) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(Box::new(e)))),
                Poll::Ready(Ok(())) if rb.filled().is_empty() => {
                    return match this.dec.at_eof() {
                        Ok(()) => Poll::Ready(None),
                        Err(e) => Poll::Ready(Some(Err(format!("dockerd's answer: {e}").into()))),
                    };
                }
                Poll::Ready(Ok(())) => this.buf.extend_from_slice(rb.filled()),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.dec.is_done()
    }
}
