//! The host edge: what dockward learns about the local dockerd from the
//! process table, `/etc` and the kernel's `/proc` files, rather than from
//! its API.
//!
//! Three commands need it and none should carry it: `audit` (the daemon's
//! settings as they are in force: daemon.json, `DOCKER_OPTS`, the command
//! line), `firewall` (dockerd's cgroup and its own listening sockets, which
//! tell docker-proxy's sockets from dockerd's), and `status` through the
//! firewall. Every read goes through [`System`], a narrow trait in the
//! manner of youki's `Syscall`: [`Real`] reads the host, [`fake::Fake`]
//! answers from a map and records what was asked, so the rules of the
//! search (the pid file before a `/proc` scan, sockets compared by real
//! path, `/etc/default/docker` only for the system daemon) are unit-tested
//! without a dockerd.

pub mod daemon;
pub mod dockerd;
pub mod fake;
pub mod files;
pub mod guard;
pub mod listeners;
pub mod pid;
pub mod ports;
pub mod setup;

use std::io;
use std::path::{Path, PathBuf};

/// The reads the host edge makes. Each is one system call's worth, so the
/// fake can stand in for every one of them.
pub trait System {
    /// A whole file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// The names in a directory.
    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>>;
    /// A symbolic link's target (`/proc/<pid>/fd/*` → `socket:[inode]`).
    fn read_link(&self, path: &Path) -> io::Result<PathBuf>;
    /// The path with every symbolic link resolved.
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf>;

    /// Owner, group, mode and kind of the file at `path`, symlinks followed
    /// (`stat(2)`).
    fn stat(&self, path: &Path) -> io::Result<FileMeta>;

    /// A whole file as text (lossy: `/proc` files are ASCII, and a config
    /// file that is not UTF-8 fails its parser with a clear message).
    fn read_text(&self, path: &Path) -> io::Result<String> {
        self.read(path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }
}

/// What `stat(2)` says of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits with setuid, setgid and sticky (`st_mode & 0o7777`).
    pub mode: u32,
    pub dir: bool,
    pub socket: bool,
}

/// The host itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Real;

impl System for Real {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        Ok(std::fs::read_dir(path)?
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect())
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::read_link(path)
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }

    fn stat(&self, path: &Path) -> io::Result<FileMeta> {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let m = std::fs::metadata(path)?;
        Ok(FileMeta {
            uid: m.uid(),
            gid: m.gid(),
            mode: m.mode() & 0o7777,
            dir: m.is_dir(),
            socket: m.file_type().is_socket(),
        })
    }
}
