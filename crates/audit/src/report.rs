//! The audit report: what was audited, what was found, what could not be
//! read. Plain data; the renderers in [`crate::render`] turn it into text,
//! JSON (docs/audit-json.md) or SARIF.

use crate::{Diagnostic, Finding, Location, Severity};
use serde::{Deserialize, Serialize};

/// One artifact that was audited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// `dockerfile`, `compose`, `daemon` or `container`.
    pub kind: String,
    /// A path, a container name, or where daemon settings came from.
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub targets: Vec<Target>,
    pub findings: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
    /// Compared with a baseline: `findings` are only the new ones.
    #[serde(default)]
    pub compared: bool,
    /// The baseline's findings that are no longer found.
    #[serde(default)]
    pub gone: Vec<crate::baseline::Entry>,
    /// Findings left out of `findings` by `--severity`, by severity.
    #[serde(default)]
    pub hidden: Summary,
}

/// Counts of findings that are not suppressed, by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub suppressed: usize,
    /// Targets that could not be read.
    pub diagnostics: usize,
}

impl Summary {
    /// One more finding: under `suppressed`, or under its severity.
    fn count(&mut self, f: &Finding) {
        if f.suppressed.is_some() {
            self.suppressed += 1;
            return;
        }
        match f.severity {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
        }
    }
}

impl Report {
    /// Adds one target's result: its findings, or the diagnostic that
    /// stopped its audit.
    pub fn add(&mut self, kind: &str, name: &str, result: Result<Vec<Finding>, Diagnostic>) {
        self.targets.push(Target {
            kind: kind.to_string(),
            name: name.to_string(),
        });
        match result {
            Ok(f) => self.findings.extend(f),
            Err(d) => self.diagnostics.push(d),
        }
    }

    /// Findings in the order a reader needs them: the worst first
    /// (suppressed ones last), then by target, position and rule.
    pub fn sort(&mut self) {
        let rank = |f: &Finding| (f.suppressed.is_some(), std::cmp::Reverse(f.severity));
        self.findings.sort_by(|a, b| {
            (rank(a), a.location.target(), pos(&a.location), &a.rule).cmp(&(
                rank(b),
                b.location.target(),
                pos(&b.location),
                &b.rule,
            ))
        });
    }

    /// Keeps only findings of the severities in `shown` (`--severity`);
    /// the ones left out are counted in `hidden`. Suppressed findings of a
    /// shown severity stay.
    pub fn show_only(&mut self, shown: &[Severity]) {
        let mut hidden = Summary::default();
        self.findings.retain(|f| {
            let keep = shown.contains(&f.severity);
            if !keep {
                hidden.count(f);
            }
            keep
        });
        self.hidden = hidden;
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            diagnostics: self.diagnostics.len(),
            ..Summary::default()
        };
        for f in &self.findings {
            s.count(f);
        }
        s
    }

    /// The highest severity among findings that are not suppressed (the CLI
    /// compares it with `--fail-on`).
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings
            .iter()
            .filter(|f| f.suppressed.is_none())
            .map(|f| f.severity)
            .max()
    }
}

fn pos(l: &Location) -> (u32, u32) {
    match l {
        Location::File { line, column, .. } => (*line, *column),
        _ => (0, 0),
    }
}
