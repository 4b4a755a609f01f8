//! Every `--help` and `-h`, of every subcommand (found by walking the
//! "Commands:" sections), fits 80 columns, and every `docs/…` page it
//! names exists.

use assert_cmd::Command;
use std::path::Path;

fn help(path: &[String], flag: &str) -> String {
    let out = Command::cargo_bin("dockward")
        .unwrap()
        .args(path)
        .arg(flag)
        .env_remove("COLUMNS")
        .output()
        .unwrap();
    assert!(out.status.success(), "{path:?} {flag}");
    String::from_utf8(out.stdout).unwrap()
}

/// The subcommand names listed under "Commands:".
fn subcommands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for l in text.lines() {
        if l.starts_with("Commands:") {
            inside = true;
            continue;
        }
        if inside {
            if !l.starts_with("  ") {
                break;
            }
            // A name starts two spaces in; continuation lines are deeper.
            if let Some(name) = l
                .strip_prefix("  ")
                .and_then(|r| r.split_whitespace().next())
            {
                if !l.starts_with("   ") && name != "help" {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

#[test]
fn every_help_fits_80_columns_and_names_docs_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut todo: Vec<Vec<String>> = vec![vec![]];
    let mut seen = 0;
    while let Some(path) = todo.pop() {
        for flag in ["--help", "-h"] {
            let text = help(&path, flag);
            for l in text.lines() {
                assert!(
                    l.chars().count() <= 80,
                    "dockward {} {flag}: {l:?} is {} columns",
                    path.join(" "),
                    l.chars().count()
                );
            }
            for (i, _) in text.match_indices("docs/") {
                let name: String = text[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'))
                    .collect();
                let name = name.trim_end_matches('.');
                assert!(
                    root.join(name).exists(),
                    "dockward {} names {name}, which is missing",
                    path.join(" ")
                );
            }
            if flag == "--help" {
                for sub in subcommands(&text) {
                    let mut p = path.clone();
                    p.push(sub);
                    todo.push(p);
                }
            }
        }
        seen += 1;
    }
    assert!(seen >= 12, "walked {seen} commands");
}
