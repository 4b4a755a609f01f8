//! Bodies on the wire: read by their framing ([`Reading`]), and written on
//! in the framing the other side gets ([`pump`]), both over any byte
//! stream. The only I/O around `framing`'s decoder.

use crate::framing::{chunk_head, Decoded, Decoder, LAST_CHUNK};
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes asked of a socket per read while a body streams.
pub const STREAM_READ: usize = 64 * 1024;
/// Pieces up to this size are copied next to their framing and sent in
/// one write; larger ones are written as they are.
const COALESCE: usize = 16 * 1024;

/// A body being read from `io`, `buf` holding what was read past the head.
pub struct Reading<'a, R> {
    pub io: &'a mut R,
    pub buf: &'a mut BytesMut,
    pub dec: Decoder,
}

impl<R: AsyncRead + Unpin> Reading<'_, R> {
    /// The next piece of the body; `None` once it has ended. An error
    /// means the framing broke or the connection ended early: nothing
    /// after it on this connection can be trusted.
    pub async fn next(&mut self) -> Result<Option<Bytes>, String> {
        loop {
            match self.dec.decode(self.buf)? {
                Decoded::Data(d) => return Ok(Some(d)),
                Decoded::Done => return Ok(None),
                Decoded::NeedMore => {
                    if !self.fill().await? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Reads more; `false` at the end of the stream (where the body had
    /// to end).
    async fn fill(&mut self) -> Result<bool, String> {
        self.buf.reserve(STREAM_READ);
        let n = self
            .io
            .read_buf(self.buf)
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            self.dec.at_eof()?;
        }
        Ok(n > 0)
    }

    /// The whole body, refused past `max` bytes.
    pub async fn collect(&mut self, max: usize) -> Result<Bytes, String> {
        let mut all = BytesMut::new();
        while let Some(d) = self.next().await? {
            if all.len() + d.len() > max {
                return Err(format!("a body over {max} bytes"));
            }
            if all.is_empty() && self.dec.is_done() {
                return Ok(d);
            }
            all.extend_from_slice(&d);
        }
        Ok(all.freeze())
    }

    pub fn done(&self) -> bool {
        self.dec.is_done()
    }
}

/// Where a pump failed: reading its source or writing its sink.
#[derive(Debug)]
pub enum Broke {
    Read(String),
    Write(std::io::Error),
}

/// Writes `head` and then the body read by `from` to `to`: re-chunked
/// when `chunked`, else as its bytes; `count` adds the body's bytes. The
/// head goes out with the first piece, in one write when it is small.
pub async fn pump<R, W>(
    from: &mut Reading<'_, R>,
    to: &mut W,
    head: Vec<u8>,
    chunked: bool,
    count: &mut u64,
) -> Result<(), Broke>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut out = head;
    loop {
        match from.dec.decode(from.buf).map_err(Broke::Read)? {
            Decoded::Data(d) => {
                *count += d.len() as u64;
                if chunked {
                    out.extend_from_slice(&chunk_head(d.len()));
                }
                if d.len() <= COALESCE {
                    out.extend_from_slice(&d);
                } else {
                    to.write_all(&out).await.map_err(Broke::Write)?;
                    out.clear();
                    to.write_all(&d).await.map_err(Broke::Write)?;
                }
                if chunked {
                    out.extend_from_slice(b"\r\n");
                }
            }
            Decoded::Done => break,
            // What was gathered goes out before waiting on the socket.
            Decoded::NeedMore => {
                if !out.is_empty() {
                    to.write_all(&out).await.map_err(Broke::Write)?;
                    to.flush().await.map_err(Broke::Write)?;
                    out.clear();
                }
                if !from.fill().await.map_err(Broke::Read)? {
                    break;
                }
            }
        }
        if out.len() >= 4 * COALESCE {
            to.write_all(&out).await.map_err(Broke::Write)?;
            out.clear();
        }
    }
    if chunked {
        out.extend_from_slice(LAST_CHUNK);
    }
    if !out.is_empty() {
        to.write_all(&out).await.map_err(Broke::Write)?;
    }
    to.flush().await.map_err(Broke::Write)
}

/// The proxy's reading of a client's byte stream with every decision
/// left out: for each request, the bytes dockerd receives (its head as
/// forwarded, its body re-framed), until the stream ends, a head is
/// refused (the refusal is returned), a body breaks, or a request closes
/// the connection. The live path (`serve::conn`) runs the same
/// `request::parse` and [`pump`] over sockets; the fuzz targets
/// `proxy_framing` and `proxy_framing_hyper` hold this to hyper.
pub async fn forward_all<R: AsyncRead + Unpin>(
    io: &mut R,
    max_head: usize,
) -> (Vec<Vec<u8>>, Option<crate::framing::request::Refusal>) {
    use crate::framing::request;
    let mut buf = BytesMut::new();
    let mut sent = Vec::new();
    loop {
        let head = match request::parse(&mut buf, max_head) {
            Ok(Some(h)) => h,
            Ok(None) => {
                buf.reserve(4096);
                match io.read_buf(&mut buf).await {
                    Ok(0) | Err(_) => return (sent, None),
                    Ok(_) => continue,
                }
            }
            Err(why) => return (sent, Some(why)),
        };
        let up = head.upstream(None, request::Body::AsSent, true);
        let mut out = Vec::new();
        match head.body.clone() {
            None => out = up,
            Some(dec) => {
                let mut from = Reading {
                    io: &mut *io,
                    buf: &mut buf,
                    dec,
                };
                let mut n = 0;
                if pump(&mut from, &mut out, up, head.chunked, &mut n)
                    .await
                    .is_err()
                {
                    return (sent, None);
                }
            }
        }
        sent.push(out);
        if !head.keep_alive {
            return (sent, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn through(dec: Decoder, input: &[u8], chunked: bool) -> (Vec<u8>, u64, Vec<u8>) {
        let (mut a, mut b) = tokio::io::duplex(1 << 20);
        a.write_all(input).await.unwrap();
        drop(a);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        let mut n = 0;
        {
            let mut r = Reading {
                io: &mut b,
                buf: &mut buf,
                dec,
            };
            pump(&mut r, &mut out, b"HEAD\r\n".to_vec(), chunked, &mut n)
                .await
                .unwrap();
        }
        (out, n, buf.to_vec())
    }

    #[tokio::test]
    async fn length_passes_as_bytes_and_chunked_is_rechunked() {
        let (out, n, left) = through(Decoder::length(5), b"hello NEXT", false).await;
        assert_eq!(
            (out.as_slice(), n, left.as_slice()),
            (&b"HEAD\r\nhello"[..], 5, &b" NEXT"[..])
        );
        let (out, n, left) = through(
            Decoder::chunked(),
            b"3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\nGET",
            true,
        )
        .await;
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HEAD\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        );
        assert_eq!((n, left.as_slice()), (5, &b"GET"[..]));
        let (out, _, _) = through(Decoder::until_close(), b"to the end", true).await;
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HEAD\r\na\r\nto the end\r\n0\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn a_body_cut_short_is_an_error() {
        let (mut a, mut b) = tokio::io::duplex(64);
        a.write_all(b"abc").await.unwrap();
        drop(a);
        let mut buf = BytesMut::new();
        let mut r = Reading {
            io: &mut b,
            buf: &mut buf,
            dec: Decoder::length(10),
        };
        let mut out = Vec::new();
        let mut n = 0;
        assert!(matches!(
            pump(&mut r, &mut out, Vec::new(), false, &mut n).await,
            Err(Broke::Read(_))
        ));
    }

    #[tokio::test]
    async fn a_pipelined_stream_is_forwarded_request_by_request() {
        let input: &[u8] =
            b"POST /a HTTP/1.1\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc\
POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;e\r\nabc\r\n0\r\nT: 1\r\n\r\n\
GET /c HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
        let (sent, refused) = forward_all(&mut &input[..], 8192).await;
        let sent: Vec<String> = sent
            .into_iter()
            .map(|b| String::from_utf8(b).unwrap())
            .collect();
        assert_eq!(
            sent,
            [
                "POST /a HTTP/1.1\r\nHost: docker\r\nContent-Length: 3\r\n\r\nabc",
                "POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            ]
        );
        assert_eq!(
            refused,
            Some("Content-Length together with Transfer-Encoding")
        );
    }
}
