//! An in-memory [`System`] that records every path asked for: the tests of
//! this crate, and of callers that want to show which files a decision
//! rested on, use it in place of the host.

use crate::System;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, Default)]
pub struct Fake {
    /// Regular files.
    pub files: BTreeMap<PathBuf, Vec<u8>>,
    /// Symbolic links: path → target, as `read_link` returns it.
    pub links: BTreeMap<PathBuf, PathBuf>,
    /// `stat` answers.
    pub stats: BTreeMap<PathBuf, crate::FileMeta>,
    /// Every path read, in order.
    pub reads: std::sync::Mutex<Vec<PathBuf>>,
}

fn missing(p: &Path) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, p.display().to_string())
}

impl Fake {
    /// Add a file.
    pub fn file(mut self, path: &str, text: impl AsRef<[u8]>) -> Self {
        self.files.insert(path.into(), text.as_ref().to_vec());
        self
    }

    /// Add what `stat` says of a path.
    pub fn stat(mut self, path: &str, meta: crate::FileMeta) -> Self {
        self.stats.insert(path.into(), meta);
        self
    }

    /// Add a symbolic link.
    pub fn link(mut self, path: &str, target: &str) -> Self {
        self.links.insert(path.into(), target.into());
        self
    }

    /// Was anything under `dir` read?
    pub fn read_under(&self, dir: &str) -> bool {
        self.reads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|p| p.starts_with(dir))
    }

    fn note(&self, p: &Path) {
        self.reads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(p.to_path_buf());
    }
}

impl System for Fake {
    fn stat(&self, path: &Path) -> io::Result<crate::FileMeta> {
        self.note(path);
        self.stats.get(path).copied().ok_or_else(|| missing(path))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.note(path);
        self.files.get(path).cloned().ok_or_else(|| missing(path))
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        self.note(path);
        let mut names: Vec<String> = self
            .files
            .keys()
            .chain(self.links.keys())
            .filter_map(|p| {
                let rest = p.strip_prefix(path).ok()?;
                Some(rest.components().next()?.as_os_str().to_str()?.to_string())
            })
            .collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            return Err(missing(path));
        }
        Ok(names)
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        self.note(path);
        self.links.get(path).cloned().ok_or_else(|| missing(path))
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        // Resolve a link on any prefix, as far as the map knows.
        let mut out = PathBuf::new();
        for c in path.components() {
            out.push(c);
            if let Some(t) = self.links.get(&out) {
                out = if t.is_absolute() {
                    t.clone()
                } else {
                    out.parent().unwrap_or(Path::new("/")).join(t)
                };
            }
        }
        if self.files.contains_key(&out) || self.files.keys().any(|p| p.starts_with(&out)) {
            Ok(out)
        } else {
            Err(missing(path))
        }
    }
}
