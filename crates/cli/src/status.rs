//! `dockward status`: snapshot, report, render.

use crate::cli::{Format, StatusArgs};
use crate::config::Config;
use crate::{error_line, exit};
use dockward_docker::{Engine, EngineError, InventorySource};
use dockward_status::render::{Json, Render, Text};

pub(crate) fn run(config: &Config, args: &StatusArgs) -> u8 {
    let rt = match crate::runtime("status", 1) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let inventory = rt.block_on(async {
        let engine = Engine::connect(config.endpoint.clone()).await?;
        engine.snapshot().await
    });
    let inventory = match inventory {
        Ok(i) => i,
        Err(e) => {
            error_line("status", &e);
            return engine_exit(&e);
        }
    };
    let report = dockward_status::report(&inventory);
    let mut kernel = dockward_fwctl::Kernel::system(config.state_dir.clone());
    let mut report = with_firewall(report, &inventory, &mut kernel);
    if let Some(t) = kernel.state.last_tamper() {
        report = dockward_status::with_tamper(report, t, dockward_fwctl::unix_now());
    }
    let renderer: Box<dyn Render> = match args.format {
        Format::Text => Box::new(Text {
            colour: config.colour,
            wide: args.wide || wide_terminal(),
        }),
        Format::Json => Box::new(Json),
    };
    crate::out::report("status", |w| renderer.render(&report, w))
}

/// The wide layout needs about 160 columns: a terminal that has them gets
/// it without asking.
fn wide_terminal() -> bool {
    terminal_size::terminal_size_of(std::io::stdout()).is_some_and(|(w, _)| w.0 >= 160)
}

pub(crate) fn engine_exit(e: &EngineError) -> u8 {
    if e.is_unreachable() {
        exit::UNREACHABLE
    } else {
        exit::DAEMON_ERROR
    }
}

/// Ask the kernel for dockward's table; what cannot be asked is said.
fn with_firewall(
    mut report: dockward_status::StatusReport,
    inv: &dockward_model::Inventory,
    kernel: &mut dockward_fwctl::Kernel<dockward_netfilter::NftCli, dockward_netfilter::IptCli>,
) -> dockward_status::StatusReport {
    match dockward_fwctl::installed_state(kernel) {
        Ok(Some(k)) => dockward_status::with_firewall(report, inv, &k),
        Ok(None) => {
            if !report.ports.is_empty() {
                report
                    .notes
                    .push(dockward_status::Note::FirewallNotInstalled);
            }
            report
        }
        Err(e) => {
            report.firewall = dockward_status::FirewallStatus::Unknown(e.to_string());
            report
        }
    }
}
