//! `--baseline`: what is new and what is gone since an earlier run.
//!
//! A finding is known by its rule, its target (path, container or service
//! name, daemon, swarm) and its evidence: not by line number (a line added
//! above it must not make it new) and not by container id (a container
//! recreated with the same problem is the same finding). Findings that
//! share all three are counted, so a second copy of one is still new.
//! The file is the `dockward.audit-baseline/v1` document
//! (docs/audit-json.md).

use crate::{Finding, Report, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SCHEMA: &str = "dockward.audit-baseline/v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub schema: String,
    pub findings: Vec<Entry>,
}

/// One finding as remembered: its key and enough words to say it is gone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    pub rule: String,
    pub target: String,
    pub evidence: String,
    pub severity: Severity,
    pub title: String,
}

type Key = (String, String, String);

fn key(rule: &str, target: &str, evidence: &str) -> Key {
    (rule.to_string(), target.to_string(), evidence.to_string())
}

impl Entry {
    fn of(f: &Finding) -> Self {
        Self {
            rule: f.rule.clone(),
            target: f.location.target(),
            evidence: f.evidence.clone(),
            severity: f.severity,
            title: f.title.clone(),
        }
    }

    fn key(&self) -> Key {
        key(&self.rule, &self.target, &self.evidence)
    }
}

impl Baseline {
    /// Every finding of `report`, suppressed or not.
    pub fn of(report: &Report) -> Self {
        let mut findings: Vec<Entry> = report.findings.iter().map(Entry::of).collect();
        findings.sort();
        Self {
            schema: SCHEMA.into(),
            findings,
        }
    }

    /// Reads a baseline file's text; the error names what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let b: Self = serde_json::from_str(text).map_err(|e| {
            format!("not a baseline written by `dockward audit --write-baseline` ({e})")
        })?;
        if b.schema != SCHEMA {
            return Err(format!(
                "schema {:?}, expected {SCHEMA:?}; write it again with --write-baseline",
                b.schema
            ));
        }
        Ok(b)
    }

    /// Keeps in `report` only the findings that are not in the baseline,
    /// and lists in `report.gone` the baseline's findings seen no more.
    pub fn compare(&self, report: &mut Report) {
        let mut known: BTreeMap<Key, usize> = BTreeMap::new();
        for e in &self.findings {
            *known.entry(e.key()).or_default() += 1;
        }
        report.findings.retain(|f| {
            let k = key(&f.rule, &f.location.target(), &f.evidence);
            match known.get_mut(&k) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            }
        });
        let mut left = known;
        report.gone = self
            .findings
            .iter()
            .filter(|e| match left.get_mut(&e.key()) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    true
                }
                _ => false,
            })
            .cloned()
            .collect();
        report.compared = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Location, Severity};

    fn f(rule: &str, path: &str, line: u32, evidence: &str) -> Finding {
        Finding {
            rule: rule.into(),
            severity: Severity::High,
            title: "t".into(),
            location: Location::file(path, line, 1),
            evidence: evidence.into(),
            remediation: "r".into(),
            cis: None,
            suppressed: None,
        }
    }

    fn report(fs: Vec<Finding>) -> Report {
        Report {
            findings: fs,
            ..Report::default()
        }
    }

    #[test]
    fn new_and_gone_by_rule_target_and_evidence_not_line() {
        let before = report(vec![
            f("a", "Dockerfile", 3, "USER root"),
            f("b", "Dockerfile", 9, "ADD http://x"),
            f("c", "compose.yml", 2, "privileged"),
        ]);
        let base =
            Baseline::parse(&serde_json::to_string(&Baseline::of(&before)).unwrap()).unwrap();
        let mut now = report(vec![
            f("a", "Dockerfile", 5, "USER root"),    // moved: same finding
            f("b", "Dockerfile", 9, "ADD http://y"), // other evidence: new
            f("a", "Dockerfile", 7, "USER root"),    // a second copy: new
        ]);
        base.compare(&mut now);
        let shown: Vec<(&str, u32)> = now
            .findings
            .iter()
            .map(|f| match &f.location {
                Location::File { line, .. } => (f.rule.as_str(), *line),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(shown, [("b", 9), ("a", 7)]);
        let gone: Vec<&str> = now.gone.iter().map(|e| e.rule.as_str()).collect();
        assert_eq!(gone, ["b", "c"]);
        assert!(now.compared);
    }

    #[test]
    fn a_file_that_is_not_a_baseline_is_refused_by_name() {
        assert!(Baseline::parse("{}")
            .unwrap_err()
            .contains("--write-baseline"));
        let e = Baseline::parse(r#"{"schema":"x/v9","findings":[]}"#).unwrap_err();
        assert!(e.contains("x/v9"), "{e}");
    }
}
