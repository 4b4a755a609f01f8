//! The command line as clap sees it: raw arguments only. [`crate::config`]
//! turns them into one resolved configuration, so that no command reads the
//! environment or guesses defaults on its own (ripgrep's split).

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
EXIT STATUS
    0  success
    1  findings at or above the --fail-on threshold (audit)
    2  usage or input error, or a command that is not built yet
    3  the Docker daemon could not be reached
    4  the Docker daemon answered with an error
    5  an internal or I/O error

ENVIRONMENT
    DOCKER_HOST   the daemon to use when --host is not given
                  (default unix:///var/run/docker.sock)
    NO_COLOR      any non-empty value turns colour off
    RUST_LOG      log filter for diagnostics on stderr (e.g. dockward=debug)

See docs/ in the source tree for the JSON schemas and the design.";

/// Make a Docker host safe and keep it safe.
///
/// dockward shows what a Docker host publishes and to whom (status),
/// guards the Docker API socket (proxy), closes published ports to the
/// outside unless allowed (firewall), and audits the daemon, containers,
/// Dockerfiles and compose files (audit).
#[derive(Debug, Parser)]
#[command(name = "dockward", version, about, long_about, after_long_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Docker daemon to use, e.g. unix:///var/run/docker.sock or
    /// tcp://127.0.0.1:2375 [default: $DOCKER_HOST, else the default socket].
    #[arg(long, short = 'H', global = true, value_name = "URL")]
    pub host: Option<String>,

    /// When to colour output: auto colours only on a terminal and honours
    /// NO_COLOR.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// An aligned table for people.
    Text,
    /// A stable JSON document (schema in docs/status-json.md).
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show every published port: on which address, to which container,
    /// and who can reach it; and whether containers on each network can
    /// reach each other.
    ///
    /// One row per host binding. Running containers show what dockerd
    /// actually bound; stopped containers show what they will bind when
    /// started. EXPOSURE is the address Docker listens on (all interfaces,
    /// all IPv6 interfaces through docker-proxy, loopback only, or one
    /// address); REACHABLE FROM says who can reach it as Docker leaves it.
    #[command(after_long_help = AFTER_HELP)]
    Status(StatusArgs),

    /// Docker API firewall in front of the socket (not built yet).
    #[command(disable_help_flag = false)]
    Proxy(NotBuiltArgs),

    /// Close published ports to the outside unless allowed (not built yet).
    Firewall(NotBuiltArgs),

    /// Audit the daemon, containers, Dockerfiles and compose files (not built yet).
    Audit(NotBuiltArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Commands whose issues are still open accept anything and say so.
#[derive(Debug, Args)]
pub struct NotBuiltArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,
}
