//! `--format text`: the counts first, then the findings worst first, one
//! header per severity, so the critical ones are on the first screen of a
//! host with hundreds of containers (trivy leads with counts the same way);
//! then what a baseline says is gone, and the counts again at the end,
//! where a scrolled terminal shows them.

use super::Render;
use crate::{Finding, Location, Report, Severity};
use anstyle::AnsiColor;
use std::io;

/// `colour`: severities in colour (the CLI sets it only on a terminal
/// without NO_COLOR).
pub struct Text {
    pub colour: bool,
}

fn paint(colour: bool, sev: Severity, word: &str) -> String {
    if !colour {
        return word.to_string();
    }
    let style = match sev {
        Severity::Critical => AnsiColor::Red.on_default().bold(),
        Severity::High => AnsiColor::Red.on_default(),
        Severity::Medium => AnsiColor::Yellow.on_default(),
        Severity::Low => AnsiColor::Cyan.on_default(),
    };
    format!("{style}{word}{style:#}")
}

fn indent(s: &str, pad: &str) -> String {
    s.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where a finding is, in one word a reader can act on.
fn place(l: &Location) -> String {
    match l {
        Location::File { path, line, column } => format!("{path}:{line}:{column}"),
        Location::Container { name, .. } => format!("container {name}"),
        Location::Daemon { .. } => "daemon".to_string(),
        Location::Swarm { node } => format!("swarm (seen from {node})"),
        Location::Service { name, .. } => format!("service {name}"),
        Location::Host { path } => format!("host file {path}"),
        Location::Image { name, layer, .. } => match layer {
            Some(l) => format!("image {name} layer {}", short_digest(l)),
            None => format!("image {name}"),
        },
    }
}

/// `sha256:0123456789ab…` -> `sha256:0123456789ab`.
fn short_digest(d: &str) -> &str {
    d.get(..19).unwrap_or(d)
}

fn summary_line(report: &Report) -> String {
    let s = report.summary();
    let total = s.critical + s.high + s.medium + s.low;
    let new = if report.compared { " new" } else { "" };
    let mut line = format!(
        "{} target(s), {total}{new} finding(s): {} critical, {} high, {} medium, {} low; {} suppressed; {} not readable",
        report.targets.len(),
        s.critical,
        s.high,
        s.medium,
        s.low,
        s.suppressed,
        s.diagnostics
    );
    if report.compared {
        line.push_str(&format!("; {} gone since the baseline", report.gone.len()));
    }
    let h = report.hidden;
    let hidden = h.critical + h.high + h.medium + h.low + h.suppressed;
    if hidden > 0 {
        line.push_str(&format!(
            "; {hidden} not shown ({} critical, {} high, {} medium, {} low) by --severity",
            h.critical, h.high, h.medium, h.low
        ));
    }
    line
}

impl Text {
    fn finding(&self, f: &Finding, out: &mut dyn io::Write) -> io::Result<()> {
        let cis = f
            .cis
            .as_deref()
            .map(|c| format!(" (CIS {c})"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {}  {}  {}{cis}",
            place(&f.location),
            f.rule,
            f.title
        )?;
        writeln!(out, "{}", indent(&f.evidence, "      "))?;
        if let Some(s) = &f.suppressed {
            writeln!(out, "      {}: {}", s.kind, s.reason)?;
        } else {
            writeln!(out, "      fix:")?;
            writeln!(out, "{}", indent(&f.remediation, "        "))?;
        }
        Ok(())
    }
}

impl Render for Text {
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        let mut sorted = report.clone();
        sorted.sort();
        writeln!(out, "{}", summary_line(report))?;
        for sev in [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
        ] {
            let these: Vec<&Finding> = sorted
                .findings
                .iter()
                .filter(|f| f.suppressed.is_none() && f.severity == sev)
                .collect();
            if these.is_empty() {
                continue;
            }
            let head = format!("{} ({})", sev.as_str().to_ascii_uppercase(), these.len());
            writeln!(out, "\n{}", paint(self.colour, sev, &head))?;
            for f in these {
                self.finding(f, out)?;
            }
        }
        let accepted: Vec<&Finding> = sorted
            .findings
            .iter()
            .filter(|f| f.suppressed.is_some())
            .collect();
        if !accepted.is_empty() {
            writeln!(
                out,
                "\nSUPPRESSED OR ACCEPTED ({}): not counted",
                accepted.len()
            )?;
            for f in accepted {
                self.finding(f, out)?;
            }
        }
        if !report.gone.is_empty() {
            writeln!(out, "\nGONE SINCE THE BASELINE ({})", report.gone.len())?;
            for g in &report.gone {
                writeln!(
                    out,
                    "  {}  {}  {}  {}",
                    g.target,
                    g.severity.as_str(),
                    g.rule,
                    g.title
                )?;
                writeln!(out, "{}", indent(&g.evidence, "      "))?;
            }
        }
        // Files that could not be read are diagnostics: the caller says
        // them on stderr, in every format; the count stays in the summary.
        if !sorted.findings.is_empty() || !report.gone.is_empty() {
            writeln!(out, "\n{}", summary_line(report))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Finding, Suppression};

    fn f(sev: Severity, name: &str, rule: &str) -> Finding {
        Finding {
            rule: rule.into(),
            severity: sev,
            title: "t".into(),
            location: Location::Container {
                name: name.into(),
                id: "0123".into(),
            },
            evidence: "e".into(),
            remediation: "r".into(),
            cis: None,
            suppressed: None,
        }
    }

    #[test]
    fn counts_first_then_worst_first() {
        let mut quiet = f(Severity::Critical, "proxy", "container-docker-socket");
        quiet.suppressed = Some(Suppression {
            kind: "accepted".into(),
            reason: "its job".into(),
        });
        let report = Report {
            findings: vec![
                f(Severity::Low, "a", "low-rule"),
                quiet,
                f(Severity::Critical, "z", "crit-rule"),
                f(Severity::High, "b", "high-rule"),
            ],
            ..Report::default()
        };
        let out = Text { colour: false }.to_string(&report);
        let first = out.lines().next().unwrap();
        assert!(
            first.contains("1 critical, 1 high, 0 medium, 1 low; 1 suppressed"),
            "{out}"
        );
        let at = |s: &str| out.find(s).unwrap_or_else(|| panic!("{s} in {out}"));
        assert!(at("CRITICAL (1)") < at("crit-rule"));
        assert!(at("crit-rule") < at("HIGH (1)"));
        assert!(at("high-rule") < at("LOW (1)"));
        assert!(at("low-rule") < at("SUPPRESSED OR ACCEPTED (1)"));
        assert!(out.contains("accepted: its job"), "{out}");
    }
}
