//! The rule catalogue: one entry per stable rule id. SARIF's `rules[]`, the
//! `--explain` text and the docs are generated from it, so a rule exists in
//! exactly one place. File rules live in `rules_files.rs`, host rules in
//! `rules_host.rs`; this module joins them.

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

/// Every rule, file rules first, sorted by id within each group.
pub fn catalogue() -> Vec<&'static Rule> {
    crate::rules_files::RULES
        .iter()
        .chain(crate::rules_host::RULES.iter())
        .collect()
}

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    catalogue().into_iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let all = catalogue();
        let mut ids: Vec<_> = all.iter().map(|r| r.id).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule id");
        for r in all {
            assert!(
                r.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                r.id
            );
            assert!(!r.title.ends_with('.'), "{}", r.id);
            assert!(!r.help.is_empty(), "{}", r.id);
        }
    }
}
