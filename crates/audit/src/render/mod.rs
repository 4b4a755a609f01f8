//! One file per output format, behind one trait (as hyperfine does), so a new
//! format is a new file and never a branch inside another. Renderers only
//! read the report: secrets are already redacted by the front ends, which
//! never put a value into a finding.

mod json;
mod sarif;
mod text;

pub use json::Json;
pub use sarif::Sarif;
pub use text::Text;

use crate::Report;
use std::io;

pub trait Render {
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()>;

    /// The rendering as a string.
    fn to_string(&self, report: &Report) -> String {
        let mut buf = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.render(report, &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }
}
