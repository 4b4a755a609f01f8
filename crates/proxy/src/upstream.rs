//! The connection to dockerd, over its unix socket or TCP.
//!
//! Each client connection gets its own upstream connection, opened on its
//! first request and reused for the next ones (HTTP/1.1 requests on one
//! connection are sequential, so the pairing is exact). Measured on this
//! machine kind, this beat hyper-util's pooled client: no pool lookups, no
//! cross-task hand-over of connections, no extra wake-ups per request. An
//! upgrade takes its upstream connection with it into the tunnel; the next
//! request opens a fresh one. HAProxy-based proxies open one upstream
//! connection per request, which ANCHORS §1 measured at 22–47 % less
//! throughput.

use crate::framing::response;
use bytes::{Bytes, BytesMut};
use http_body_util::combinators::BoxBody;
use std::path::PathBuf;
use tokio::io::{AsyncRead, AsyncWrite};

/// The error of every body the proxy passes on.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub type Body = BoxBody<Bytes, BoxError>;

/// A whole body in one piece (empty: `full(Bytes::new())`).
pub fn full(b: impl Into<Bytes>) -> Body {
    use http_body_util::BodyExt;
    http_body_util::Full::new(b.into())
        .map_err(
            |e: std::convert::Infallible| -> Box<dyn std::error::Error + Send + Sync> {
                match e {}
            },
        )
        .boxed()
}

/// A byte stream to dockerd.
/// (`Sync` too: a response body holds one, and bodies are `Sync`.)
pub trait Io: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static> Io for T {}

#[derive(Clone, Debug)]
pub enum Upstream {
    Unix(PathBuf),
    Tcp(String),
}

impl Upstream {
    /// `unix:///path`, `tcp://host:port` or `http://host:port`.
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(p) = url.strip_prefix("unix://") {
            if !p.starts_with('/') {
                return Err(format!("upstream {url:?}: write unix:///absolute/path"));
            }
            return Ok(Self::Unix(PathBuf::from(p)));
        }
        if let Some(a) = url
            .strip_prefix("tcp://")
            .or_else(|| url.strip_prefix("http://"))
        {
            let a = a.trim_end_matches('/');
            if a.is_empty() || a.contains('/') {
                return Err(format!("upstream {url:?}: write tcp://host:port"));
            }
            return Ok(Self::Tcp(a.to_string()));
        }
        Err(format!(
            "upstream {url:?}: use unix:///path/docker.sock or tcp://host:port"
        ))
    }

    /// Where it points, for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Unix(path) => format!("unix://{}", path.display()),
            Self::Tcp(a) => format!("tcp://{a}"),
        }
    }

    pub(crate) async fn stream(&self) -> std::io::Result<Box<dyn Io>> {
        Ok(match self {
            Self::Unix(p) => Box::new(tokio::net::UnixStream::connect(p).await?),
            Self::Tcp(a) => {
                let s = tokio::net::TcpStream::connect(a).await?;
                let _ = s.set_nodelay(true);
                Box::new(s)
            }
        })
    }

    /// A new connection to dockerd for [`Conn`].
    pub async fn open(&self) -> Result<Conn, String> {
        Ok(Conn {
            io: self.stream().await.map_err(|e| e.to_string())?,
            buf: BytesMut::new(),
            reused: false,
        })
    }

    /// `GET /_ping` within 5 s on a new connection; the error says why not.
    pub async fn ping(&self) -> Result<(), PingError> {
        let fut = async {
            let io = self.stream().await.map_err(|e| match e.kind() {
                std::io::ErrorKind::PermissionDenied => PingError::Denied(e.to_string()),
                _ => PingError::Other(e.to_string()),
            })?;
            let mut conn = Conn {
                io,
                buf: BytesMut::new(),
                reused: false,
            };
            match conn.get("/_ping").await.map_err(PingError::Other)? {
                (s, _, _) if (200..300).contains(&s) => Ok(()),
                (s, _, _) => Err(PingError::Other(format!("GET /_ping answered {s}"))),
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), fut)
            .await
            .map_err(|_| PingError::Other("no answer in 5 s".to_string()))?
    }
}

/// Why dockerd did not answer a ping: the socket's permissions (the fix
/// is a group), or anything else (the fix is dockerd or the address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PingError {
    Denied(String),
    Other(String),
}

impl std::fmt::Display for PingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Denied(m) | Self::Other(m) => f.write_str(m),
        }
    }
}

/// A kept-alive HTTP/1.1 connection to dockerd, spoken without hyper:
/// request heads are written as `framing::request` builds them, answers
/// read with `framing::response`.
pub struct Conn {
    pub io: Box<dyn Io>,
    /// What was read from dockerd and not used yet.
    pub buf: BytesMut,
    /// It already carried a request: a failure before any answer may be
    /// a connection dockerd closed while idle, worth one retry.
    pub reused: bool,
}

/// Largest response head accepted from dockerd.
const MAX_RESPONSE_HEAD: usize = 64 * 1024;

impl Conn {
    /// Whether dockerd still holds this kept connection open and quiet:
    /// one read that must not be ready (a closed connection reads as
    /// ended; a connection with bytes nobody asked for is not reused).
    pub fn alive(&mut self) -> bool {
        use futures_util::FutureExt;
        use tokio::io::AsyncReadExt;
        let mut probe = [0u8; 1];
        self.io.read(&mut probe).now_or_never().is_none()
    }

    /// `GET path`: the status and the whole body (up to 64 MiB); `Ok`
    /// only when the connection can carry the next request.
    pub async fn get(&mut self, path: &str) -> Result<(u16, Bytes, bool), String> {
        use tokio::io::AsyncWriteExt;
        let head = format!("GET {path} HTTP/1.1\r\nHost: docker\r\n\r\n");
        self.io
            .write_all(head.as_bytes())
            .await
            .map_err(|e| format!("cannot send the request to dockerd: {e}"))?;
        let h = read_head(&mut self.io, &mut self.buf, false).await?;
        let reusable = h.keeps();
        let body = match h.body.clone() {
            None => Bytes::new(),
            Some(dec) => {
                let mut r = crate::relay::Reading {
                    io: &mut self.io,
                    buf: &mut self.buf,
                    dec,
                };
                r.collect(64 << 20).await?
            }
        };
        self.reused = true;
        Ok((h.status, body, reusable))
    }
}

/// The next response head from `io` (what was read past it stays in
/// `buf`); `Err` when dockerd closed or sent something that is not one.
pub async fn read_head<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut BytesMut,
    to_head: bool,
) -> Result<response::Head, String> {
    use tokio::io::AsyncReadExt;
    loop {
        if let Some(h) = response::parse(buf, to_head)? {
            return Ok(h);
        }
        if buf.len() >= MAX_RESPONSE_HEAD {
            return Err("dockerd's response head is over 64 KiB".into());
        }
        buf.reserve(4096);
        let n = io
            .read_buf(buf)
            .await
            .map_err(|e| format!("reading dockerd's answer: {e}"))?;
        if n == 0 {
            return Err("dockerd closed the connection before answering".into());
        }
    }
}

/// An error with its chain of causes, on one line.
pub fn causes(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s = format!("{s}: {c}");
        src = c.source();
    }
    s
}

/// The upstream the environment names: `--upstream`, else `DOCKER_HOST`,
/// else `SOCKET_PATH` (tecnativa's variable), else the default socket.
pub fn resolve(flag: Option<&str>, docker_host: Option<&str>, socket_path: Option<&str>) -> String {
    if let Some(f) = flag.filter(|s| !s.is_empty()) {
        return f.to_string();
    }
    if let Some(h) = docker_host.filter(|s| !s.is_empty()) {
        return h.to_string();
    }
    if let Some(p) = socket_path.filter(|s| !s.is_empty()) {
        return format!("unix://{p}");
    }
    "unix:///var/run/docker.sock".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_order() {
        assert_eq!(
            resolve(Some("tcp://a:1"), Some("unix:///b"), Some("/c")),
            "tcp://a:1"
        );
        assert_eq!(resolve(None, Some("unix:///b"), Some("/c")), "unix:///b");
        assert_eq!(resolve(None, None, Some("/c.sock")), "unix:///c.sock");
        assert_eq!(resolve(None, Some(""), None), "unix:///var/run/docker.sock");
    }

    #[test]
    fn parse_forms() {
        assert!(Upstream::parse("unix:///var/run/docker.sock").is_ok());
        assert!(Upstream::parse("tcp://127.0.0.1:2375").is_ok());
        assert!(Upstream::parse("unix://relative").is_err());
        assert!(Upstream::parse("ssh://host").is_err());
    }
}
