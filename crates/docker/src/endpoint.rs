//! Which daemon to talk to.
//!
//! The same precedence as the docker CLI, so that `dockward` reaches the
//! daemon the operator's `docker` reaches: an explicit `--host`, then
//! `DOCKER_HOST`, then the default socket. Contexts are not read: a security
//! tool should not silently follow a context switched in another shell.

/// The socket Docker listens on by default on Linux.
pub const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";

/// Where the daemon is, and why that address was chosen (for error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    pub origin: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Given on the command line.
    Flag,
    /// From `DOCKER_HOST`.
    Environment,
    /// Nothing given: the default socket.
    Default,
}

impl Endpoint {
    /// Resolve the endpoint from a flag value and the `DOCKER_HOST` value.
    /// Empty strings count as unset, as the docker CLI treats them.
    pub fn resolve(flag: Option<&str>, docker_host: Option<&str>) -> Self {
        match (
            flag.filter(|s| !s.is_empty()),
            docker_host.filter(|s| !s.is_empty()),
        ) {
            (Some(f), _) => Self {
                url: normalise(f),
                origin: Origin::Flag,
            },
            (None, Some(e)) => Self {
                url: normalise(e),
                origin: Origin::Environment,
            },
            (None, None) => Self {
                url: DEFAULT_SOCKET.to_string(),
                origin: Origin::Default,
            },
        }
    }

    /// The socket path for `unix://` endpoints.
    pub fn unix_path(&self) -> Option<&str> {
        self.url.strip_prefix("unix://")
    }
}

/// A bare path means a unix socket, as `docker -H /path` does not accept but
/// every operator types at least once.
fn normalise(s: &str) -> String {
    if s.starts_with('/') {
        format!("unix://{s}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_flag_env_default() {
        assert_eq!(
            Endpoint::resolve(Some("unix:///a"), Some("unix:///b")).url,
            "unix:///a"
        );
        let e = Endpoint::resolve(None, Some("tcp://127.0.0.1:2375"));
        assert_eq!(e.url, "tcp://127.0.0.1:2375");
        assert_eq!(e.origin, Origin::Environment);
        let d = Endpoint::resolve(Some(""), Some(""));
        assert_eq!(d.url, DEFAULT_SOCKET);
        assert_eq!(d.origin, Origin::Default);
        assert_eq!(d.unix_path(), Some("/var/run/docker.sock"));
    }

    #[test]
    fn bare_path_is_a_unix_socket() {
        assert_eq!(
            Endpoint::resolve(Some("/run/x.sock"), None).url,
            "unix:///run/x.sock"
        );
    }
}
