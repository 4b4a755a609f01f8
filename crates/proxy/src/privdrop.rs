//! Dropping root after the listeners are bound: how the proxy image is a
//! drop-in for tecnativa/docker-socket-proxy (which runs as root) and still
//! runs as nobody. The image sets `DOCKWARD_DROP_TO=65534:65534`; started
//! as root, the proxy binds its listeners, takes the Docker socket's group
//! as its only supplementary group, then sets its gid and uid, and checks
//! that root cannot be regained. Started as anyone else it does nothing:
//! there is nothing to drop.
//!
//! Through `nix` (safe wrappers over setgroups(2), setgid(2), setuid(2)):
//! glibc applies each to every thread of the process (the POSIX semantics
//! nptl implements), so the runtime's threads drop too.

use nix::unistd::{getegid, geteuid, getuid, setgid, setgroups, setuid, Gid, Uid};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// `UID:GID` (numbers).
pub fn parse(value: &str) -> Result<(u32, u32), String> {
    let bad = || format!("DOCKWARD_DROP_TO={value:?}: write UID:GID in numbers, e.g. 65534:65534");
    let (u, g) = value.trim().split_once(':').ok_or_else(bad)?;
    let (u, g): (u32, u32) = (u.parse().map_err(|_| bad())?, g.parse().map_err(|_| bad())?);
    if u == 0 || g == 0 {
        return Err(format!(
            "DOCKWARD_DROP_TO={value:?}: dropping to root drops nothing"
        ));
    }
    Ok((u, g))
}

/// Drops to `uid:gid` with `socket`'s group when running as root. Returns
/// what it did, for the log.
pub fn drop_to(uid: u32, gid: u32, socket: Option<&Path>) -> Result<Option<String>, String> {
    if !getuid().is_root() && !geteuid().is_root() {
        return Ok(None);
    }
    let mut groups = Vec::new();
    if let Some(p) = socket {
        let meta = std::fs::metadata(p)
            .map_err(|e| format!("cannot read {}'s group to keep it ({e})", p.display()))?;
        // Keeping group 0 would keep root's group: refuse instead of
        // serving with more than the socket needs.
        if meta.gid() == 0 {
            return Err(format!(
                "{} belongs to group root (0): keeping that group would keep root's; give the socket a group of its own (dockerd's --group, e.g. docker), or run the image with --user 65534:65534 --group-add 0 knowingly",
                p.display()
            ));
        }
        groups.push(Gid::from_raw(meta.gid()));
    }
    setgroups(&groups).map_err(|e| format!("setgroups: {e}"))?;
    setgid(Gid::from_raw(gid)).map_err(|e| format!("setgid({gid}): {e}"))?;
    setuid(Uid::from_raw(uid)).map_err(|e| format!("setuid({uid}): {e}"))?;
    if setuid(Uid::from_raw(0)).is_ok() || geteuid().is_root() || getegid().as_raw() == 0 {
        return Err("root could be regained after dropping it; refusing to serve".into());
    }
    Ok(Some(format!(
        "running as {uid}:{gid}{}",
        groups
            .first()
            .map(|g| format!(" with the socket's group {g}"))
            .unwrap_or_default()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_gid_in_numbers_and_never_root() {
        assert_eq!(parse("65534:65534"), Ok((65534, 65534)));
        for bad in ["nobody", "65534", "0:0", "65534:0", "a:b", ""] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
