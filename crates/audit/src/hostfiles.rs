//! Host files front end: `(owner and mode of Docker's files) -> findings`,
//! CIS Docker Benchmark section 3 in docker-bench-security's numbering.
//!
//! Modes are compared as bits, not as the decimal numbers docker-bench
//! compares (where a world-writable `606` passes "644 or stricter"): a
//! file is too open when it has any bit the limit does not allow,
//! setuid/setgid/sticky included. The Docker socket may belong to group
//! `docker` (that is how clients reach it) or `root`; everything else to
//! root:root. Which paths are looked at is the edge's business
//! (`dockward-hostprobe`'s `files`): the unit files where systemd keeps
//! them, the socket and daemon.json dockerd really uses, the TLS files its
//! flags name.

use crate::rules::host::{HOST_FILE_MODE, HOST_FILE_OWNER};
use crate::{Finding, Location};

/// Which of Docker's files a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    DockerService,
    DockerSocketUnit,
    EtcDocker,
    RegistryCert,
    TlsCa,
    TlsCert,
    TlsKey,
    DockerSock,
    DaemonJson,
    EtcDefault,
    EtcSysconfig,
    ContainerdSock,
}

/// A file as the host shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFile {
    pub role: FileRole,
    pub path: String,
    pub uid: u32,
    pub gid: u32,
    /// The group's name, when /etc/group has it.
    pub group: Option<String>,
    /// Permission bits with setuid/setgid/sticky.
    pub mode: u32,
}

struct Want {
    owner_cis: &'static str,
    mode_cis: &'static str,
    /// The socket: group `docker` is allowed.
    docker_group: bool,
    max: u32,
}

fn want(role: FileRole) -> Want {
    let w = |owner_cis, mode_cis, max| Want {
        owner_cis,
        mode_cis,
        docker_group: false,
        max,
    };
    match role {
        FileRole::DockerService => w("3.1", "3.2", 0o644),
        FileRole::DockerSocketUnit => w("3.3", "3.4", 0o644),
        FileRole::EtcDocker => w("3.5", "3.6", 0o755),
        FileRole::RegistryCert => w("3.7", "3.8", 0o444),
        FileRole::TlsCa => w("3.9", "3.10", 0o444),
        FileRole::TlsCert => w("3.11", "3.12", 0o444),
        FileRole::TlsKey => w("3.13", "3.14", 0o400),
        FileRole::DockerSock => Want {
            docker_group: true,
            ..w("3.15", "3.16", 0o660)
        },
        FileRole::DaemonJson => w("3.17", "3.18", 0o644),
        FileRole::EtcDefault => w("3.19", "3.20", 0o644),
        FileRole::EtcSysconfig => w("3.22", "3.21", 0o644),
        FileRole::ContainerdSock => w("3.23", "3.24", 0o660),
    }
}

/// Audits the ownership and mode of each file.
pub fn audit_host_files(files: &[HostFile]) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in files {
        let w = want(f.role);
        let loc = || Location::Host {
            path: f.path.clone(),
        };
        let group_ok = f.gid == 0 || (w.docker_group && f.group.as_deref() == Some("docker"));
        if f.uid != 0 || !group_ok {
            let group = f.group.clone().unwrap_or_else(|| f.gid.to_string());
            let wanted = if w.docker_group {
                "root:docker"
            } else {
                "root:root"
            };
            let mut g = HOST_FILE_OWNER.finding(
                loc(),
                format!("owned by uid {} group {group}, not {wanted}", f.uid),
                format!("chown {wanted} {}", f.path),
            );
            g.cis = Some(w.owner_cis.to_string());
            out.push(g);
        }
        let extra = f.mode & !w.max;
        if extra != 0 {
            let mut g = HOST_FILE_MODE.finding(
                loc(),
                format!(
                    "mode {:o}: more open than {:o} (the bits {:o})",
                    f.mode, w.max, extra
                ),
                format!("chmod {:o} {}", f.mode & w.max, f.path),
            );
            g.cis = Some(w.mode_cis.to_string());
            out.push(g);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(role: FileRole, uid: u32, gid: u32, group: &str, mode: u32) -> HostFile {
        HostFile {
            role,
            path: "/x".into(),
            uid,
            gid,
            group: Some(group.into()),
            mode,
        }
    }

    fn cis(found: &[Finding]) -> Vec<String> {
        found.iter().filter_map(|f| f.cis.clone()).collect()
    }

    #[test]
    fn modes_are_bits_not_decimal_numbers() {
        // docker-bench passes 606 as "<= 644".
        assert_eq!(
            cis(&audit_host_files(&[f(
                FileRole::DaemonJson,
                0,
                0,
                "root",
                0o606
            )])),
            ["3.18"]
        );
        assert!(audit_host_files(&[f(FileRole::DaemonJson, 0, 0, "root", 0o600)]).is_empty());
        assert_eq!(
            cis(&audit_host_files(&[f(
                FileRole::TlsKey,
                0,
                0,
                "root",
                0o600
            )])),
            ["3.14"]
        );
        assert_eq!(
            cis(&audit_host_files(&[f(
                FileRole::EtcDocker,
                0,
                0,
                "root",
                0o1755
            )])),
            ["3.6"]
        );
        assert_eq!(
            cis(&audit_host_files(&[f(
                FileRole::RegistryCert,
                0,
                0,
                "root",
                0o422
            )])),
            ["3.8"]
        );
    }

    #[test]
    fn the_socket_may_belong_to_group_docker_and_nothing_else_may() {
        assert!(audit_host_files(&[f(FileRole::DockerSock, 0, 998, "docker", 0o660)]).is_empty());
        assert!(audit_host_files(&[f(FileRole::DockerSock, 0, 0, "root", 0o660)]).is_empty());
        assert_eq!(
            cis(&audit_host_files(&[f(
                FileRole::DockerSock,
                0,
                100,
                "users",
                0o666
            )])),
            ["3.15", "3.16"]
        );
        assert_eq!(
            cis(&audit_host_files(&[f(
                FileRole::DaemonJson,
                0,
                998,
                "docker",
                0o644
            )])),
            ["3.17"]
        );
        assert_eq!(
            cis(&audit_host_files(&[f(
                FileRole::EtcSysconfig,
                1000,
                0,
                "root",
                0o664
            )])),
            ["3.22", "3.21"]
        );
    }
}
