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

/// The part of the environment dockward reads, captured once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Env {
    pub docker_host: Option<String>,
    pub no_color: Option<String>,
    pub term: Option<String>,
    pub stdout_is_terminal: bool,
    pub vars: BTreeMap<String, String>,
}

impl Env {
    pub(crate) fn capture() -> Self {
        Self {
            docker_host: std::env::var("DOCKER_HOST").ok(),
            no_color: std::env::var("NO_COLOR").ok(),
            term: std::env::var("TERM").ok(),
            stdout_is_terminal: std::io::stdout().is_terminal(),
            vars: std::env::vars().collect(),
        }
    }
}

impl Config {
    pub(crate) fn resolve(g: &GlobalArgs, env: &Env) -> Self {
        let colour = match g.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                env.stdout_is_terminal
                    && env.no_color.as_deref().unwrap_or("").is_empty()
                    && env.term.as_deref() != Some("dumb")
            }
        };
        Self {
            endpoint: Endpoint::resolve(
                g.host.clone().flatten().as_deref(),
                env.docker_host.as_deref(),
            ),
            colour,
            host_requested: g.host.is_some(),
            process_env: env.vars.clone(),
            state_dir: env
                .vars
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
        let no_color = Env {
            no_color: Some("1".into()),
            ..tty.clone()
        };
        assert!(!Config::resolve(&g(ColorChoice::Auto), &no_color).colour);
        let empty_no_color = Env {
            no_color: Some(String::new()),
            ..tty.clone()
        };
        assert!(Config::resolve(&g(ColorChoice::Auto), &empty_no_color).colour);
        let dumb = Env {
            term: Some("dumb".into()),
            ..tty.clone()
        };
        assert!(!Config::resolve(&g(ColorChoice::Auto), &dumb).colour);
        let pipe = Env::default();
        assert!(!Config::resolve(&g(ColorChoice::Auto), &pipe).colour);
        assert!(Config::resolve(&g(ColorChoice::Always), &pipe).colour);
        assert!(!Config::resolve(&g(ColorChoice::Never), &tty).colour);
    }
}
