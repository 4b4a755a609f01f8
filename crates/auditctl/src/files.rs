//! The files an audit reads: every Dockerfile, compose file and
//! daemon.json under the paths given (or `.`), each handed to its pure
//! front end in `dockward-audit`.
//!
//! Directory walking uses the `ignore` crate (ripgrep's walker), so
//! `.gitignore`, `.ignore` and git's global excludes are honoured exactly
//! as git would, without a hand-written matcher. A file named on the
//! command line is read whatever its name, its kind sniffed from its text.

use crate::AuditError;
use dockward_audit::artifact::{audit_text, kind_by_name, parse_dotenv, sniff, Kind};
use dockward_audit::{BuildArgs, ComposeEnv, Diagnostic, Report};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Audit every file under `paths` into `report`. `process_env` is the
/// environment compose interpolation sees on top of each directory's
/// `.env` (captured once by the caller, as `docker compose` reads it).
/// A file that cannot be read or recognised is a diagnostic in the
/// report; a path that does not exist is an error.
pub fn audit(
    paths: &[PathBuf],
    build_args: &BuildArgs,
    process_env: &ComposeEnv,
    report: &mut Report,
) -> Result<(), AuditError> {
    let files = collect(paths)?;
    let mut dotenv_cache: BTreeMap<PathBuf, ComposeEnv> = BTreeMap::new();
    let no_env = ComposeEnv::new();
    for (path, named) in &files {
        let shown = path.to_string_lossy().into_owned();
        let shown = shown.strip_prefix("./").unwrap_or(&shown).to_string();
        let not_read = |why: String| Err(Diagnostic::new(&shown, 0, 0, why));
        let text = match std::fs::read(path).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => {
                report.add(
                    "file",
                    &shown,
                    not_read("not UTF-8 text; save it as UTF-8".into()),
                );
                continue;
            }
            Err(e) => {
                report.add("file", &shown, not_read(format!("cannot read it: {e}")));
                continue;
            }
        };
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let kind = if *named {
            sniff(&text).or_else(|| kind_by_name(name))
        } else {
            kind_by_name(name)
        };
        let Some(kind) = kind else {
            report.add(
                "file",
                &shown,
                not_read("not a Dockerfile, compose file or daemon.json (a Dockerfile starts with FROM or ARG; a compose file has services:)".into()),
            );
            continue;
        };
        let env = if kind == Kind::Compose {
            compose_env(path, process_env, &mut dotenv_cache)
        } else {
            &no_env
        };
        let mut result = audit_text(kind, &shown, &text, build_args, env);
        if kind == Kind::Compose {
            if let Ok(found) = &mut result {
                let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                found.extend(dockward_audit::compose::audit_env_files(
                    &shown,
                    &text,
                    env,
                    &|p| read_env_file(&dir.join(p)),
                ));
            }
        }
        report.add(kind.as_str(), &shown, result);
    }
    Ok(())
}

/// An env file's mode and text, for [`dockward_audit::compose::audit_env_files`].
fn read_env_file(p: &Path) -> Option<dockward_audit::compose::EnvFile> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(p).ok()?.permissions().mode() & 0o7777;
    let text = std::fs::read_to_string(p).ok()?;
    Some(dockward_audit::compose::EnvFile { mode, text })
}

/// Every file to audit, with whether it was named explicitly.
fn collect(paths: &[PathBuf]) -> Result<Vec<(PathBuf, bool)>, AuditError> {
    let default = [PathBuf::from(".")];
    let roots: &[PathBuf] = if paths.is_empty() { &default } else { paths };
    let mut files = Vec::new();
    for root in roots {
        let meta = std::fs::metadata(root).map_err(|e| {
            AuditError::Usage(format!(
                "{}: cannot read it ({e}); check the path",
                root.display()
            ))
        })?;
        let root = &tidy(root);
        if meta.is_file() {
            files.push((root.clone(), true));
            continue;
        }
        let walk = ignore::WalkBuilder::new(root)
            .hidden(false)
            .require_git(false)
            .filter_entry(|e| e.file_name() != ".git")
            .sort_by_file_path(|a, b| a.cmp(b))
            .build();
        for entry in walk {
            let entry = entry.map_err(|e| AuditError::Usage(format!("{}: {e}", root.display())))?;
            if entry.file_type().is_some_and(|t| t.is_file())
                && entry.file_name().to_str().and_then(kind_by_name).is_some()
            {
                files.push((entry.into_path(), false));
            }
        }
    }
    Ok(files)
}

/// The path as findings show it: `..` resolved (SARIF consumers refuse
/// `..` segments, validator rule SARIF1002) and relative to the current
/// directory when it lies below it.
fn tidy(p: &Path) -> PathBuf {
    use std::path::Component;
    if !p.components().any(|c| c == Component::ParentDir) {
        return p.to_path_buf();
    }
    let Ok(abs) = std::fs::canonicalize(p) else {
        return p.to_path_buf();
    };
    match std::env::current_dir()
        .ok()
        .and_then(|cwd| abs.strip_prefix(cwd).ok().map(Path::to_path_buf))
    {
        Some(rel) if !rel.as_os_str().is_empty() => rel,
        Some(_) => PathBuf::from("."),
        None => abs,
    }
}

/// Compose interpolation: the file's `.env`, overridden by the process
/// environment, as `docker compose` does; built once per directory.
fn compose_env<'a>(
    path: &Path,
    process_env: &ComposeEnv,
    cache: &'a mut BTreeMap<PathBuf, ComposeEnv>,
) -> &'a ComposeEnv {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    cache.entry(dir.clone()).or_insert_with(|| {
        let mut env = std::fs::read_to_string(dir.join(".env"))
            .map(|t| parse_dotenv(&t))
            .unwrap_or_default();
        env.extend(process_env.iter().map(|(k, v)| (k.clone(), v.clone())));
        env
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_reads_and_reports_what_it_cannot_read() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("Dockerfile"), "FROM scratch\nUSER root\n").unwrap();
        std::fs::create_dir(d.join("app")).unwrap();
        std::fs::write(
            d.join("app/compose.yaml"),
            "services:\n  web:\n    image: ${IMG}\n    privileged: true\n",
        )
        .unwrap();
        std::fs::write(d.join("app/.env"), "IMG=from-dotenv\n").unwrap();
        std::fs::write(d.join("notes.txt"), "ignored by name").unwrap();
        std::fs::write(d.join("Dockerfile.bin"), [0xff, 0xfe, 0x00]).unwrap();
        let mut report = Report::default();
        audit(
            &[d.to_path_buf()],
            &BuildArgs::new(),
            &ComposeEnv::new(),
            &mut report,
        )
        .unwrap();
        let kinds: Vec<(&str, bool)> = report
            .targets
            .iter()
            .map(|t| (t.kind.as_str(), t.name.ends_with(".txt")))
            .collect();
        assert!(kinds.contains(&("dockerfile", false)), "{kinds:?}");
        assert!(kinds.contains(&("compose", false)), "{kinds:?}");
        assert!(!kinds.iter().any(|(_, txt)| *txt), "{kinds:?}");
        assert!(
            report
                .diagnostics
                .iter()
                .any(|x| x.to_string().contains("not UTF-8")),
            "{:?}",
            report.diagnostics
        );
        // A path that does not exist is the caller's mistake.
        let e = audit(
            &[d.join("missing")],
            &BuildArgs::new(),
            &ComposeEnv::new(),
            &mut Report::default(),
        )
        .unwrap_err();
        assert!(
            matches!(&e, AuditError::Usage(m) if m.contains("missing")),
            "{e}"
        );
    }

    #[test]
    fn the_process_environment_overrides_dotenv() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), "A=1\nB=2\n").unwrap();
        let file = dir.path().join("compose.yaml");
        let process: ComposeEnv = [("B".to_string(), "3".to_string())].into();
        let mut cache = BTreeMap::new();
        let env = compose_env(&file, &process, &mut cache);
        assert_eq!(env.get("A").map(String::as_str), Some("1"));
        assert_eq!(env.get("B").map(String::as_str), Some("3"));
    }
}
