//! `--format sarif`: SARIF 2.1.0 for code scanning.
//!
//! Written with serde_json rather than the `serde-sarif` crate: the subset
//! used here (driver rules with help and `security-severity`, results with
//! physical locations and in-source suppressions, notifications for files
//! that could not be read) is a few dozen lines, while serde-sarif pulls a
//! schema code generator (schemafy, syn, prettyplease) and typed-builder into
//! the build for the same JSON.

use super::Render;
use crate::rules::{catalogue, Rule};
use crate::{Finding, Location, Report, Severity};
use serde_json::{json, Value};
use std::io;

pub struct Sarif;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

fn rule_json(r: &Rule) -> Value {
    let mut tags = vec![json!("security")];
    if let Some(c) = r.cis {
        tags.push(json!(format!("CIS-{c}")));
    }
    json!({
        "id": r.id,
        "name": r.id,
        "shortDescription": { "text": r.title },
        "fullDescription": { "text": r.help },
        "help": { "text": r.help, "markdown": r.help },
        "defaultConfiguration": { "level": level(r.severity) },
        "properties": {
            "security-severity": r.severity.security_severity(),
            "precision": "high",
            "tags": tags,
        },
    })
}

fn location(l: &Location) -> Value {
    match l {
        Location::File { path, line, column } => json!({
            "physicalLocation": {
                "artifactLocation": { "uri": path },
                "region": { "startLine": (*line).max(1), "startColumn": (*column).max(1) },
            }
        }),
        Location::Container { name, id } => json!({
            "logicalLocations": [{ "name": name, "fullyQualifiedName": format!("container/{id}"), "kind": "resource" }]
        }),
        Location::Daemon { source } => json!({
            "logicalLocations": [{ "name": "dockerd", "fullyQualifiedName": format!("daemon/{source}"), "kind": "resource" }]
        }),
    }
}

fn result_json(f: &Finding, rules: &[&Rule]) -> Value {
    let mut r = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": { "text": format!("{}: {}", f.title, f.evidence) },
        "locations": [location(&f.location)],
        "properties": {
            "severity": f.severity.as_str(),
            "security-severity": f.severity.security_severity(),
            "remediation": f.remediation,
            "cis": f.cis,
        },
    });
    if let (Some(i), Some(obj)) = (rules.iter().position(|x| x.id == f.rule), r.as_object_mut()) {
        obj.insert("ruleIndex".into(), json!(i));
    }
    if let (Some(s), Some(obj)) = (&f.suppressed, r.as_object_mut()) {
        let kind = if s.kind == "inline" {
            "inSource"
        } else {
            "external"
        };
        obj.insert(
            "suppressions".into(),
            json!([{ "kind": kind, "justification": s.reason }]),
        );
    }
    r
}

impl Render for Sarif {
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        let rules = catalogue();
        let notifications: Vec<Value> = report
            .diagnostics
            .iter()
            .map(|d| {
                json!({
                    "level": "error",
                    "message": { "text": d.message },
                    "locations": [location(&Location::file(&d.path, d.line, d.column))],
                })
            })
            .collect();
        let doc = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "dockward",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules.iter().map(|r| rule_json(r)).collect::<Vec<_>>(),
                }},
                "invocations": [{
                    "executionSuccessful": report.diagnostics.is_empty(),
                    "toolExecutionNotifications": notifications,
                }],
                "results": report.findings.iter().map(|f| result_json(f, &rules)).collect::<Vec<_>>(),
            }],
        });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }
}
