//! dockerd's answer head: parsed once (httparse), its body's framing found
//! (RFC 9112 §6.3), and written on to the client from the same bytes.

use super::{Decoder, Lines, MAX_HEADERS};
use bytes::{Bytes, BytesMut};
use std::ops::Range;

/// One response head from dockerd.
#[derive(Debug, Clone)]
pub struct Head {
    raw: Bytes,
    pub status: u16,
    reason: Range<usize>,
    lines: Lines,
    /// The body's framing; `None`: no body (HEAD, 1xx, 204, 304).
    pub body: Option<Decoder>,
    /// The body's Content-Length, when it has one and is not chunked.
    pub length: Option<u64>,
    /// dockerd ends the connection after this answer.
    pub close: bool,
}

/// How the client receives the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Out {
    /// Content-Length: this many bytes.
    Length(u64),
    /// Transfer-Encoding: chunked.
    Chunked,
    /// Until the connection closes (HTTP/1.0 clients).
    Close,
    /// No body follows; a Content-Length dockerd sent (to HEAD) stays.
    None,
    /// 101: the upgrade dockerd accepted.
    Upgrade,
}

impl Head {
    /// The connection can carry another request after this answer.
    pub fn keeps(&self) -> bool {
        !self.close && !self.body.as_ref().is_some_and(Decoder::is_until_close)
    }

    /// The value of `Upgrade` dockerd answered with.
    pub fn upgrade(&self) -> Option<&[u8]> {
        self.lines.values(&self.raw, "upgrade").next()
    }

    /// The head the client receives: HTTP/1.1, dockerd's status and
    /// reason and every header line as it came, minus the hop-by-hop ones;
    /// then the framing `out`, and `Connection: close` when `close`.
    pub fn client(&self, out: Out, close: bool) -> Vec<u8> {
        let raw = &self.raw[..];
        let mut h = Vec::with_capacity(raw.len() + 48);
        // (status is 100..=999: three digits.)
        let digit = |d: u16| b'0' + (d % 10) as u8;
        let s = self.status;
        h.extend_from_slice(b"HTTP/1.1 ");
        h.extend_from_slice(&[digit(s / 100), digit(s / 10), digit(s), b' ']);
        h.extend_from_slice(&raw[self.reason.clone()]);
        h.extend_from_slice(b"\r\n");
        let skip: &[&[u8]] = match out {
            Out::None => &[],
            _ => &[b"content-length"],
        };
        self.lines.write(raw, skip, &mut h);
        match out {
            Out::Length(n) => {
                h.extend_from_slice(b"Content-Length: ");
                h.extend_from_slice(n.to_string().as_bytes());
                h.extend_from_slice(b"\r\n");
            }
            Out::Chunked => h.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
            Out::Close | Out::None => {}
            Out::Upgrade => {
                h.extend_from_slice(b"Connection: Upgrade\r\n");
                if let Some(u) = self.upgrade() {
                    h.extend_from_slice(b"Upgrade: ");
                    h.extend_from_slice(u);
                    h.extend_from_slice(b"\r\n");
                }
            }
        }
        if close && out != Out::Upgrade {
            h.extend_from_slice(b"Connection: close\r\n");
        }
        h.extend_from_slice(b"\r\n");
        h
    }

    /// The head as hyper's response parts (for bodies the proxy reworks as
    /// a stream: `/events`).
    pub fn parts(&self) -> Result<hyper::http::response::Parts, String> {
        use hyper::header::{HeaderName, HeaderValue};
        let mut b = hyper::Response::builder().status(self.status);
        for ((n, v), pass) in self.lines.at.iter().zip(&self.lines.pass) {
            if !pass {
                continue;
            }
            let name = HeaderName::from_bytes(&self.raw[n.clone()])
                .map_err(|_| "dockerd sent an invalid header name".to_string())?;
            let value = HeaderValue::from_bytes(&self.raw[v.clone()])
                .map_err(|_| format!("dockerd sent an invalid value for {name}"))?;
            b = b.header(name, value);
        }
        Ok(b.body(())
            .map_err(|e| format!("dockerd's response head: {e}"))?
            .into_parts()
            .0)
    }
}

/// A response head at the start of `buf`, taken off it when complete
/// (`Ok(None)` while it is not). `to_head`: the request was a HEAD.
pub fn parse(buf: &mut BytesMut, to_head: bool) -> Result<Option<Head>, String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut headers);
    let used = match res.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("dockerd's response head is invalid ({e})")),
    };
    let status = res
        .code
        .filter(|c| (100..=999).contains(c))
        .ok_or("dockerd's response has no valid status")?;
    let base: &[u8] = buf;
    let off = |part: &[u8]| part.as_ptr() as usize - base.as_ptr() as usize;
    let reason = res.reason.unwrap_or("");
    // httparse's reason may be empty and then borrow from nowhere.
    let reason = if reason.is_empty() {
        0..0
    } else {
        off(reason.as_bytes())..off(reason.as_bytes()) + reason.len()
    };
    let lines = Lines::read(base, res.headers);
    let mut chunked = None;
    let mut length: Option<u64> = None;
    for h in res.headers.iter() {
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            // Only the last coding decides (RFC 9112 §6.3 ¶4).
            let last = h
                .value
                .rsplit(|b| *b == b',')
                .next()
                .map(<[u8]>::trim_ascii);
            chunked = Some(last.is_some_and(|c| c.eq_ignore_ascii_case(b"chunked")));
        } else if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or("dockerd sent an invalid Content-Length")?;
            if length.is_some_and(|l| l != n) {
                return Err("dockerd sent two different Content-Lengths".into());
            }
            length = Some(n);
        }
    }
    let version = res.version.unwrap_or(1);
    let bodiless = to_head || (100..200).contains(&status) || status == 204 || status == 304;
    // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3 ¶3).
    let (body, length) = match (chunked, length) {
        _ if bodiless => (None, length),
        (Some(true), _) => (Some(Decoder::chunked()), None),
        (Some(false), _) => (Some(Decoder::until_close()), None),
        (None, Some(n)) => (Some(Decoder::length(n)), Some(n)),
        (None, None) => (Some(Decoder::until_close()), None),
    };
    let raw = buf.split_to(used).freeze();
    let mut head = Head {
        raw,
        status,
        reason,
        lines,
        body,
        length,
        close: false,
    };
    head.close = version == 0 && !head.lines.lists(&head.raw, "connection", "keep-alive")
        || head.lines.lists(&head.raw, "connection", "close");
    Ok(Some(head))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(input: &[u8], to_head: bool) -> Result<Option<Head>, String> {
        parse(&mut BytesMut::from(input), to_head)
    }

    #[test]
    fn framings() {
        let h = one(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n",
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!(h.status, 200);
        assert!(h.body.is_some() && h.length.is_none() && !h.close);
        assert_eq!(
            String::from_utf8(h.client(Out::Chunked, false)).unwrap(),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        assert!(one(b"HTTP/1.1 200 OK\r\nContent-", false)
            .unwrap()
            .is_none());
        let h = one(b"HTTP/1.1 204 No Content\r\n\r\n", false)
            .unwrap()
            .unwrap();
        assert!(h.body.is_none());
        let h = one(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n", true)
            .unwrap()
            .unwrap();
        assert!(h.body.is_none());
        assert_eq!(
            String::from_utf8(h.client(Out::None, false)).unwrap(),
            "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"
        );
        assert!(one(
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            false
        )
        .is_err());
        assert!(one(b"HTTP/1.1 2000 Huge\r\n\r\n", false).is_err());
        let h = one(b"HTTP/1.0 200 OK\r\n\r\nall", false).unwrap().unwrap();
        assert!(h.close && h.body.is_some());
        let h = one(
            b"HTTP/1.1 200\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
            false,
        )
        .unwrap()
        .unwrap();
        assert!(h.close && h.length == Some(2));
        assert_eq!(
            String::from_utf8(h.client(Out::Length(2), true)).unwrap(),
            "HTTP/1.1 200 \r\nContent-Length: 2\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn an_upgrade_keeps_only_its_own_hop_headers() {
        let h = one(
            b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            String::from_utf8(h.client(Out::Upgrade, false)).unwrap(),
            "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
        );
    }
}
