//! HTTP/1.1 message framing (RFC 9112 §6–7) over plain bytes, no I/O:
//! the one parse every request gets.
//!
//! The proxy reads what a client sends with [`request::parse`] (httparse,
//! the parser hyper uses, at its default strictness), decides on that
//! parse, and forwards the very bytes it parsed: the request line and the
//! header lines as they came, minus the hop-by-hop ones (RFC 9110 §7.6.1),
//! and the body through the [`Decoder`] that found where it ends. There is
//! no second HTTP implementation between the check and dockerd, so no
//! second reading of the same bytes that could differ from the one
//! checked. dockerd's answers are read the same way ([`response::parse`]).
//!
//! Where RFC 9112 lets a server refuse an ambiguous framing, this refuses
//! it (400), where hyper would settle it by itself: Content-Length with
//! Transfer-Encoding (RFC 9112 §6.1), repeated Content-Lengths, also `5, 5`
//! in one line (§6.3), a transfer coding other than chunked, chunked in
//! HTTP/1.0. These are the shapes request smuggling is made of, and
//! whoever sends them is broken or probing.
//!
//! Bodies are re-framed the way hyper frames them: a body of known length
//! passes as its bytes; a chunked body passes as its chunks' data, each
//! re-chunked, with chunk extensions and trailer fields dropped (hyper
//! drops them too, and dockerd reads neither). The differential fuzz
//! target `proxy_framing_hyper` holds this module to hyper: what the proxy
//! forwards, read by hyper, is what hyper reads from the client's bytes.

pub mod request;
pub mod response;

use bytes::{Buf, Bytes, BytesMut};

/// Largest chunk-size line or trailer line.
const MAX_LINE: usize = 4096;
/// Header lines a head may have: hyper's limit, refused above.
pub const MAX_HEADERS: usize = 100;

/// What one [`Decoder::decode`] call yields.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    Data(Bytes),
    /// The body ended; bytes after it are not the body's.
    Done,
    /// Read more and call again.
    NeedMore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Size,
    Chunk(u64),
    ChunkEnd,
    Trailer,
    Length(u64),
    UntilClose,
    Done,
}

/// A body's framing, decoded from a buffer the caller fills.
#[derive(Debug, Clone)]
pub struct Decoder(State, Spent);

/// What a chunked body spent of the limits hyper sets on a whole body:
/// 16 KiB of chunk extensions, 100 trailer fields in 16 KiB. A body over
/// them loses its framing here as it would in hyper.
#[derive(Debug, Clone, Copy, Default)]
struct Spent {
    extensions: usize,
    trailers: usize,
    trailer_bytes: usize,
}

const EXTENSIONS_LIMIT: usize = 16 * 1024;
const TRAILERS_LIMIT: usize = 100;
const TRAILER_BYTES_LIMIT: usize = 16 * 1024 - 64;

impl Decoder {
    pub fn chunked() -> Self {
        Self(State::Size, Spent::default())
    }

    pub fn length(n: u64) -> Self {
        Self(
            if n == 0 {
                State::Done
            } else {
                State::Length(n)
            },
            Spent::default(),
        )
    }

    pub fn until_close() -> Self {
        Self(State::UntilClose, Spent::default())
    }

    /// Take what the buffer holds of the body.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded, String> {
        loop {
            match self.0 {
                State::Done => return Ok(Decoded::Done),
                State::Size => match chunk_size(buf)? {
                    Some((used, size, ext)) => {
                        self.1.extensions += ext;
                        if self.1.extensions >= EXTENSIONS_LIMIT {
                            return Err("chunk extensions over 16 KiB".into());
                        }
                        buf.advance(used);
                        self.0 = if size == 0 {
                            State::Trailer
                        } else {
                            State::Chunk(size)
                        };
                    }
                    None => return Ok(Decoded::NeedMore),
                },
                State::Chunk(_) | State::Length(_) | State::UntilClose if buf.is_empty() => {
                    return Ok(Decoded::NeedMore);
                }
                State::Chunk(n) | State::Length(n) => {
                    let k = usize::try_from(n).unwrap_or(usize::MAX).min(buf.len());
                    let rest = n - k as u64;
                    self.0 = match (self.0, rest) {
                        (State::Chunk(_), 0) => State::ChunkEnd,
                        (State::Chunk(_), r) => State::Chunk(r),
                        (_, 0) => State::Done,
                        (_, r) => State::Length(r),
                    };
                    return Ok(Decoded::Data(buf.split_to(k).freeze()));
                }
                State::UntilClose => return Ok(Decoded::Data(buf.split().freeze())),
                State::ChunkEnd => {
                    if buf.len() < 2 {
                        return Ok(Decoded::NeedMore);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err("a chunk does not end with CRLF".into());
                    }
                    buf.advance(2);
                    self.0 = State::Size;
                }
                State::Trailer => match buf.windows(2).position(|w| w == b"\r\n") {
                    // The empty line ends the trailer section; trailer
                    // fields are dropped (hyper would not forward them).
                    Some(0) => {
                        buf.advance(2);
                        self.0 = State::Done;
                    }
                    // A trailer line must be a header field, as hyper
                    // reads it; anything else loses the framing.
                    Some(i) => {
                        let mut line = buf[..i + 2].to_vec();
                        line.extend_from_slice(b"\r\n");
                        let mut h = [httparse::EMPTY_HEADER; 1];
                        let one = !buf[..i].contains(&b'\n')
                            && !buf[..i].contains(&b'\r')
                            && matches!(
                                httparse::parse_headers(&line, &mut h),
                                Ok(httparse::Status::Complete((n, [_]))) if n == line.len()
                            );
                        if !one {
                            return Err("an invalid trailer field".into());
                        }
                        self.1.trailers += 1;
                        self.1.trailer_bytes += i + 2;
                        if self.1.trailers > TRAILERS_LIMIT
                            || self.1.trailer_bytes > TRAILER_BYTES_LIMIT
                        {
                            return Err("trailer fields over hyper's limits".into());
                        }
                        buf.advance(i + 2);
                    }
                    None if buf.len() > MAX_LINE => return Err("a trailer line is too long".into()),
                    None => return Ok(Decoded::NeedMore),
                },
            }
        }
    }

    /// The body ends when the connection does (so the connection cannot
    /// carry another message).
    pub fn is_until_close(&self) -> bool {
        self.0 == State::UntilClose
    }

    pub fn is_done(&self) -> bool {
        self.0 == State::Done
    }

    /// The connection closed: fine only where the body ends with it.
    pub fn at_eof(&mut self) -> Result<(), String> {
        match self.0 {
            State::UntilClose | State::Done => {
                self.0 = State::Done;
                Ok(())
            }
            _ => Err("the connection closed in the middle of the body".into()),
        }
    }
}

/// A chunk-size line (RFC 9112 §7.1) at the start of `buf`: its length,
/// the size and the extension's length; `None` while incomplete. As strict as hyper's decoder: a
/// hex digit first, then hex digits, optional blanks, an extension that
/// holds no bare LF, and CRLF.
fn chunk_size(buf: &[u8]) -> Result<Option<(usize, u64, usize)>, String> {
    #[derive(PartialEq)]
    enum At {
        Size,
        Blank,
        Ext,
        Lf,
    }
    let bad = |why: &str| Err(format!("an invalid chunk-size line ({why})"));
    let Some(first) = buf.first() else {
        return Ok(None);
    };
    if !first.is_ascii_hexdigit() {
        return bad("no size");
    }
    let (mut size, mut at, mut ext) = (0u64, At::Size, 0usize);
    for (i, &b) in buf.iter().enumerate() {
        match (&at, b) {
            (At::Size, b) if b.is_ascii_hexdigit() => {
                let d = u64::from(char::from(b).to_digit(16).unwrap_or(0));
                size = match size.checked_mul(16).and_then(|x| x.checked_add(d)) {
                    Some(x) => x,
                    None => return bad("too large"),
                };
            }
            (At::Size | At::Blank, b' ' | b'\t') => at = At::Blank,
            (At::Size | At::Blank, b';') => {
                at = At::Ext;
                ext += 1;
            }
            (At::Size | At::Blank | At::Ext, b'\r') => at = At::Lf,
            (At::Ext, b'\n') => return bad("a bare LF in an extension"),
            (At::Ext, _) => ext += 1,
            (At::Lf, b'\n') => return Ok(Some((i + 1, size, ext))),
            _ => return bad("unexpected byte"),
        }
        if i >= MAX_LINE {
            return Err("a chunk-size line is too long".into());
        }
    }
    Ok(None)
}

/// Headers that belong to one hop (RFC 9110 §7.6.1): never passed on,
/// in either direction, and neither are the names `Connection` lists.
const HOP: [&[u8]; 9] = [
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
    b"proxy-authorization",
    b"proxy-authenticate",
];

/// Header lines of a parsed head, as ranges into its bytes.
#[derive(Debug, Clone, Default)]
struct Lines {
    /// (name, value) of each header line, in order.
    at: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
    /// Which lines are passed on (not hop-by-hop, not named by Connection).
    pass: Vec<bool>,
}

impl Lines {
    /// Reads httparse's headers, which borrow from `base`.
    fn read(base: &[u8], headers: &[httparse::Header<'_>]) -> Self {
        let off = |part: &[u8]| part.as_ptr() as usize - base.as_ptr() as usize;
        let at: Vec<_> = headers
            .iter()
            .map(|h| {
                let (n, v) = (off(h.name.as_bytes()), off(h.value));
                (n..n + h.name.len(), v..v + h.value.len())
            })
            .collect();
        // A name `Connection` lists is dropped, except Host and
        // Content-Length: the framing and the Host line are the proxy's to
        // write (a client naming Content-Length would otherwise send its
        // body on with no length, and dockerd read it as the next request).
        let mut named: Vec<&[u8]> = Vec::new();
        for h in headers {
            if h.name.eq_ignore_ascii_case("connection") {
                named.extend(
                    h.value
                        .split(|b| *b == b',')
                        .map(<[u8]>::trim_ascii)
                        .filter(|n| {
                            !n.eq_ignore_ascii_case(b"host")
                                && !n.eq_ignore_ascii_case(b"content-length")
                        }),
                );
            }
        }
        let pass = headers
            .iter()
            .map(|h| {
                let n = h.name.as_bytes();
                !HOP.iter().any(|x| n.eq_ignore_ascii_case(x))
                    && !named.iter().any(|x| n.eq_ignore_ascii_case(x))
            })
            .collect();
        Self { at, pass }
    }

    /// Every line passed on, `Name: value\r\n`, except those `skip` names.
    fn write(&self, raw: &[u8], skip: &[&[u8]], out: &mut Vec<u8>) {
        for ((n, v), pass) in self.at.iter().zip(&self.pass) {
            let name = &raw[n.clone()];
            if !pass || skip.iter().any(|s| name.eq_ignore_ascii_case(s)) {
                continue;
            }
            out.extend_from_slice(name);
            out.extend_from_slice(b": ");
            out.extend_from_slice(&raw[v.clone()]);
            out.extend_from_slice(b"\r\n");
        }
    }

    /// The values of the header `name`, in order.
    fn values<'a>(&'a self, raw: &'a [u8], name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.at
            .iter()
            .filter(move |(n, _)| raw[n.clone()].eq_ignore_ascii_case(name.as_bytes()))
            .map(move |(_, v)| &raw[v.clone()])
    }

    /// Whether a comma-separated header `name` lists `token`.
    fn lists(&self, raw: &[u8], name: &str, token: &str) -> bool {
        self.values(raw, name).any(|v| {
            v.split(|b| *b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
        })
    }
}

/// The head of one chunk of `n` bytes (RFC 9112 §7.1).
pub fn chunk_head(n: usize) -> Vec<u8> {
    format!("{n:x}\r\n").into_bytes()
}

/// The last chunk with no trailer section.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed `input` in pieces of `step` bytes; collect the body.
    fn run(mut dec: Decoder, input: &[u8], step: usize) -> Result<(Vec<u8>, usize), String> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        let mut fed = 0;
        loop {
            match dec.decode(&mut buf)? {
                Decoded::Data(d) => out.extend_from_slice(&d),
                Decoded::Done => return Ok((out, buf.len() + input.len() - fed)),
                Decoded::NeedMore if fed == input.len() => {
                    dec.at_eof()?;
                    return Ok((out, 0));
                }
                Decoded::NeedMore => {
                    let end = (fed + step).min(input.len());
                    buf.extend_from_slice(&input[fed..end]);
                    fed = end;
                }
            }
        }
    }

    #[test]
    fn chunked_in_any_split_with_extensions_and_trailers() {
        let input =
            b"5;ext=1\r\nhello\r\n1A\r\n, events keep coming here\n\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        for step in 1..input.len() {
            let (body, left) = run(Decoder::chunked(), input, step).unwrap();
            assert_eq!(body, b"hello, events keep coming here\n", "step {step}");
            assert_eq!(left, 4, "the bytes after the body are not taken");
        }
    }

    #[test]
    fn length_and_until_close() {
        let (body, left) = run(Decoder::length(3), b"abcdef", 2).unwrap();
        assert_eq!((body.as_slice(), left), (&b"abc"[..], 3));
        let (body, _) = run(Decoder::until_close(), b"all of it", 4).unwrap();
        assert_eq!(body, b"all of it");
        assert!(run(Decoder::length(10), b"short", 3).is_err());
    }

    #[test]
    fn bad_framing_is_an_error_not_a_panic() {
        for bad in [
            &b"zz\r\n"[..],
            b"3\r\nabcX\r\n",
            b"ffffffffffffffffffff\r\n",
            b"3\r\nab",
        ] {
            assert!(run(Decoder::chunked(), bad, 1).is_err(), "{bad:?}");
        }
        let long = vec![b'1'; MAX_LINE + 10];
        assert!(run(Decoder::chunked(), &long, 100).is_err());
    }

    #[test]
    fn chunk_lines_and_trailers_are_as_strict_as_hyper() {
        for bad in [
            &b"\r\n\r\n"[..],
            b" 3\r\nabc\r\n0\r\n\r\n",
            b"3 4\r\nabc\r\n0\r\n\r\n",
            b"3;a\nb\r\nabc\r\n0\r\n\r\n",
            b"3\rx\nabc\r\n0\r\n\r\n",
            b"0\r\n\n\rGET / HTTP/1.1\r\n\r\n",
            b"0\r\nno colon\r\n\r\n",
        ] {
            assert!(run(Decoder::chunked(), bad, 1).is_err(), "{bad:?}");
        }
        let (body, _) = run(
            Decoder::chunked(),
            b"3 \t;x=\xff\r\nabc\r\n0\r\nA: 1\r\n\r\n",
            2,
        )
        .unwrap();
        assert_eq!(body, b"abc");
        let mut many = b"0\r\n".to_vec();
        for i in 0..101 {
            many.extend_from_slice(format!("T{i}: x\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert!(
            run(Decoder::chunked(), &many, 64).is_err(),
            "101 trailer fields"
        );
        let mut ext = Vec::new();
        for _ in 0..5 {
            ext.extend_from_slice(format!("1;{}\r\na\r\n", "e".repeat(4000)).as_bytes());
        }
        ext.extend_from_slice(b"0\r\n\r\n");
        assert!(
            run(Decoder::chunked(), &ext, 512).is_err(),
            "extensions over 16 KiB"
        );
    }
}
