//! `dockward audit`: the files and the host are read by
//! `dockward_auditctl`; this applies the ignores, renders, and turns the
//! worst finding into the exit status.

use crate::cli::{AuditArgs, AuditFormat, Threshold};
use crate::config::Config;
use crate::{error_line, exit};
use dockward_audit::baseline::Baseline;
use dockward_audit::config::{apply_ignores, today_utc};
use dockward_audit::render::{Json, Render, Sarif, Text};
use dockward_audit::{BuildArgs, Report, Severity};
use dockward_auditctl::{files, host};
use std::path::Path;

fn usage(msg: impl std::fmt::Display) -> u8 {
    error_line("audit", &msg);
    exit::USAGE
}

pub(crate) fn run(config: &Config, args: &AuditArgs) -> u8 {
    if args.list_rules {
        return list_rules(args.format);
    }
    let cfg = match dockward_auditctl::load_config(args.config.as_deref()) {
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
    let mut report = Report::default();
    // `--image` alone audits the images, not the current directory too.
    let images_only = !args.images.is_empty() && args.paths.is_empty() && !config.host_requested;
    if !images_only {
        if let Err(e) = files::audit(&args.paths, &build_args, &config.process_env, &mut report) {
            return usage(e);
        }
    }
    if !args.images.is_empty() {
        if let Err(code) = audit_images(config, &args.images, &mut report) {
            return code;
        }
    }

    let want_host = !images_only && (args.paths.is_empty() || config.host_requested);
    let mut host_missed = None;
    if want_host {
        match audit_host(config, args, &mut report) {
            Ok(missed) => host_missed = missed,
            Err(code) => return code,
        }
    }
    // Nothing read is no clean bill of health: a cron job must not take
    // `0 targets, 0 findings` for a pass.
    if report.targets.is_empty() && report.diagnostics.is_empty() {
        let shown: Vec<String> = if args.paths.is_empty() {
            vec![".".into()]
        } else {
            args.paths.iter().map(|p| p.display().to_string()).collect()
        };
        let files = format!("no Dockerfile or compose file under {}", shown.join(", "));
        return match host_missed {
            Some(e) => {
                error_line(
                    "audit",
                    &format!("nothing was audited: {files}, and the Docker host was not reachable ({e}); start dockerd or point DOCKER_HOST at it, or give paths that hold Dockerfiles or compose files"),
                );
                crate::status::engine_exit(&e)
            }
            None => usage(format!(
                "nothing was audited: {files}; give paths that hold Dockerfiles or compose files, or add --host"
            )),
        };
    }

    for note in apply_ignores(&mut report, &cfg.ignores, &today_utc()) {
        eprintln!("dockward audit: note: {note}");
    }
    let baseline = match &args.baseline {
        None => None,
        Some(p) => match read_baseline(p, args.write_baseline.as_deref()) {
            Ok(b) => Some(b),
            Err(e) => return usage(e),
        },
    };
    if let Some(p) = &args.write_baseline {
        if let Err(e) = write_baseline(p, &Baseline::of(&report)) {
            error_line("audit", &e);
            return exit::INTERNAL;
        }
    }
    if let Some(b) = &baseline {
        b.compare(&mut report);
    }
    // Decided before --severity hides anything: it changes the view only.
    let worst = report.max_severity();
    if !args.severity.is_empty() {
        let shown: Vec<Severity> = args.severity.iter().copied().map(severity).collect();
        report.show_only(&shown);
    }
    report.sort();
    let renderer: Box<dyn Render> = match args.format {
        AuditFormat::Text => Box::new(Text {
            colour: config.colour,
        }),
        AuditFormat::Json => Box::new(Json),
        AuditFormat::Sarif => Box::new(Sarif),
    };
    if let Err(e) = crate::out::write(|w| renderer.render(&report, w)) {
        error_line("audit", &e);
        return exit::INTERNAL;
    }
    if !report.diagnostics.is_empty() {
        for d in &report.diagnostics {
            eprintln!("dockward audit: error: {d}");
        }
        return exit::USAGE;
    }
    let threshold = args
        .fail_on
        .map(severity)
        .or(cfg.fail_on)
        .unwrap_or(Severity::Low);
    match worst {
        Some(s) if s >= threshold => exit::FINDINGS,
        _ => exit::OK,
    }
}

/// The baseline at `path`. Missing is an error, except when the same file
/// is also to be written: that is a first run, and everything is new.
fn read_baseline(path: &Path, writing: Option<&Path>) -> Result<Baseline, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            Baseline::parse(&text).map_err(|e| format!("--baseline {}: {e}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && writing == Some(path) => {
            eprintln!(
                "dockward audit: note: {} does not exist yet: every finding is new",
                path.display()
            );
            Ok(Baseline::of(&Report::default()))
        }
        Err(e) => Err(format!(
            "--baseline {}: {e}; write one first with --write-baseline {}",
            path.display(),
            path.display()
        )),
    }
}

fn write_baseline(path: &Path, b: &Baseline) -> Result<(), String> {
    let text = serde_json::to_string_pretty(b).map_err(|e| e.to_string())?;
    crate::out::replace_file(path, &(text + "\n"))
        .map_err(|e| format!("--write-baseline {}: {e}", path.display()))
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
    let catalogue = dockward_audit::rules::catalogue();
    crate::out::report("audit", |out| {
        if format != AuditFormat::Text {
            // JSON (also for --format sarif: SARIF's rules[] is in every report).
            let rules: Vec<serde_json::Value> = catalogue
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
            return writeln!(out, "{}", serde_json::Value::Array(rules));
        }
        catalogue.iter().try_for_each(|r| {
            writeln!(
                out,
                "{:<32} {:<8} {:<27} {}",
                r.id,
                r.severity.as_str(),
                r.cis.map(|c| format!("CIS {c}")).unwrap_or_default(),
                r.title
            )
        })
    })
}

/// Each `--image`, layers included, into `report`. An image dockerd does
/// not have is an error of the run (exit 4), like an unreachable daemon.
fn audit_images(config: &Config, names: &[String], report: &mut Report) -> Result<(), u8> {
    let rt = crate::runtime("audit", 1)?;
    rt.block_on(async {
        let engine = dockward_docker::Engine::connect(config.endpoint.clone()).await;
        let engine = engine.map_err(|e| {
            error_line("audit", &e);
            crate::status::engine_exit(&e)
        })?;
        for name in names {
            let progress = crate::out::Progress::start(&format!("reading image {name}"));
            let facts = dockward_auditctl::image::read(&engine, name, true).await;
            drop(progress);
            match facts {
                Ok(f) => report.add("image", name, Ok(dockward_audit::audit_image(&f))),
                Err(e) => {
                    error_line("audit", &format!("--image {name}: {e}"));
                    return Err(crate::status::engine_exit(&e));
                }
            }
        }
        Ok(())
    })
}

/// The host into `report`; `Ok(Some(e))`: it could not be reached, which
/// is only a note when it was not asked for by name.
fn audit_host(
    config: &Config,
    args: &AuditArgs,
    report: &mut Report,
) -> Result<Option<dockward_docker::EngineError>, u8> {
    let recorded = match &args.inventory {
        None => None,
        Some(p) => Some(dockward_docker::recorded(p).map_err(usage)?),
    };
    let rt = crate::runtime("audit", 1)?;
    match rt.block_on(host::gather(&config.endpoint, recorded, &config.state_dir)) {
        Ok(h) => host::audit(h, report),
        Err(e) if config.host_requested => {
            error_line("audit", &e);
            return Err(crate::status::engine_exit(&e));
        }
        Err(e) => {
            eprintln!("dockward audit: note: the Docker host was not audited: {e}");
            return Ok(Some(e));
        }
    }
    Ok(None)
}
