//! Listeners: `unix:///path` (mode and group set after bind, default
//! 0660) and `tcp://addr:port` with a source CIDR allowlist. Without
//! `--listen`, where tecnativa listens: `tcp://[::]:2375`, or
//! `tcp://0.0.0.0:2375` with `DISABLE_IPV6=1`.

use ipnet::IpNet;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenSpec {
    Unix { path: PathBuf },
    Tcp { addr: SocketAddr },
}

impl ListenSpec {
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(p) = url.strip_prefix("unix://") {
            if !p.starts_with('/') {
                return Err(format!("--listen {url:?}: write unix:///absolute/path"));
            }
            return Ok(Self::Unix {
                path: PathBuf::from(p),
            });
        }
        if let Some(a) = url.strip_prefix("tcp://") {
            let addr: SocketAddr = a
                .trim_end_matches('/')
                .parse()
                .map_err(|_| format!("--listen {url:?}: write tcp://ADDRESS:PORT, e.g. tcp://127.0.0.1:2375 or tcp://[::]:2375"))?;
            return Ok(Self::Tcp { addr });
        }
        Err(format!(
            "--listen {url:?}: use unix:///path or tcp://address:port"
        ))
    }

    pub fn default_for(disable_ipv6: bool) -> Self {
        let addr = if disable_ipv6 {
            "0.0.0.0:2375"
        } else {
            "[::]:2375"
        };
        Self::Tcp {
            addr: addr
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 2375))),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Unix { path } => format!("unix://{}", path.display()),
            Self::Tcp { addr } => format!("tcp://{addr}"),
        }
    }
}

/// A bound listener.
pub enum Listen {
    Unix(UnixListener, PathBuf),
    Tcp(TcpListener, Vec<IpNet>, Option<tokio_rustls::TlsAcceptor>),
}

/// Who is on the other end: peer credentials on unix sockets, the source
/// address on TCP.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum Peer {
    Unix {
        uid: u32,
        gid: u32,
        pid: Option<i32>,
    },
    Tcp {
        addr: String,
        /// SHA-256 of the client's TLS certificate, on TLS listeners.
        #[serde(skip_serializing_if = "Option::is_none")]
        client_cert: Option<String>,
    },
}

pub enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
    /// TLS not yet negotiated: the handshake runs in the connection's task.
    Tls(TcpStream, tokio_rustls::TlsAcceptor),
}

/// Group name or number to gid, from /etc/group.
fn gid_of(group: &str) -> Result<u32, String> {
    if let Ok(n) = group.parse() {
        return Ok(n);
    }
    let text = std::fs::read_to_string("/etc/group")
        .map_err(|e| format!("cannot read /etc/group: {e}"))?;
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let gid = f.nth(1)?.parse().ok()?;
            (name == group).then_some(gid)
        })
        .next()
        .ok_or_else(|| format!("--socket-group {group:?}: no such group"))
}

impl Listen {
    /// Binds `spec`. A stale unix socket file is replaced; anything else at
    /// that path is an error.
    pub fn bind(
        spec: &ListenSpec,
        mode: u32,
        group: Option<&str>,
        allow: &[IpNet],
        tls: Option<&tokio_rustls::TlsAcceptor>,
    ) -> Result<Self, String> {
        match spec {
            ListenSpec::Unix { path } => {
                if let Ok(meta) = std::fs::symlink_metadata(path) {
                    use std::os::unix::fs::FileTypeExt;
                    if meta.file_type().is_socket() {
                        let _ = std::fs::remove_file(path);
                    } else {
                        return Err(format!("--listen unix://{}: a file that is not a socket is there; remove it or choose another path", path.display()));
                    }
                }
                let l = UnixListener::bind(path)
                    .map_err(|e| format!("--listen unix://{}: {e}", path.display()))?;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                    .map_err(|e| format!("--socket-mode on {}: {e}", path.display()))?;
                if let Some(g) = group {
                    let gid = gid_of(g)?;
                    std::os::unix::fs::chown(path, None, Some(gid))
                        .map_err(|e| format!("--socket-group {g} on {}: {e}", path.display()))?;
                }
                Ok(Self::Unix(l, path.clone()))
            }
            ListenSpec::Tcp { addr } => {
                let std = std::net::TcpListener::bind(addr)
                    .map_err(|e| format!("--listen tcp://{addr}: {e}"))?;
                std.set_nonblocking(true)
                    .map_err(|e| format!("--listen tcp://{addr}: {e}"))?;
                let l = TcpListener::from_std(std)
                    .map_err(|e| format!("--listen tcp://{addr}: {e}"))?;
                Ok(Self::Tcp(l, allow.to_vec(), tls.cloned()))
            }
        }
    }

    /// The next admitted connection. TCP clients outside the allowlist are
    /// closed at once (and `Err` carries who, for the log).
    pub async fn accept(&self) -> std::io::Result<Result<(Conn, Peer), String>> {
        match self {
            Self::Unix(l, _) => {
                let (s, _) = l.accept().await?;
                let peer = match s.peer_cred() {
                    Ok(c) => Peer::Unix {
                        uid: c.uid(),
                        gid: c.gid(),
                        pid: c.pid(),
                    },
                    Err(_) => Peer::Unix {
                        uid: u32::MAX,
                        gid: u32::MAX,
                        pid: None,
                    },
                };
                Ok(Ok((Conn::Unix(s), peer)))
            }
            Self::Tcp(l, allow, tls) => {
                let (s, a) = l.accept().await?;
                let ip = match a.ip() {
                    std::net::IpAddr::V6(v6) => v6
                        .to_ipv4_mapped()
                        .map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4),
                    ip => ip,
                };
                if !allow.is_empty() && !allow.iter().any(|n| n.contains(&ip)) {
                    return Ok(Err(format!("{a} is outside --allow-from")));
                }
                let _ = s.set_nodelay(true);
                let peer = Peer::Tcp {
                    addr: a.to_string(),
                    client_cert: None,
                };
                Ok(Ok(match tls {
                    Some(t) => (Conn::Tls(s, t.clone()), peer),
                    None => (Conn::Tcp(s), peer),
                }))
            }
        }
    }
}

impl Drop for Listen {
    fn drop(&mut self) {
        if let Self::Unix(_, p) = self {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(
            ListenSpec::parse("unix:///run/dp.sock").unwrap(),
            ListenSpec::Unix {
                path: "/run/dp.sock".into()
            }
        );
        assert_eq!(
            ListenSpec::parse("tcp://[::]:2375").unwrap().describe(),
            "tcp://[::]:2375"
        );
        assert!(ListenSpec::parse("tcp://localhost").is_err());
        assert!(ListenSpec::parse("http://x").is_err());
        assert_eq!(
            ListenSpec::default_for(true).describe(),
            "tcp://0.0.0.0:2375"
        );
        assert_eq!(ListenSpec::default_for(false).describe(), "tcp://[::]:2375");
    }
}
