//! `--format json`: the `dockward.audit/v1` document (docs/audit-json.md).

use super::Render;
use crate::Report;
use std::io;

/// Schema id; fields are only ever added within v1.
pub(super) const SCHEMA: &str = "dockward.audit/v1";

pub struct Json;

impl Render for Json {
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        let doc = serde_json::json!({
            "schema": SCHEMA,
            "tool": { "name": "dockward", "version": env!("CARGO_PKG_VERSION") },
            "summary": report.summary(),
            "targets": report.targets,
            "findings": report.findings,
            "diagnostics": report.diagnostics,
        });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }
}
