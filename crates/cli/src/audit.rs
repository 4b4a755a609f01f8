//! `dockward audit`: find the artifacts, hand each to its pure front end,
//! apply the ignores, render, and turn the worst finding into the exit
//! status.
//!
//! Directory walking uses the `ignore` crate (ripgrep's walker), so
//! .gitignore, .ignore and git's global excludes are honoured exactly as
//! git would, without a hand-written matcher.

pub mod host;

use crate::cli::{AuditArgs, AuditFormat, Threshold};
use crate::config::Config;
use crate::{error_line, exit};
use dockward_audit::artifact::{audit_text, kind_by_name, parse_dotenv, sniff, Kind};
use dockward_audit::config::{apply_ignores, today_utc, AuditConfig};
use dockward_audit::render::{Json, Render, Sarif, Text};
use dockward_audit::{
    audit_container, audit_daemon, BuildArgs, ComposeEnv, Diagnostic, Report, Severity,
};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

const DEFAULT_CONFIG: &str = ".dockward.toml";

fn usage(msg: impl std::fmt::Display) -> u8 {
    error_line("audit", &msg);
    exit::USAGE
}

pub fn run(config: &Config, args: &AuditArgs) -> u8 {
    if args.list_rules {
        return list_rules(args.format);
    }
    let cfg = match load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let mut build_args = BuildArgs::new();
    for a in &args.build_args {
        match a.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                build_args.insert(k.to_string(), v.to_string());
            }
            _ => return usage(format!("--build-arg {a:?}: write NAME=VALUE")),
        }
    }
    let files = match collect(&args.paths) {
        Ok(f) => f,
        Err(e) => return usage(e),
    };
    let mut report = Report::default();
    let mut dotenv_cache: BTreeMap<PathBuf, ComposeEnv> = BTreeMap::new();
    let no_env = ComposeEnv::new();
    for (path, named) in &files {
        let shown = path.to_string_lossy().into_owned();
        let shown = shown.strip_prefix("./").unwrap_or(&shown).to_string();
        let text = match std::fs::read(path) {
            Ok(b) => match String::from_utf8(b) {
                Ok(t) => t,
                Err(_) => {
                    report.add(
                        "file",
                        &shown,
                        Err(Diagnostic::new(
                            &shown,
                            0,
                            0,
                            "not UTF-8 text; save it as UTF-8",
                        )),
                    );
                    continue;
                }
            },
            Err(e) => {
                report.add(
                    "file",
                    &shown,
                    Err(Diagnostic::new(
                        &shown,
                        0,
                        0,
                        format!("cannot read it: {e}"),
                    )),
                );
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
                Err(Diagnostic::new(
                    &shown,
                    0,
                    0,
                    "not a Dockerfile, compose file or daemon.json (a Dockerfile starts with FROM or ARG; a compose file has services:)",
                )),
            );
            continue;
        };
        let env = if kind == Kind::Compose {
            compose_env(path, &mut dotenv_cache)
        } else {
            &no_env
        };
        report.add(
            kind.as_str(),
            &shown,
            audit_text(kind, &shown, &text, &build_args, env),
        );
    }

    let want_host = args.paths.is_empty() || config.host_requested;
    if want_host {
        if let Err(code) = audit_host(config, args, &mut report) {
            return code;
        }
    }

    for note in apply_ignores(&mut report, &cfg.ignores, &today_utc()) {
        eprintln!("dockward audit: note: {note}");
    }
    report.sort();
    let renderer: Box<dyn Render> = match args.format {
        AuditFormat::Text => Box::new(Text {
            colour: config.colour,
        }),
        AuditFormat::Json => Box::new(Json),
        AuditFormat::Sarif => Box::new(Sarif),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match renderer.render(&report, &mut out).and_then(|_| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            error_line("audit", &format!("cannot write the report: {e}"));
            return exit::INTERNAL;
        }
    }
    if !report.diagnostics.is_empty() {
        for d in &report.diagnostics {
            if args.format != AuditFormat::Text {
                eprintln!("dockward audit: error: {d}");
            }
        }
        return exit::USAGE;
    }
    let threshold = args
        .fail_on
        .map(severity)
        .or(cfg.fail_on)
        .unwrap_or(Severity::Low);
    match report.max_severity() {
        Some(s) if s >= threshold => exit::FINDINGS,
        _ => exit::OK,
    }
}

fn severity(t: Threshold) -> Severity {
    match t {
        Threshold::Low => Severity::Low,
        Threshold::Medium => Severity::Medium,
        Threshold::High => Severity::High,
        Threshold::Critical => Severity::Critical,
    }
}

fn list_rules(format: AuditFormat) -> u8 {
    let mut out = std::io::stdout().lock();
    if format != AuditFormat::Text {
        // JSON (also for --format sarif: SARIF's rules[] is in every report).
        let rules: Vec<serde_json::Value> = dockward_audit::rules::catalogue()
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "severity": r.severity.as_str(),
                    "title": r.title,
                    "help": r.help,
                    "cis": r.cis,
                })
            })
            .collect();
        let _ = writeln!(out, "{}", serde_json::Value::Array(rules));
        return exit::OK;
    }
    for r in dockward_audit::rules::catalogue() {
        let _ = writeln!(
            out,
            "{:<32} {:<8} {:<27} {}",
            r.id,
            r.severity.as_str(),
            r.cis.map(|c| format!("CIS {c}")).unwrap_or_default(),
            r.title
        );
    }
    exit::OK
}

fn load_config(explicit: Option<&Path>) -> Result<AuditConfig, String> {
    let (path, must) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_CONFIG), false),
    };
    let shown = path.display().to_string();
    match std::fs::read_to_string(&path) {
        Ok(text) => AuditConfig::parse(&shown, &text),
        Err(e) if !must && e.kind() == std::io::ErrorKind::NotFound => Ok(AuditConfig::default()),
        Err(e) => Err(format!(
            "config {shown}: cannot read it ({e}); check the path given to --config"
        )),
    }
}

/// Every file to audit, with whether it was named explicitly.
fn collect(paths: &[PathBuf]) -> Result<Vec<(PathBuf, bool)>, String> {
    let default = [PathBuf::from(".")];
    let roots: &[PathBuf] = if paths.is_empty() { &default } else { paths };
    let mut files = Vec::new();
    for root in roots {
        let meta = std::fs::metadata(root)
            .map_err(|e| format!("{}: cannot read it ({e}); check the path", root.display()))?;
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
            let entry = entry.map_err(|e| format!("{}: {e}", root.display()))?;
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
fn compose_env<'a>(path: &Path, cache: &'a mut BTreeMap<PathBuf, ComposeEnv>) -> &'a ComposeEnv {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    cache.entry(dir.clone()).or_insert_with(|| {
        let mut env = std::fs::read_to_string(dir.join(".env"))
            .map(|t| parse_dotenv(&t))
            .unwrap_or_default();
        env.extend(std::env::vars());
        env
    })
}

fn audit_host(config: &Config, args: &AuditArgs, report: &mut Report) -> Result<(), u8> {
    let recorded = match &args.inventory {
        None => None,
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| usage(format!("inventory {}: cannot read it ({e})", p.display())))?;
            Some(serde_json::from_str(&text).map_err(|e| {
                usage(format!(
                    "inventory {}: not a dockward inventory ({e})",
                    p.display()
                ))
            })?)
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            error_line("audit", &format!("cannot start the async runtime: {e}"));
            exit::INTERNAL
        })?;
    let host = match rt.block_on(host::gather(&config.endpoint, recorded)) {
        Ok(h) => h,
        Err(e) => {
            if config.host_requested {
                error_line("audit", &e);
                return Err(crate::status::engine_exit(&e));
            }
            eprintln!("dockward audit: note: the Docker host was not audited: {e}");
            return Ok(());
        }
    };
    report.diagnostics.extend(host.diagnostics);
    report.add(
        "daemon",
        &host.daemon_source,
        Ok(audit_daemon(&host.daemon, &host.daemon_source)),
    );
    for c in &host.inventory.containers {
        let image_user = host.image_users.get(&c.image_id).map(String::as_str);
        report.add(
            "container",
            &c.name,
            Ok(audit_container(c, image_user, &host.exposure)),
        );
    }
    Ok(())
}
