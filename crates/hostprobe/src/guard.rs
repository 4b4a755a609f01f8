//! dockerd's cgroup, for the firewall's docker-proxy guard: docker-proxy
//! is dockerd's child and lives in its cgroup, so a socket owned by that
//! cgroup and not held by dockerd itself is docker-proxy's (see
//! `dockward_firewall::cgroup` for the rule and why port numbers cannot
//! tell).

use crate::dockerd::Dockerd;
use crate::System;
use dockward_firewall::ProxyCgroup;
use dockward_model::Protocol;
use std::path::Path;

/// dockerd's cgroup for the guard, or why there is none.
pub type Guard = Result<ProxyCgroup, String>;

/// The guard for `dockerd`, exempting `listening` (dockerd's own sockets).
pub fn guard(sys: &dyn System, dockerd: &Dockerd, listening: &[(Protocol, u16)]) -> Guard {
    let cgroup = sys
        .read_text(
            &Path::new("/proc")
                .join(dockerd.pid.to_string())
                .join("cgroup"),
        )
        .map_err(|e| format!("cannot read dockerd's cgroup ({e})"))?;
    let mountinfo = sys
        .read_text(Path::new("/proc/self/mountinfo"))
        .map_err(|e| format!("cannot read the mount table ({e})"))?;
    let hosts = dockward_audit::parse_dockerd_args(&dockerd.args).hosts;
    let mut g = dockward_firewall::cgroup::proxy_cgroup(&cgroup, &mountinfo, &hosts)?;
    g.daemon_ports.extend(listening.iter().copied());
    g.daemon_ports.sort();
    g.daemon_ports.dedup();
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::Fake;

    const MOUNTINFO: &str =
        "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw\n";

    #[test]
    fn dockerds_cgroup_with_its_own_ports_exempt() {
        let d = Dockerd {
            pid: 42,
            args: vec!["dockerd".into()],
        };
        let f = Fake::default()
            .file("/proc/42/cgroup", "0::/system.slice/docker.service\n")
            .file("/proc/self/mountinfo", MOUNTINFO);
        let g = guard(&f, &d, &[(Protocol::Tcp, 2377), (Protocol::Tcp, 2377)]).unwrap();
        assert_eq!(g.path, "system.slice/docker.service");
        assert_eq!(g.level, 2);
        assert!(g.daemon_ports.contains(&(Protocol::Tcp, 2377)));
        let e = guard(&Fake::default(), &d, &[]).unwrap_err();
        assert!(e.starts_with("cannot read dockerd's cgroup"), "{e}");
    }
}
