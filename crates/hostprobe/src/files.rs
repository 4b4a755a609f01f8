//! Docker's files on this host, for CIS section 3: which paths, found the
//! way dockerd and systemd find them, with their owner and mode.
//!
//! docker-bench-security looks at fixed paths and, through a `find` whose
//! exit status it misreads, often reports the unit files missing; it
//! ignores `--config-file`, a custom `-H unix://` socket and TLS paths
//! given as `--tlscacert /path`. Here the unit files are the first that
//! exists where systemd keeps them (/etc, /run, /lib, /usr/lib), the
//! socket and daemon.json are those the running dockerd uses, and the TLS
//! files are its own (daemon.json or command line, either form; dockerd's
//! default `~/.docker/{ca,cert,key}.pem` of root when `tlsverify` is on
//! with none named). A path that does not exist is not a finding.

use crate::System;
use dockward_audit::hostfiles::{FileRole, HostFile};
use std::collections::BTreeMap;
use std::path::Path;

/// Where dockerd keeps what section 3 asks about.
#[derive(Debug, Clone, Default)]
pub struct Paths {
    /// The socket the audit talks to (`/var/run/docker.sock` by default).
    pub socket: Option<String>,
    /// daemon.json (`--config-file`, else `/etc/docker/daemon.json`).
    pub daemon_json: String,
    pub tlscacert: Option<String>,
    pub tlscert: Option<String>,
    pub tlskey: Option<String>,
    pub tlsverify: bool,
}

const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
];

/// The unit file systemd uses for `unit`: the first that exists.
pub fn unit_path(sys: &dyn System, unit: &str) -> Option<String> {
    UNIT_DIRS
        .iter()
        .map(|d| format!("{d}/{unit}"))
        .find(|path| sys.stat(Path::new(path)).is_ok())
}

/// The files, with their owner and mode.
pub fn gather(sys: &dyn System, p: &Paths) -> Vec<HostFile> {
    let groups = groups(sys);
    let mut wanted: Vec<(FileRole, String)> = Vec::new();
    for (role, unit) in [
        (FileRole::DockerService, "docker.service"),
        (FileRole::DockerSocketUnit, "docker.socket"),
    ] {
        if let Some(path) = unit_path(sys, unit) {
            wanted.push((role, path));
        }
    }
    wanted.push((FileRole::EtcDocker, "/etc/docker".into()));
    if let Ok(hosts) = sys.read_dir(Path::new("/etc/docker/certs.d")) {
        for h in hosts {
            let dir = format!("/etc/docker/certs.d/{h}");
            for f in sys.read_dir(Path::new(&dir)).unwrap_or_default() {
                if [".crt", ".cert", ".pem"].iter().any(|e| f.ends_with(e)) {
                    wanted.push((FileRole::RegistryCert, format!("{dir}/{f}")));
                }
            }
        }
    }
    let default_tls = |name: &str| p.tlsverify.then(|| format!("/root/.docker/{name}"));
    for (role, path) in [
        (
            FileRole::TlsCa,
            p.tlscacert.clone().or_else(|| default_tls("ca.pem")),
        ),
        (
            FileRole::TlsCert,
            p.tlscert.clone().or_else(|| default_tls("cert.pem")),
        ),
        (
            FileRole::TlsKey,
            p.tlskey.clone().or_else(|| default_tls("key.pem")),
        ),
    ] {
        if let Some(path) = path {
            wanted.push((role, path));
        }
    }
    wanted.push((
        FileRole::DockerSock,
        p.socket
            .clone()
            .unwrap_or_else(|| "/var/run/docker.sock".into()),
    ));
    wanted.push((FileRole::DaemonJson, p.daemon_json.clone()));
    wanted.push((FileRole::EtcDefault, "/etc/default/docker".into()));
    wanted.push((FileRole::EtcSysconfig, "/etc/sysconfig/docker".into()));
    for s in [
        "/run/containerd/containerd.sock",
        "/run/docker/containerd/containerd.sock",
    ] {
        wanted.push((FileRole::ContainerdSock, s.into()));
    }
    wanted
        .into_iter()
        .filter_map(|(role, path)| {
            let m = sys.stat(Path::new(&path)).ok()?;
            Some(HostFile {
                role,
                group: groups.get(&m.gid).cloned(),
                path,
                uid: m.uid,
                gid: m.gid,
                mode: m.mode,
            })
        })
        .collect()
}

/// gid -> group name, from /etc/group.
fn groups(sys: &dyn System) -> BTreeMap<u32, String> {
    sys.read_text(Path::new("/etc/group"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let gid = f.nth(1)?.parse().ok()?;
            Some((gid, name.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::Fake;
    use crate::FileMeta;

    fn meta(uid: u32, gid: u32, mode: u32) -> FileMeta {
        FileMeta {
            uid,
            gid,
            mode,
            dir: false,
            socket: false,
        }
    }

    #[test]
    fn the_files_dockerd_really_uses_are_found() {
        let sys = Fake::default()
            .file("/etc/group", "root:x:0:\ndocker:x:998:alice\n")
            .stat("/usr/lib/systemd/system/docker.service", meta(0, 0, 0o644))
            .stat("/etc/docker", meta(0, 0, 0o755))
            .file("/etc/docker/certs.d/reg:5000/ca.crt", "x")
            .stat("/etc/docker/certs.d/reg:5000/ca.crt", meta(0, 0, 0o444))
            .stat("/srv/tls/key.pem", meta(0, 0, 0o600))
            .stat("/run/user/docker.sock", meta(0, 998, 0o660))
            .stat("/srv/daemon.json", meta(0, 0, 0o644));
        let files = gather(
            &sys,
            &Paths {
                socket: Some("/run/user/docker.sock".into()),
                daemon_json: "/srv/daemon.json".into(),
                tlskey: Some("/srv/tls/key.pem".into()),
                tlsverify: true,
                ..Paths::default()
            },
        );
        let found: Vec<(FileRole, &str)> =
            files.iter().map(|f| (f.role, f.path.as_str())).collect();
        assert_eq!(
            found,
            [
                (
                    FileRole::DockerService,
                    "/usr/lib/systemd/system/docker.service"
                ),
                (FileRole::EtcDocker, "/etc/docker"),
                (
                    FileRole::RegistryCert,
                    "/etc/docker/certs.d/reg:5000/ca.crt"
                ),
                (FileRole::TlsKey, "/srv/tls/key.pem"),
                (FileRole::DockerSock, "/run/user/docker.sock"),
                (FileRole::DaemonJson, "/srv/daemon.json"),
            ]
        );
        assert_eq!(files[4].group.as_deref(), Some("docker"));
    }
}
