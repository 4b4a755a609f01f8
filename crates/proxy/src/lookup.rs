//! Looking up the containers a request acts on or names, for
//! `Policy::judge_container`: one inspect each, from this client's own
//! upstream connection, made before anything is forwarded. A lookup that
//! fails refuses the request.
//!
//! Not cached: a container's name (and so its visibility) can change at
//! any moment, and bind sources are resolved again at every use; one
//! inspect costs less than a millisecond next to the exec, attach or
//! archive it guards.

use dockward_apiguard::power::binds::HostFs;
use dockward_apiguard::Deny;
use std::path::{Path, PathBuf};

/// The host's filesystem as this process sees it.
pub struct HostView;

impl HostFs for HostView {
    fn canonicalize(&self, path: &Path) -> std::io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }
}

/// Container names and ids are `[A-Za-z0-9][A-Za-z0-9_.-]*` (moby
/// `restrictedNameChars`); anything else names no container, and must
/// not be put into an upstream path.
pub fn plausible(name: &str) -> bool {
    let mut c = name.chars();
    c.next().is_some_and(|f| f.is_ascii_alphanumeric())
        && c.all(|x| x.is_ascii_alphanumeric() || matches!(x, '_' | '.' | '-'))
}

pub fn no_such(name: &str) -> Deny {
    Deny {
        status: 404,
        rule: "container lookup".into(),
        hint: format!("No such container: {name}"),
    }
}
