//! The command line as clap sees it: raw arguments only. [`crate::config`]
//! turns them into one resolved configuration, so that no command reads the
//! environment or guesses defaults on its own (ripgrep's split).

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
EXIT STATUS
    0  success
    1  findings at or above the --fail-on threshold (audit)
    2  usage or input error
    3  the Docker daemon could not be reached
    4  the Docker daemon answered with an error
    5  an internal or I/O error
    6  firewall: the kernel refused the change, or nft/conntrack are
       missing (nothing was applied; the previous rules stay)

ENVIRONMENT
    DOCKER_HOST   the daemon to use when --host is not given
                  (default unix:///var/run/docker.sock)
    NO_COLOR      any non-empty value turns colour off
    RUST_LOG      log filter for diagnostics on stderr (e.g. dockward=debug)
    DOCKWARD_STATE_DIR  where firewall keeps its records: the backend in
                  force, the last repaired tampering (default /run/dockward)

See docs/ in the source tree for the JSON schemas and the design.";

/// Make a Docker host safe and keep it safe.
///
/// dockward shows what a Docker host publishes and to whom (status),
/// guards the Docker API socket (proxy), closes published ports to the
/// outside unless allowed (firewall), and audits the daemon, containers,
/// Dockerfiles and compose files (audit).
/// The package version and the commit it was built from (build.rs).
pub(crate) const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git ",
    env!("DOCKWARD_GIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(name = "dockward", version = VERSION, about, long_about, after_long_help = AFTER_HELP, max_term_width = 80)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Docker daemon to use, e.g. unix:///var/run/docker.sock or
    /// tcp://127.0.0.1:2375 [default: $DOCKER_HOST, else the default socket].
    /// For `audit`, `--host` without a URL includes the local host when
    /// PATHs are given (write it after the PATHs, or as --host=URL).
    #[arg(long, short = 'H', global = true, value_name = "URL", num_args = 0..=1, value_parser = endpoint_url)]
    pub host: Option<Option<String>>,

    /// When to colour output: auto colours only on a terminal and honours
    /// NO_COLOR.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

/// A Docker endpoint URL. Checked here so that `audit --host .` says what
/// went wrong instead of trying to connect to `.`.
fn endpoint_url(s: &str) -> Result<String, String> {
    const SCHEMES: &[&str] = &[
        "unix://", "tcp://", "http://", "https://", "ssh://", "npipe://", "fd://",
    ];
    if SCHEMES.iter().any(|p| s.starts_with(p)) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not a Docker endpoint (unix:///path or tcp://host:port); to audit paths and the host, put --host after the paths"
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// An aligned table for people.
    Text,
    /// A stable JSON document; its "schema" field names it and docs/ has
    /// a page for each (status-json.md, firewall-plan-json.md,
    /// harden-json.md).
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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

    /// A Docker API firewall in front of the socket, drop-in for
    /// tecnativa/docker-socket-proxy's environment variables.
    ///
    /// Every request is parsed, matched exactly against the Engine API's
    /// endpoints and allowed or refused (403 "Forbidden:" with the rule that
    /// refused it and how to allow it). Host power is judged by allow-lists:
    /// a request passes only when everything it asks for is known to be
    /// harmless. Bodies that create or change containers, execs, services,
    /// volumes and networks are read as dockerd reads them; every field must
    /// be known, capabilities must be Docker's defaults, bind sources must
    /// resolve (through symlinks) under ALLOW_BIND_MOUNTS, security options
    /// may only tighten. Exec, attach and archive into a container that holds
    /// power the client may not have are refused, and so are containers
    /// named in a body that the client may not see. ALLOW_HOST_POWER names
    /// the checks to allow. One JSON audit line per request on stderr (or
    /// --audit-log).
    ///
    /// The environment is tecnativa's: CONTAINERS=1, IMAGES=1, … one per
    /// API section (EVENTS, PING, VERSION on by default), POST=1 for every
    /// method but GET and HEAD, ALLOW_START, ALLOW_STOP, ALLOW_RESTARTS,
    /// ALLOW_PAUSE, ALLOW_UNPAUSE (these work without POST=1), linuxserver's
    /// ALLOW_CHANGES, ALLOW_LOGS, ALLOW_TOP (set to 0 to refuse) and
    /// ALLOW_ARCHIVE, ALLOW_EXPORT (off: set to 1 to let clients read and
    /// write containers' files), LOG_LEVEL, SOCKET_PATH, DISABLE_IPV6. See
    /// docs/proxy.md for every variable, the threat model and the
    /// differences.
    #[command(after_long_help = PROXY_AFTER_HELP)]
    Proxy(ProxyArgs),

    /// Close published ports to the outside unless allowed, isolate
    /// containers on request, and keep it right as containers come and go.
    ///
    /// Docker publishes ports to the whole world through DNAT, before ufw or
    /// firewalld see the packets. dockward adds its own nftables table
    /// (`inet dockward`) that only takes access away: it never edits,
    /// flushes or reorders Docker's chains or anyone else's.
    ///
    /// Policy comes from labels, and optionally a TOML file
    /// (docs/firewall.md). A label wins for its container:
    ///
    ///   dockward.expose=public|local|deny|<addr or CIDR>,...   (container)
    ///   dockward.expose.<port>[/<proto>]=<same values>         (one port)
    ///   dockward.isolate=true                                   (network)
    ///   dockward.allow-from=<container or service names>       (container)
    ///
    /// Ports without a verdict are `local`: reachable from this host and from
    /// Docker networks, closed to everything outside. Only labels the
    /// container set itself open anything: an image's `LABEL` (Docker
    /// merges it into the container's labels) may close, never open.
    #[command(after_long_help = FIREWALL_AFTER_HELP)]
    Firewall(FirewallArgs),

    /// Audit the daemon, containers, Dockerfiles and compose files, and say
    /// how to fix each finding.
    ///
    /// Without PATH: the local Docker host (when its daemon answers) and the
    /// Dockerfiles, compose files and daemon.json files under the current
    /// directory, respecting .gitignore. With PATHs: those files and
    /// directories only; add --host to include the host. A directory is
    /// searched for Dockerfile, Dockerfile.*, *.Dockerfile, *.dockerfile,
    /// Containerfile, compose*.y(a)ml, docker-compose*.y(a)ml and
    /// daemon.json; a file named explicitly is audited for what it contains,
    /// whatever its name.
    ///
    /// On the host: the daemon (daemon.json, the dockerd command line,
    /// DOCKER_OPTS in /etc/default/docker and the Engine API) and every
    /// container, running or stopped. A port bound to all interfaces is
    /// rated by whether it is reachable from outside, using dockward
    /// firewall's rules when they are in force.
    ///
    /// Suppress a finding with a comment on or above its line,
    /// `# dockward-ignore: <rule-id> <reason>`, or in the config file
    /// (docs/audit.md). Suppressed findings are still listed.
    #[command(after_long_help = AUDIT_AFTER_HELP)]
    Audit(AuditArgs),

    /// Fix what audit finds, where a file can fix it.
    Harden(HardenArgs),

    /// Write the man pages and shell completions into DIR (for packagers:
    /// scripts/package.sh).
    #[command(hide = true)]
    GenerateDocs {
        #[arg(value_name = "DIR")]
        dir: std::path::PathBuf,
    },
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Every column (state, networks, exposure, packets), one row per
    /// address [default: on a terminal at least 160 columns wide; else the
    /// compact 80-column layout].
    #[arg(long)]
    pub wide: bool,
}

const FIREWALL_AFTER_HELP: &str = "\
EXAMPLES
    dockward firewall plan                      what apply would change
    dockward firewall apply --policy fw.toml    apply once
    dockward firewall watch                     keep it right (systemd: contrib/dockward-firewall.service)
    dockward firewall remove                    take dockward's rules out
    dockward firewall allow web 443             open one port, no recreate
    dockward firewall allow db 5432 from 192.168.1.0/24
    dockward firewall rules                     what the policy file says
    docker run -d -p 8080:80 -l dockward.expose=public nginx
    docker run -d -p 5432:5432 -l dockward.expose=192.0.2.0/24 postgres

EXIT STATUS
    0  success
    2  bad policy file or label (named in the message; nothing was applied)
    3  the Docker daemon could not be reached
    4  the Docker daemon answered with an error
    5  an internal or I/O error
    6  the kernel refused the change, or nft/conntrack are missing
       (nothing was applied; the previous rules stay)

Needs root (CAP_NET_ADMIN) and the nft and conntrack programs.";

#[derive(Debug, Args)]
pub(crate) struct FirewallArgs {
    #[command(subcommand)]
    pub action: FirewallAction,
}

#[derive(Debug, Subcommand)]
pub(crate) enum FirewallAction {
    /// Show every published port with the verdict apply would give it, where
    /// the verdict comes from, and what is in force now. Changes nothing.
    Plan(FirewallPlanArgs),
    /// Apply the policy once, atomically; then cut every tracked flow the
    /// new rules refuse (a narrowed port, direct routing, UDP included).
    Apply(FirewallPolicyArgs),
    /// Apply, then follow Docker's container and network events and keep the
    /// rules right: re-asserts after a dockerd restart, and within tens of
    /// milliseconds of any change to its rules by someone else (the
    /// kernel's change notices), cutting what got in meanwhile; reloads the
    /// policy file on SIGHUP and keeps the last good rules when the new
    /// policy is invalid. Leaves the rules in place on exit.
    Watch(FirewallWatchArgs),
    /// Take all of dockward's rules out; Docker's own behaviour returns.
    Remove,
    /// Open a container's or service's ports without recreating it.
    ///
    /// `allow web` (public), `allow web 80`, `allow db 5432/tcp from
    /// 192.168.1.0/24 10.0.0.0/8` (local, plus those sources). Edits the
    /// policy file (created when missing, comments kept), shows what
    /// changes, and applies it (through the running `firewall watch`, when
    /// there is one).
    #[command(after_long_help = EDIT_AFTER_HELP)]
    Allow(FirewallEditArgs),
    /// Close a container's or service's ports to everyone outside the
    /// host and its containers' allow-lists: `deny web`, `deny web 80/udp`.
    #[command(after_long_help = EDIT_AFTER_HELP)]
    Deny(FirewallEditArgs),
    /// Take out what allow or deny put in the policy file for a container
    /// or service (or one port of it): labels and the default decide again.
    #[command(after_long_help = EDIT_AFTER_HELP)]
    Reset(FirewallEditArgs),
    /// List the policy file's rules: which containers, which ports, what
    /// verdict. Labels are shown by `plan`.
    Rules(FirewallRulesArgs),
}

const EDIT_AFTER_HELP: &str = "\
ARGUMENTS
    NAME             a container name, or a Swarm service name (its task
                     containers are matched by their service label)
    PORT[/PROTO]     a container port, e.g. 80 or 53/udp; without it, every
                     published port of NAME
    from CIDR...     allow only: the addresses or networks that may reach it
                     besides the host; without it, allow means public

EXAMPLES
    dockward firewall allow web 443
    dockward firewall allow db 5432 from 192.168.1.0/24
    dockward firewall deny web 8080
    dockward firewall reset web
    dockward firewall rules

The policy file is /etc/dockward/firewall.toml unless --policy says
otherwise; it is created when missing, and its comments and order are kept.
The entry edited is the last `[[container]]` whose match names NAME and
nothing else; a new one goes last (later entries win). A dockward.expose
label on the container still wins over the file: the output says so.
When a `firewall watch` runs, it is told to reload (SIGHUP) and applies the
change; otherwise the change is applied once, as `apply` does. When the
apply fails, the file is put back as it was.

EXIT STATUS
    0  changed and applied, or nothing to change
    2  a bad NAME, PORT or CIDR, a policy file that cannot be edited, or a
       watch running with another policy file (nothing changed)
    3  the Docker daemon could not be reached (nothing changed)
    4  the Docker daemon answered with an error (nothing changed)
    5  an internal or I/O error
    6  the kernel refused the change (the file is put back)";

#[derive(Debug, Args)]
pub(crate) struct FirewallEditArgs {
    /// The container or Swarm service.
    #[arg(value_name = "NAME")]
    pub name: String,

    /// [PORT[/PROTO]] [from CIDR...]
    #[arg(value_name = "PORT|from CIDR")]
    pub rest: Vec<String>,

    /// NAME is a Swarm service even when no container or service of that
    /// name is seen now.
    #[arg(long)]
    pub service: bool,

    /// Show what would change; write and apply nothing.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub policy: FirewallPolicyArgs,
}

#[derive(Debug, Args)]
pub(crate) struct FirewallRulesArgs {
    /// Policy file (TOML) [default: /etc/dockward/firewall.toml].
    #[arg(long, short = 'p', value_name = "FILE")]
    pub policy: Option<std::path::PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct FirewallPolicyArgs {
    /// Policy file (TOML) [default: /etc/dockward/firewall.toml when it exists].
    #[arg(long, short = 'p', value_name = "FILE")]
    pub policy: Option<std::path::PathBuf>,

    /// Use a recorded inventory (JSON, as dockward's model serialises it)
    /// instead of asking dockerd: for benchmarks and offline review.
    #[arg(long, value_name = "FILE", hide = true)]
    pub inventory: Option<std::path::PathBuf>,

    /// Where the rules go: nft (an own nftables table), iptables (own
    /// chains entered from DOCKER-USER and INPUT, through
    /// iptables-restore --noflush, for hosts without nftables), or auto
    /// (nft when the nft program works, else iptables). On iptables, watch
    /// re-renders dockward's chains on every change.
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    pub backend: Backend,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    Auto,
    Nft,
    Iptables,
}

#[derive(Debug, Args)]
pub(crate) struct FirewallPlanArgs {
    #[command(flatten)]
    pub policy: FirewallPolicyArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct FirewallWatchArgs {
    #[command(flatten)]
    pub policy: FirewallPolicyArgs,
    /// How often to check that the rules in the kernel are still dockward's,
    /// in milliseconds, besides every change the kernel announces (on
    /// iptables-legacy hosts, which announce none, the only check).
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub check_interval: u64,

    /// POST an alert to this webhook (http or https; repeatable) when a
    /// port becomes public, a container with the Docker socket or
    /// --privileged appears, or dockward's rules are found changed.
    #[arg(long, value_name = "URL")]
    pub notify_url: Vec<String>,

    /// Run this command (through /bin/sh; repeatable) for each alert, with
    /// the alert as JSON on stdin and in DOCKWARD_ALERT_KIND,
    /// DOCKWARD_ALERT_MESSAGE and DOCKWARD_ALERT_CONTAINER.
    #[arg(long, value_name = "CMD")]
    pub notify_command: Vec<String>,

    /// The webhook body: json (the message under text, content and
    /// message: Slack, Discord, Mattermost) or ntfy (ntfy's plain-text
    /// publish, to a topic URL).
    #[arg(long, value_enum, default_value_t = NotifyFormat::Json, value_name = "FORMAT")]
    pub notify_format: NotifyFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum NotifyFormat {
    Json,
    Ntfy,
}

const AUDIT_AFTER_HELP: &str = "\
EXAMPLES
    dockward audit                               this host and the files under .
    dockward audit app/ deploy/compose.yml       only these files
    dockward audit --host --format sarif . > dockward.sarif
    dockward audit --fail-on high                exit 1 only for high or critical
    dockward audit --severity critical,high      show only those
    dockward audit --host --baseline b.json --write-baseline b.json
                                                 what is new or gone since the
                                                 last run (a cron job's view)
    dockward audit --list-rules [--format json]  every rule id with its severity

CONFIG FILE (--config, default ./.dockward.toml when it exists)
    fail-on = \"high\"
    [[ignore]]
    rule = \"container-root-user\"
    target = \"legacy-*\"        # path, container name or `daemon`; globs
    reason = \"vendor image, ticket OPS-112\"
    expires = \"2027-03-31\"     # counts again after this day

EXIT STATUS
    0  no finding at or above the --fail-on threshold
    1  findings at or above the threshold
    2  usage or input error (bad flag, unreadable path, bad config file),
       or nothing to audit (no Dockerfile or compose file under the paths)
    3  --host was asked for, or nothing else was there to audit, and the
       Docker daemon could not be reached
    4  the Docker daemon answered with an error
    5  an internal or I/O error
    A file that cannot be parsed is an error line on stderr (and a
    diagnostic in JSON and SARIF) and the other files are still audited;
    it makes the exit status 2.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AuditFormat {
    /// Counts first, then findings worst first, each with its fix.
    Text,
    /// The dockward.audit/v1 document (docs/audit-json.md).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Threshold {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// Files and directories to audit [default: the current directory and
    /// the host].
    #[arg(value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,

    /// Lowest severity that makes the exit status 1 [default: the config
    /// file's fail-on, else low].
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<Threshold>,

    /// Show only findings of these severities (comma-separated, e.g.
    /// `critical,high`). Changes what is shown, not the exit status:
    /// --fail-on still looks at every finding.
    #[arg(long, value_enum, value_name = "LIST", value_delimiter = ',')]
    pub severity: Vec<Threshold>,

    /// Show only what is new since FILE (written by --write-baseline), and
    /// what is gone; the exit status then counts the new findings only.
    /// The same FILE may be given to both: it is read before it is
    /// rewritten, and a missing one is an empty baseline.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<std::path::PathBuf>,

    /// Write every finding of this run to FILE, for a later --baseline.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<std::path::PathBuf>,

    /// Config file with fail-on and ignores [default: ./.dockward.toml when
    /// it exists].
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,

    /// A build argument for resolving ARGs in Dockerfiles (repeatable).
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    pub build_args: Vec<String>,

    /// Audit a local image without running it (repeatable): its config
    /// (user, environment, exposed ports, health check, ONBUILD triggers),
    /// its history, and every file of its layers, streamed from `docker
    /// save` (setuid binaries, private keys and credential files even when
    /// a later layer deletes them, world-writable directories on PATH).
    /// Alone, only the images are audited. With --host, every image a
    /// container uses has its config and history audited too (not its
    /// layers: that reads the whole image).
    #[arg(long = "image", value_name = "NAME")]
    pub images: Vec<String>,

    /// Print every rule (id, severity, CIS id, title) and exit.
    #[arg(long)]
    pub list_rules: bool,

    /// Use a recorded inventory (JSON, as dockward's model serialises it)
    /// for the host's containers instead of asking dockerd: for benchmarks.
    #[arg(long, value_name = "FILE", hide = true)]
    pub inventory: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct HardenArgs {
    #[command(subcommand)]
    pub target: HardenTarget,
}

const HARDEN_AFTER_HELP: &str = "\
Without --apply, prints the changes as a diff with the consequence of
each, and writes nothing. With --apply, saves a backup next to the file
(daemon.json.dockward-<time>.bak) and replaces the file atomically. dockerd
is never restarted: the changes take effect at its next restart
(`systemctl restart docker`).

Each change is printed beside what it does; pick with --only or --skip
(`dockward harden daemon --skip userns-remap --apply`). A name that is
no change dockward makes is an error, not a silent skip.

Settings dockerd is given as command-line flags are not written to the
file (dockerd refuses a setting given both ways); the output says which
flag to remove instead. TLS certificates and registry CAs cannot be
invented: those fixes are listed as manual steps.

EXIT STATUS
    0  success (nothing to change, the diff was shown, or it was applied)
    2  the daemon.json is not valid JSON, or a bad flag or --only/--skip id
       (nothing written)
    5  the file or its backup could not be written (the old file stays)";

#[derive(Debug, Subcommand)]
pub(crate) enum HardenTarget {
    /// The daemon.json changes that fix the daemon findings of `audit`.
    #[command(after_long_help = HARDEN_AFTER_HELP)]
    Daemon(HardenDaemonArgs),
}

#[derive(Debug, Args)]
pub(crate) struct HardenDaemonArgs {
    /// Write the changes (with a backup). Without it, only show them.
    #[arg(long)]
    pub apply: bool,

    /// The daemon.json to change [default: the --config-file of the running
    /// dockerd, else /etc/docker/daemon.json].
    #[arg(long, value_name = "FILE")]
    pub config_file: Option<std::path::PathBuf>,

    /// Make only these changes: daemon.json keys (icc, userns-remap, ip,
    /// no-new-privileges, live-restore, iptables) or their audit rule ids,
    /// comma-separated or repeated.
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Leave these changes out (same ids as --only), e.g. `--skip
    /// userns-remap` where remapping would hide the existing containers.
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub skip: Vec<String>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

const PROXY_AFTER_HELP: &str = "\
EXAMPLES
    CONTAINERS=1 dockward proxy --listen unix:///run/dockward/docker.sock --socket-group traefik
    CONTAINERS=1 POST=1 EXEC=1 dockward proxy --listen tcp://127.0.0.1:2375
    docker -H unix:///run/dockward/docker.sock ps

ENVIRONMENT (besides the sections)
    ALLOW_BIND_MOUNTS         comma list of host directories whose contents
                              may be bind-mounted (resolved through symlinks)
    ALLOW_HOST_POWER          comma list of host-power checks to allow:
                              privileged, capability, host-namespace,
                              host-network, device, unconfined, bind, socket,
                              volume, sysctl, runtime, network, build-network,
                              build-remote, start-body, exec-privileged,
                              plugin, log-driver, swarm-join, firewall-label,
                              unknown-field
    ALLOW_ARCHIVE, ALLOW_EXPORT  1 lets clients copy files out of and into
                              containers (docker cp), export and commit them
    DOCKWARD_MAX_BUFFERED     bytes of request bodies held at once across all
                              clients (default 67108864); beyond it, 503
    DOCKWARD_BODY_TIMEOUT     seconds a client may pause inside a body (30)
    DOCKWARD_MIN_API_VERSION  oldest API version accepted (default 1.24)
    DOCKWARD_MAX_BODY         largest checked body in bytes (default 4194304)
    LOG_LEVEL                 info (default: a line per request) or
                              warning/err (only refusals)
    DOCKWARD_ENV_FILE         a file of KEY=VALUE lines read over the
                              environment at start and again on SIGHUP
    DOCKWARD_PROXY_THREADS    worker threads (default 1: a request, its
                              upstream connection and its response stay on
                              one core)
    DOCKWARD_DROP_TO          UID:GID; started as root, bind, then serve as
                              that user with only the socket's group (the
                              image sets 65534:65534)

EXIT STATUS
    0  stopped by SIGTERM or SIGINT
    2  a bad flag or environment variable (named in the message)
    3  dockerd is not reachable at start (the socket is missing or refuses)
    5  a listener could not be opened";

#[derive(Debug, Args)]
pub(crate) struct ProxyArgs {
    /// Where to listen: unix:///path or tcp://address:port (repeatable)
    /// [default: tcp://[::]:2375, or tcp://0.0.0.0:2375 with DISABLE_IPV6=1].
    #[arg(long, value_name = "URL")]
    pub listen: Vec<String>,

    /// dockerd's socket [default: $DOCKER_HOST, else unix://$SOCKET_PATH,
    /// else unix:///var/run/docker.sock].
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,

    /// Mode of unix listener sockets, in octal.
    #[arg(long, default_value = "660", value_name = "OCTAL")]
    pub socket_mode: String,

    /// Group of unix listener sockets (name or number).
    #[arg(long, value_name = "GROUP")]
    pub socket_group: Option<String>,

    /// Admit TCP clients only from these addresses or CIDRs (repeatable).
    #[arg(long, value_name = "CIDR")]
    pub allow_from: Vec<String>,

    /// Append audit lines to this file instead of stderr.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<std::path::PathBuf>,

    /// Serve Prometheus metrics (/metrics) and a health check (/healthz)
    /// here, e.g. tcp://127.0.0.1:9102.
    #[arg(long, value_name = "URL")]
    pub metrics: Option<String>,

    /// A policy file (TOML; docs/proxy.md): rules per API action, presets,
    /// a policy per listener or client uid/gid. Replaces the section
    /// variables. SIGHUP re-reads it and keeps the running policy when the
    /// new one is invalid.
    #[arg(long, value_name = "FILE", conflicts_with = "learn")]
    pub config: Option<std::path::PathBuf>,

    /// Learning mode: allow every action (host-power checks still apply),
    /// record what each client uses, and write the minimal policy file for
    /// it to FILE on SIGUSR1 and at exit.
    #[arg(long, value_name = "FILE")]
    pub learn: Option<std::path::PathBuf>,

    /// Serve TCP listeners over TLS with this certificate (PEM, with its
    /// chain).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,

    /// The TLS certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,

    /// Require TLS clients to present a certificate signed by this CA
    /// (PEM), as dockerd's --tlsverify does.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_client_ca: Option<std::path::PathBuf>,

    /// Print every API action a policy file can name, and exit.
    #[arg(long)]
    pub list_actions: bool,
}
