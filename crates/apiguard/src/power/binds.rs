//! Bind sources by allow-list: a host path may be mounted into a container
//! only when it lies under a directory the operator named
//! (`ALLOW_BIND_MOUNTS`, or `bind_mounts` in a policy file).
//!
//! What counts is the path the kernel will mount, not the text the client
//! sent. dockerd cleans a bind source lexically with Go's `path.Clean`
//! (moby `volume/mounts/linux_parser.go`) and the kernel then follows every
//! symlink in what is left. So a source is cleaned exactly as Go cleans
//! it, and then resolved through symlinks on the host ([`HostFs`]): the
//! longest existing ancestor is canonicalised and the missing rest (which
//! dockerd creates for `Binds`) is appended. The raw text is resolved too,
//! in case a client reaches a dockerd that does not clean: both must be
//! inside the allow-list. A source the proxy cannot resolve (it cannot see
//! the host's filesystem, or the lookup fails) is refused.
//!
//! The check runs when a container is created and again whenever it is
//! entered or joined. A symlink swapped in after the check is the residue
//! no proxy can close (dockerd resolves again at every start): allow-list
//! directories that the containers you allow do not write to, or that
//! they only get read-only (docs/proxy.md, threat model).

use std::io;
use std::path::{Component, Path, PathBuf};

/// The host's filesystem as the proxy sees it: the one effect a bind
/// decision needs, behind a trait so that the decision stays testable.
pub trait HostFs {
    /// `realpath(3)`: the path with every symlink resolved; `NotFound`
    /// when some component does not exist.
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf>;
}

/// Go's `path.Clean` (lexical): one slash between elements, no `.`
/// elements, each `..` removes the element before it, `..` at the root
/// stays at the root, no trailing slash; the empty path is `.`.
pub fn go_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for el in p.split('/') {
        match el {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            e => out.push(e),
        }
    }
    let body = out.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

/// Where `path` (absolute) leads on the host: the canonical longest
/// existing ancestor, plus the components that do not exist yet.
pub fn resolve(fs: &dyn HostFs, path: &str) -> Result<PathBuf, String> {
    let p = Path::new(path);
    if !p.is_absolute() {
        return Err(format!("{path} is not an absolute path"));
    }
    let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
    let mut cur = p;
    loop {
        match fs.canonicalize(cur) {
            Ok(mut real) => {
                for c in rest.iter().rev() {
                    real.push(c);
                }
                return Ok(real);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let Some(parent) = cur.parent() else {
                    return Err(format!(
                        "{path}: the host's root is not visible to the proxy"
                    ));
                };
                match cur.components().next_back() {
                    Some(Component::Normal(n)) => rest.push(n),
                    // A `..` or `.` below a missing directory: the kernel
                    // would fail; nothing sensible to judge.
                    _ => return Err(format!("{path}: cannot be resolved")),
                }
                cur = parent;
            }
            Err(e) => return Err(format!("{path}: cannot be resolved on the host ({e})")),
        }
    }
}

/// The verdict on one bind source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindVerdict {
    /// Inside the allow-list (or binds are allowed wholesale).
    Allowed,
    /// The Docker or containerd socket, or a directory holding it.
    Socket(String),
    /// Outside the allow-list, or not resolvable: the reason.
    Refused(String),
}

/// Judges one bind source against the allow-list `allow` (directories as
/// configured; each is canonicalised through `fs` too). `any` is
/// `ALLOW_HOST_POWER=bind`: every resolvable path but the socket passes.
pub fn judge(fs: &dyn HostFs, allow: &[String], any: bool, source: &str) -> BindVerdict {
    let cleaned = go_clean(source);
    let mut targets = vec![cleaned.clone()];
    if source != cleaned {
        targets.push(source.to_string());
    }
    let mut resolved = Vec::new();
    for t in &targets {
        match resolve(fs, t) {
            Ok(r) => resolved.push(r),
            Err(e) => {
                // The socket is recognisable by name even unresolved.
                if dockward_hostpower::classify(&cleaned) == Some(dockward_hostpower::Mount::Socket)
                {
                    return BindVerdict::Socket(cleaned);
                }
                return BindVerdict::Refused(e);
            }
        }
    }
    for r in &resolved {
        let s = r.to_string_lossy();
        if dockward_hostpower::classify(&s) == Some(dockward_hostpower::Mount::Socket) {
            return BindVerdict::Socket(s.into_owned());
        }
    }
    if any {
        return BindVerdict::Allowed;
    }
    if allow.is_empty() {
        return BindVerdict::Refused(format!(
            "{source} is a host path and no directory is allow-listed (ALLOW_BIND_MOUNTS is empty)"
        ));
    }
    let dirs: Vec<PathBuf> = allow
        .iter()
        .filter_map(|d| fs.canonicalize(Path::new(&go_clean(d))).ok())
        .collect();
    for r in &resolved {
        // `Path::starts_with` compares whole components: /srv/database
        // is not under /srv/data.
        if !dirs.iter().any(|d| r.starts_with(d)) {
            let shown = if r.as_os_str() == cleaned.as_str() {
                String::new()
            } else {
                format!(" (resolves to {})", r.display())
            };
            return BindVerdict::Refused(format!(
                "{source}{shown} is outside the allow-listed directories ({})",
                allow.join(", ")
            ));
        }
    }
    BindVerdict::Allowed
}

#[cfg(test)]
pub mod fake {
    //! A host filesystem made of a few directories and symlinks, and the
    //! body checks' environment over it.
    use super::*;
    use crate::power::{Check, Env};
    use std::collections::{BTreeMap, BTreeSet};

    /// What the body checks need, owned: a fake host, `/srv/data`
    /// allow-listed for binds, no check allowed.
    pub struct Fixture {
        pub fs: FakeFs,
        pub allow: Vec<String>,
        pub allowed: BTreeSet<Check>,
    }

    impl Fixture {
        pub fn new(fs: FakeFs) -> Self {
            Self {
                fs,
                allow: vec!["/srv/data".to_string()],
                allowed: BTreeSet::new(),
            }
        }

        pub fn env(&self) -> Env<'_> {
            Env {
                bind_allow: &self.allow,
                allowed: &self.allowed,
                fs: &self.fs,
            }
        }
    }

    #[derive(Default)]
    pub struct FakeFs {
        /// Existing directories (canonical).
        pub dirs: Vec<String>,
        /// Symlinks: path → target (absolute).
        pub links: BTreeMap<String, String>,
        /// Paths whose lookup fails with permission denied.
        pub denied: Vec<String>,
    }

    impl HostFs for FakeFs {
        fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
            let mut cur = PathBuf::from("/");
            let mut hops = 0;
            let mut todo: Vec<String> = path
                .components()
                .filter_map(|c| match c {
                    Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
                    Component::ParentDir => Some("..".into()),
                    _ => None,
                })
                .rev()
                .collect();
            while let Some(c) = todo.pop() {
                if c == ".." {
                    cur.pop();
                    continue;
                }
                let next = cur.join(&c);
                let s = next.to_string_lossy().into_owned();
                if self.denied.contains(&s) {
                    return Err(io::ErrorKind::PermissionDenied.into());
                }
                if let Some(t) = self.links.get(&s) {
                    hops += 1;
                    if hops > 40 {
                        return Err(io::Error::other("loop"));
                    }
                    cur = PathBuf::from("/");
                    for part in t.split('/').filter(|x| !x.is_empty()).rev() {
                        todo.push(part.to_string());
                    }
                    continue;
                }
                if !self.dirs.contains(&s) {
                    return Err(io::ErrorKind::NotFound.into());
                }
                cur = next;
            }
            Ok(cur)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeFs;
    use super::*;

    #[test]
    fn go_clean_matches_go() {
        // Cases from Go's path.Clean tests.
        for (i, o) in [
            ("", "."),
            ("abc", "abc"),
            ("abc/def", "abc/def"),
            ("a/b/c", "a/b/c"),
            (".", "."),
            ("..", ".."),
            ("../..", "../.."),
            ("../../abc", "../../abc"),
            ("/abc", "/abc"),
            ("/", "/"),
            ("abc/", "abc"),
            ("abc/def/", "abc/def"),
            ("/abc/", "/abc"),
            ("//abc", "/abc"),
            ("///abc", "/abc"),
            ("//abc//", "/abc"),
            ("abc//def//ghi", "abc/def/ghi"),
            ("abc/./def", "abc/def"),
            ("/./abc/def", "/abc/def"),
            ("abc/.", "abc"),
            ("abc/def/ghi/../jkl", "abc/def/jkl"),
            ("abc/def/../ghi/../jkl", "abc/jkl"),
            ("abc/def/..", "abc"),
            ("abc/def/../..", "."),
            ("/abc/def/../..", "/"),
            ("abc/def/../../..", ".."),
            ("/abc/def/../../..", "/"),
            ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"),
            ("abc/./../def", "def"),
            ("abc//./../def", "def"),
            ("abc/../../././../def", "../../def"),
            ("/.", "/"),
            ("/tmp/..", "/"),
            ("/etc/.", "/etc"),
            ("/run/../run", "/run"),
        ] {
            assert_eq!(go_clean(i), o, "{i:?}");
        }
    }

    fn fs() -> FakeFs {
        FakeFs {
            dirs: [
                "/srv",
                "/srv/data",
                "/srv/data/app",
                "/etc",
                "/etc/cron.d",
                "/run",
                "/tmp",
                "/home",
                "/home/u",
            ]
            .map(String::from)
            .to_vec(),
            links: [
                ("/srv/data/evil".to_string(), "/etc".to_string()),
                ("/srv/data/up".to_string(), "/srv/data/../..".to_string()),
                ("/srv/link".to_string(), "/srv/data".to_string()),
            ]
            .into(),
            denied: vec!["/srv/data/secret".into()],
        }
    }

    #[test]
    fn allow_list_after_cleaning_and_symlinks() {
        let f = fs();
        let allow = vec!["/srv/data".to_string()];
        let j = |s: &str| judge(&f, &allow, false, s);
        assert_eq!(j("/srv/data"), BindVerdict::Allowed);
        assert_eq!(j("/srv/data/app"), BindVerdict::Allowed);
        assert_eq!(j("/srv/data/new/dir"), BindVerdict::Allowed, "created");
        assert_eq!(j("/srv/link/app"), BindVerdict::Allowed, "via a symlink");
        for bad in [
            "/",
            "/.",
            "/tmp/..",
            "/etc/.",
            "/etc/cron.d",
            "/home/u",
            "/srv",
            "/srv/data/..",
            "/srv/data/evil",
            "/srv/data/evil/cron.d",
            "/srv/data/up",
            "/srv/data/app/../../x",
            "/srv/database",
        ] {
            assert!(
                matches!(j(bad), BindVerdict::Refused(_)),
                "{bad}: {:?}",
                j(bad)
            );
        }
        assert!(
            matches!(j("/srv/data/secret/x"), BindVerdict::Refused(e) if e.contains("cannot be resolved"))
        );
        assert!(matches!(j("/run"), BindVerdict::Socket(_)));
        assert!(matches!(j("/run/../run"), BindVerdict::Socket(_)));
        assert!(matches!(j("/var/run/docker.sock"), BindVerdict::Socket(_)));
        // Nothing allow-listed: every host path is refused.
        assert!(matches!(
            judge(&f, &[], false, "/srv/data"),
            BindVerdict::Refused(_)
        ));
        // ALLOW_HOST_POWER=bind: anything resolvable but the socket.
        assert_eq!(judge(&f, &[], true, "/etc"), BindVerdict::Allowed);
        assert!(matches!(
            judge(&f, &[], true, "/run"),
            BindVerdict::Socket(_)
        ));
        // An allow-listed directory the proxy cannot see allows nothing.
        assert!(matches!(
            judge(&f, &["/mnt/x".to_string()], false, "/mnt/x/y"),
            BindVerdict::Refused(_)
        ));
    }
}
