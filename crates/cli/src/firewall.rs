//! `dockward firewall`: gather the inventory, the policy and the kernel's
//! current table; call the pure core (`dockward-firewall`); apply through
//! the [`Netfilter`] edge.
//!
//! Ordering that keeps the promises of issue 4:
//! - the policy is resolved completely before anything is applied, so a bad
//!   label or file changes nothing (fail closed, previous rules stay);
//! - a change is one `nft -f` transaction: all or nothing;
//! - connections are cut only *after* the narrower rules are in force, so a
//!   cut flow cannot re-establish through the old verdict.

mod render;
mod state;
mod watch;

pub use state::{unix_now, StateFile};

use crate::cli::{
    Backend, FirewallAction, FirewallArgs, FirewallPlanArgs, FirewallPolicyArgs, Format,
};
use crate::config::Config;
use crate::{error_line, exit};
use dockward_docker::{Engine, EngineError, InventorySource};
use dockward_firewall::revoke::{narrowed, Target};
use dockward_firewall::Host;
use dockward_firewall::{
    build, nft, parse_file, plan, resolve, KernelState, PolicyFile, ProxyCgroup, Resolved, Ruleset,
    TABLE,
};
use dockward_model::Inventory;
use dockward_netfilter::{host_bridges, IptCli, Netfilter, NetfilterError, NftCli, PortIndex};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Where `--policy` defaults to, when that file exists.
pub const DEFAULT_POLICY: &str = "/etc/dockward/firewall.toml";

#[derive(Debug)]
pub enum FwError {
    /// A bad policy file or label: exit 2.
    Policy(String),
    Engine(EngineError),
    Kernel(NetfilterError),
    Internal(String),
}

impl FwError {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Policy(_) => exit::USAGE,
            Self::Engine(e) => crate::status::engine_exit(e),
            Self::Kernel(_) => exit::FIREWALL,
            Self::Internal(_) => exit::INTERNAL,
        }
    }
}

impl std::fmt::Display for FwError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Policy(m) | Self::Internal(m) => write!(f, "{m}; nothing was applied"),
            Self::Engine(e) => write!(f, "{e}"),
            Self::Kernel(e) => write!(f, "{e}"),
        }
    }
}

pub fn run(config: &Config, args: &FirewallArgs) -> u8 {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            error_line("firewall", &format!("cannot start the async runtime: {e}"));
            return exit::INTERNAL;
        }
    };
    let mut nf = NftCli;
    let result = match &args.action {
        FirewallAction::Plan(a) => rt.block_on(plan_cmd(config, a, &mut nf)),
        FirewallAction::Apply(a) => rt.block_on(apply_cmd(config, a, &mut nf)),
        FirewallAction::Watch(a) => rt.block_on(watch::run(config, a, &mut nf)),
        FirewallAction::Remove => remove_cmd(&mut nf),
    };
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            error_line("firewall", &e);
            e.exit_code()
        }
    }
}

/// The policy file to use: the flag, else the default path when present.
pub fn policy_path(args: &FirewallPolicyArgs) -> Option<(PathBuf, bool)> {
    match &args.policy {
        Some(p) => Some((p.clone(), true)),
        None => {
            let p = PathBuf::from(DEFAULT_POLICY);
            p.exists().then_some((p, false))
        }
    }
}

pub fn load_policy(path: Option<&Path>) -> Result<PolicyFile, FwError> {
    let Some(path) = path else {
        return Ok(PolicyFile::default());
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        FwError::Policy(format!(
            "policy file {shown}: cannot read it ({e}); give an existing file with --policy, or none to use labels only"
        ))
    })?;
    parse_file(&shown, &text).map_err(|e| FwError::Policy(e.to_string()))
}

/// dockerd's cgroup for the docker-proxy guard, or why there is none.
pub type Guard = Result<ProxyCgroup, String>;

/// Find the local dockerd serving `config`'s endpoint and its cgroup (see
/// `dockward_firewall::cgroup` for why).
pub fn detect_guard(config: &Config) -> Guard {
    detect(config).0
}

/// dockerd's pid and the ports it held when the guard was made: `watch`
/// makes the guard again when they change (a swarm joined or left).
pub type Listening = Option<(u32, Vec<(dockward_model::Protocol, u16)>)>;

/// The guard, and what dockerd listened on when it was made.
pub fn detect(config: &Config) -> (Guard, Listening) {
    let Some((pid, args)) = crate::audit::host::dockerd_cmdline(&config.endpoint) else {
        return (
            Err("no dockerd serving this endpoint runs on this host".into()),
            None,
        );
    };
    // Its own listeners by the sockets it holds: the API, Swarm's, metrics.
    let listening = dockward_netfilter::listeners::listening(pid);
    let guard = (|| {
        let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .map_err(|e| format!("cannot read dockerd's cgroup ({e})"))?;
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(|e| format!("cannot read the mount table ({e})"))?;
        let hosts = dockward_audit::parse_dockerd_args(&args).hosts;
        let mut g = dockward_firewall::cgroup::proxy_cgroup(&cgroup, &mountinfo, &hosts)?;
        g.daemon_ports.extend(listening.iter().copied());
        g.daemon_ports.sort();
        g.daemon_ports.dedup();
        Ok(g)
    })();
    (guard, Some((pid, listening)))
}

/// The iptables backend takes its docker-proxy guard from nftables (an
/// `inet` table with the input side only): iptables has no match for the
/// owner of a listening socket in INPUT (`-m cgroup` sees only
/// early-demuxed sockets). Without the nft program there is none.
pub const IPT_NO_GUARD: &str =
    "the iptables backend without the nft program cannot match a listening socket's owner";

/// What `plan` says when docker-proxy's sockets cannot be told apart.
fn guard_note(guard: &Guard) -> Option<String> {
    guard.as_ref().err().map(|why| {
        format!("docker-proxy's listeners are not guarded, because {why}: over IPv4, what reaches them without Docker's DNAT (broadcast or multicast UDP, a flow older than the port, a container connecting to a host address) gets Docker's behaviour whatever the verdict; over IPv6 (dockerd without ip6tables) a container that just started is reachable until `watch` adds its entry. `userland-proxy: false` in daemon.json removes docker-proxy and these doors with it")
    })
}

/// Prints the bad labels of `problems` when they differ from the last ones
/// printed: `watch` recomputes on every container event, and a bad label
/// that stays should be said once, not on every event.
fn warn_once(problems: &[String]) {
    static LAST: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    if last.as_slice() != problems {
        for p in problems {
            eprintln!("dockward firewall: warning: {p}");
        }
        *last = problems.to_vec();
    }
}

/// (policy, inventory) → ruleset, completed with what the host knows (read
/// by the caller: `watch` reads the bridges again only when a network
/// changes, and one container's veths when it changes); a bad label closes
/// its container (see `warn_once`).
pub fn compute(
    inv: &Inventory,
    file: &PolicyFile,
    guard: &Guard,
    host: &Host,
) -> (Resolved, Ruleset) {
    let resolved = resolve(inv, file);
    warn_once(&resolved.problems);
    let mut rs = build(&resolved, inv);
    rs.proxy_cgroup = guard.as_ref().ok().cloned();
    (resolved, dockward_firewall::with_host(rs, inv, host))
}

/// Read what only the host knows for `inv`: its bridges, and the bridge
/// port of each running container.
pub fn read_host(inv: &Inventory, index: &mut PortIndex) -> Host {
    Host {
        bridges: host_bridges(),
        veths: read_veths(inv, index),
    }
}

/// The veths of the containers whose addresses the rules may trust.
pub fn read_veths(
    inv: &Inventory,
    index: &mut PortIndex,
) -> std::collections::BTreeMap<String, Vec<dockward_model::Veth>> {
    dockward_netfilter::veths(inv, index, |c| {
        dockward_firewall::bind::may_be_trusted(inv, c)
    })
}

/// What is in the kernel now (`None`: no dockward table).
pub fn kernel_state(nf: &mut impl Netfilter) -> Result<Option<KernelState>, FwError> {
    Ok(nf
        .table_json("inet", TABLE)
        .map_err(FwError::Kernel)?
        .map(|j| KernelState::parse(&j)))
}

/// What dockward has in force, from whichever backend installed it (the
/// iptables marker in the state directory says which): for `status`, `audit`
/// and `watch`. `None`: nothing of dockward's is in the kernel.
pub fn installed_state(nf: &mut impl Netfilter) -> Result<Option<KernelState>, NetfilterError> {
    if StateFile::system().iptables_used() {
        return ipt_state(&mut IptCli);
    }
    Ok(nf
        .table_json("inet", TABLE)?
        .map(|j| KernelState::parse(&j)))
}

/// dockward's rules on the iptables backend, read back from
/// `iptables-save -c`; `None`: its jump from DOCKER-USER is not there.
pub fn ipt_state(ipt: &mut IptCli) -> Result<Option<KernelState>, NetfilterError> {
    let (v4, v6) = ipt.saves()?;
    Ok(dockward_firewall::ipt::kernel_state(&v4, &v6))
}

/// Cut the established connections that `new` no longer admits. Failures
/// are logged, not fatal: the narrower rules are already in force.
pub fn revoke(nf: &mut impl Netfilter, old: &Ruleset, new: &Ruleset) -> usize {
    let mut cut = 0;
    for (target, verdict) in narrowed(old, new) {
        let conns = match &target {
            Target::Container(ip, proto, port) => {
                nf.connections_to(proto.as_str(), &ip.to_string(), *port)
            }
            Target::Proxy6(proto, port) => nf.connections_to_local6(proto.as_str(), *port),
        };
        let conns = match conns {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list connections to revoke");
                continue;
            }
        };
        for c in conns {
            let Ok(src) = c.src.parse::<IpAddr>() else {
                continue;
            };
            if new.admits(&verdict, src) {
                continue;
            }
            match nf.cut(&c) {
                Ok(()) => cut += 1,
                Err(e) => tracing::warn!(error = %e, "cannot cut a revoked connection"),
            }
        }
    }
    cut
}

/// Cut every tracked flow the rules in `rs` refuse (see
/// [`dockward_firewall::revoke::refused`]), after they are in force. Run
/// after every apply and re-assertion: whatever was opened before (an old
/// verdict, a reused address, direct routing, a tamper window) ends here.
pub fn sweep(nf: &mut impl Netfilter, rs: &Ruleset) -> usize {
    let host = match nf.host_addresses() {
        Ok(h) => h,
        Err(e) => {
            // Without them a flow of this host's own could be cut: better
            // to cut nothing and say so.
            tracing::warn!(error = %e, "cannot list this host's addresses; no connection cut");
            return 0;
        }
    };
    let conns = match nf.connections() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list connections to revoke");
            return 0;
        }
    };
    let mut cut = 0;
    for c in conns {
        let Some(flow) = as_flow(&c) else { continue };
        if !dockward_firewall::revoke::refused(rs, &host, &flow) {
            continue;
        }
        match nf.cut(&c) {
            Ok(()) => cut += 1,
            Err(e) => tracing::warn!(error = %e, "cannot cut a refused connection"),
        }
    }
    cut
}

fn as_flow(c: &dockward_netfilter::Conn) -> Option<dockward_firewall::revoke::Flow> {
    Some(dockward_firewall::revoke::Flow {
        proto: dockward_model::Protocol::parse(&c.proto)?,
        src: c.src.parse().ok()?,
        dst: c.dst.parse().ok()?,
        dport: c.dport,
        reply_src: c.reply_src.parse().ok()?,
        reply_sport: c.reply_sport,
    })
}

async fn snapshot(config: &Config, recorded: Option<&Path>) -> Result<Inventory, FwError> {
    if let Some(path) = recorded {
        let text = std::fs::read_to_string(path).map_err(|e| {
            FwError::Policy(format!(
                "inventory {}: cannot read it ({e})",
                path.display()
            ))
        })?;
        return serde_json::from_str(&text).map_err(|e| {
            FwError::Policy(format!(
                "inventory {}: not a dockward inventory ({e})",
                path.display()
            ))
        });
    }
    let engine = Engine::connect(config.endpoint.clone())
        .await
        .map_err(FwError::Engine)?;
    engine.snapshot().await.map_err(FwError::Engine)
}

async fn plan_cmd(
    config: &Config,
    args: &FirewallPlanArgs,
    nf: &mut impl Netfilter,
) -> Result<(), FwError> {
    let path = policy_path(&args.policy);
    let file = load_policy(path.as_ref().map(|(p, _)| p.as_path()))?;
    let inv = snapshot(config, args.policy.inventory.as_deref()).await?;
    let guard = detect_guard(config);
    let (resolved, rs) = compute(
        &inv,
        &file,
        &guard,
        &read_host(&inv, &mut PortIndex::default()),
    );
    // Whichever backend is in force: `plan` shows what filters packets now.
    let kernel = installed_state(nf).map_err(FwError::Kernel)?;
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
    nf: &mut impl Netfilter,
) -> Result<(), FwError> {
    let path = policy_path(args);
    let file = load_policy(path.as_ref().map(|(p, _)| p.as_path()))?;
    let inv = snapshot(config, args.inventory.as_deref()).await?;
    let st = StateFile::system();
    let host = read_host(&inv, &mut PortIndex::default());
    let applied = match args.backend {
        Backend::Iptables => {
            let guard = detect_guard(config);
            apply_iptables(nf, &mut IptCli, &inv, &file, &guard, &host, &st)?
        }
        // (The guard is nft's alone: found only on this path.)
        backend => match apply_once(nf, &inv, &file, &detect_guard(config), &host) {
            Ok(s) => {
                // Only one backend at a time: the iptables chains go.
                if st.iptables_used() {
                    remove_iptables(&mut IptCli, true);
                    st.set_iptables(false);
                }
                s
            }
            // auto: no nft program on this host, so iptables.
            Err(FwError::Kernel(NetfilterError::Spawn { .. })) if backend == Backend::Auto => {
                apply_iptables(
                    nf,
                    &mut IptCli,
                    &inv,
                    &file,
                    &detect_guard(config),
                    &host,
                    &st,
                )?
            }
            Err(e) => return Err(e),
        },
    };
    let summary = applied.sweep_and_summary(nf);
    write_stdout(&format!("{summary}\n{ONE_SHOT}\n"))
}

/// What a one-shot apply guarantees, said after it (docs/firewall.md).
const ONE_SHOT: &str = "one-shot: containers and networks created from now on get the fallback until the next apply, and an address the rules trust stays bound to its current container's port (a container that takes it over, or this one restarted, gets nothing for it); `dockward firewall watch` keeps the rules current as containers come and go";

/// The iptables backend: both scripts checked (`--test`) before either is
/// applied, so a refusal leaves the previous rules in place. Returns the
/// summary and the ruleset now in force.
pub fn apply_iptables(
    nf: &mut impl Netfilter,
    ipt: &mut IptCli,
    inv: &Inventory,
    file: &PolicyFile,
    guard: &Guard,
    host: &Host,
    st: &StateFile,
) -> Result<Applied, FwError> {
    if let Some(why) = dockward_firewall::ipt::unusable(inv.daemon.firewall_backend.as_deref()) {
        return Err(FwError::Policy(why));
    }
    // The bridge-port binding is an nftables table of family `bridge` on
    // both backends (iptables has no equivalent short of one ebtables rule
    // per port), and the docker-proxy guard an `inet` table with the input
    // side only; without the nft program nothing is bound, so no allow
    // pair is trusted (see `dockward_firewall::bind`), and there is no
    // guard.
    let had_table = nf.has_table(TABLE);
    let nft_here = !matches!(had_table, Err(NetfilterError::Spawn { .. }));
    let no_guard: Guard = Err(IPT_NO_GUARD.into());
    let guard = if nft_here { guard } else { &no_guard };
    let unbound;
    let host = if nft_here {
        host
    } else {
        unbound = Host {
            bridges: host.bridges.clone(),
            veths: Default::default(),
        };
        &unbound
    };
    let (resolved, rs) = compute(inv, file, guard, host);
    use dockward_firewall::ipt::{from_save, render, with_counters};
    // The saves also give the counters of dockward's rules, carried over so
    // that a re-render does not reset them.
    let (s4, s6) = ipt.saves().map_err(FwError::Kernel)?;
    let ((l4, c4), (l6, c6)) = (from_save(&s4), from_save(&s6));
    let scripts = render(&rs, &l4, &l6);
    let (v4, v6) = (
        with_counters(&scripts.v4, &c4),
        with_counters(&scripts.v6, &c6),
    );
    ipt.check(false, &v4).map_err(FwError::Kernel)?;
    ipt.check(true, &v6).map_err(FwError::Kernel)?;
    ipt.restore(false, &v4).map_err(FwError::Kernel)?;
    ipt.restore(true, &v6).map_err(FwError::Kernel)?;
    st.set_iptables(true);
    if nft_here {
        // One transaction: the guard's input-only inet table (replacing
        // the nftables backend's whole one, if any) and the bridge table.
        let script = if rs.proxy_cgroup.is_some() {
            nft::render_guard(&rs)
        } else {
            let mut script = String::new();
            if matches!(had_table, Ok(true)) {
                script.push_str(&nft::remove_inet_script());
            }
            script + &dockward_firewall::bind::render(&rs)
        };
        nf.apply(&script).map_err(FwError::Kernel)?;
    }
    Ok(Applied {
        resolved,
        rs,
        iptables: true,
    })
}

/// Takes dockward's iptables chains out; `quiet` ignores hosts without
/// iptables.
fn remove_iptables(ipt: &mut IptCli, quiet: bool) -> Option<NetfilterError> {
    let run = |ipt: &mut IptCli| -> Result<(), NetfilterError> {
        let (s4, s6) = ipt.saves()?;
        let (l4, l6) = (
            dockward_firewall::ipt::from_save(&s4).0,
            dockward_firewall::ipt::from_save(&s6).0,
        );
        let r = dockward_firewall::ipt::remove(&l4, &l6);
        // Nothing of dockward's there: no restore to run.
        for (v6, listing, script) in [(false, &l4, &r.v4), (true, &l6, &r.v6)] {
            if listing.contains("DOCKWARD-") {
                ipt.restore(v6, script)?;
            }
        }
        Ok(())
    };
    match run(ipt) {
        Ok(()) => None,
        Err(_) if quiet => None,
        Err(e) => Some(e),
    }
}

/// What an apply put in force; the flows it refuses are not cut yet.
#[derive(Debug)]
pub struct Applied {
    pub resolved: Resolved,
    pub rs: Ruleset,
    pub iptables: bool,
}

impl Applied {
    /// Cut every flow the rules now refuse ([`sweep`]), then say what is
    /// in force in one line.
    pub fn sweep_and_summary(&self, nf: &mut impl Netfilter) -> String {
        let cut = sweep(nf, &self.rs);
        let text = summary(&self.resolved, &self.rs, cut);
        if self.iptables {
            format!("{text} (iptables backend)")
        } else {
            text
        }
    }
}

/// Resolve, replace the table atomically: the one-shot apply, also used by
/// `watch` at start and after a foreign flush. The caller sweeps after
/// ([`Applied::sweep_and_summary`]).
pub fn apply_once(
    nf: &mut impl Netfilter,
    inv: &Inventory,
    file: &PolicyFile,
    guard: &Guard,
    host: &Host,
) -> Result<Applied, FwError> {
    let (resolved, rs) = compute(inv, file, guard, host);
    nf.apply(&nft::render(&rs)).map_err(FwError::Kernel)?;
    Ok(Applied {
        resolved,
        rs,
        iptables: false,
    })
}

pub fn summary(resolved: &Resolved, rs: &Ruleset, cut: usize) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for p in &resolved.ports {
        *counts.entry(p.expose.describe_kind()).or_insert(0usize) += 1;
    }
    let ports = counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "applied: {} published port(s){}; {} isolated bridge(s); {} connection(s) cut",
        resolved.ports.len(),
        if ports.is_empty() {
            String::new()
        } else {
            format!(" ({ports})")
        },
        rs.isolated.len(),
        cut
    ) + &bound_note(rs)
}

/// What the bridge-port binding covers, and what it could not.
fn bound_note(rs: &Ruleset) -> String {
    let mut s = String::new();
    if !rs.ports.is_empty() {
        s.push_str(&format!(
            "; {} trusted address(es) bound to their bridge ports",
            rs.ports.len()
        ));
    }
    if !rs.unbound.is_empty() {
        let list: Vec<String> = rs.unbound.iter().map(IpAddr::to_string).collect();
        s.push_str(&format!(
            "; not bound (port not found, so not trusted as an allow-from peer): {}",
            list.join(", ")
        ));
    }
    s
}

fn remove_cmd(nf: &mut impl Netfilter) -> Result<(), FwError> {
    // Both backends: whichever was used, nothing of dockward's stays. A
    // host without nft only needs the iptables part, and the other way.
    let nft_result = nf.apply(&nft::remove_script());
    let ipt_result = remove_iptables(&mut IptCli, nft_result.is_ok());
    match (nft_result, ipt_result) {
        (Err(e), Some(_)) => return Err(FwError::Kernel(e)),
        (Ok(()), Some(e)) => return Err(FwError::Kernel(e)),
        _ => {}
    }
    StateFile::system().clear();
    write_stdout("removed: dockward's table is gone; Docker's own rules apply again\n")
}

fn write_stdout(text: &str) -> Result<(), FwError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(FwError::Internal(format!("cannot write the output: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockward_model::{Attachment, Container, ContainerState, Network, Protocol, PublishedPort};
    use dockward_netfilter::{Call, Conn, Recording};

    fn inv(label: &str) -> Inventory {
        Inventory {
            networks: vec![Network {
                id: "n".into(),
                name: "bridge".into(),
                bridge: Some("docker0".into()),
                subnets: vec![dockward_model::Subnet {
                    cidr: "172.17.0.0/16".into(),
                    gateway: None,
                }],
                ..Default::default()
            }],
            containers: vec![Container {
                id: "web-id".into(),
                name: "web".into(),
                state: ContainerState::Running,
                labels: [("dockward.expose".to_string(), label.to_string())].into(),
                ports: vec![PublishedPort {
                    host_ip: Some("0.0.0.0".into()),
                    host_port: Some(8080),
                    host_port_end: None,
                    container_port: 80,
                    protocol: Protocol::Tcp,
                }],
                networks: vec![Attachment {
                    network: "bridge".into(),
                    ipv4: Some("172.17.0.2".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn apply_once_test(
        nf: &mut Recording,
        inv: &Inventory,
        file: &PolicyFile,
    ) -> Result<String, FwError> {
        apply_once(nf, inv, file, &Err(String::new()), &Host::default())
            .map(|a| a.sweep_and_summary(nf))
    }

    #[test]
    fn iptables_backend_refuses_docker_on_nftables_before_touching_anything() {
        let mut nf = Recording::default();
        let mut i = inv("public");
        i.daemon.firewall_backend = Some("nftables".into());
        let e = apply_iptables(
            &mut nf,
            &mut IptCli,
            &i,
            &PolicyFile::default(),
            &Err(String::new()),
            &Host::default(),
            &StateFile(None),
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), exit::USAGE);
        assert!(e.to_string().contains("use --backend nft"), "{e}");
        assert!(nf.calls.is_empty(), "{:?}", nf.calls);
    }

    #[test]
    fn bad_label_closes_only_its_container() {
        let mut nf = Recording::default();
        apply_once_test(&mut nf, &inv("everyone"), &PolicyFile::default()).unwrap();
        let script = nf
            .calls
            .iter()
            .find_map(|c| match c {
                Call::Apply(s) => Some(s.clone()),
                _ => None,
            })
            .expect("applied");
        assert!(script.contains("172.17.0.2 . tcp . 80 : drop"), "{script}");
    }

    #[test]
    fn narrowing_cuts_only_outside_connections_after_applying() {
        let mut nf = Recording::default();
        // The kernel has the public verdict in force.
        let (_, old) = compute(
            &inv("public"),
            &PolicyFile::default(),
            &Err(String::new()),
            &Host::default(),
        );
        nf.apply(&nft::render(&old)).unwrap();
        nf.table = Some(serde_json::json!({"nftables": [
            {"map": {"name": "pub4", "elem": [[{"elem": {"val": {"concat": ["172.17.0.2", "tcp", 80]}, "counter": {"packets": 3, "bytes": 180}}}, {"accept": null}]]}},
            {"rule": {"chain": "published", "expr": [{"goto": {"target": "local_only"}}]}}
        ]}));
        let conn = |src: &str| Conn {
            proto: "tcp".into(),
            src: src.into(),
            dst: "10.99.0.1".into(),
            sport: 40000,
            dport: 8080,
            reply_src: "172.17.0.2".into(),
            reply_sport: 80,
        };
        nf.conns = vec![conn("10.99.0.2"), conn("172.17.0.3")];
        let msg = apply_once_test(&mut nf, &inv("local"), &PolicyFile::default()).unwrap();
        assert!(msg.contains("1 connection(s) cut"), "{msg}");
        let applied_at = nf
            .calls
            .iter()
            .rposition(|c| matches!(c, Call::Apply(_)))
            .unwrap();
        let cut_at = nf
            .calls
            .iter()
            .position(|c| matches!(c, Call::Cut(_)))
            .unwrap();
        assert!(
            applied_at < cut_at,
            "cut before the new rules: {:?}",
            nf.calls
        );
        assert_eq!(nf.calls[cut_at], Call::Cut(conn("10.99.0.2")));
    }

    #[test]
    fn kernel_refusal_is_exit_6() {
        let mut nf = Recording {
            refuse: Some("Error: Could not process rule".into()),
            ..Default::default()
        };
        let e = apply_once_test(&mut nf, &inv("public"), &PolicyFile::default()).unwrap_err();
        assert_eq!(e.exit_code(), exit::FIREWALL);
        assert!(e.to_string().contains("previous rules stay"), "{e}");
    }
}
