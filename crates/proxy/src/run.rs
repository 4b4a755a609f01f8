//! The proxy's life once its settings are resolved: check that dockerd
//! answers, bind every listener, serve until SIGTERM or SIGINT, reload the
//! policy on SIGHUP (the previous one stays when the new one is bad), and
//! write what learning mode saw on SIGUSR1 and at exit. The binary
//! resolves arguments and environment into [`Settings`] and maps
//! [`RunError`] to an exit code; nothing here reads either.

use crate::listen::{Listen, ListenSpec};
use crate::log::Sink;
use crate::metrics::Metrics;
use crate::serve::Options;
use crate::setup;
use crate::upstream::{PingError, Upstream};
use dockward_apiguard::Active;
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Everything `run` needs, resolved by the caller.
pub struct Settings {
    /// The listeners; `default_listen` when none was asked for (then an
    /// unavailable IPv6 falls back to IPv4).
    pub listen: Vec<ListenSpec>,
    pub default_listen: bool,
    pub socket_mode: u32,
    pub socket_group: Option<String>,
    pub allow_from: Vec<IpNet>,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    pub upstream: Upstream,
    /// `DOCKWARD_DROP_TO`: the uid and gid to drop to after binding, when
    /// started as root (see `crate::privdrop`).
    pub drop_to: Option<(u32, u32)>,
    /// The policy in force at start.
    pub policy: Active,
    /// Where SIGHUP reads the policy again: the file, learning mode, or
    /// the environment (`env_base` under `env_file`).
    pub config: Option<PathBuf>,
    pub learn: Option<PathBuf>,
    pub env_base: BTreeMap<String, String>,
    pub env_file: Option<String>,
    pub sink: Sink,
    pub only_denials: bool,
    pub max_buffered: usize,
    pub body_timeout: Duration,
    pub metrics: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// dockerd did not answer `/_ping`; the message says how to fix it.
    #[error("{0}")]
    Unreachable(String),
    /// A listener could not be bound.
    #[error("{0}")]
    Bind(String),
    /// A bad listener address (the metrics endpoint).
    #[error("{0}")]
    Usage(String),
}

/// The limits and logging the environment sets: (`DOCKWARD_MAX_BUFFERED`
/// bytes, `DOCKWARD_BODY_TIMEOUT`, only refusals logged per `LOG_LEVEL`).
pub fn limits(env: &BTreeMap<String, String>) -> Result<(usize, Duration, bool), String> {
    let number = |var: &str, default: u64| -> Result<u64, String> {
        match env.get(var) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| format!("{var}={v:?}: write a whole number")),
        }
    };
    let buffered = number("DOCKWARD_MAX_BUFFERED", 64 << 20)?;
    let timeout = number("DOCKWARD_BODY_TIMEOUT", 30)?;
    if timeout == 0 {
        return Err("DOCKWARD_BODY_TIMEOUT=0: give the seconds a client may pause while sending a body, e.g. 30".into());
    }
    // HAProxy's levels, which tecnativa's image passes through; a word
    // outside them is a typo to name, not a level to guess.
    let only_denials = match env.get("LOG_LEVEL").map(|s| s.trim().to_ascii_lowercase()) {
        None => false,
        Some(l) => match l.as_str() {
            "" | "debug" | "info" | "notice" => false,
            "warning" | "warn" | "err" | "error" | "crit" | "alert" | "emerg" => true,
            _ => {
                return Err(format!(
                    "LOG_LEVEL={l:?}: write one of debug, info, notice (a line per request) or warning, err, crit, alert, emerg (only refusals)"
                ))
            }
        },
    };
    Ok((
        usize::try_from(buffered).unwrap_or(usize::MAX),
        Duration::from_secs(timeout),
        only_denials,
    ))
}

/// Serve until SIGTERM or SIGINT.
pub async fn run(s: Settings) -> Result<(), RunError> {
    if let Err(e) = s.upstream.ping().await {
        let fix = if matches!(e, PingError::Denied(_)) {
            "Run with the socket's group (docker run --group-add \"$(stat -c %g /var/run/docker.sock)\"), or as a member of it"
        } else {
            "Start dockerd, or point --upstream (or DOCKER_HOST, SOCKET_PATH) at its socket"
        };
        return Err(RunError::Unreachable(format!(
            "dockerd is not reachable at {}: {e}. {fix}",
            s.upstream.describe()
        )));
    }
    let (listeners, names) = bind_all(&s)?;
    if let Some((uid, gid)) = s.drop_to {
        let socket = match &s.upstream {
            Upstream::Unix(p) => Some(p.as_path()),
            Upstream::Tcp(_) => None,
        };
        match crate::privdrop::drop_to(uid, gid, socket) {
            Ok(Some(what)) => tracing::info!("{what}"),
            Ok(None) => {}
            Err(e) => return Err(RunError::Usage(format!("DOCKWARD_DROP_TO: {e}"))),
        }
        // What was reachable as root must still be, as nobody.
        if let Err(e) = s.upstream.ping().await {
            return Err(RunError::Unreachable(format!(
                "dockerd is not reachable at {} after dropping to {uid}:{gid}: {e}",
                s.upstream.describe()
            )));
        }
    }
    let metrics = Arc::new(Metrics::default());
    let upstream = s.upstream.clone();
    let opts = Arc::new(Options {
        policy: RwLock::new(Arc::new(s.policy)),
        learned: s
            .learn
            .as_ref()
            .map(|_| std::sync::Mutex::new(BTreeMap::new())),
        upstream: upstream.clone(),
        sink: s.sink.with_filter(s.only_denials),
        metrics: metrics.clone(),
        header_timeout: Duration::from_secs(30),
        max_header: 64 * 1024,
        body_timeout: s.body_timeout,
        budget: crate::body::Budget::new(s.max_buffered),
        lookups: Arc::new(crate::lookup::Cache::default()),
    });
    tokio::spawn(opts.lookups.clone().follow(upstream.clone()));
    if let Some(m) = &s.metrics {
        crate::metrics::serve_metrics(m, metrics, upstream.clone())
            .await
            .map_err(RunError::Usage)?;
    }
    if let Some(path) = s.learn.clone() {
        let learn_opts = opts.clone();
        tokio::spawn(async move {
            let Ok(mut usr1) = signal(tokio::signal::unix::SignalKind::user_defined1()) else {
                return;
            };
            while usr1.recv().await.is_some() {
                setup::write_learned(&learn_opts, &path);
            }
        });
    }
    let reload_opts = opts.clone();
    let (config, learn) = (s.config.clone(), s.learn.is_some());
    let (base, env_file) = (s.env_base, s.env_file);
    tokio::spawn(async move {
        let Ok(mut hup) = signal(tokio::signal::unix::SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            match setup::env_with_file(&base, env_file.as_deref())
                .and_then(|env| setup::load(config.as_deref(), learn, &env))
            {
                Ok(p) => {
                    if let Ok(mut g) = reload_opts.policy.write() {
                        *g = Arc::new(p);
                    }
                    eprintln!("dockward proxy: policy reloaded");
                }
                Err(e) => {
                    eprintln!("dockward proxy: reload refused, the running policy stays: {e}");
                }
            }
        }
    });
    eprintln!(
        "dockward proxy: listening on {} → {}",
        names.join(", "),
        upstream.describe()
    );
    let shutdown = async {
        match signal(tokio::signal::unix::SignalKind::terminate()) {
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
    crate::serve(
        listeners,
        names,
        opts.clone(),
        shutdown,
        Duration::from_secs(10),
    )
    .await;
    if let Some(path) = &s.learn {
        setup::write_learned(&opts, path);
    }
    eprintln!("dockward proxy: stopped");
    Ok(())
}

fn signal(kind: tokio::signal::unix::SignalKind) -> std::io::Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind)
}

/// Every listener bound, with the names the log uses.
fn bind_all(s: &Settings) -> Result<(Vec<Listen>, Vec<String>), RunError> {
    let group = s.socket_group.as_deref();
    let bind =
        |spec: &ListenSpec| Listen::bind(spec, s.socket_mode, group, &s.allow_from, s.tls.as_ref());
    let mut listeners = Vec::new();
    let mut names = Vec::new();
    for spec in &s.listen {
        let mut bound = bind(spec).map(|l| (l, spec.clone()));
        if bound.is_err() && s.default_listen {
            // The default [::] listener in a container without IPv6: fall
            // back to IPv4, as DISABLE_IPV6=1 would.
            let v4 = ListenSpec::default_for(true);
            if let Ok(l) = bind(&v4) {
                eprintln!("dockward proxy: IPv6 unavailable, listening on IPv4 only");
                bound = Ok((l, v4));
            }
        }
        let (l, spec) = bound.map_err(RunError::Bind)?;
        listeners.push(l);
        names.push(spec.describe());
    }
    Ok((listeners, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_from_the_environment() {
        let env = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            limits(&env(&[])).unwrap(),
            (64 << 20, Duration::from_secs(30), false)
        );
        assert_eq!(
            limits(&env(&[
                ("DOCKWARD_MAX_BUFFERED", " 1024 "),
                ("LOG_LEVEL", "WARNING")
            ]))
            .unwrap(),
            (1024, Duration::from_secs(30), true)
        );
        let e = limits(&env(&[("DOCKWARD_BODY_TIMEOUT", "0")])).unwrap_err();
        assert!(e.starts_with("DOCKWARD_BODY_TIMEOUT=0"), "{e}");
        let e = limits(&env(&[("DOCKWARD_MAX_BUFFERED", "lots")])).unwrap_err();
        assert!(e.contains("whole number"), "{e}");
        for (level, denials) in [
            ("info", false),
            ("notice", false),
            ("err", true),
            ("ALERT", true),
        ] {
            assert_eq!(
                limits(&env(&[("LOG_LEVEL", level)])).unwrap().2,
                denials,
                "{level}"
            );
        }
        let e = limits(&env(&[("LOG_LEVEL", "verbose")])).unwrap_err();
        assert!(e.starts_with("LOG_LEVEL=\"verbose\": write one of"), "{e}");
    }
}
