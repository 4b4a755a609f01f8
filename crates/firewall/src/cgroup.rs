//! Which sockets belong to docker-proxy: dockerd's cgroup (v2), as nft's
//! `socket cgroupv2` expression names it.
//!
//! Why: with Docker's default `ip6tables: false` (20.10–26), IPv6 to a
//! published port is not DNATed; it is delivered to docker-proxy's `[::]`
//! listener as a local process (ANCHORS §2). The `proxy6` map gives each
//! known host port its verdict, but a container that has just started has
//! no entry until `watch` adds it, and its host port is not known before
//! (random ports are chosen at start). Port numbers cannot tell docker-proxy
//! from a host service; the socket's owner can. docker-proxy is a child of
//! dockerd and so lives in dockerd's cgroup (`system.slice/docker.service`
//! under systemd), and nft's `socket cgroupv2` looks up the socket a packet
//! is delivered to, listeners included (kernel ≥ 5.13). A rule after the
//! map sends every packet for a docker-proxy socket without an entry to the
//! fallback, closing that window; host services elsewhere are untouched.
//!
//! nft 1.0 resolves the path to the cgroup's inode when the rule is loaded,
//! relative to `/sys/fs/cgroup` (its JSON parser has no `cgroupv2` key, so
//! this is the one rule that only the text syntax can say). On hybrid hosts
//! the v2 hierarchy is mounted at `/sys/fs/cgroup/unified`, so the path
//! carries that prefix while the level counts only cgroup components. When
//! dockerd restarts, systemd recreates its cgroup with a new inode; `watch`
//! replaces the table after every reconnection, which resolves it again.

use dockward_model::Protocol;
use serde::{Deserialize, Serialize};

/// Where nft's `socket cgroupv2` resolves paths from.
pub const NFT_CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// dockerd's cgroup, ready for `socket cgroupv2 level <level> "<path>"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyCgroup {
    /// Depth of dockerd's cgroup below the v2 root (`system.slice/docker.service`: 2).
    pub level: u32,
    /// Path as nft resolves it, relative to [`NFT_CGROUP_ROOT`].
    pub path: String,
    /// dockerd's own listeners share its cgroup but are not docker-proxy's:
    /// its API's `-H tcp://…` ports. The guard passes them (see
    /// [`daemon_ports`]).
    pub daemon_ports: Vec<(Protocol, u16)>,
}

/// The ports dockerd itself listens on: those of its `tcp://` hosts
/// (`-H`). Only those: a port dockerd listens on cannot also be bound by
/// docker-proxy, so exempting it by number is exact, while a port exempted
/// by convention (2375, 2376, swarm's 2377 and 7946 on a node not in a
/// swarm) is free for a container to publish — and was open over IPv6
/// whatever its verdict. Swarm's ports come with the Swarm work, from the
/// node's real state.
pub fn daemon_ports(hosts: &[String]) -> Vec<(Protocol, u16)> {
    let mut v = Vec::new();
    for h in hosts {
        let Some(addr) = h.strip_prefix("tcp://") else {
            continue;
        };
        let addr = addr.split('/').next().unwrap_or(addr);
        if let Some(port) = addr
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
        {
            v.push((Protocol::Tcp, port));
        }
    }
    v.sort();
    v.dedup();
    v
}

/// dockerd's cgroup from `/proc/<dockerd>/cgroup` and `/proc/self/mountinfo`,
/// with its own ports from its `-H` `hosts`, or why there is none to match
/// on (the reason is shown by `plan`).
pub fn proxy_cgroup(
    proc_cgroup: &str,
    mountinfo: &str,
    hosts: &[String],
) -> Result<ProxyCgroup, String> {
    let rel = proc_cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .ok_or("dockerd is in no cgroup v2 hierarchy (a cgroup v1-only host)")?
        .trim();
    if rel.ends_with(" (deleted)") {
        return Err("dockerd's cgroup was deleted".into());
    }
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err("dockerd runs in the root cgroup, shared with every host service; run it in a cgroup of its own (as systemd's docker.service does)".into());
    }
    if parts.iter().any(|p| {
        *p == ".."
            || p.chars()
                .any(|c| c == '"' || c.is_control() || !c.is_ascii())
    }) {
        return Err(format!(
            "dockerd's cgroup path {rel:?} cannot be written in an nft rule"
        ));
    }
    let prefix = cgroup2_prefix(mountinfo).ok_or(
        "no cgroup v2 hierarchy is mounted at or below /sys/fs/cgroup, where nft looks for it",
    )?;
    let mut path = prefix;
    for p in &parts {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(p);
    }
    Ok(ProxyCgroup {
        level: u32::try_from(parts.len()).map_err(|_| "dockerd's cgroup is too deep")?,
        path,
        daemon_ports: daemon_ports(hosts),
    })
}

/// The cgroup2 mount point relative to [`NFT_CGROUP_ROOT`] (`""` on a
/// unified host, `"unified"` on a hybrid one). Only a mount of the whole
/// hierarchy (root `/`) counts: inside a cgroup namespace paths differ.
fn cgroup2_prefix(mountinfo: &str) -> Option<String> {
    let mut best: Option<String> = None;
    for line in mountinfo.lines() {
        // id parent major:minor root mountpoint options [optional…] - fstype source super
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        if right.split_whitespace().next() != Some("cgroup2") {
            continue;
        }
        let f: Vec<&str> = left.split_whitespace().collect();
        let (Some(root), Some(mp)) = (f.get(3), f.get(4)) else {
            continue;
        };
        if *root != "/" {
            continue;
        }
        let rel = if *mp == NFT_CGROUP_ROOT {
            String::new()
        } else if let Some(r) = mp.strip_prefix("/sys/fs/cgroup/") {
            r.to_string()
        } else {
            continue;
        };
        // Shortest wins: `/sys/fs/cgroup` itself over a nested mount.
        if best.as_ref().is_none_or(|b| rel.len() < b.len()) {
            best = Some(rel);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIFIED: &str = "25 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";
    const HYBRID: &str = "24 22 0:21 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n\
        25 24 0:22 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw\n\
        26 24 0:23 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n";

    #[test]
    fn systemd_unit_on_a_unified_host() {
        let hosts = ["tcp://0.0.0.0:12375".to_string()];
        let g = proxy_cgroup("0::/system.slice/docker.service\n", UNIFIED, &hosts).unwrap();
        assert_eq!(
            (g.level, g.path.as_str()),
            (2, "system.slice/docker.service")
        );
        assert!(
            !g.daemon_ports.contains(&(Protocol::Tcp, 2377)),
            "not by convention"
        );
        assert!(g.daemon_ports.contains(&(Protocol::Tcp, 12375)));
    }

    #[test]
    fn hybrid_host_prefixes_the_mount_but_not_the_level() {
        let cg = "9:name=systemd:/\n4:memory:/x\n0::/dockward-bench-dockerd\n";
        let g = proxy_cgroup(cg, HYBRID, &[]).unwrap();
        assert_eq!(
            (g.level, g.path.as_str()),
            (1, "unified/dockward-bench-dockerd")
        );
    }

    #[test]
    fn root_cgroup_and_v1_only_hosts_have_no_guard() {
        let e = proxy_cgroup("0::/\n", UNIFIED, &[]).unwrap_err();
        assert!(e.contains("root cgroup"), "{e}");
        let e = proxy_cgroup("4:memory:/docker\n", UNIFIED, &[]).unwrap_err();
        assert!(e.contains("v1-only"), "{e}");
        let e = proxy_cgroup("0::/system.slice/docker.service\n", "", &[]).unwrap_err();
        assert!(e.contains("no cgroup v2"), "{e}");
    }

    #[test]
    fn paths_nft_cannot_quote_are_refused() {
        for bad in ["0::/a\"b\n", "0::/a/../b\n", "0::/caf\u{e9}\n"] {
            assert!(proxy_cgroup(bad, UNIFIED, &[]).is_err(), "{bad:?}");
        }
        assert!(proxy_cgroup("0::/gone (deleted)\n", UNIFIED, &[]).is_err());
    }

    #[test]
    fn daemon_ports_are_the_api_hosts_only() {
        let p = daemon_ports(&[
            "unix:///var/run/docker.sock".into(),
            "tcp://[::]:12375".into(),
            "tcp://0.0.0.0:2376".into(),
            "tcp://0.0.0.0:2376".into(),
            "fd://".into(),
        ]);
        assert_eq!(p, [(Protocol::Tcp, 2376), (Protocol::Tcp, 12375)]);
        assert!(daemon_ports(&["unix:///var/run/docker.sock".into()]).is_empty());
    }

    #[test]
    fn a_namespaced_mount_is_not_the_hierarchy_root() {
        let mi = "25 30 0:22 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        assert!(proxy_cgroup("0::/x\n", mi, &[]).is_err());
    }
}
