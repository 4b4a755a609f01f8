//! `dockward harden daemon`: the proposal and the safe write come from
//! `dockward_auditctl::harden`; this shows the diff and what each change
//! does, as text or JSON.

use crate::cli::{Format, HardenArgs, HardenDaemonArgs, HardenTarget};
use crate::config::Config;
use crate::{error_line, exit};
use dockward_auditctl::harden::{self, Proposal};
use std::path::PathBuf;

pub(crate) fn run(config: &Config, args: &HardenArgs) -> u8 {
    match &args.target {
        HardenTarget::Daemon(a) => daemon(config, a),
    }
}

fn daemon(config: &Config, args: &HardenDaemonArgs) -> u8 {
    let swarm = match crate::runtime("harden", 1) {
        Ok(rt) => rt.block_on(harden::in_swarm(&config.endpoint)),
        Err(code) => return code,
    };
    let selection = dockward_audit::harden::Selection {
        only: args.only.clone(),
        skip: args.skip.clone(),
    };
    let p = match harden::propose(
        &config.endpoint.url,
        args.config_file.as_deref(),
        swarm,
        &selection,
    ) {
        Ok(p) => p,
        Err(e) => {
            error_line("harden", &e);
            return exit::USAGE;
        }
    };
    let mut written = None;
    if args.apply && !p.plan.is_empty() {
        match harden::write(&p) {
            Ok(backup) => written = Some(backup),
            Err(e) => {
                error_line("harden", &e);
                return exit::INTERNAL;
            }
        }
    }
    let out = match args.format {
        Format::Json => json(&p, args.apply, written.as_ref()),
        Format::Text => text_report(&p, args.apply, written.as_ref()),
    };
    crate::out::text("harden", &out)
}

fn text_report(pr: &Proposal, apply: bool, backup: Option<&Option<PathBuf>>) -> String {
    let (shown, p, diff) = (&pr.shown, &pr.plan, &pr.diff);
    let mut s = String::new();
    if p.is_empty() {
        s.push_str(&format!("{shown}: nothing to change in the file\n"));
    } else {
        s.push_str(diff);
        s.push_str("\nWhat each change does once dockerd restarts:\n");
        for c in &p.changes {
            s.push_str(&format!(
                "  {} ({} {}): {}\n",
                c.key, c.action, c.rule, c.consequence
            ));
        }
    }
    if !p.skipped.is_empty() {
        s.push_str("\nLeft out by --only/--skip:\n");
        for c in &p.skipped {
            s.push_str(&format!(
                "  {} ({} {}): {}\n",
                c.key, c.action, c.rule, c.consequence
            ));
        }
    }
    if !p.manual.is_empty() {
        s.push_str("\nTo do by hand:\n");
        for m in &p.manual {
            s.push_str(&format!("  {m}\n"));
        }
    }
    match (apply, backup) {
        (true, Some(b)) => {
            s.push_str(&format!("\nwritten: {shown}"));
            if let Some(b) = b {
                s.push_str(&format!(" (backup: {})", b.display()));
            }
            s.push_str(
                "\ndockerd was not restarted; restart it to apply (systemctl restart docker)\n",
            );
        }
        (false, _) if !p.is_empty() => {
            s.push_str(
                "\nnothing written; run again with --apply to write it (a backup is kept)\n",
            );
        }
        _ => {}
    }
    s
}

fn json(pr: &Proposal, apply: bool, backup: Option<&Option<PathBuf>>) -> String {
    let (shown, p, diff, flags) = (&pr.shown, &pr.plan, &pr.diff, &pr.flags);
    let doc = serde_json::json!({
        "schema": "dockward.harden-daemon/v1",
        "file": shown,
        "changes": p.changes,
        "manual": p.manual,
        "skipped": p.skipped,
        "diff": diff,
        "applied": apply && backup.is_some(),
        "backup": backup.and_then(|b| b.as_ref()).map(|b| b.display().to_string()),
        "flags_on_command_line": flags,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
