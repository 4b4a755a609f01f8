//! The one way the binary writes to stdout: one lock, one flush, and a
//! reader that went away (`| head`) is not an error worth a message, nor a
//! panic (`println!` panics on a closed pipe, since Rust ignores SIGPIPE).
//! Any other failure is said once, as the command's error line.

use crate::{error_line, exit};
use std::io::{self, Write};

/// Write through `f`; `Err` carries the one-line reason.
pub(crate) fn write(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), String> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match f(&mut out).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write the output: {e}")),
    }
}

/// [`write`] for a command that ends there: its exit code.
pub(crate) fn report(command: &str, f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> u8 {
    match write(f) {
        Ok(()) => exit::OK,
        Err(e) => {
            error_line(command, &e);
            exit::INTERNAL
        }
    }
}

/// [`report`] of a whole text.
pub(crate) fn text(command: &str, text: &str) -> u8 {
    report(command, |w| w.write_all(text.as_bytes()))
}

/// Writes a file the way a reader must see it: whole or not at all (a
/// temporary file beside it, then a rename), keeping the old file's
/// permissions and making its directory when missing. For what commands
/// write on purpose: a policy file the watch re-reads, an audit baseline.
pub(crate) fn replace_file(path: &std::path::Path, text: &str) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.dockward-{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// A spinner on stderr for work a user waits on (reading a whole image),
/// shown only on a terminal; cleared when dropped.
pub(crate) struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    pub(crate) fn start(message: &str) -> Self {
        use std::io::IsTerminal;
        if !io::stderr().is_terminal() {
            return Self(None);
        }
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_message(message.to_string());
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        Self(Some(pb))
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}
