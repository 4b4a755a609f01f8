//! `--format text`: findings grouped by target, then a summary line.

use super::Render;
use crate::{Location, Report, Severity};
use anstyle::AnsiColor;
use std::collections::BTreeMap;
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

impl Render for Text {
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        let mut sorted = report.clone();
        sorted.sort();
        let mut groups: BTreeMap<String, Vec<&crate::Finding>> = BTreeMap::new();
        for f in &sorted.findings {
            groups.entry(f.location.target()).or_default().push(f);
        }
        for (target, findings) in &groups {
            writeln!(out, "{target}")?;
            for f in findings {
                let at = match &f.location {
                    Location::File { line, column, .. } => format!("{line}:{column}"),
                    Location::Container { id, .. } => id.chars().take(12).collect(),
                    Location::Daemon { .. } => "daemon".to_string(),
                    Location::Swarm { .. } => "swarm".to_string(),
                    Location::Service { id, .. } => id.chars().take(12).collect(),
                };
                let cis = f
                    .cis
                    .as_deref()
                    .map(|c| format!(" (CIS {c})"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "  {at}  {}  {}  {}{cis}",
                    paint(
                        self.colour,
                        f.severity,
                        &format!("{:<8}", f.severity.as_str())
                    ),
                    f.rule,
                    f.title
                )?;
                writeln!(out, "{}", indent(&f.evidence, "      "))?;
                if let Some(s) = &f.suppressed {
                    writeln!(out, "      suppressed ({}): {}", s.kind, s.reason)?;
                } else {
                    writeln!(out, "      fix:")?;
                    writeln!(out, "{}", indent(&f.remediation, "        "))?;
                }
            }
            writeln!(out)?;
        }
        // Files that could not be read are diagnostics: the caller says
        // them on stderr, in every format; the count stays in the summary.
        let s = report.summary();
        let total = s.critical + s.high + s.medium + s.low;
        writeln!(
            out,
            "{} target(s), {total} finding(s): {} critical, {} high, {} medium, {} low; {} suppressed; {} not readable",
            report.targets.len(),
            s.critical,
            s.high,
            s.medium,
            s.low,
            s.suppressed,
            s.diagnostics
        )
    }
}
