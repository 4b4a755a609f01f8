//! `dockward proxy`: environment and flags resolved into one
//! `dockward_proxy::run::Settings`, then `dockward_proxy::run::run` (which
//! serves until SIGTERM/SIGINT and reloads on SIGHUP), its error mapped to
//! an exit code.

use crate::cli::ProxyArgs;
use crate::config::Config;
use crate::{error_line, exit};
use dockward_proxy::listen::ListenSpec;
use dockward_proxy::log::Sink;
use dockward_proxy::run::{self, RunError, Settings};
use dockward_proxy::setup;
use dockward_proxy::upstream::{resolve, Upstream};

pub(crate) fn run(cfg: &Config, args: &ProxyArgs) -> u8 {
    if args.list_actions {
        return crate::out::report("proxy", |w| {
            dockward_apiguard::Action::ALL
                .iter()
                .try_for_each(|a| writeln!(w, "{a}"))
        });
    }
    let env_file = cfg.process_env.get("DOCKWARD_ENV_FILE").cloned();
    let env = match setup::env_with_file(&cfg.process_env, env_file.as_deref()) {
        Ok(e) => e,
        Err(e) => {
            error_line("proxy", &e);
            return exit::USAGE;
        }
    };
    let policy = match setup::load(args.config.as_deref(), args.learn.is_some(), &env) {
        Ok(p) => p,
        Err(e) => {
            error_line("proxy", &e);
            return exit::USAGE;
        }
    };
    let mode = match u32::from_str_radix(args.socket_mode.trim_start_matches("0o"), 8) {
        Ok(m) if m <= 0o777 => m,
        _ => {
            error_line(
                "proxy",
                &format!(
                    "--socket-mode {:?}: write an octal mode such as 660",
                    args.socket_mode
                ),
            );
            return exit::USAGE;
        }
    };
    let mut allow = Vec::new();
    for a in &args.allow_from {
        let net = a
            .parse::<ipnet::IpNet>()
            .or_else(|_| a.parse::<std::net::IpAddr>().map(ipnet::IpNet::from));
        match net {
            Ok(n) => allow.push(n),
            Err(_) => {
                error_line(
                    "proxy",
                    &format!("--allow-from {a:?}: write an address or CIDR, e.g. 172.18.0.0/16"),
                );
                return exit::USAGE;
            }
        }
    }
    let specs: Result<Vec<ListenSpec>, String> = if args.listen.is_empty() {
        let disable6 = matches!(
            env.get("DISABLE_IPV6").map(String::as_str),
            Some("1" | "true" | "yes")
        );
        Ok(vec![ListenSpec::default_for(disable6)])
    } else {
        args.listen.iter().map(|l| ListenSpec::parse(l)).collect()
    };
    let specs = match specs {
        Ok(s) => s,
        Err(e) => {
            error_line("proxy", &e);
            return exit::USAGE;
        }
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => {
            match dockward_proxy::tls::acceptor(c, k, args.tls_client_ca.as_deref()) {
                Ok(a) => Some(a),
                Err(e) => {
                    error_line("proxy", &e);
                    return exit::USAGE;
                }
            }
        }
        _ => None,
    };
    let upstream_url = resolve(
        args.upstream.as_deref(),
        env.get("DOCKER_HOST").map(String::as_str),
        env.get("SOCKET_PATH").map(String::as_str),
    );
    let upstream = match Upstream::parse(&upstream_url) {
        Ok(u) => u,
        Err(e) => {
            error_line("proxy", &e);
            return exit::USAGE;
        }
    };
    let sink = match &args.audit_log {
        None => Sink::new(Box::new(std::io::stderr())),
        Some(p) => match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
        {
            Ok(f) => Sink::new(Box::new(f)),
            Err(e) => {
                error_line("proxy", &format!("--audit-log {}: {e}", p.display()));
                return exit::USAGE;
            }
        },
    };
    let (max_buffered, body_timeout, only_denials) = match run::limits(&env) {
        Ok(l) => l,
        Err(e) => {
            error_line("proxy", &e);
            return exit::USAGE;
        }
    };
    let drop_to = match cfg.process_env.get("DOCKWARD_DROP_TO") {
        None => None,
        Some(v) => match dockward_proxy::privdrop::parse(v) {
            Ok(d) => Some(d),
            Err(e) => {
                error_line("proxy", &e);
                return exit::USAGE;
            }
        },
    };
    // One worker by default: a request, its upstream connection and its
    // response stay on one core, with no cross-thread wake-ups; dockerd
    // needs the other cores more.
    let threads = cfg
        .process_env
        .get("DOCKWARD_PROXY_THREADS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let rt = match crate::runtime("proxy", threads) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let settings = Settings {
        default_listen: args.listen.is_empty(),
        listen: specs,
        socket_mode: mode,
        socket_group: args.socket_group.clone(),
        allow_from: allow,
        tls,
        upstream,
        drop_to,
        policy,
        config: args.config.clone(),
        learn: args.learn.clone(),
        env_base: cfg.process_env.clone(),
        env_file,
        sink,
        only_denials,
        max_buffered,
        body_timeout,
        metrics: args.metrics.clone(),
    };
    match rt.block_on(run::run(settings)) {
        Ok(()) => exit::OK,
        Err(e) => {
            error_line("proxy", &e);
            match e {
                RunError::Unreachable(_) => exit::UNREACHABLE,
                RunError::Bind(_) => exit::INTERNAL,
                RunError::Usage(_) => exit::USAGE,
            }
        }
    }
}
