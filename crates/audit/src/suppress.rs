//! Inline suppression: `# dockward-ignore: <rule-id>[,<rule-id>…] <reason>`
//! on the line before the offending line (a run of comment lines directly
//! above counts) or at the end of that line. Works on the raw text, so it is
//! the same for Dockerfiles and compose files whatever their parser keeps of
//! comments. A suppressed finding stays in the report, carrying the reason.

use crate::{Finding, Suppression};

const MARKER: &str = "dockward-ignore:";

struct Ignore {
    rules: Vec<String>,
    reason: String,
}

/// The ignore comment on a line, if any.
fn parse_line(line: &str) -> Option<Ignore> {
    let hash = line.find('#')?;
    let after = line.get(hash..)?;
    let at = after.find(MARKER)?;
    let rest = after.get(at + MARKER.len()..)?.trim();
    let (ids, reason) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let rules: Vec<String> = ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if rules.is_empty() {
        return None;
    }
    let reason = reason.trim();
    Some(Ignore {
        rules,
        reason: if reason.is_empty() {
            "no reason given".to_string()
        } else {
            reason.to_string()
        },
    })
}

fn is_comment_line(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Marks `finding` suppressed when an ignore comment for its rule sits at
/// the end of one of `lines` (1-based) or in the comment lines above it.
pub(crate) fn apply(text: &str, finding: &mut Finding, lines: &[u32]) {
    if finding.suppressed.is_some() {
        return;
    }
    let all: Vec<&str> = text.lines().collect();
    for &line in lines {
        let Some(idx) = (line as usize).checked_sub(1) else {
            continue;
        };
        let mut candidates = Vec::new();
        if let Some(l) = all.get(idx) {
            candidates.push(*l);
        }
        let mut above = idx;
        while let Some(prev) = above.checked_sub(1) {
            match all.get(prev) {
                Some(l) if is_comment_line(l) => candidates.push(*l),
                _ => break,
            }
            above = prev;
        }
        for c in candidates {
            if let Some(ig) = parse_line(c) {
                if ig.rules.iter().any(|r| r == &finding.rule) {
                    finding.suppressed = Some(Suppression {
                        kind: "inline".to_string(),
                        reason: ig.reason,
                    });
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::files::DOCKERFILE_SUDO;
    use crate::Location;

    fn f() -> Finding {
        DOCKERFILE_SUDO.finding(Location::file("Dockerfile", 3, 1), "", "")
    }

    #[test]
    fn above_and_end_of_line() {
        let text = "FROM a\n# dockward-ignore: dockerfile-sudo,other needed for the vendor script\n# another comment\nRUN sudo x\n";
        let mut x = f();
        apply(text, &mut x, &[4]);
        assert_eq!(
            x.suppressed.map(|s| s.reason).as_deref(),
            Some("needed for the vendor script")
        );
        let text = "FROM a\nRUN sudo x # dockward-ignore: dockerfile-sudo\n";
        let mut x = f();
        apply(text, &mut x, &[2]);
        assert_eq!(
            x.suppressed.map(|s| s.reason).as_deref(),
            Some("no reason given")
        );
    }

    #[test]
    fn other_rule_or_gap_does_not_suppress() {
        let mut x = f();
        apply(
            "# dockward-ignore: dockerfile-root-user r\nRUN sudo x\n",
            &mut x,
            &[2],
        );
        assert!(x.suppressed.is_none());
        apply(
            "# dockward-ignore: dockerfile-sudo r\nRUN ls\nRUN sudo x\n",
            &mut x,
            &[3],
        );
        assert!(x.suppressed.is_none());
        apply("", &mut x, &[0, 99]);
        assert!(x.suppressed.is_none());
    }
}
