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
