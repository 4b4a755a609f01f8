//! HTTP/1.1 message framing (RFC 9112 §6–7) over plain bytes, no I/O.
//!
//! Two readers use it. [`Decoder`] reads the body of dockerd's answer to an
//! `/events` subscription, which the proxy reads without hyper's client
//! (see `stream`). [`Guard`] watches what a client sends, alongside hyper.
//!
//! Why a guard when hyper already parses every request: hyper settles some
//! ambiguous framings itself instead of refusing them. It reads a request
//! with both Content-Length and Transfer-Encoding as chunked and removes the
//! Content-Length before the proxy sees the request; it merges repeated
//! equal Content-Lengths (also `5, 5` in one line). Each outcome is safe in
//! hyper, but these are the shapes request smuggling is made of (RFC 9112
//! §6.1 and §6.3 let a server refuse them), and whoever sends them is broken
//! or probing: dockward answers them with a 400 (docs/proxy.md). Only the raw bytes still show them.
//!
//! The guard reads exactly the bytes hyper reads, with hyper's own parser
//! (`httparse`, default strictness), follows each body to find where the
//! next request starts, and gives every request head a [`Verdict`], in
//! order. It never changes a byte and has one power, refusing; so where it
//! and hyper could ever disagree, the cost is a refused request, never an
//! unchecked one. An upgrade request is followed like any other, because a
//! refused upgrade leaves the connection HTTP (hyper then reads the next
//! request, as dockerd does); only once the proxy answers 101 does the
//! guard stop reading ([`Guard::tunnel`]).

use bytes::{Buf, Bytes, BytesMut};
use std::collections::VecDeque;

/// Largest chunk-size line or trailer line.
const MAX_LINE: usize = 4096;
/// Header lines a request head may have; hyper refuses more than 100.
const MAX_HEADERS: usize = 128;

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
pub struct Decoder(State);

impl Decoder {
    pub fn chunked() -> Self {
        Self(State::Size)
    }

    pub fn length(n: u64) -> Self {
        Self(if n == 0 {
            State::Done
        } else {
            State::Length(n)
        })
    }

    pub fn until_close() -> Self {
        Self(State::UntilClose)
    }

    /// Take what the buffer holds of the body.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded, String> {
        loop {
            match self.0 {
                State::Done => return Ok(Decoded::Done),
                State::Size => match httparse::parse_chunk_size(buf) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        buf.advance(used);
                        self.0 = if size == 0 {
                            State::Trailer
                        } else {
                            State::Chunk(size)
                        };
                    }
                    Ok(httparse::Status::Partial) if buf.len() > MAX_LINE => {
                        return Err("a chunk-size line is too long".into())
                    }
                    Ok(httparse::Status::Partial) => return Ok(Decoded::NeedMore),
                    Err(_) => return Err("an invalid chunk size".into()),
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
                    Some(i) => buf.advance(i + 2),
                    None if buf.len() > MAX_LINE => return Err("a trailer line is too long".into()),
                    None => return Ok(Decoded::NeedMore),
                },
            }
        }
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

/// What the guard says of one request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Refuse with 400 and close the connection: the reason.
    Refuse(&'static str),
}

#[derive(Debug)]
enum Watch {
    Head,
    Body(Decoder),
    /// The connection became a tunnel: nothing more is read.
    Opaque,
    /// Framing lost (an invalid head or body): every later request is
    /// refused for this reason.
    Lost(&'static str),
}

/// Follows a client's byte stream request by request; see the module docs.
#[derive(Debug)]
pub struct Guard {
    watch: Watch,
    /// Bytes of a head or a framing line not complete yet.
    buf: BytesMut,
    verdicts: VecDeque<Verdict>,
    max_head: usize,
    /// `METHOD target` of every head parsed, when asked for (tests and the
    /// differential fuzz target compare it with what hyper dispatched).
    trace: Option<Vec<String>>,
}

impl Guard {
    /// `max_head`: the largest request head hyper accepts; a longer one is
    /// refused here too.
    pub fn new(max_head: usize) -> Self {
        Self {
            watch: Watch::Head,
            buf: BytesMut::new(),
            verdicts: VecDeque::new(),
            max_head,
            trace: None,
        }
    }

    /// A guard that also records each head's `METHOD target`; see
    /// [`Guard::heads`].
    pub fn traced(max_head: usize) -> Self {
        Self {
            trace: Some(Vec::new()),
            ..Self::new(max_head)
        }
    }

    /// The heads parsed so far, in order (empty unless [`Guard::traced`]).
    pub fn heads(&self) -> &[String] {
        self.trace.as_deref().unwrap_or_default()
    }

    /// The bytes the client sent next, as hyper reads them.
    pub fn feed(&mut self, mut input: &[u8]) {
        // Nothing buffered: read heads and count body bytes off straight
        // from the read, without copying it (the common case: a whole head,
        // then a body of known length).
        while self.buf.is_empty() && !input.is_empty() {
            input = &input[self.skip(input)..];
            if input.is_empty() || !matches!(self.watch, Watch::Head) {
                break;
            }
            match self.head(input) {
                Some(used) => input = &input[used..],
                None => break,
            }
        }
        if input.is_empty() || matches!(self.watch, Watch::Opaque | Watch::Lost(_)) {
            return;
        }
        self.buf.extend_from_slice(input);
        self.step();
        if self.buf.is_empty() {
            // An idle kept-alive connection holds no buffer.
            self.buf = BytesMut::new();
        }
    }

    /// The connection is a tunnel from now on (the proxy answered 101).
    pub fn tunnel(&mut self) {
        self.watch = Watch::Opaque;
        self.buf = BytesMut::new();
    }

    /// The verdict on the next request hyper hands over. None queued means
    /// the guard lost track of the requests: refused.
    pub fn verdict(&mut self) -> Verdict {
        self.verdicts.pop_front().unwrap_or(match self.watch {
            Watch::Lost(why) => Verdict::Refuse(why),
            _ => Verdict::Refuse("the proxy lost track of this connection's requests"),
        })
    }

    /// Body bytes inside a known length need no buffering: count them off.
    /// Returns how many of `input` were body bytes.
    fn skip(&mut self, input: &[u8]) -> usize {
        let Watch::Body(Decoder(state)) = &mut self.watch else {
            return 0;
        };
        let (State::Length(n) | State::Chunk(n)) = *state else {
            return 0;
        };
        let k = usize::try_from(n).unwrap_or(usize::MAX).min(input.len());
        let rest = n - k as u64;
        *state = match (*state, rest) {
            (State::Chunk(_), 0) => State::ChunkEnd,
            (State::Chunk(_), r) => State::Chunk(r),
            (_, 0) => State::Done,
            (_, r) => State::Length(r),
        };
        if *state == State::Done {
            self.watch = Watch::Head;
        }
        k
    }

    /// A request head at the start of `bytes`: its verdict is queued and
    /// the bytes it took are returned; `None` while it is incomplete (or
    /// when the framing is lost).
    fn head(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(bytes) {
            Ok(httparse::Status::Complete(used)) => {
                if let Some(t) = &mut self.trace {
                    let (m, p) = (req.method.unwrap_or(""), req.path.unwrap_or(""));
                    t.push(format!("{m} {p}"));
                }
                match judge(&req) {
                    Err(why) => {
                        self.lose(why);
                        None
                    }
                    Ok(body) => {
                        self.watch = body.map_or(Watch::Head, Watch::Body);
                        self.verdicts.push_back(Verdict::Ok);
                        Some(used)
                    }
                }
            }
            Ok(httparse::Status::Partial) if bytes.len() > self.max_head => {
                self.lose("the request head is too large");
                None
            }
            Ok(httparse::Status::Partial) => None,
            Err(_) => {
                self.lose("the request head is invalid");
                None
            }
        }
    }

    fn lose(&mut self, why: &'static str) {
        self.verdicts.push_back(Verdict::Refuse(why));
        self.watch = Watch::Lost(why);
        self.buf = BytesMut::new();
    }

    fn step(&mut self) {
        loop {
            match &mut self.watch {
                Watch::Opaque | Watch::Lost(_) => {
                    self.buf = BytesMut::new();
                    return;
                }
                Watch::Body(dec) => match dec.decode(&mut self.buf) {
                    Ok(Decoded::Data(_)) => {}
                    Ok(Decoded::Done) => self.watch = Watch::Head,
                    Ok(Decoded::NeedMore) => return,
                    Err(_) => return self.lose("the request body's chunked framing is invalid"),
                },
                Watch::Head => {
                    let mut buf = std::mem::take(&mut self.buf);
                    let Some(used) = self.head(&buf) else {
                        if matches!(self.watch, Watch::Head) {
                            self.buf = buf;
                        }
                        return;
                    };
                    buf.advance(used);
                    // Pipelined body bytes already here.
                    let k = self.skip(&buf);
                    buf.advance(k);
                    self.buf = buf;
                }
            }
        }
    }
}

/// One request head: its body's framing (RFC 9112 §6.3), or why it is
/// refused.
fn judge(req: &httparse::Request<'_, '_>) -> Result<Option<Decoder>, &'static str> {
    let (mut length, mut lengths, mut codings) = (None, 0usize, 0usize);
    let mut chunked = true;
    for h in req.headers.iter() {
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
    if codings > 0 && req.version == Some(0) {
        return Err("Transfer-Encoding in an HTTP/1.0 request");
    }
    let body = match length {
        Some(v) => {
            let n = std::str::from_utf8(v)
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or("an invalid Content-Length")?;
            Decoder::length(n)
        }
        None if codings > 0 => Decoder::chunked(),
        None => return Ok(None),
    };
    Ok(Some(body).filter(|d| d.0 != State::Done))
}

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

    /// The verdicts on `input` fed in pieces of `step` bytes.
    fn verdicts(input: &[u8], step: usize) -> Vec<Verdict> {
        let mut g = Guard::new(8192);
        for piece in input.chunks(step) {
            g.feed(piece);
        }
        std::iter::from_fn(|| g.verdicts.pop_front()).collect()
    }

    fn every_split(input: &[u8]) -> Vec<Verdict> {
        let whole = verdicts(input, input.len().max(1));
        for step in 1..input.len() {
            assert_eq!(verdicts(input, step), whole, "step {step}");
        }
        whole
    }

    #[test]
    fn kept_alive_requests_are_followed_through_their_bodies() {
        // A body that looks like a request head is not one.
        let input = b"POST /a HTTP/1.1\r\nContent-Length: 44\r\n\r\n\
GET /b HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n\
POST /c HTTP/1.1\r\ntransfer-encoding:  Chunked \r\n\r\n\
3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n\
\r\nGET /d HTTP/1.1\r\ncontent-length: 0\r\n\r\n\
GET /e HTTP/1.1\r\n\r\n";
        assert_eq!(every_split(input), vec![Verdict::Ok; 4]);
    }

    #[test]
    fn ambiguous_framing_is_refused_and_ends_the_watch() {
        let cases: [(&[u8], &str); 7] = [
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
        ];
        for (head, why) in cases {
            let mut input = b"GET /ok HTTP/1.1\r\n\r\n".to_vec();
            input.extend_from_slice(head);
            input.extend_from_slice(b"GET /after HTTP/1.1\r\n\r\n");
            assert_eq!(
                every_split(&input),
                vec![Verdict::Ok, Verdict::Refuse(why)],
                "{}",
                String::from_utf8_lossy(head)
            );
        }
        let mut g = Guard::new(8192);
        g.feed(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n");
        assert!(matches!(g.verdict(), Verdict::Refuse(_)));
        assert!(matches!(g.verdict(), Verdict::Refuse(_)), "still refused");
    }

    #[test]
    fn obs_fold_bad_heads_and_bad_chunks_lose_the_framing() {
        for input in [
            &b"GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nBad Name: a\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        ] {
            let v = every_split(input);
            let last = v.last().cloned();
            assert!(matches!(last, Some(Verdict::Refuse(_))), "{v:?}");
        }
        let mut g = Guard::new(64);
        g.feed(&[b'a'; 100]);
        assert_eq!(
            g.verdict(),
            Verdict::Refuse("the request head is too large")
        );
    }

    #[test]
    fn an_upgrade_request_is_followed_until_the_tunnel_starts() {
        // Refused upgrade: the connection stays HTTP and is followed on.
        let refused =
            b"POST /containers/x/attach HTTP/1.1\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n\
POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n";
        assert_eq!(
            every_split(refused),
            vec![Verdict::Ok, Verdict::Refuse("more than one Content-Length")]
        );
        // Answered 101: the tunnel's bytes are not read.
        let mut g = Guard::new(8192);
        g.feed(b"POST /session HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n");
        assert_eq!(g.verdict(), Verdict::Ok);
        g.tunnel();
        g.feed(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04");
        assert!(g.verdicts.is_empty() && g.buf.is_empty());
    }

    #[test]
    fn no_verdict_left_is_a_refusal() {
        let mut g = Guard::new(8192);
        g.feed(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(g.verdict(), Verdict::Ok);
        assert!(matches!(g.verdict(), Verdict::Refuse(_)));
    }
}
