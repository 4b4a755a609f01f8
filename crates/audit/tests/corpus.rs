//! The corpus: Dockerfiles, compose files and daemon.json files with the
//! findings they must give (tests/corpus/expected.txt), one file per trap
//! the other auditors fall into. Every file under tests/corpus is audited
//! through the same name-based dispatch the CLI uses, so a file added
//! without expectations fails the test instead of being skipped.

use dockward_audit::artifact::{audit_text, kind_by_name};
use dockward_audit::{BuildArgs, ComposeEnv, Location};
use std::collections::BTreeSet;
use std::path::Path;

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn corpus_gives_exactly_the_expected_findings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut got = BTreeSet::new();
    let mut audited = 0;
    for p in files {
        let rel = p
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let Some(kind) = kind_by_name(&name) else {
            assert!(rel == "expected.txt", "{rel}: not a corpus file name");
            continue;
        };
        audited += 1;
        let text = std::fs::read_to_string(&p).unwrap();
        match audit_text(kind, &rel, &text, &BuildArgs::new(), &ComposeEnv::new()) {
            Ok(findings) => {
                for f in findings {
                    let (path, line) = match &f.location {
                        Location::File { path, line, .. } => (path.clone(), *line),
                        Location::Daemon { source } | Location::Host { path: source } => {
                            (source.clone(), 0)
                        }
                        Location::Container { name, .. }
                        | Location::Service { name, .. }
                        | Location::Image { name, .. }
                        | Location::Swarm { node: name } => (name.clone(), 0),
                    };
                    let sup = if f.suppressed.is_some() {
                        " suppressed"
                    } else {
                        ""
                    };
                    got.insert(format!("{path} {line} {}{sup}", f.rule));
                    // Secrets are named, never shown.
                    for secret in ["correct-horse", "ghp_literal", "s3cr3t", "tok_literal"] {
                        assert!(
                            !f.evidence.contains(secret) && !f.remediation.contains(secret),
                            "{rel}: {f:?}"
                        );
                    }
                }
            }
            Err(d) => {
                got.insert(format!("diagnostic {} {}", d.path, d.line));
            }
        }
    }
    let expected: BTreeSet<String> = std::fs::read_to_string(root.join("expected.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing: {missing:#?}\nunexpected: {extra:#?}"
    );
    assert!(audited >= 20, "only {audited} corpus files");
}
