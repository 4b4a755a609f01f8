//! The audit configuration file (`--config`, default `.dockward.toml` in
//! the current directory): a default threshold and an ignore list where
//! every entry carries a reason and may carry an expiry date.
//!
//! An ignore that has expired no longer suppresses anything, and the CLI
//! says so, so a "temporary" exception cannot quietly become permanent —
//! the failure mode users of `.hadolint.yaml` and `.trivyignore` describe.
//! Suppressed findings stay in the report (JSON and SARIF carry them with
//! the reason), because an auditor needs to see what was waved through.
//!
//! ```toml
//! fail-on = "high"
//!
//! [[ignore]]
//! rule = "container-root-user"
//! target = "legacy-*"          # a path, container name or `daemon`; globs allowed
//! reason = "vendor image, ticket OPS-112"
//! expires = "2027-03-31"
//! ```

use crate::rules::rule;
use crate::{Report, Severity, Suppression};
use globset::{Glob, GlobMatcher};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    fail_on: Option<String>,
    #[serde(default)]
    ignore: Vec<RawIgnore>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    rule: String,
    target: Option<String>,
    reason: String,
    expires: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Ignore {
    pub rule: String,
    target: Option<(String, GlobMatcher)>,
    pub reason: String,
    /// `YYYY-MM-DD`; the ignore holds through that day.
    pub expires: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditConfig {
    pub fail_on: Option<Severity>,
    pub ignores: Vec<Ignore>,
}

/// A valid calendar date written `YYYY-MM-DD` (jiff checks the calendar).
pub fn valid_date(s: &str) -> bool {
    s.len() == 10 && s.parse::<jiff::civil::Date>().is_ok()
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today_utc() -> String {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

impl AuditConfig {
    /// Parses the file's text. The error is one line naming the entry and
    /// what to change.
    pub fn parse(path: &str, text: &str) -> Result<Self, String> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            match e.span() {
                Some(sp) => {
                    let (l, c) = crate::finding::line_col(text, sp.start);
                    format!("{path}:{l}:{c}: {msg}")
                }
                None => format!("{path}: {msg}"),
            }
        })?;
        let fail_on = match raw.fail_on {
            None => None,
            Some(s) => Some(Severity::parse(&s).ok_or_else(|| {
                format!(
                    "{path}: fail-on = {s:?} is not a severity; use low, medium, high or critical"
                )
            })?),
        };
        let mut ignores = Vec::new();
        for (i, r) in raw.ignore.into_iter().enumerate() {
            let n = i + 1;
            if rule(&r.rule).is_none() {
                return Err(format!(
                    "{path}: ignore #{n}: unknown rule {:?}; `dockward audit --list-rules` prints the ids",
                    r.rule
                ));
            }
            if r.reason.trim().is_empty() {
                return Err(format!(
                    "{path}: ignore #{n} ({}): reason is empty; say why it is accepted",
                    r.rule
                ));
            }
            if let Some(e) = &r.expires {
                if !valid_date(e) {
                    return Err(format!(
                        "{path}: ignore #{n} ({}): expires = {e:?} is not a date; write YYYY-MM-DD",
                        r.rule
                    ));
                }
            }
            let target = match r.target {
                None => None,
                Some(t) => {
                    let g = Glob::new(&t).map_err(|e| {
                        format!(
                            "{path}: ignore #{n} ({}): target {t:?} is not a valid glob: {e}",
                            r.rule
                        )
                    })?;
                    Some((t, g.compile_matcher()))
                }
            };
            ignores.push(Ignore {
                rule: r.rule,
                target,
                reason: r.reason.trim().to_string(),
                expires: r.expires,
            });
        }
        Ok(Self { fail_on, ignores })
    }
}

fn names(l: &crate::Location) -> Vec<String> {
    match l {
        crate::Location::File { path, .. } => {
            vec![path.clone(), path.trim_start_matches("./").to_string()]
        }
        crate::Location::Container { name, id } => {
            vec![name.clone(), id.clone(), format!("container {name}")]
        }
        crate::Location::Daemon { source } => vec!["daemon".to_string(), source.clone()],
        crate::Location::Swarm { node } => vec!["swarm".to_string(), node.clone()],
        crate::Location::Service { name, id } => {
            vec![name.clone(), id.clone(), format!("service {name}")]
        }
        crate::Location::Host { path } => vec![path.clone(), format!("host file {path}")],
        crate::Location::Image { name, id, .. } => {
            vec![name.clone(), id.clone(), format!("image {name}")]
        }
    }
}

/// Marks findings the ignore list covers as suppressed (kind
/// `ignore-file`). `today` is `YYYY-MM-DD`; ignores that expired before it
/// are skipped and returned, so the CLI can say which.
pub fn apply_ignores(report: &mut Report, ignores: &[Ignore], today: &str) -> Vec<String> {
    let mut expired = Vec::new();
    for ig in ignores {
        if let Some(e) = &ig.expires {
            if e.as_str() < today {
                expired.push(format!(
                    "ignore of {}{} expired on {e}; its findings count again",
                    ig.rule,
                    ig.target
                        .as_ref()
                        .map(|(t, _)| format!(" for {t}"))
                        .unwrap_or_default()
                ));
                continue;
            }
        }
        for f in &mut report.findings {
            if f.suppressed.is_some() || f.rule != ig.rule {
                continue;
            }
            let hit = match &ig.target {
                None => true,
                Some((_, m)) => names(&f.location).iter().any(|n| m.is_match(n)),
            };
            if hit {
                f.suppressed = Some(Suppression {
                    kind: "ignore-file".to_string(),
                    reason: match &ig.expires {
                        Some(e) => format!("{} (until {e})", ig.reason),
                        None => ig.reason.clone(),
                    },
                });
            }
        }
    }
    expired
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Finding, Location};

    fn finding(rule: &str, loc: Location) -> Finding {
        crate::rules::rule(rule).unwrap().finding(loc, "e", "r")
    }

    #[test]
    fn dates() {
        for d in ["2027-03-31", "2028-02-29", "2000-02-29"] {
            assert!(valid_date(d), "{d}");
        }
        for d in [
            "2027-3-31",
            "2027-02-29",
            "1900-02-29",
            "2027-13-01",
            "2027-00-10",
            "20270331xx",
            "2027-04-31",
            "+027-01-01",
        ] {
            assert!(!valid_date(d), "{d}");
        }
    }

    #[test]
    fn parse_errors_name_the_entry() {
        let e = AuditConfig::parse("a.toml", "[[ignore]]\nrule = \"nope\"\nreason = \"x\"\n")
            .unwrap_err();
        assert!(e.contains("ignore #1") && e.contains("unknown rule"), "{e}");
        let e = AuditConfig::parse(
            "a.toml",
            "[[ignore]]\nrule = \"daemon-icc\"\nreason = \" \"\n",
        )
        .unwrap_err();
        assert!(e.contains("reason is empty"), "{e}");
        let e = AuditConfig::parse(
            "a.toml",
            "[[ignore]]\nrule = \"daemon-icc\"\nreason = \"x\"\nexpires = \"soon\"\n",
        )
        .unwrap_err();
        assert!(e.contains("YYYY-MM-DD"), "{e}");
        let e = AuditConfig::parse("a.toml", "fail_on = 1\n").unwrap_err();
        assert!(e.starts_with("a.toml:1:1:"), "{e}");
        let e = AuditConfig::parse("a.toml", "fail-on = \"severe\"\n").unwrap_err();
        assert!(e.contains("low, medium, high or critical"), "{e}");
    }

    #[test]
    fn ignores_match_targets_and_expire() {
        let cfg = AuditConfig::parse(
            "a.toml",
            r#"
fail-on = "high"
[[ignore]]
rule = "container-root-user"
target = "legacy-*"
reason = "vendor image"
expires = "2027-03-31"
[[ignore]]
rule = "daemon-icc"
reason = "firewall isolates"
expires = "2026-01-01"
"#,
        )
        .unwrap();
        assert_eq!(cfg.fail_on, Some(Severity::High));
        let mut r = Report::default();
        let c = |n: &str| Location::Container {
            name: n.into(),
            id: "abc".into(),
        };
        r.findings = vec![
            finding("container-root-user", c("legacy-db")),
            finding("container-root-user", c("web")),
            finding("daemon-icc", Location::Daemon { source: "x".into() }),
        ];
        let expired = apply_ignores(&mut r, &cfg.ignores, "2026-11-30");
        assert_eq!(expired.len(), 1);
        assert!(
            expired[0].contains("daemon-icc expired on 2026-01-01"),
            "{expired:?}"
        );
        let s: Vec<bool> = r.findings.iter().map(|f| f.suppressed.is_some()).collect();
        assert_eq!(s, [true, false, false]);
        assert_eq!(
            r.findings[0].suppressed.as_ref().unwrap().reason,
            "vendor image (until 2027-03-31)"
        );
        // After the expiry day, it counts again.
        let mut r2 = Report {
            findings: vec![finding("container-root-user", c("legacy-db"))],
            ..Report::default()
        };
        apply_ignores(&mut r2, &cfg.ignores, "2027-04-01");
        assert!(r2.findings[0].suppressed.is_none());
    }
}
