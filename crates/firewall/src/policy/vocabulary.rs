//! The `dockward.*` label vocabulary, and what a typo in it looks like.
//!
//! A bad value closes its container (see `labels`); a mistyped key would
//! otherwise be ignored without a word (`dockward.exposed=public` opens
//! nothing, and nobody is told why). Both are said with the nearest word
//! dockward knows, by `status`, `audit` (`label-invalid`) and `firewall
//! plan`. A `dockward.*` key far from every known one is left alone: it
//! may be the operator's own.

use super::expose::parse_expose;
use super::labels::{LABEL_ALLOW_FROM, LABEL_EXPOSE, LABEL_ISOLATE};
use std::collections::BTreeMap;

/// The verdict words a label or file entry may use.
pub(crate) const VERDICTS: &[&str] = &["public", "local", "deny"];

/// Keys dockward reads (`dockward.expose.<port>` besides).
const KEYS: &[&str] = &[LABEL_EXPOSE, LABEL_ALLOW_FROM, LABEL_ISOLATE];

/// One label dockward cannot use as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelProblem {
    pub label: String,
    pub value: String,
    /// What is wrong, with the nearest known word when there is one.
    pub problem: String,
}

/// Levenshtein distance, for did-you-mean (short words only).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The known word within two edits of `word`, if one is.
pub(crate) fn nearest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (distance(&word.to_ascii_lowercase(), k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

/// The problems of a container's (or service's) `dockward.*` labels.
pub fn label_problems(labels: &BTreeMap<String, String>) -> Vec<LabelProblem> {
    let mut out = Vec::new();
    for (k, v) in labels {
        let Some(rest) = k.strip_prefix("dockward.") else {
            continue;
        };
        let problem = if k == LABEL_EXPOSE || k.starts_with("dockward.expose.") {
            parse_expose(v).err()
        } else if KEYS.contains(&k.as_str()) {
            None
        } else {
            // A near miss of a known key (the port form included).
            let base = rest.split_once('.').map_or(rest, |(b, _)| b);
            nearest(&format!("dockward.{base}"), KEYS).map(|known| {
                let meant = match rest.split_once('.') {
                    Some((_, port)) if known == LABEL_EXPOSE => format!("{known}.{port}"),
                    _ => known.to_string(),
                };
                format!("dockward does not read {k}: did you mean {meant}? (ignored until renamed)")
            })
        };
        if let Some(problem) = problem {
            out.push(LabelProblem {
                label: k.clone(),
                value: v.clone(),
                problem,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn typos_in_keys_and_values_name_the_word_meant() {
        let p = label_problems(&labels(&[
            ("dockward.exposed", "public"),
            ("dockward.expose", "pubic"),
            ("dockward.expsoe.80", "local"),
            ("dockward.allowfrom", "web"),
            ("dockward.test", "1"),
            ("com.example.expose", "x"),
            ("dockward.isolate", "true"),
        ]));
        let said: Vec<(&str, &str)> = p
            .iter()
            .map(|p| (p.label.as_str(), p.problem.as_str()))
            .collect();
        assert_eq!(said.len(), 4, "{said:#?}");
        assert!(
            said[0].1.contains("did you mean dockward.allow-from"),
            "{said:?}"
        );
        assert!(said[1].1.contains("did you mean public"), "{said:?}");
        assert!(
            said[2].1.contains("did you mean dockward.expose"),
            "{said:?}"
        );
        assert!(
            said[3].1.contains("did you mean dockward.expose.80"),
            "{said:?}"
        );
    }

    #[test]
    fn distances() {
        assert_eq!(distance("pubic", "public"), 1);
        assert_eq!(distance("", "deny"), 4);
        assert_eq!(nearest("LOCLA", VERDICTS), Some("local"));
        assert_eq!(nearest("everyone", VERDICTS), None);
    }
}
