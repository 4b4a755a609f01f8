//! The stable machine format: the report itself, pretty-printed, one
//! document. Schema in docs/status-json.md.

use super::Render;
use crate::StatusReport;
use std::io;

pub struct Json;

impl Render for Json {
    fn render(&self, report: &StatusReport, out: &mut dyn io::Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report)?;
        writeln!(out)
    }
}
