//! The host's set-up for CIS sections 1 and 6: whether dockerd's data root
//! is a mount of its own (`/proc/self/mountinfo`), who is in group docker
//! (`/etc/group` and primary groups in `/etc/passwd`), which of Docker's
//! files exist, and which paths the audit rules files watch
//! (`/etc/audit/audit.rules`, `/etc/audit/rules.d/*.rules`: what auditd
//! loads at boot; the rules loaded now need CAP_AUDIT_CONTROL to list).

use crate::files::unit_path;
use crate::System;
use dockward_audit::hostsetup::HostSetup;
use std::path::Path;

const BIN_DIRS: &[&str] = &["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", "/sbin"];

/// What can be read of the set-up; the image and container counts are the
/// caller's (they come from the API).
pub fn gather(
    sys: &dyn System,
    data_root: &str,
    dockerd_pid: Option<u32>,
    daemon_json: &str,
) -> HostSetup {
    let exists = |p: &str| sys.stat(Path::new(p)).is_ok();
    let binary = |name: &str| {
        BIN_DIRS
            .iter()
            .map(|d| format!("{d}/{name}"))
            .find(|p| exists(p))
    };
    let dockerd = dockerd_pid
        .and_then(|pid| sys.read_link(Path::new(&format!("/proc/{pid}/exe"))).ok())
        .map(|p| p.display().to_string())
        .or_else(|| binary("dockerd"));
    let candidates: Vec<(&str, Option<String>)> = vec![
        ("1.1.3", dockerd),
        ("1.1.4", Some("/run/containerd".into())),
        (
            "1.1.5",
            Some(data_root.to_string()).filter(|d| !d.is_empty()),
        ),
        ("1.1.6", Some("/etc/docker".into())),
        ("1.1.7", unit_path(sys, "docker.service")),
        ("1.1.8", Some("/run/containerd/containerd.sock".into())),
        ("1.1.9", unit_path(sys, "docker.socket")),
        ("1.1.10", Some("/etc/default/docker".into())),
        ("1.1.11", Some(daemon_json.to_string())),
        ("1.1.12", Some("/etc/containerd/config.toml".into())),
        ("1.1.13", Some("/etc/sysconfig/docker".into())),
        ("1.1.14", binary("containerd")),
        ("1.1.15", binary("containerd-shim")),
        ("1.1.16", binary("containerd-shim-runc-v1")),
        ("1.1.17", binary("containerd-shim-runc-v2")),
        ("1.1.18", binary("runc")),
    ];
    let audit_paths = candidates
        .into_iter()
        .filter_map(|(cis, p)| p.filter(|p| exists(p)).map(|p| (cis.to_string(), p)))
        .collect();
    HostSetup {
        data_root: data_root.to_string(),
        data_root_separate: separate(sys, data_root),
        docker_group: docker_group(sys),
        audit_paths,
        watched: watched(sys),
        images: None,
        containers: (0, 0),
    }
}

/// Is `root` (or, under userns-remap, its parent) on a filesystem of its
/// own: a mount whose device is not the one `/` is on? A bind mount of a
/// directory of the root filesystem is a mount point, not a partition.
fn separate(sys: &dyn System, root: &str) -> Option<bool> {
    if root.is_empty() {
        return None;
    }
    let info = sys.read_text(Path::new("/proc/self/mountinfo")).ok()?;
    // (device, mount point); the last mount of a point is the one in force.
    let mounts: Vec<(&str, &str)> = info
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            Some((*f.get(2)?, *f.get(4)?))
        })
        .collect();
    let device_of = |point: &str| {
        mounts
            .iter()
            .rev()
            .find(|(_, m)| *m == point)
            .map(|(d, _)| *d)
    };
    let slash = device_of("/")?;
    let root = root.trim_end_matches('/');
    let parent = root.rsplit_once('/').map_or("", |(p, _)| p);
    let own = device_of(root).or_else(|| {
        // userns-remap: /var/lib/docker/100000.100000 under the real root.
        (parent.len() > 1 && root.rsplit('/').next().is_some_and(|b| b.contains('.')))
            .then(|| device_of(parent))
            .flatten()
    });
    Some(own.is_some_and(|d| d != slash))
}

fn docker_group(sys: &dyn System) -> Option<Vec<String>> {
    let group = sys.read_text(Path::new("/etc/group")).ok()?;
    let line = group.lines().find(|l| l.starts_with("docker:"))?;
    let mut f = line.split(':');
    let gid = f.nth(2)?.to_string();
    let mut members: Vec<String> = f
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .collect();
    for l in sys
        .read_text(Path::new("/etc/passwd"))
        .unwrap_or_default()
        .lines()
    {
        let p: Vec<&str> = l.split(':').collect();
        if p.get(3) == Some(&gid.as_str()) {
            if let Some(u) = p.first() {
                if !members.iter().any(|m| m == u) {
                    members.push((*u).to_string());
                }
            }
        }
    }
    Some(members)
}

/// The paths the rules files watch (`-w PATH`, `-F path=PATH`,
/// `-F dir=PATH`); `None` when there is no rules file.
fn watched(sys: &dyn System) -> Option<Vec<String>> {
    let mut files = vec!["/etc/audit/audit.rules".to_string()];
    if let Ok(names) = sys.read_dir(Path::new("/etc/audit/rules.d")) {
        files.extend(
            names
                .into_iter()
                .filter(|n| n.ends_with(".rules"))
                .map(|n| format!("/etc/audit/rules.d/{n}")),
        );
    }
    let texts: Vec<String> = files
        .iter()
        .filter_map(|f| sys.read_text(Path::new(f)).ok())
        .collect();
    if texts.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for line in texts.iter().flat_map(|t| t.lines()) {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            if *w == "-w" {
                if let Some(p) = words.get(i + 1) {
                    out.push((*p).to_string());
                }
            }
            if let Some(p) = w.strip_prefix("path=").or_else(|| w.strip_prefix("dir=")) {
                out.push(p.to_string());
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::Fake;
    use crate::FileMeta;

    const M: FileMeta = FileMeta {
        uid: 0,
        gid: 0,
        mode: 0o755,
        dir: false,
        socket: false,
    };

    #[test]
    fn what_exists_what_is_watched_and_who_is_in_the_group() {
        let sys = Fake::default()
            .link("/proc/42/exe", "/usr/sbin/dockerd")
            .stat("/usr/sbin/dockerd", M)
            .stat("/etc/docker", M)
            .stat("/var/lib/docker", M)
            .stat("/usr/bin/runc", M)
            .file("/etc/audit/rules.d/docker.rules", "-w /usr/sbin/dockerd -k docker\n# -w /etc/docker\n-a always,exit -F path=/usr/bin/runc -F perm=x\n")
            .file("/etc/group", "root:x:0:\ndocker:x:998:alice,bob\n")
            .file("/etc/passwd", "carol:x:1002:998::/home/carol:/bin/sh\n")
            .file("/proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 22 8:2 / /var/lib/docker rw - ext4 /dev/sda2 rw\n31 22 8:1 /srv/d /srv/docker rw - ext4 /dev/sda1 rw\n");
        let h = gather(&sys, "/var/lib/docker", Some(42), "/etc/docker/daemon.json");
        assert_eq!(
            h.audit_paths,
            [
                ("1.1.3".to_string(), "/usr/sbin/dockerd".to_string()),
                ("1.1.5".into(), "/var/lib/docker".into()),
                ("1.1.6".into(), "/etc/docker".into()),
                ("1.1.18".into(), "/usr/bin/runc".into()),
            ]
        );
        assert_eq!(
            h.watched,
            Some(vec![
                "/usr/sbin/dockerd".to_string(),
                "/usr/bin/runc".into()
            ])
        );
        assert_eq!(
            h.docker_group,
            Some(vec!["alice".to_string(), "bob".into(), "carol".into()])
        );
        assert_eq!(h.data_root_separate, Some(true));
        // A bind mount of the root filesystem is not a partition.
        assert_eq!(separate(&sys, "/srv/docker"), Some(false));
        assert_eq!(separate(&sys, "/srv/other"), Some(false));
        let none = gather(
            &Fake::default(),
            "/var/lib/docker",
            None,
            "/etc/docker/daemon.json",
        );
        assert_eq!(none.watched, None);
        assert_eq!(none.docker_group, None);
    }
}
