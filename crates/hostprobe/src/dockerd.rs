//! Which local process is the dockerd behind an endpoint, and its command
//! line.
//!
//! dockerd's pid file (`/run/docker.pid` unless `--pidfile` moved it) is
//! tried first: scanning `/proc` reads one file per process, and a host
//! with 1,000 published ports runs about 3,000 (shims and docker-proxies),
//! which would cost `firewall apply` more than its whole budget. Either
//! way the process must be named `dockerd` and serve the endpoint: a unix
//! socket among its `-H` (none: the default `/var/run/docker.sock`),
//! compared by real path because `/var/run` is a link to `/run` on Debian;
//! a TCP endpoint only when one of its `-H` is that URL.

use crate::System;
use dockward_audit::parse_dockerd_args;
use std::path::Path;

/// The dockerd serving an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerd {
    pub pid: u32,
    /// Its command line, `argv[0]` first.
    pub args: Vec<String>,
}

impl Dockerd {
    /// The value of `flag` on its command line (`--flag v` or `--flag=v`).
    pub fn value_of(&self, flag: &str) -> Option<String> {
        value_of(&self.args, flag)
    }
}

/// The dockerd serving `endpoint` (a `unix://` or `tcp://` URL), if it
/// runs on this host.
pub fn find(sys: &dyn System, endpoint: &str) -> Option<Dockerd> {
    let want = endpoint
        .strip_prefix("unix://")
        .map(|p| canonical_sock(sys, p));
    let serves = |args: &[String]| {
        let hosts = parse_dockerd_args(args).hosts;
        let socks: Vec<String> = if hosts.is_empty() {
            vec![canonical_sock(sys, "/var/run/docker.sock")]
        } else {
            hosts
                .iter()
                .filter_map(|h| h.strip_prefix("unix://").map(|p| canonical_sock(sys, p)))
                .collect()
        };
        match &want {
            Some(w) => socks.contains(w),
            None => hosts.iter().any(|h| h == endpoint),
        }
    };
    let at = |pid: u32| {
        let args = dockerd_args(sys, &Path::new("/proc").join(pid.to_string()))?;
        serves(&args).then_some(Dockerd { pid, args })
    };
    let from_pidfile = sys
        .read_text(Path::new("/run/docker.pid"))
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .and_then(at);
    if from_pidfile.is_some() {
        return from_pidfile;
    }
    let mut pids: Vec<u32> = sys
        .read_dir(Path::new("/proc"))
        .ok()?
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect();
    pids.sort_unstable();
    pids.into_iter().find_map(at)
}

/// The arguments of process directory `dir` when it is a dockerd.
fn dockerd_args(sys: &dyn System, dir: &Path) -> Option<Vec<String>> {
    let comm = sys.read_text(&dir.join("comm")).ok()?;
    if comm.trim() != "dockerd" {
        return None;
    }
    let raw = sys.read(&dir.join("cmdline")).ok()?;
    Some(
        raw.split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

/// A socket path by its real path; one that does not exist yet keeps its
/// text, with Debian's `/var/run` → `/run` applied.
pub fn canonical_sock(sys: &dyn System, p: &str) -> String {
    sys.canonicalize(Path::new(p))
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_else(|_| p.replacen("/var/run/", "/run/", 1))
}

/// The value of `flag` in `args` (`--flag v` or `--flag=v`), first wins.
pub fn value_of(args: &[String], flag: &str) -> Option<String> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == flag {
            return it.next().cloned();
        }
        if let Some(v) = a.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
            return Some(v.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::Fake;

    fn proc(f: Fake, pid: u32, comm: &str, args: &[&str]) -> Fake {
        let mut cmdline = args.join("\0");
        cmdline.push('\0');
        f.file(&format!("/proc/{pid}/comm"), format!("{comm}\n"))
            .file(&format!("/proc/{pid}/cmdline"), cmdline)
    }

    fn host() -> Fake {
        let f = Fake::default()
            .link("/var/run", "/run")
            .file("/run/docker.sock", "")
            .file("/run/other.sock", "");
        let f = proc(f, 1, "systemd", &["/sbin/init"]);
        let f = proc(
            f,
            300,
            "dockerd",
            &["dockerd", "-H", "unix:///run/other.sock"],
        );
        proc(f, 400, "dockerd", &["/usr/bin/dockerd", "--iptables=false"])
    }

    #[test]
    fn the_pid_file_spares_the_scan() {
        let f = host().file("/run/docker.pid", "400\n");
        let d = find(&f, "unix:///var/run/docker.sock").unwrap();
        assert_eq!(d.pid, 400);
        assert!(!f
            .reads
            .lock()
            .unwrap()
            .iter()
            .any(|p| p == Path::new("/proc")));
    }

    #[test]
    fn without_a_pid_file_the_scan_finds_the_one_serving_the_socket() {
        let f = host();
        assert_eq!(find(&f, "unix:///run/docker.sock").unwrap().pid, 400);
        // By real path: /var/run is /run.
        assert_eq!(find(&f, "unix:///var/run/other.sock").unwrap().pid, 300);
        // A stale pid file pointing at another process is not believed.
        let f = host().file("/run/docker.pid", "1");
        assert_eq!(find(&f, "unix:///run/docker.sock").unwrap().pid, 400);
    }

    #[test]
    fn tcp_endpoints_match_only_a_daemon_listening_there() {
        let f = proc(
            host(),
            500,
            "dockerd",
            &["dockerd", "-H", "tcp://127.0.0.1:2375"],
        );
        assert_eq!(find(&f, "tcp://127.0.0.1:2375").unwrap().pid, 500);
        assert!(find(&f, "tcp://127.0.0.1:2376").is_none());
        // A process that merely names itself in argv is not dockerd.
        let f = proc(Fake::default(), 9, "sh", &["dockerd"]);
        assert!(find(&f, "unix:///var/run/docker.sock").is_none());
    }

    #[test]
    fn flag_values() {
        let a: Vec<String> = ["dockerd", "--config-file=/x.json", "--pidfile", "/p"]
            .map(String::from)
            .to_vec();
        assert_eq!(value_of(&a, "--config-file").as_deref(), Some("/x.json"));
        assert_eq!(value_of(&a, "--pidfile").as_deref(), Some("/p"));
        assert_eq!(value_of(&a, "--data-root"), None);
    }
}
