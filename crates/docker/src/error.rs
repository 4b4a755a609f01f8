//! Why the daemon could not be used, in words an operator can act on.
//!
//! bollard reports transport failures as nested hyper/io errors; the operator
//! needs to know which of four things to do: start dockerd, fix the address,
//! fix permissions, or look at the daemon's own answer. [`EngineError`]
//! classifies once, here, so every command prints the same advice.

use crate::endpoint::{Endpoint, Origin};
use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Nothing answers at the endpoint.
    #[error("{}", unreachable_message(.endpoint, *.cause))]
    Unreachable {
        endpoint: Endpoint,
        cause: Unreachable,
        detail: String,
    },
    /// The endpoint answered, but not as a Docker daemon we can use.
    #[error("the Docker daemon at {url} answered badly: {detail}. Check that {url} is a Docker Engine API endpoint (API 1.24 or later)")]
    Protocol { url: String, detail: String },
    /// The daemon refused or failed one call.
    #[error("the Docker daemon at {url} refused {call}: {detail}")]
    Api {
        url: String,
        call: String,
        detail: String,
    },
}

/// The reason nothing usable answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// The socket file does not exist.
    Missing,
    /// Connection refused: the socket exists but no daemon listens.
    Refused,
    /// The socket exists but this user may not open it.
    PermissionDenied,
    /// The endpoint URL is not one dockward can use.
    BadAddress,
    /// No answer in time.
    Timeout,
    /// Any other transport failure.
    Other,
}

impl Unreachable {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "no such socket",
            Self::Refused => "connection refused",
            Self::PermissionDenied => "permission denied",
            Self::BadAddress => "unsupported address",
            Self::Timeout => "no answer in time",
            Self::Other => "connection failed",
        }
    }
}

fn unreachable_message(endpoint: &Endpoint, cause: Unreachable) -> String {
    let from = match endpoint.origin {
        Origin::Flag => " (from --host)",
        Origin::Environment => " (from DOCKER_HOST)",
        Origin::Default => "",
    };
    let fix = match cause {
        Unreachable::Missing | Unreachable::Refused | Unreachable::Timeout => {
            "start dockerd (`systemctl start docker`, or `dockerd &` without systemd), or point DOCKER_HOST or --host at the daemon's socket"
        }
        Unreachable::PermissionDenied => {
            "run as root or as a member of the socket's group (`sudo usermod -aG docker $USER`, then log in again)"
        }
        Unreachable::BadAddress => {
            "use unix:///path/to/docker.sock or tcp://host:port in DOCKER_HOST or --host"
        }
        Unreachable::Other => {
            "check that dockerd is running and that DOCKER_HOST or --host names its socket"
        }
    };
    format!(
        "cannot reach the Docker daemon at {}{}: {}. To fix: {}",
        endpoint.url,
        from,
        cause.as_str(),
        fix
    )
}

impl EngineError {
    /// Classify a bollard failure of the call `call` against `endpoint`.
    pub fn from_bollard(endpoint: &Endpoint, call: &str, err: bollard::errors::Error) -> Self {
        use bollard::errors::Error as B;
        let detail = chain(&err);
        let cause = match &err {
            B::DockerResponseServerError {
                status_code,
                message,
            } => {
                return Self::Api {
                    url: endpoint.url.clone(),
                    call: call.to_string(),
                    detail: format!("HTTP {status_code}: {}", one_line(message)),
                }
            }
            B::JsonDataError { .. } | B::JsonSerdeError { .. } | B::APIVersionParseError {} => {
                return Self::Protocol {
                    url: endpoint.url.clone(),
                    detail: one_line(&detail),
                }
            }
            B::SocketNotFoundError(_) => Unreachable::Missing,
            B::UnsupportedURISchemeError { .. }
            | B::URLParseError { .. }
            | B::InvalidURIError { .. }
            | B::InvalidURIPartsError { .. } => Unreachable::BadAddress,
            B::RequestTimeoutError => Unreachable::Timeout,
            B::IOError { err } => classify_io(err.kind()),
            _ => io_kind(&err).map(classify_io).unwrap_or(Unreachable::Other),
        };
        Self::Unreachable {
            endpoint: endpoint.clone(),
            cause,
            detail,
        }
    }

    /// True when the daemon is not there at all (as opposed to answering badly).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable { .. })
    }
}

fn classify_io(kind: std::io::ErrorKind) -> Unreachable {
    use std::io::ErrorKind as K;
    match kind {
        K::NotFound => Unreachable::Missing,
        K::ConnectionRefused => Unreachable::Refused,
        K::PermissionDenied => Unreachable::PermissionDenied,
        K::TimedOut => Unreachable::Timeout,
        _ => Unreachable::Other,
    }
}

/// The first `std::io::Error` in the source chain.
fn io_kind(err: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cur = e.source();
    }
    None
}

fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push_str(": ");
        out.push_str(&e.to_string());
        cur = e.source();
    }
    out
}

/// Daemon messages may span lines; our errors are one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_socket_origin_and_fix() {
        let e = EngineError::Unreachable {
            endpoint: Endpoint::resolve(None, Some("unix:///tmp/nope.sock")),
            cause: Unreachable::Missing,
            detail: String::new(),
        };
        let m = e.to_string();
        assert!(
            m.contains("unix:///tmp/nope.sock (from DOCKER_HOST)"),
            "{m}"
        );
        assert!(m.contains("no such socket"), "{m}");
        assert!(m.contains("start dockerd"), "{m}");
        assert!(!m.contains('\n'));
    }

    #[test]
    fn permission_advice_mentions_group() {
        let e = EngineError::Unreachable {
            endpoint: Endpoint::resolve(None, None),
            cause: Unreachable::PermissionDenied,
            detail: String::new(),
        };
        assert!(e.to_string().contains("docker"));
        assert!(e.to_string().contains("group"));
    }

    #[test]
    fn io_errors_are_classified() {
        let ep = Endpoint::resolve(None, None);
        let err = bollard::errors::Error::IOError {
            err: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        };
        match EngineError::from_bollard(&ep, "GET /version", err) {
            EngineError::Unreachable { cause, .. } => assert_eq!(cause, Unreachable::Refused),
            other => panic!("unexpected {other:?}"),
        }
    }
}
