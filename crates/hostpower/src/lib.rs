//! What gives a container power over the host, judged the same way whether
//! it is written in a compose file or read back from a live container: one
//! list of capabilities, one reading of `--security-opt`, one classification
//! of bind sources. Keeping them in one place is what stops the compose
//! rule, the container rule and the API proxy's body checks from drifting
//! apart: what audit reports is exactly what the proxy refuses.

#![forbid(unsafe_code)]

/// Capabilities with a known path to the host (CIS 5.4; the escapes in
/// the "Understanding Docker container escapes" literature).
const DANGEROUS_CAPS: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "NET_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "DAC_READ_SEARCH",
    "SYS_RAWIO",
    "BPF",
    "SYS_BOOT",
];

/// True for a dangerous capability in any spelling Docker accepts:
/// any case, with or without the `CAP_` prefix, surrounding blanks.
pub fn dangerous_capability(raw: &str) -> bool {
    let cap = raw.trim().to_ascii_uppercase();
    let cap = cap.strip_prefix("CAP_").unwrap_or(&cap);
    DANGEROUS_CAPS.contains(&cap)
}

/// For a `--security-opt` entry that switches confinement off, the CIS id
/// that covers it (`None` inside when CIS has none); `None` otherwise.
/// Docker accepts both `key=value` and the legacy `key:value`.
pub fn unconfined(raw: &str) -> Option<Option<&'static str>> {
    let norm = raw.trim().to_ascii_lowercase().replacen('=', ":", 1);
    match norm.as_str() {
        "seccomp:unconfined" => Some(Some("5.22")),
        "apparmor:unconfined" => Some(Some("5.2")),
        "label:disable" => Some(Some("5.3")),
        "systempaths:unconfined" => Some(None),
        _ => None,
    }
}

/// What a bind source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mount {
    /// The Docker socket, or a directory that holds it (`/run`, `/var/run`).
    Socket,
    /// A host system path.
    Sensitive,
}

/// Classifies a host path used as a bind source. Repeated and trailing
/// slashes are ignored, as the kernel does.
pub fn classify(source: &str) -> Option<Mount> {
    let mut p = source.trim().to_string();
    while p.contains("//") {
        p = p.replace("//", "/");
    }
    let p = if p.len() > 1 {
        p.trim_end_matches('/')
    } else {
        p.as_str()
    };
    const SOCKET_DIRS: &[&str] = &["/run", "/var/run", "/run/docker", "/var/run/docker"];
    // containerd's socket is as good as Docker's for taking the host.
    if p.ends_with("docker.sock")
        || p.ends_with("containerd.sock")
        || SOCKET_DIRS.contains(&p)
        || p == "/run/containerd"
        || p.starts_with("/run/containerd/")
    {
        return Some(Mount::Socket);
    }
    const EXACT: &[&str] = &[
        "/", "/etc", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/var", "/home",
    ];
    const TREES: &[&str] = &[
        "/proc",
        "/sys",
        "/dev",
        "/boot",
        "/root",
        "/var/lib/docker",
        "/etc/docker",
        "/lib/modules",
        "/etc/shadow",
        "/etc/sudoers",
        "/etc/ssh",
    ];
    let tree = TREES
        .iter()
        .any(|t| p == *t || p.strip_prefix(t).is_some_and(|r| r.starts_with('/')));
    (EXACT.contains(&p) || tree).then_some(Mount::Sensitive)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_spellings() {
        for c in [
            "SYS_ADMIN",
            "sys_admin",
            " CAP_SYS_ADMIN ",
            "cap_net_admin",
            "all",
        ] {
            assert!(dangerous_capability(c), "{c}");
        }
        for c in ["NET_BIND_SERVICE", "CHOWN", "SYS_ADMINX", ""] {
            assert!(!dangerous_capability(c), "{c}");
        }
    }

    #[test]
    fn security_opts() {
        assert_eq!(unconfined("seccomp=unconfined"), Some(Some("5.22")));
        assert_eq!(unconfined("seccomp:unconfined"), Some(Some("5.22")));
        assert_eq!(unconfined("APPARMOR=UNCONFINED"), Some(Some("5.2")));
        assert_eq!(unconfined("label=disable"), Some(Some("5.3")));
        assert_eq!(unconfined("systempaths=unconfined"), Some(None));
        assert_eq!(unconfined("no-new-privileges"), None);
        assert_eq!(unconfined("seccomp=/p.json"), None);
    }

    #[test]
    fn socket_directories_count_as_the_socket() {
        for p in [
            "/var/run/docker.sock",
            "/run/docker.sock",
            "/var/run",
            "/run/",
            "//var//run",
        ] {
            assert_eq!(classify(p), Some(Mount::Socket), "{p}");
        }
    }
}
