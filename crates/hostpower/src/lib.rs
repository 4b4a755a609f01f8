//! What gives a container power over the host, judged the same way whether
//! it is written in a compose file or read back from a live container: one
//! list of capabilities, one reading of `--security-opt`, one classification
//! of bind sources. Keeping them in one place is what stops the compose
//! rule, the container rule and the API proxy's body checks from drifting
//! apart: what audit reports is exactly what the proxy refuses.

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

/// Docker's default capability set (moby `oci/caps/defaults.go`): what a
/// container gets without `--cap-add`. Adding one of these changes
/// nothing that the default container does not have already; every other
/// capability is a power the default container lacks.
pub const DEFAULT_CAPS: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// Go's `unicode.ToUpper` for one rune, where the result is ASCII: ASCII
/// letters, plus the only two non-ASCII code points whose simple upper
/// case is an ASCII letter (U+0131 dotless i → `I`, U+017F long s → `S`).
/// `None` for any other non-ASCII rune: its upper case is not ASCII, so
/// the name it is in is no capability Docker knows.
pub fn go_upper_ascii(c: char) -> Option<char> {
    match c {
        '\u{0131}' => Some('I'),
        '\u{017F}' => Some('S'),
        c if c.is_ascii() => Some(c.to_ascii_uppercase()),
        _ => None,
    }
}

/// A capability name as dockerd reads it (moby `oci/caps`
/// `NormalizeLegacyCapabilities`): Go's `strings.ToUpper`, then `CAP_`
/// prefixed unless it is `ALL`; no trimming. `None` when the upper-cased
/// name is not ASCII (dockerd refuses it as unknown).
pub fn normalize_capability(raw: &str) -> Option<String> {
    let up: Option<String> = raw.chars().map(go_upper_ascii).collect();
    let up = up?;
    if up == "ALL" || up.starts_with("CAP_") {
        Some(up)
    } else {
        Some(format!("CAP_{up}"))
    }
}

/// True only for a capability of Docker's default set, in a spelling
/// dockerd reads as that capability. Everything else (ALL, any capability
/// outside the set, names dockerd would refuse) is false: an allow-list.
pub fn default_capability(raw: &str) -> bool {
    normalize_capability(raw).is_some_and(|c| {
        c.strip_prefix("CAP_")
            .is_some_and(|n| DEFAULT_CAPS.contains(&n))
    })
}

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
    fn capabilities_by_allow_list() {
        for c in ["CHOWN", "cap_net_raw", "Net_Bind_Service", "CAP_KILL"] {
            assert!(default_capability(c), "{c}");
        }
        for c in [
            "SYS_TIME",
            "MAC_ADMIN",
            "SYSLOG",
            "ALL",
            "all",
            "\u{017F}ys_admin",
            "net_adm\u{0131}n",
            " CHOWN",
            "CAP_CHOWN ",
            "",
            "CAP_",
        ] {
            assert!(!default_capability(c), "{c:?}");
        }
        // Go's ToUpper maps these two to ASCII, so dockerd reads them as
        // SYS_ADMIN and NET_ADMIN: they must normalise the same way.
        assert_eq!(
            normalize_capability("\u{017F}ys_admin").as_deref(),
            Some("CAP_SYS_ADMIN")
        );
        assert_eq!(
            normalize_capability("net_adm\u{0131}n").as_deref(),
            Some("CAP_NET_ADMIN")
        );
        // A lookalike that does not upper-case to ASCII is no capability.
        assert_eq!(normalize_capability("\u{0455}ys_admin"), None);
    }

    /// Every non-ASCII code point whose simple upper case is an ASCII
    /// letter: exactly the two `go_upper_ascii` knows. (Rust's
    /// `to_uppercase` is the full mapping; where it gives one character it
    /// agrees with the simple mapping Go uses, and Go never maps a code
    /// point to ASCII through a multi-character special case.)
    #[test]
    fn go_upper_ascii_is_complete() {
        let mut found = Vec::new();
        for c in (0x80u32..=0x10FFFF).filter_map(char::from_u32) {
            let up: Vec<char> = c.to_uppercase().collect();
            if let [u] = up.as_slice() {
                if u.is_ascii_uppercase() {
                    found.push((c, *u));
                }
            }
        }
        assert_eq!(found, [('\u{0131}', 'I'), ('\u{017F}', 'S')]);
        for (c, u) in found {
            assert_eq!(go_upper_ascii(c), Some(u));
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
