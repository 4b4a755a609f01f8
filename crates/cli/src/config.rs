//! Raw arguments plus environment → one resolved configuration.

use crate::cli::{ColorChoice, GlobalArgs};
use dockward_docker::Endpoint;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub endpoint: Endpoint,
    pub colour: bool,
    /// `--host` was given (with or without a URL): `audit` includes the
    /// host even when PATHs are given, and fails when it is unreachable.
    pub host_requested: bool,
    /// The whole environment, for compose interpolation (`audit`), as
    /// `docker compose` sees it.
    pub process_env: BTreeMap<String, String>,
    /// Where `firewall` keeps its records (`DOCKWARD_STATE_DIR`, default
    /// `/run/dockward`).
    pub state_dir: PathBuf,
}

/// The environment, captured once: every variable dockward reads comes
/// from here. Variables whose name or value is not UTF-8 are left out
/// (none of dockward's is; `std::env::vars` would panic on them).
#[derive(Debug, Clone, Default)]
pub(crate) struct Env {
    pub vars: BTreeMap<String, String>,
    pub stdout_is_terminal: bool,
}

impl Env {
    pub(crate) fn capture() -> Self {
        Self {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            stdout_is_terminal: std::io::stdout().is_terminal(),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

impl Config {
    pub(crate) fn resolve(g: &GlobalArgs, env: &Env) -> Self {
        let colour = match g.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                env.stdout_is_terminal
                    && env.get("NO_COLOR").unwrap_or("").is_empty()
                    && env.get("TERM") != Some("dumb")
            }
        };
        Self {
            endpoint: Endpoint::resolve(
                g.host.clone().flatten().as_deref(),
                env.get("DOCKER_HOST"),
            ),
            colour,
            host_requested: g.host.is_some(),
            process_env: env.vars.clone(),
            state_dir: env
                .get("DOCKWARD_STATE_DIR")
                .filter(|d| !d.is_empty())
                .map_or_else(|| PathBuf::from(dockward_fwctl::STATE_DIR), PathBuf::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(color: ColorChoice) -> GlobalArgs {
        GlobalArgs { host: None, color }
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        let tty = Env {
            stdout_is_terminal: true,
            ..Default::default()
        };
        assert!(Config::resolve(&g(ColorChoice::Auto), &tty).colour);
        let with = |k: &str, v: &str| {
            let mut e = tty.clone();
            e.vars.insert(k.into(), v.into());
            e
        };
        let no_color = with("NO_COLOR", "1");
        assert!(!Config::resolve(&g(ColorChoice::Auto), &no_color).colour);
        let empty_no_color = with("NO_COLOR", "");
        assert!(Config::resolve(&g(ColorChoice::Auto), &empty_no_color).colour);
        let dumb = with("TERM", "dumb");
        assert!(!Config::resolve(&g(ColorChoice::Auto), &dumb).colour);
        let pipe = Env::default();
        assert!(!Config::resolve(&g(ColorChoice::Auto), &pipe).colour);
        assert!(Config::resolve(&g(ColorChoice::Always), &pipe).colour);
        assert!(!Config::resolve(&g(ColorChoice::Never), &tty).colour);
    }
}
