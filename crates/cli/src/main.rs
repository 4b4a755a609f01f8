//! `dockward`: the binary. Parses arguments, resolves one configuration, and
//! hands it to a subsystem; every effect beyond that lives in the edge crates.

mod audit;
mod cli;
mod config;
mod exit;
mod firewall;
mod generate;
mod harden;
mod out;
mod proxy;
mod status;

use clap::Parser;
use cli::{Cli, Command};
use config::{Config, Env};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging();
    let config = Config::resolve(&cli.global, &Env::capture());
    let code = match cli.command {
        Command::Status(args) => status::run(&config, &args),
        Command::Proxy(args) => proxy::run(&config, &args),
        Command::Firewall(args) => firewall::run(&config, &args),
        Command::Audit(args) => audit::run(&config, &args),
        Command::Harden(args) => harden::run(&config, &args),
        Command::GenerateDocs { dir } => generate::run(&dir),
    };
    ExitCode::from(code)
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Print a one-line error the way every command does.
pub fn error_line(command: &str, msg: &dyn std::fmt::Display) {
    eprintln!("dockward {command}: error: {msg}");
}

/// The async runtime of every command: one thread (a command makes a
/// handful of concurrent calls to dockerd; more threads would only cost
/// start-up time), or `threads` workers for `proxy` when
/// `DOCKWARD_PROXY_THREADS` asks for more. A failure is an internal error,
/// said once, here.
pub fn runtime(command: &str, threads: usize) -> Result<tokio::runtime::Runtime, u8> {
    let mut b = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    b.enable_all().build().map_err(|e| {
        error_line(command, &format!("cannot start the async runtime: {e}"));
        exit::INTERNAL
    })
}
