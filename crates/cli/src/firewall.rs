//! `dockward firewall`: arguments in, `dockward-fwctl` called, text and
//! exit codes out. The control itself (apply, sweep, watch, the state
//! file) is in `dockward-fwctl`.

mod edit;
mod render;

use edit::Verb;

use crate::cli::{
    Backend, FirewallAction, FirewallArgs, FirewallPlanArgs, FirewallPolicyArgs, Format,
};
use crate::config::Config;
use crate::{error_line, exit};
use dockward_firewall::plan;
use dockward_fwctl::{
    compute, gather, guard_note, installed_state, load_policy, policy_path, read_host, FwError,
    Kernel, DEFAULT_POLICY, ONE_SHOT,
};
use dockward_hostprobe::ports::PortIndex;
use dockward_netfilter::{Netfilter, Xtables};

/// The exit code for a firewall error (see `exit`).
fn exit_code(e: &FwError) -> u8 {
    match e {
        FwError::Policy(_) => exit::USAGE,
        FwError::Engine(e) => crate::status::engine_exit(e),
        FwError::Kernel(_) => exit::FIREWALL,
        FwError::Internal(_) => exit::INTERNAL,
    }
}

impl From<Backend> for dockward_fwctl::Backend {
    fn from(b: Backend) -> Self {
        match b {
            Backend::Auto => Self::Auto,
            Backend::Nft => Self::Nft,
            Backend::Iptables => Self::Iptables,
        }
    }
}

/// The policy file of `args`, loaded (the default path when present).
fn policy(args: &FirewallPolicyArgs) -> Result<dockward_firewall::PolicyFile, FwError> {
    let path = policy_path(args.policy.as_deref());
    load_policy(path.as_ref().map(|(p, _)| p.as_path()))
}

pub(crate) fn run(config: &Config, args: &FirewallArgs) -> u8 {
    let rt = match crate::runtime("firewall", 1) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let mut k = Kernel::system(config.state_dir.clone());
    let result = match &args.action {
        FirewallAction::Plan(a) => rt.block_on(plan_cmd(config, a, &mut k)),
        FirewallAction::Apply(a) => rt.block_on(apply_cmd(config, a, &mut k)),
        FirewallAction::Watch(a) => match watch_options(config, a) {
            Ok(o) => rt.block_on(dockward_fwctl::watch::run(&o, &mut k)),
            Err(e) => Err(e),
        },
        FirewallAction::Remove => remove_cmd(&mut k),
        FirewallAction::Allow(a) => rt.block_on(edit::run(config, a, Verb::Allow, &mut k)),
        FirewallAction::Deny(a) => rt.block_on(edit::run(config, a, Verb::Deny, &mut k)),
        FirewallAction::Reset(a) => rt.block_on(edit::run(config, a, Verb::Reset, &mut k)),
        FirewallAction::Rules(a) => edit::rules(a),
    };
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            // `plan` changes nothing: "nothing was applied" would say it
            // might have.
            match &args.action {
                FirewallAction::Plan(_) | FirewallAction::Rules(_) => {
                    error_line("firewall", &e.reason());
                }
                _ => error_line("firewall", &e),
            }
            exit_code(&e)
        }
    }
}

/// `watch`'s arguments, resolved.
fn watch_options(
    config: &Config,
    a: &crate::cli::FirewallWatchArgs,
) -> Result<dockward_fwctl::watch::Options, FwError> {
    let format = match a.notify_format {
        crate::cli::NotifyFormat::Json => dockward_notify::Format::Json,
        crate::cli::NotifyFormat::Ntfy => dockward_notify::Format::Ntfy,
    };
    let mut notify = Vec::new();
    for u in &a.notify_url {
        notify.push(dockward_notify::Sink::webhook(u, format).map_err(FwError::Policy)?);
    }
    notify.extend(
        a.notify_command
            .iter()
            .cloned()
            .map(dockward_notify::Sink::Command),
    );
    Ok(dockward_fwctl::watch::Options {
        notify,
        endpoint: config.endpoint.clone(),
        policy: Some(
            a.policy
                .policy
                .clone()
                .unwrap_or_else(|| DEFAULT_POLICY.into()),
        ),
        policy_optional: a.policy.policy.is_none(),
        backend: a.policy.backend.into(),
        check_interval: std::time::Duration::from_millis(a.check_interval.max(50)),
    })
}

async fn plan_cmd(
    config: &Config,
    args: &FirewallPlanArgs,
    k: &mut Kernel<impl Netfilter, impl Xtables>,
) -> Result<(), FwError> {
    let file = policy(&args.policy)?;
    let (inv, guard) = gather(&config.endpoint, args.policy.inventory.as_deref(), &file).await?;
    let (resolved, rs) = compute(
        &inv,
        &file,
        &guard,
        &read_host(&*k.host, &inv, &mut PortIndex::default()),
    );
    // Whichever backend is in force: `plan` shows what filters packets now.
    let kernel = installed_state(k).map_err(FwError::Kernel)?;
    let mut p = plan::plan(&inv, &resolved, &rs, kernel.as_ref());
    p.unfilterable.extend(guard_note(&guard));
    let text = match args.format {
        Format::Json => {
            serde_json::to_string_pretty(&p).map_err(|e| FwError::Internal(e.to_string()))? + "\n"
        }
        Format::Text => render::plan_text(&p, config.colour),
    };
    write_stdout(&text)
}

async fn apply_cmd(
    config: &Config,
    args: &FirewallPolicyArgs,
    k: &mut Kernel<impl Netfilter, impl Xtables>,
) -> Result<(), FwError> {
    let file = policy(args)?;
    let (inv, guard) = gather(&config.endpoint, args.inventory.as_deref(), &file).await?;
    let host = read_host(&*k.host, &inv, &mut PortIndex::default());
    let applied = dockward_fwctl::apply(k, args.backend.into(), &inv, &file, &guard, &host)?;
    let summary = applied.sweep_and_summary(&mut k.nf);
    write_stdout(&format!("{summary}\n{ONE_SHOT}\n"))
}

fn remove_cmd(k: &mut Kernel<impl Netfilter, impl Xtables>) -> Result<(), FwError> {
    dockward_fwctl::remove(k)?;
    write_stdout("removed: dockward's table is gone; Docker's own rules apply again\n")
}

pub(super) fn write_stdout(text: &str) -> Result<(), FwError> {
    crate::out::write(|w| w.write_all(text.as_bytes())).map_err(FwError::Internal)
}
