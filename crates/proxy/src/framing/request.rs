//! A client's request head: parsed once (httparse, as hyper parses it),
//! judged for ambiguous framing (RFC 9112 §6.1, §6.3), and written on to
//! dockerd from the same bytes.

use super::{Decoder, Lines, State, MAX_HEADERS};
use bytes::{Bytes, BytesMut};
use std::ops::Range;

/// One request head, as the client sent it.
#[derive(Debug, Clone)]
pub struct Head {
    /// The head's bytes, as they came (its blank line included).
    raw: Bytes,
    method: Range<usize>,
    target: Range<usize>,
    /// HTTP/1.`version`.
    pub version: u8,
    lines: Lines,
    /// The body's framing; `None`: no body.
    pub body: Option<Decoder>,
    /// The body is chunked (else it has a Content-Length, or none).
    pub chunked: bool,
    /// The declared Content-Length.
    pub length: Option<u64>,
    /// The client keeps the connection for another request (RFC 9112 §9.3:
    /// HTTP/1.1 unless `Connection: close`; HTTP/1.0 is closed).
    pub keep_alive: bool,
    /// `Expect: 100-continue`: the client waits for a 100 before its body.
    pub expect_continue: bool,
}

/// How the body goes on to dockerd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// As it came: its Content-Length line, or chunked.
    AsSent,
    /// Replaced by this many bytes (a checked body, re-encoded).
    Length(usize),
}

impl Head {
    pub fn method(&self) -> &str {
        // httparse took the method as a token: ASCII.
        std::str::from_utf8(&self.raw[self.method.clone()]).unwrap_or("")
    }

    /// The request target, as sent (httparse's URI characters; a target
    /// with bytes outside ASCII is refused by [`parse`]).
    pub fn target(&self) -> &str {
        std::str::from_utf8(&self.raw[self.target.clone()]).unwrap_or("")
    }

    /// The value of `Upgrade`, when the client asks for one: an Upgrade
    /// header that `Connection` names (RFC 9110 §7.8); without that, it
    /// is a hop-by-hop header like any other and is dropped.
    pub fn upgrade(&self) -> Option<&[u8]> {
        if !self.lines.lists(&self.raw, "connection", "upgrade") {
            return None;
        }
        self.lines.values(&self.raw, "upgrade").next()
    }

    /// The values of the header `name`, in order.
    pub fn header<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.lines.values(&self.raw, name)
    }

    /// The head dockerd receives: the request line (with `target` when the
    /// proxy pinned a container's id into it) and every header line as it
    /// came, minus the hop-by-hop ones; `Host: docker` when the client sent
    /// no Host; the upgrade asked for; the body's framing. Always HTTP/1.1
    /// to dockerd, so its connection can serve the next request.
    pub fn upstream(&self, target: Option<&str>, body: Body, upgrade: bool) -> Vec<u8> {
        let raw = &self.raw[..];
        let mut out = Vec::with_capacity(raw.len() + 64);
        out.extend_from_slice(&raw[self.method.clone()]);
        out.push(b' ');
        match target {
            Some(t) => out.extend_from_slice(t.as_bytes()),
            None => out.extend_from_slice(&raw[self.target.clone()]),
        }
        out.extend_from_slice(b" HTTP/1.1\r\n");
        // The framing is written below from what the decoder reads, never
        // copied from the client.
        let skip: &[&[u8]] = match body {
            Body::Length(n) if n > 0 => &[b"content-length", b"content-type"],
            _ => &[b"content-length"],
        };
        self.lines.write(raw, skip, &mut out);
        if self.header("host").next().is_none() {
            out.extend_from_slice(b"Host: docker\r\n");
        }
        if let Some(u) = self.upgrade().filter(|_| upgrade) {
            out.extend_from_slice(b"Connection: Upgrade\r\nUpgrade: ");
            out.extend_from_slice(u);
            out.extend_from_slice(b"\r\n");
        }
        match body {
            Body::AsSent if self.chunked => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
            }
            Body::AsSent => {
                if let Some(n) = self.length {
                    out.extend_from_slice(b"Content-Length: ");
                    out.extend_from_slice(n.to_string().as_bytes());
                    out.extend_from_slice(b"\r\n");
                }
            }
            Body::Length(0) => out.extend_from_slice(b"Content-Length: 0\r\n"),
            Body::Length(n) => {
                out.extend_from_slice(b"Content-Type: application/json\r\nContent-Length: ");
                out.extend_from_slice(n.to_string().as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// Why a head is refused; the reason is told to the client.
pub type Refusal = &'static str;

/// A request head at the start of `buf`: taken off it when complete
/// (`Ok(None)` while it is not). `max_head`: the largest head accepted.
pub fn parse(buf: &mut BytesMut, max_head: usize) -> Result<Option<Head>, Refusal> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let used = match req.parse(buf) {
        Ok(httparse::Status::Complete(used)) => used,
        Ok(httparse::Status::Partial) if buf.len() > max_head => {
            return Err("the request head is too large")
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err("the request has over 96 headers"),
        Err(_) => return Err("the request head is invalid"),
    };
    if used > max_head {
        return Err("the request head is too large");
    }
    // Room for the few lines the proxy adds (Host, an upgrade, the
    // framing) within hyper's and dockerd's limit of 100.
    if req.headers.len() > MAX_HEADERS - 4 {
        return Err("the request has over 96 headers");
    }
    let base: &[u8] = buf;
    let off = |part: &[u8]| part.as_ptr() as usize - base.as_ptr() as usize;
    let (m, t) = (req.method.unwrap_or(""), req.path.unwrap_or(""));
    // hyper reads the target as a URI, which is ASCII; so does the policy.
    if !t.is_ascii() || t.parse::<hyper::Uri>().is_err() {
        return Err("the request target is not a valid URI");
    }
    let method = off(m.as_bytes())..off(m.as_bytes()) + m.len();
    let target = off(t.as_bytes())..off(t.as_bytes()) + t.len();
    let version = req.version.unwrap_or(1);
    let lines = Lines::read(base, req.headers);
    let (body, chunked, length) = judge(req.headers, version)?;
    let mut head = Head {
        raw: Bytes::new(),
        method,
        target,
        version,
        lines,
        body,
        chunked,
        length,
        keep_alive: false,
        expect_continue: false,
    };
    head.raw = buf.split_to(used).freeze();
    head.keep_alive = version == 1 && !head.lines.lists(&head.raw, "connection", "close");
    head.expect_continue = version == 1
        && head
            .header("expect")
            .any(|v| v.trim_ascii().eq_ignore_ascii_case(b"100-continue"));
    Ok(Some(head))
}

/// One request head's body framing (RFC 9112 §6.3) and whether it is
/// chunked, or why it is refused.
type Framing = (Option<Decoder>, bool, Option<u64>);

fn judge(headers: &[httparse::Header<'_>], version: u8) -> Result<Framing, Refusal> {
    let (mut length, mut lengths, mut codings) = (None, 0usize, 0usize);
    let mut chunked = true;
    for h in headers {
        let value = h.value.trim_ascii();
        if h.name.eq_ignore_ascii_case("content-length") {
            lengths += 1;
            length = Some(value);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            codings += 1;
            chunked &= value.eq_ignore_ascii_case(b"chunked");
        }
    }
    if lengths > 0 && codings > 0 {
        return Err("Content-Length together with Transfer-Encoding");
    }
    if lengths > 1 || length.is_some_and(|v| v.contains(&b',')) {
        return Err("more than one Content-Length");
    }
    if codings > 1 || !chunked {
        return Err("a transfer coding other than chunked");
    }
    if codings > 0 && version == 0 {
        return Err("Transfer-Encoding in an HTTP/1.0 request");
    }
    let length = match length {
        Some(v) => Some(
            std::str::from_utf8(v)
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or("an invalid Content-Length")?,
        ),
        None => None,
    };
    let body = match length {
        Some(n) => Decoder::length(n),
        None if codings > 0 => Decoder::chunked(),
        None => return Ok((None, false, None)),
    };
    let chunked = codings > 0;
    Ok((Some(body).filter(|d| d.0 != State::Done), chunked, length))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(input: &[u8]) -> Result<Option<Head>, Refusal> {
        parse(&mut BytesMut::from(input), 8192)
    }

    #[test]
    fn a_head_is_written_on_as_it_came_minus_its_hops() {
        let h = one(b"POST /v1.41/containers/create?name=a HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nkeep-alive: 5\r\nX-Registry-Auth:  abc\r\nContent-Length: 2\r\n\r\n{}")
            .unwrap()
            .unwrap();
        assert_eq!(h.method(), "POST");
        assert_eq!(h.target(), "/v1.41/containers/create?name=a");
        assert!(h.keep_alive && !h.chunked && h.body.is_some());
        let up = String::from_utf8(h.upstream(None, Body::AsSent, true)).unwrap();
        assert_eq!(
            up,
            "POST /v1.41/containers/create?name=a HTTP/1.1\r\nHost: x\r\nX-Registry-Auth: abc\r\nContent-Length: 2\r\n\r\n"
        );
        let up = String::from_utf8(h.upstream(Some("/v1.41/x"), Body::Length(7), true)).unwrap();
        assert_eq!(
            up,
            "POST /v1.41/x HTTP/1.1\r\nHost: x\r\nX-Registry-Auth: abc\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n"
        );
    }

    #[test]
    fn connection_cannot_take_the_framing_or_the_host_away() {
        let h = one(b"POST /a HTTP/1.1\r\nHost: h\r\nConnection: Content-Length, host, x-a\r\nX-A: 1\r\nContent-Length: 28\r\n\r\n")
            .unwrap()
            .unwrap();
        let up = String::from_utf8(h.upstream(None, Body::AsSent, true)).unwrap();
        assert_eq!(
            up,
            "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 28\r\n\r\n"
        );
    }

    #[test]
    fn chunked_upgrades_and_http_1_0() {
        let h = one(b"POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.chunked && !h.keep_alive);
        let up = String::from_utf8(h.upstream(None, Body::AsSent, true)).unwrap();
        assert_eq!(
            up,
            "POST /b HTTP/1.1\r\nHost: docker\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        let h = one(
            b"POST /session HTTP/1.1\r\nHost: d\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(h.upgrade(), Some(&b"h2c"[..]));
        let up = String::from_utf8(h.upstream(None, Body::AsSent, true)).unwrap();
        assert_eq!(
            up,
            "POST /session HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
        );
        let h = one(b"GET /_ping HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!h.keep_alive && h.body.is_none());
        assert!(one(b"GET /_ping HTTP/1.1\r\nHost:").unwrap().is_none());
    }

    #[test]
    fn ambiguous_framing_is_refused() {
        let cases: [(&[u8], &str); 10] = [
            (
                b"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
                "Content-Length together with Transfer-Encoding",
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n",
                "Content-Length together with Transfer-Encoding",
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n",
                "more than one Content-Length",
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\n",
                "more than one Content-Length",
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: +2\r\n\r\n",
                "an invalid Content-Length",
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                "a transfer coding other than chunked",
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                "a transfer coding other than chunked",
            ),
            (
                b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                "Transfer-Encoding in an HTTP/1.0 request",
            ),
            (
                b"GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n",
                "the request head is invalid",
            ),
            (
                b"GET /\xc3\xa9 HTTP/1.1\r\n\r\n",
                "the request target is not a valid URI",
            ),
        ];
        for (head, why) in cases {
            assert_eq!(
                one(head).err(),
                Some(why),
                "{}",
                String::from_utf8_lossy(head)
            );
        }
        assert_eq!(
            parse(&mut BytesMut::from(&[b'a'; 100][..]), 64).err(),
            Some("the request head is too large")
        );
    }

    #[test]
    fn the_head_is_taken_off_the_buffer_and_the_body_stays() {
        let mut buf = BytesMut::from(&b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET"[..]);
        let h = parse(&mut buf, 8192).unwrap().unwrap();
        assert_eq!(&buf[..], b"abcGET");
        assert!(!h.expect_continue && h.body.is_some());
    }
}
