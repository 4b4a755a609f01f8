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

/// SARIF wants `name` readable and different from the opaque `id`
/// (validator rule SARIF1001): `container-root-user` → `ContainerRootUser`.
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn rule_json(r: &Rule) -> Value {
    let mut tags = vec![json!("security")];
    if let Some(c) = r.cis {
        tags.push(json!(format!("CIS-{c}")));
    }
    json!({
        "id": r.id,
        "name": pascal(r.id),
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

/// A path as a SARIF `uri` (validator rule SARIF1004): relative paths
/// stay relative, absolute ones become `file://` URIs, and every byte
/// outside RFC 3986's unreserved set and `/` is percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::new();
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn location(l: &Location) -> Value {
    match l {
        Location::File { path, line, column } => json!({
            "physicalLocation": {
                "artifactLocation": { "uri": uri(path) },
                "region": { "startLine": (*line).max(1), "startColumn": (*column).max(1) },
            }
        }),
        Location::Container { name, id } => json!({
            "logicalLocations": [{ "name": name, "fullyQualifiedName": format!("container/{id}"), "kind": "resource" }]
        }),
        Location::Daemon { source } => json!({
            "logicalLocations": [{ "name": "dockerd", "fullyQualifiedName": format!("daemon/{source}"), "kind": "resource" }]
        }),
        Location::Swarm { node } => json!({
            "logicalLocations": [{ "name": "swarm", "fullyQualifiedName": format!("swarm/{node}"), "kind": "resource" }]
        }),
        Location::Service { name, id } => json!({
            "logicalLocations": [{ "name": name, "fullyQualifiedName": format!("service/{id}"), "kind": "resource" }]
        }),
        Location::Host { path } => json!({
            "physicalLocation": { "artifactLocation": { "uri": uri(path) } }
        }),
        Location::Image { name, id, layer } => {
            let mut v = vec![
                json!({ "name": name, "fullyQualifiedName": format!("image/{id}"), "kind": "resource" }),
            ];
            if let Some(l) = layer {
                v.push(json!({ "name": l, "fullyQualifiedName": format!("image/{id}/layer/{l}"), "kind": "resource" }));
            }
            json!({ "logicalLocations": v })
        }
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

/// With a baseline, SARIF's own `baselineState`: `new` for what is found
/// now, `absent` for what the baseline had and is gone.
fn results(report: &Report, rules: &[&Rule]) -> Vec<Value> {
    let mut out: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut r = result_json(f, rules);
            if let (true, Some(obj)) = (report.compared, r.as_object_mut()) {
                obj.insert("baselineState".into(), json!("new"));
            }
            r
        })
        .collect();
    for g in &report.gone {
        let mut r = json!({
            "ruleId": g.rule,
            "level": level(g.severity),
            "message": { "text": format!("{}: {} (gone since the baseline)", g.title, g.evidence) },
            "locations": [{ "logicalLocations": [{ "name": g.target, "kind": "resource" }] }],
            "baselineState": "absent",
        });
        if let (Some(i), Some(obj)) = (rules.iter().position(|x| x.id == g.rule), r.as_object_mut())
        {
            obj.insert("ruleIndex".into(), json!(i));
        }
        out.push(r);
    }
    out
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
                "results": results(report, &rules),
            }],
        });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }
}
