//! `--format json`: the `dockward.audit/v1` document (docs/audit-json.md).

use super::Render;
use crate::Report;
use std::io;

/// Schema id; fields are only ever added within v1.
pub(super) const SCHEMA: &str = "dockward.audit/v1";

pub struct Json;

impl Render for Json {
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        let mut doc = serde_json::json!({
            "schema": SCHEMA,
            "tool": { "name": "dockward", "version": env!("CARGO_PKG_VERSION") },
            "summary": report.summary(),
            "targets": report.targets,
            "findings": report.findings,
            "diagnostics": report.diagnostics,
        });
        // Added within v1, present only when asked for.
        if let Some(obj) = doc.as_object_mut() {
            if report.compared {
                obj.insert(
                    "baseline".into(),
                    serde_json::json!({ "gone": report.gone }),
                );
            }
            if report.hidden != crate::report::Summary::default() {
                obj.insert("hidden".into(), serde_json::json!(report.hidden));
            }
        }
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }
}
