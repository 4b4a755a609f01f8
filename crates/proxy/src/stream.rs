//! `/events` subscriptions to dockerd without hyper's client connection.
//!
//! Why: an `/events` subscription is idle almost all of its life, and a
//! thousand of them must fit in 30 MB (docs/BENCHMARKS.md §6). hyper's HTTP/1 client
//! connection costs about 20 KB of heap per connection whatever it carries:
//! an 8 KiB write buffer, the read buffer, a request channel whose first
//! block holds 32 requests, a dispatcher and a driver task (measured with
//! heaptrack). A subscription needs none of that: one request head out, one
//! response head in, then a body read as it comes. So this module writes
//! the head itself, parses the answer with `httparse` (the parser hyper uses)
//! and decodes the body's framing with the sans-I/O [`Decoder`] of
//! `framing`. The client side stays hyper's, so everything a client sends is still parsed once, by
//! hyper; only dockerd's answer is read here, and what reaches the client is
//! re-framed by hyper's server.

use crate::framing::{Decoded, Decoder};
use crate::upstream::{Body, BoxError, Upstream};
use bytes::{Buf, Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Frame;
use hyper::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use hyper::{Method, Request, Response, StatusCode};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};

/// Largest response head accepted from dockerd.
const MAX_HEAD: usize = 64 * 1024;
/// Bytes asked of the socket per read: events are a few hundred bytes.
const READ: usize = 2048;

/// The request head as bytes: `GET /path HTTP/1.1`, the headers prepared
/// for dockerd (no body: the only route sent here is a GET).
fn request_head(req: &Request<Body>) -> Vec<u8> {
    let mut h = Vec::with_capacity(256);
    h.extend_from_slice(req.method().as_str().as_bytes());
    h.push(b' ');
    let target = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .as_bytes();
    h.extend_from_slice(target);
    h.extend_from_slice(b" HTTP/1.1\r\n");
    for (k, v) in req.headers() {
        if k == CONTENT_LENGTH || k == TRANSFER_ENCODING || k == CONNECTION {
            continue;
        }
        h.extend_from_slice(k.as_str().as_bytes());
        h.extend_from_slice(b": ");
        h.extend_from_slice(v.as_bytes());
        h.extend_from_slice(b"\r\n");
    }
    h.extend_from_slice(b"\r\n");
    h
}

/// A complete response head in `buf`: the response parts, the body's
/// decoder (`None`: no body) and the head's length.
pub fn parse_head(
    buf: &[u8],
    method: &Method,
) -> Result<Option<(hyper::http::response::Parts, Option<Decoder>, usize)>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut res = httparse::Response::new(&mut headers);
    let used = match res.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("dockerd's response head is invalid ({e})")),
    };
    let status = res
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or("dockerd's response has no valid status")?;
    let mut b = Response::builder().status(status);
    let mut chunked = None;
    let mut length: Option<u64> = None;
    for h in res.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| format!("dockerd sent an invalid header name {:?}", h.name))?;
        let value = HeaderValue::from_bytes(h.value)
            .map_err(|_| format!("dockerd sent an invalid value for {name}"))?;
        if name == TRANSFER_ENCODING {
            // Only the last coding decides (RFC 9112 §6.3 ¶4).
            let last = value
                .to_str()
                .ok()
                .and_then(|v| v.rsplit(',').next())
                .map(|c| c.trim().eq_ignore_ascii_case("chunked"));
            chunked = Some(last == Some(true));
        } else if name == CONTENT_LENGTH {
            let n = value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or("dockerd sent an invalid Content-Length")?;
            if length.is_some_and(|l| l != n) {
                return Err("dockerd sent two different Content-Lengths".into());
            }
            length = Some(n);
        }
        b = b.header(name, value);
    }
    let decoder = if method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        None
    } else {
        // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3 ¶3).
        Some(match (chunked, length) {
            (Some(true), _) => Decoder::chunked(),
            (Some(false), _) => Decoder::until_close(),
            (None, Some(n)) => Decoder::length(n),
            (None, None) => Decoder::until_close(),
        })
    };
    let (parts, ()) = b
        .body(())
        .map_err(|e| format!("dockerd's response head: {e}"))?
        .into_parts();
    Ok(Some((parts, decoder, used)))
}

/// Send `req` on a new connection to dockerd and return the response
/// head with a body that reads the rest from that connection.
pub async fn get(
    upstream: &Upstream,
    req: &Request<Body>,
) -> Result<(hyper::http::response::Parts, Body), String> {
    let mut io = upstream.stream().await.map_err(|e| e.to_string())?;
    io.write_all(&request_head(req))
        .await
        .map_err(|e| format!("cannot send the request to dockerd: {e}"))?;
    let mut buf = BytesMut::with_capacity(READ);
    loop {
        if let Some((parts, decoder, used)) = parse_head(&buf, req.method())? {
            buf.advance(used);
            let body = match decoder {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_heads() {
        let get = Method::GET;
        let (p, dec, used) = parse_head(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n",
            &get,
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.status, 200);
        assert_eq!(used, 79);
        assert!(!dec.unwrap().is_done());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-", &get)
            .unwrap()
            .is_none());
        let (_, dec, _) = parse_head(b"HTTP/1.1 204 No Content\r\n\r\n", &get)
            .unwrap()
            .unwrap();
        assert!(dec.is_none());
        let (_, dec, _) = parse_head(
            b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n",
            &Method::HEAD,
        )
        .unwrap()
        .unwrap();
        assert!(dec.is_none());
        assert!(parse_head(
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            &get
        )
        .is_err());
        assert!(parse_head(b"HTTP/1.1 2000 Huge\r\n\r\n", &get).is_err());
    }

    #[test]
    fn the_request_head_drops_framing_and_connection() {
        let mut req = Request::new(crate::upstream::full(Bytes::new()));
        *req.uri_mut() = "/v1.41/events?filters=%7B%7D".parse().unwrap();
        req.headers_mut()
            .insert("host", HeaderValue::from_static("docker"));
        req.headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from_static("5"));
        req.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("keep-alive"));
        let head = String::from_utf8(request_head(&req)).unwrap();
        assert_eq!(
            head,
            "GET /v1.41/events?filters=%7B%7D HTTP/1.1\r\nhost: docker\r\n\r\n"
        );
    }
}
