//! One rule of the catalogue: its stable id, severity, words and CIS id,
//! and the finding it makes.

use crate::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable id, e.g. `dockerfile-root-user`. Never renamed.
    pub id: &'static str,
    pub severity: Severity,
    /// One line, sentence case, no trailing period.
    pub title: &'static str,
    /// Why it matters and how to fix it, in a few sentences (SARIF `help`).
    pub help: &'static str,
    /// CIS Docker Benchmark id, where one exists.
    pub cis: Option<&'static str>,
}

impl Rule {
    /// A finding of this rule; severity, title and CIS id come from the rule.
    pub fn finding(
        &self,
        location: crate::Location,
        evidence: impl Into<String>,
        remediation: impl Into<String>,
    ) -> crate::Finding {
        crate::Finding {
            rule: self.id.to_string(),
            severity: self.severity,
            title: self.title.to_string(),
            location,
            evidence: evidence.into(),
            remediation: remediation.into(),
            cis: self.cis.map(str::to_string),
            suppressed: None,
        }
    }
}
