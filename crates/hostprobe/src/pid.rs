//! A running container's init pid, read from the host instead of asked of
//! dockerd.
//!
//! `GET /containers/json` carries everything the firewall needs of a
//! running container but `State.Pid`, which only an inspect returns, and
//! the firewall needs the pid to find the container's veth. One inspect per
//! container is most of a live `firewall apply` on a busy host, while the
//! same number is in a file the container's runtime keeps: containerd's
//! shim writes `init.pid` in the task's state directory (moby's tasks live
//! in containerd's `moby` namespace, under containerd's state root, which
//! is `/run/containerd` for a system containerd and
//! `<exec-root>/containerd/daemon` for the one dockerd starts itself), and
//! the container's cgroup lists its processes (`docker/<id>` under the
//! cgroupfs driver, `system.slice/docker-<id>.scope` under systemd's, on
//! cgroup v1 and v2 alike).
//!
//! The places are defaults; a host that moves them (`--exec-root`,
//! `--cgroup-parent`, a rootless daemon) gets `None`, and the caller falls
//! back to an inspect. A wrong pid cannot open anything either: the
//! firewall binds an address to a veth only when the veth's MAC is the one
//! Docker gave the container, on the bridge of that network.

use crate::System;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Where a running container's pid is found, in the order tried; `{id}`
/// is the full container id.
const PLACES: &[&str] = &[
    "/run/containerd/io.containerd.runtime.v2.task/moby/{id}/init.pid",
    "/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/{id}/init.pid",
    "/var/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/{id}/init.pid",
    "/sys/fs/cgroup/system.slice/docker-{id}.scope/cgroup.procs",
    "/sys/fs/cgroup/docker/{id}/cgroup.procs",
    "/sys/fs/cgroup/pids/docker/{id}/cgroup.procs",
    "/sys/fs/cgroup/pids/system.slice/docker-{id}.scope/cgroup.procs",
];

/// The pid of the running container `id` (a full, 64-hex-digit id: any
/// other string is refused before a path is built from it), or `None`
/// when none of the usual places has it.
pub fn container_pid(sys: &dyn System, id: &str) -> Option<u32> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    // One host keeps every container's pid in the same place: start where
    // the last one was found.
    static LAST: AtomicUsize = AtomicUsize::new(0);
    let last = LAST.load(Ordering::Relaxed) % PLACES.len();
    let order = std::iter::once(last).chain((0..PLACES.len()).filter(|i| *i != last));
    for i in order {
        let Ok(text) = sys.read_text(Path::new(&PLACES[i].replace("{id}", id))) else {
            continue;
        };
        // `init.pid` holds one number; `cgroup.procs` one per line, any of
        // which shares the container's network namespace.
        let pid = text.split_ascii_whitespace().next().map(str::parse::<u32>);
        if let Some(Ok(pid)) = pid.filter(|p| p.as_ref().is_ok_and(|p| *p > 0)) {
            LAST.store(i, Ordering::Relaxed);
            return Some(pid);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::Fake;

    const ID: &str = "6bfe002075fc093079df61a0e8d1fc605b09b5a95436ba1502659ec0ebba739a";

    #[test]
    fn the_shims_init_pid() {
        let sys = Fake::default().file(
            &format!("/var/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/{ID}/init.pid"),
            "10036",
        );
        assert_eq!(container_pid(&sys, ID), Some(10036));
    }

    #[test]
    fn an_empty_file_is_passed_over() {
        let sys = Fake::default()
            .file(
                &format!("/run/containerd/io.containerd.runtime.v2.task/moby/{ID}/init.pid"),
                "",
            )
            .file(
                &format!("/sys/fs/cgroup/pids/docker/{ID}/cgroup.procs"),
                "77\n",
            );
        assert_eq!(container_pid(&sys, ID), Some(77));
    }

    #[test]
    fn a_cgroup_gives_its_first_process() {
        let sys = Fake::default().file(
            &format!("/sys/fs/cgroup/system.slice/docker-{ID}.scope/cgroup.procs"),
            "4242\n4300\n",
        );
        assert_eq!(container_pid(&sys, ID), Some(4242));
    }

    #[test]
    fn nothing_found_or_nonsense_is_none() {
        assert_eq!(container_pid(&Fake::default(), ID), None);
        let sys = Fake::default()
            .file(
                &format!("/run/containerd/io.containerd.runtime.v2.task/moby/{ID}/init.pid"),
                "x",
            )
            .file(&format!("/sys/fs/cgroup/docker/{ID}/cgroup.procs"), "0\n");
        assert_eq!(container_pid(&sys, ID), None);
    }

    #[test]
    fn an_id_that_is_not_one_builds_no_path() {
        let sys = Fake::default();
        for bad in [
            "../../etc",
            "abc",
            &format!("{ID}/../x"),
            &ID.replace('6', "/"),
        ] {
            assert_eq!(container_pid(&sys, bad), None);
        }
        assert!(sys.reads.lock().unwrap().is_empty());
    }
}
