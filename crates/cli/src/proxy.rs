//! `dockward proxy`: environment and flags → one configuration, a check
//! that dockerd answers, listeners, then `dockward_proxy::serve` until
//! SIGTERM/SIGINT. SIGHUP re-reads the environment file given with
//! `DOCKWARD_ENV_FILE` (when set) and keeps the running policy when the new
//! one is invalid.

use crate::cli::ProxyArgs;
use crate::config::Config;
use crate::{error_line, exit};
use dockward_proxy::listen::{Listen, ListenSpec};
use dockward_proxy::log::Sink;
use dockward_proxy::metrics::Metrics;
use dockward_proxy::serve::Options;
use dockward_proxy::setup;
use dockward_proxy::upstream::{resolve, Upstream};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub(crate) fn run(cfg: &Config, args: &ProxyArgs) -> u8 {
    if args.list_actions {
        for a in dockward_apiguard::file::ACTIONS {
            println!("{a}");
        }
        return exit::OK;
    }
    let env_file = cfg.process_env.get("DOCKWARD_ENV_FILE").cloned();
    let base = cfg.process_env.clone();
    let env = match setup::env_with_file(&base, env_file.as_deref()) {
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
    let only_denials = matches!(
        env.get("LOG_LEVEL")
            .map(|s| s.to_ascii_lowercase())
            .as_deref(),
        Some("warning" | "warn" | "err" | "error" | "crit" | "alert" | "emerg")
    );
    let number = |var: &str, default: u64| -> Result<u64, String> {
        match env.get(var) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| format!("{var}={v:?}: write a whole number")),
        }
    };
    let limits = number("DOCKWARD_MAX_BUFFERED", 64 << 20)
        .and_then(|b| Ok((b, number("DOCKWARD_BODY_TIMEOUT", 30)?)));
    let (max_buffered, body_timeout) = match limits {
        Ok((b, t)) if t > 0 => (b as usize, Duration::from_secs(t)),
        Ok(_) => {
            error_line("proxy", &"DOCKWARD_BODY_TIMEOUT=0: give the seconds a client may pause while sending a body, e.g. 30");
            return exit::USAGE;
        }
        Err(e) => {
            error_line("proxy", &e);
            return exit::USAGE;
        }
    };
    let threads = cfg
        .process_env
        .get("DOCKWARD_PROXY_THREADS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let rt = match runtime(threads) {
        Ok(rt) => rt,
        Err(e) => {
            error_line("proxy", &format!("cannot start the async runtime: {e}"));
            return exit::INTERNAL;
        }
    };
    rt.block_on(async move {
        if let Err(e) = upstream.ping().await {
            let fix = if matches!(e, dockward_proxy::upstream::PingError::Denied(_)) {
                "Run with the socket's group (docker run --group-add \"$(stat -c %g /var/run/docker.sock)\"), or as a member of it"
            } else {
                "Start dockerd, or point --upstream (or DOCKER_HOST, SOCKET_PATH) at its socket"
            };
            error_line("proxy", &format!("dockerd is not reachable at {upstream_url}: {e}. {fix}"));
            return exit::UNREACHABLE;
        }
        let mut listeners = Vec::new();
        let mut names = Vec::new();
        for s in &specs {
            let mut bound = Listen::bind(s, mode, args.socket_group.as_deref(), &allow, tls.as_ref()).map(|l| (l, s.clone()));
            if bound.is_err() && args.listen.is_empty() {
                // The default [::] listener in a container without IPv6:
                // fall back to IPv4, as DISABLE_IPV6=1 would.
                let v4 = ListenSpec::default_for(true);
                if let Ok(l) = Listen::bind(&v4, mode, args.socket_group.as_deref(), &allow, tls.as_ref()) {
                    eprintln!("dockward proxy: IPv6 unavailable, listening on IPv4 only");
                    bound = Ok((l, v4));
                }
            }
            match bound {
                Ok((l, spec)) => {
                    listeners.push(l);
                    names.push(spec.describe());
                }
                Err(e) => {
                    error_line("proxy", &e);
                    return exit::INTERNAL;
                }
            }
        }
        let metrics = Arc::new(Metrics::default());
        let opts = Arc::new(Options {
            policy: RwLock::new(Arc::new(policy)),
            learned: args.learn.as_ref().map(|_| std::sync::Mutex::new(BTreeMap::new())),
            upstream: upstream.clone(),
            sink: sink.with_filter(only_denials),
            metrics: metrics.clone(),
            header_timeout: Duration::from_secs(30),
            max_header: 64 * 1024,
            body_timeout,
            budget: dockward_proxy::body::Budget::new(max_buffered),
            lookups: Arc::new(dockward_proxy::lookup::Cache::default()),
        });
        tokio::spawn(opts.lookups.clone().follow(upstream.clone()));
        if let Some(m) = &args.metrics {
            if let Err(e) = dockward_proxy::metrics::serve_metrics(m, metrics, upstream.clone()).await {
                error_line("proxy", &e);
                return exit::USAGE;
            }
        }
        let reload_opts = opts.clone();
        let (config, learn) = (args.config.clone(), args.learn.is_some());
        if let Some(path) = args.learn.clone() {
            let learn_opts = opts.clone();
            tokio::spawn(async move {
                let Ok(mut usr1) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1()) else {
                    return;
                };
                while usr1.recv().await.is_some() {
                    setup::write_learned(&learn_opts, &path);
                }
            });
        }
        tokio::spawn(async move {
            let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
                return;
            };
            while hup.recv().await.is_some() {
                match setup::env_with_file(&base, env_file.as_deref()).and_then(|env| setup::load(config.as_deref(), learn, &env)) {
                    Ok(p) => {
                        if let Ok(mut g) = reload_opts.policy.write() {
                            *g = Arc::new(p);
                        }
                        eprintln!("dockward proxy: policy reloaded");
                    }
                    Err(e) => eprintln!("dockward proxy: reload refused, the running policy stays: {e}"),
                }
            }
        });
        eprintln!("dockward proxy: listening on {} → {}", names.join(", "), upstream.describe());
        let shutdown = async {
            let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
            match term {
                Ok(mut t) => {
                    tokio::select! {
                        _ = t.recv() => {}
                        _ = tokio::signal::ctrl_c() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        };
        dockward_proxy::serve(listeners, names, opts.clone(), shutdown, Duration::from_secs(10)).await;
        if let Some(path) = &args.learn {
            setup::write_learned(&opts, path);
        }
        eprintln!("dockward proxy: stopped");
        exit::OK
    })
}

/// `DOCKWARD_PROXY_THREADS` worker threads (default 1: one thread keeps a
/// request, its upstream connection and its response on one core, with no
/// cross-thread wake-ups; dockerd needs the other cores more).
fn runtime(n: usize) -> std::io::Result<tokio::runtime::Runtime> {
    if n <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build()
    }
}
