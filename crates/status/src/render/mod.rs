//! One file per output format, behind one trait (as hyperfine does), so a new
//! format is a new file and never a branch inside another.

mod json;
mod text;

pub use json::Json;
pub use text::Text;

use crate::StatusReport;
use std::io;

pub trait Render {
    fn render(&self, report: &StatusReport, out: &mut dyn io::Write) -> io::Result<()>;
}
