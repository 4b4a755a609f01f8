//! `dockward firewall watch`: keep the rules right as containers come and go.
//!
//! A container start costs one inspect and one element update (`nft -f`
//! with `add element`/`delete element`), not a snapshot and a rebuild: the
//! start event names the container, and the ruleset's shape (chains, sets)
//! only changes when an allow list appears or goes. Until its entry is in,
//! a new container gets the table's fallback (local only, or drop), so it
//! is never more open than its policy.
//!
//! Re-assertion: a snapshot after every (re)connection to dockerd, and a
//! check of the kernel's rules whenever the kernel announces a change that
//! can concern them (`nft monitor`, see `dockward_firewall::tamper`) and
//! at every `--check-interval` (the only trigger on iptables-legacy). The
//! check compares the meaning (`KernelState::drift`) and a fingerprint of
//! the whole of dockward's rules; on any difference the rules are replaced,
//! every flow they refuse is cut, and the tampering is recorded for
//! `status`. dockward's table is independent of Docker's chains, so an
//! `iptables-restore` of those does not touch it.

use crate::backend::{self, Kind, Listing, Updated};
use crate::compute::{compute, read_host, read_veths};
use crate::detect::{detect, Guard, Listening};
use crate::input::load_policy;
use crate::state::WatchMark;
use crate::sweep::revoke;
use crate::Kernel;
use crate::{Backend, FwError};
use dockward_docker::{
    follow, DockerEvent, Endpoint, Engine, FollowOptions, InventorySource, Update,
};
use dockward_firewall::tamper::{self, Watched};
use dockward_firewall::Host;
use dockward_firewall::{PolicyFile, Ruleset, TABLE};
use dockward_hostprobe::ports::{bridges_of, host_bridges, PortIndex};
use dockward_hostprobe::System;
use dockward_model::Inventory;
use dockward_netfilter::{Netfilter, NetfilterError, Xtables};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

fn log(msg: impl std::fmt::Display) {
    eprintln!("dockward firewall watch: {msg}");
}

struct State {
    /// The backend in force. On iptables a change re-renders dockward's
    /// chains in one `iptables-restore --noflush` (no sets to update
    /// element by element), and drift is read back from `iptables-save -c`.
    kernel: Kind,
    inv: Option<Inventory>,
    file: PolicyFile,
    /// dockerd's cgroup, found again after every reconnection: a restarted
    /// dockerd may live in a recreated cgroup (see `dockward_firewall::cgroup`).
    guard: Guard,
    applied: Option<Ruleset>,
    /// The host's bridges, read again at every full replace and network
    /// event (not at every container event: a sysfs walk over every veth),
    /// and each container's veths, read again for one container when it
    /// changes.
    host: Host,
    /// Docker's bridge ports by name, so a container start reads only its
    /// new veth.
    index: PortIndex,
    /// dockerd's pid and the ports it listened on when the guard was last
    /// made: a new listener (a swarm joined) or a closed one (a port a
    /// container may now publish) makes the guard again.
    dockerd: Listening,
    /// The fingerprint of dockward's rules as listed right after its own
    /// last change (see `dockward_firewall::tamper`), and when that listing
    /// began: a kernel notice received before then is already in it.
    baseline: Option<(String, Instant)>,
    /// What alerts compare with; `None` when nobody is notified.
    tracker: Option<crate::alert::Tracker>,
    /// Alerts made where the sinks are out of reach, sent next.
    pending: Vec<dockward_notify::Alert>,
    /// Why the managers did not answer last time (a worker reading the
    /// services from them), to say it once.
    managers_err: Option<String>,
    /// The inventory or the policy changed since the alerts last looked:
    /// only then is there anything new to compare (ticks and kernel
    /// notices change neither).
    changed: bool,
}

/// What `watch` runs with, resolved from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    pub endpoint: Endpoint,
    /// The policy file, read again on `SIGHUP`; `None`: labels only.
    pub policy: Option<PathBuf>,
    /// The policy is the default path: while it does not exist, labels
    /// alone decide, and `firewall allow` may create it and reload.
    pub policy_optional: bool,
    pub backend: Backend,
    /// How often the kernel's rules are checked without a notice from it.
    pub check_interval: Duration,
    /// Where alerts go (`--notify-url`, `--notify-command`); none: no
    /// alerts.
    pub notify: Vec<dockward_notify::Sink>,
}

pub async fn run(
    opts: &Options,
    k: &mut Kernel<impl Netfilter, impl Xtables>,
) -> Result<(), FwError> {
    let path = opts.policy.clone();
    // At start there is no previous good policy to keep: a bad one is fatal.
    let load = || match path.as_deref() {
        Some(p) if opts.policy_optional && !p.exists() => Ok(PolicyFile::default()),
        p => load_policy(p),
    };
    let file = load()?;
    let mut hup = signal(SignalKind::hangup()).map_err(|e| FwError::Internal(e.to_string()))?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| FwError::Internal(e.to_string()))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| FwError::Internal(e.to_string()))?;
    let (tx, mut rx) = mpsc::channel(1024);
    let follow_opts = FollowOptions {
        scope: crate::input::scope(),
        ..FollowOptions::default()
    };
    tokio::spawn(follow(opts.endpoint.clone(), tx, follow_opts));
    let mut engine: Option<Engine> = None;
    let kernel = match opts.backend {
        Backend::Nft => Kind::Nft,
        Backend::Iptables => Kind::Ipt,
        // As `apply`: nftables when the nft program runs here.
        Backend::Auto => match k.nf.has_table(TABLE) {
            Err(NetfilterError::Spawn { .. }) => Kind::Ipt,
            _ => Kind::Nft,
        },
    };
    // Both backends take the guard from nftables (`apply_iptables` drops
    // it where the nft program cannot run).
    let (guard, dockerd) = detect(&opts.endpoint.url);
    let mut st = State {
        kernel,
        inv: None,
        file,
        guard,
        applied: None,
        host: Host {
            bridges: host_bridges(&*k.host),
            veths: Default::default(),
        },
        index: PortIndex::default(),
        dockerd,
        baseline: None,
        tracker: (!opts.notify.is_empty()).then(|| crate::alert::Tracker::new(hostname())),
        pending: Vec::new(),
        changed: false,
        managers_err: None,
    };
    let (mon_tx, mut mon_rx) = tokio::sync::watch::channel(Instant::now());
    mon_rx.mark_unchanged();
    tokio::spawn(monitor(
        match kernel {
            Kind::Nft => Watched::Nft,
            Kind::Ipt => Watched::Iptables,
        },
        mon_tx,
    ));
    if let Err(why) = &st.guard {
        log(format!("no IPv6 guard for docker-proxy ({why}): a new container's IPv6 port opens before its entry is in"));
    }
    // Boot order: dockerd restores containers with restart policies before
    // its API answers. Without a table yet, install an empty one now: its
    // fallback closes every published port to the outside until the first
    // snapshot gives each its verdict (fail closed).
    install_closed(k, &st)?;
    // systemd (Type=notify) starts docker.service only now: the closed
    // table is in before dockerd restores a single container.
    sd_notify_ready();
    // Announced for `allow`/`deny`/`reset`, which reload through SIGHUP
    // (see `crate::reload`).
    let mut mark = WatchMark {
        pid: std::process::id(),
        policy: path.clone(),
        reloads: 0,
        last_error: None,
    };
    k.state.announce_watch(&mark);
    // A worker reading the services and nodes from its managers follows
    // their events too, once it knows them (see `ask_managers`).
    let (cluster_tx, mut cluster_rx) = mpsc::channel::<()>(16);
    let mut following_managers = false;
    let mut tick = tokio::time::interval(opts.check_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    log(format!(
        "following {} (policy: {})",
        opts.endpoint.url,
        path.as_ref()
            .map_or("labels only".to_string(), |p| p.display().to_string())
    ));
    loop {
        tokio::select! {
            u = rx.recv() => {
                let Some(u) = u else { return Err(FwError::Internal("the event follower stopped".into())) };
                match u {
                    Update::Snapshot(inv) => {
                        engine = Engine::connect(opts.endpoint.clone())
                            .await
                            .ok()
                            .map(|e| e.with_scope(crate::input::scope()));
                        let mut inv = *inv;
                        carry_cluster(&mut inv, st.inv.as_ref());
                        ask_managers(&mut inv, &mut st).await;
                        if let (false, Some(m), Some(sw)) = (
                            following_managers,
                            crate::input::managers(&st.file),
                            inv.swarm.as_ref().filter(|s| !s.manager),
                        ) {
                            following_managers = true;
                            tokio::spawn(m.follow_cluster(sw.managers.clone(), cluster_tx.clone()));
                        }
                        st.inv = Some(inv);
                        st.changed = true;
                        (st.guard, st.dockerd) = detect(&opts.endpoint.url);
                        // After a (re)connection, replace the whole table:
                        // whatever happened while we were away is repaired.
                        full(k, &mut st, "snapshot");
                    }
                    Update::Event(e) => {
                        let started = Instant::now();
                        if e.kind == "network" {
                            st.host.bridges = host_bridges(&*k.host);
                        }
                        if let (Some(engine), Some(inv)) = (engine.as_ref(), st.inv.as_mut()) {
                            match on_event(engine, inv, &e).await {
                                Ok(true) => {
                                    st.changed = true;
                                    refresh_veths(&*k.host, &mut st, &e);
                                    update(k, &mut st, &format!("{} {} {}", e.kind, e.action, e.attributes.get("name").map_or(e.id.as_str(), String::as_str)), started);
                                }
                                Ok(false) => {}
                                Err(err) => log(format!("cannot refresh after {} {}: {err}; the last rules stay", e.kind, e.action)),
                            }
                        }
                    }
                    Update::Disconnected(reason) => {
                        engine = None;
                        log(format!("lost dockerd ({reason}); the last rules stay in force until it is back"));
                    }
                }
            }
            Ok(()) = mon_rx.changed() => {
                let seen = *mon_rx.borrow_and_update();
                // Our own change's notices arrive after it; a check for
                // them would only list the table a second time.
                if st.baseline.as_ref().is_none_or(|(_, at)| seen >= *at) {
                    check(k, &mut st, seen);
                }
            }
            Some(()) = cluster_rx.recv() => {
                let started = Instant::now();
                if let Some(mut inv) = st.inv.clone() {
                    ask_managers(&mut inv, &mut st).await;
                    if Some(&inv) != st.inv.as_ref() {
                        st.inv = Some(inv);
                        st.changed = true;
                        update(k, &mut st, "a service or node changed on the managers", started);
                    }
                }
            }
            _ = tick.tick() => {
                if let Some((pid, before)) = &st.dockerd {
                    let now = dockward_hostprobe::listeners::listening(&dockward_hostprobe::Real, *pid);
                    if now != *before {
                        (st.guard, st.dockerd) = detect(&opts.endpoint.url);
                        full(k, &mut st, "dockerd's own listeners changed");
                    }
                }
                // A worker hears of no node joining: it re-reads its
                // overlays' peers while its cluster ports are closed to
                // all but the nodes (`[swarm] cluster-ports = "nodes"`).
                // Nor of a service: it asks its managers again.
                if let (Some(engine), true) = (engine.as_ref(), polls(&st)) {
                    match engine.snapshot().await {
                        Ok(mut inv) => {
                            carry_cluster(&mut inv, st.inv.as_ref());
                            ask_managers(&mut inv, &mut st).await;
                            if Some(&inv) != st.inv.as_ref() {
                                st.inv = Some(inv);
                                st.changed = true;
                                update(k, &mut st, "swarm peers or services", Instant::now());
                            }
                        }
                        Err(e) => log(format!("cannot re-read the swarm's peers: {e}; the last rules stay")),
                    }
                }
                check(k, &mut st, Instant::now());
            }
            _ = hup.recv() => {
                mark.reloads += 1;
                match load() {
                    Ok(f) => {
                        st.file = f;
                        st.changed = true;
                        log("policy reloaded");
                        update(k, &mut st, "reload", Instant::now());
                        mark.last_error = None;
                    }
                    Err(e) => {
                        log(format!("error: {e}; keeping the last good policy and rules"));
                        mark.last_error = Some(e.to_string());
                    }
                }
                k.state.announce_watch(&mark);
            }
            _ = term.recv() => { k.state.withdraw_watch(); log("stopping; the rules stay in force (`dockward firewall remove` takes them out)"); return Ok(()); }
            _ = int.recv() => { k.state.withdraw_watch(); log("stopping; the rules stay in force (`dockward firewall remove` takes them out)"); return Ok(()); }
        }
        alert(&mut st, &opts.notify);
    }
}

/// Compares the inventory now with the last look and sends what changed,
/// each alert to every sink, off the watch's own path: a slow webhook
/// must not hold up the rules.
fn alert(st: &mut State, sinks: &[dockward_notify::Sink]) {
    let Some(t) = st.tracker.as_mut() else { return };
    let mut alerts = std::mem::take(&mut st.pending);
    if let (Some(inv), true) = (&st.inv, std::mem::take(&mut st.changed)) {
        alerts.extend(t.observe(inv, &st.file, crate::unix_now()));
    }
    for a in alerts {
        for sink in sinks {
            let (sink, a) = (sink.clone(), a.clone());
            tokio::spawn(async move {
                match sink.send(&a).await {
                    Ok(()) => log(format!(
                        "alert {} sent to {}",
                        a.kind.as_str(),
                        sink.shown()
                    )),
                    Err(e) => log(format!(
                        "alert {} not delivered to {}: {e}",
                        a.kind.as_str(),
                        sink.shown()
                    )),
                }
            });
        }
    }
}

/// `READY=1` to systemd's notify socket when there is one (a datagram to
/// the path, or the abstract name after `@`, in `NOTIFY_SOCKET`; the
/// protocol of sd_notify(3)). Best effort: without systemd it does nothing.
fn sd_notify_ready() {
    if let Some(to) = std::env::var_os("NOTIFY_SOCKET") {
        sd_notify(&to, "READY=1");
    }
}

fn sd_notify(path: &std::ffi::OsStr, msg: &str) {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    let bytes = path.as_encoded_bytes();
    let addr = match bytes.strip_prefix(b"@") {
        Some(name) => SocketAddr::from_abstract_name(name),
        None => SocketAddr::from_pathname(std::path::Path::new(path)),
    };
    let sent = UnixDatagram::unbound().and_then(|s| {
        let a = addr?;
        s.send_to_addr(msg.as_bytes(), &a)
    });
    if let Err(e) = sent {
        log(format!("cannot tell systemd it is ready ({e})"));
    }
}

/// This host's name, for the alerts.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "this host".into())
}

/// A Swarm worker whose cluster ports are closed to all but the nodes
/// learns of new nodes only by reading its overlays' peers again; one
/// that reads the services from its managers hears of no service change
/// either, and asks again.
fn polls(st: &State) -> bool {
    let worker = st
        .inv
        .as_ref()
        .and_then(|i| i.swarm.as_ref())
        .is_some_and(|s| !s.manager);
    worker
        && (st.applied.as_ref().is_some_and(|r| r.cluster.is_some())
            || st.file.swarm.managers_proxy.is_some())
}

/// A worker's services and nodes are its managers' answer, which a
/// snapshot of its own dockerd does not carry: the last one stays until
/// the next.
fn carry_cluster(new: &mut Inventory, old: Option<&Inventory>) {
    let old = old.and_then(|i| i.swarm.as_ref());
    if let (Some(n), Some(o)) = (new.swarm.as_mut(), old) {
        if !n.manager && n.services.is_empty() && n.nodes.is_empty() {
            n.services.clone_from(&o.services);
            n.nodes.clone_from(&o.nodes);
        }
    }
}

/// Ask the managers for the services (on a worker whose policy names their
/// proxy). When none answers, the last answer stays, and so do the rules
/// made from it: a node cut off from its managers keeps enforcing what it
/// last knew. Said once per new reason, and once when they answer again.
async fn ask_managers(inv: &mut Inventory, st: &mut State) {
    match crate::input::worker_cluster(inv, &st.file).await {
        Ok(_) => {
            if st.managers_err.take().is_some() {
                log("the managers answer again");
            }
        }
        Err(e) => {
            let e = e.to_string();
            if st.managers_err.as_ref() != Some(&e) {
                log(format!(
                    "cannot read the services from the managers: {e}; the last rules stay"
                ));
                st.managers_err = Some(e);
            }
        }
    }
}

/// Boot order: without a table of dockward's yet, install one for an
/// empty inventory, whose fallback closes every published port (see `run`).
fn install_closed(k: &mut Kernel<impl Netfilter, impl Xtables>, st: &State) -> Result<(), FwError> {
    let mut rules = backend::on(k, st.kernel);
    if rules.installed().map_err(FwError::Kernel)?.is_none() {
        rules.replace(&Inventory::default(), &st.file, &st.guard, &st.host)?;
        log(match st.kernel {
            Kind::Nft => "installed the closed table; waiting for dockerd",
            Kind::Ipt => "installed the closed chains (iptables); waiting for dockerd",
        });
    }
    Ok(())
}

/// Follow the kernel's change notifications (`nft monitor`) and wake the
/// loop for each line that can concern dockward's rules, with the time it
/// was received; a burst while a check runs is one wake-up (the channel
/// holds the latest). When `nft monitor` cannot run or stops, the periodic
/// check is left, and it is tried again.
async fn monitor(watched: Watched, tx: tokio::sync::watch::Sender<Instant>) {
    use tokio::io::AsyncBufReadExt;
    let mut said = false;
    loop {
        let child = tokio::process::Command::new("nft")
            .arg("monitor")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn();
        match child {
            Ok(mut child) => {
                if let Some(out) = child.stdout.take() {
                    let mut lines = tokio::io::BufReader::new(out).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if tamper::relevant(&line, watched) {
                            tx.send_replace(Instant::now());
                        }
                    }
                }
                let _ = child.kill().await;
            }
            Err(e) if !said => {
                said = true;
                log(format!("cannot follow the kernel's rule changes (nft monitor: {e}); checking every interval only"));
            }
            Err(_) => {}
        }
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Why the kernel's rules are not the ones dockward last put there, if
/// they are not.
fn tampered(
    k: &mut Kernel<impl Netfilter, impl Xtables>,
    st: &State,
) -> Result<Option<String>, String> {
    let Some(want) = &st.applied else {
        return Ok(None);
    };
    let Some(now) = backend::on(k, st.kernel).listing()? else {
        return Ok(Some("dockward's table is gone".into()));
    };
    if let Some(why) = now.drift(want) {
        return Ok(Some(why));
    }
    match &st.baseline {
        Some((b, _)) if *b != now.fingerprint() => Ok(Some(
            "a chain, set, element or jump of dockward's differs from what it applied".into(),
        )),
        _ => Ok(None),
    }
}

/// The fingerprint of dockward's rules right after its own change, and
/// when the listing began.
fn baseline(
    k: &mut Kernel<impl Netfilter, impl Xtables>,
    kernel: Kind,
) -> Option<(String, Instant)> {
    let at = Instant::now();
    let now: Listing = backend::on(k, kernel).listing().ok().flatten()?;
    Some((now.fingerprint(), at))
}

/// Compare the kernel's rules with dockward's; on a difference, replace
/// them (which cuts every flow they refuse) and record it for `status`.
fn check(k: &mut Kernel<impl Netfilter, impl Xtables>, st: &mut State, seen: Instant) {
    match tampered(k, st) {
        Ok(None) => {}
        Ok(Some(why)) => {
            log(format!("tampering: {why}; re-asserting"));
            if let Some(back) = full(k, st, "re-assert") {
                let ms = back.duration_since(seen).as_secs_f64() * 1000.0;
                log(format!("re-asserted {ms:.1} ms after the change was seen"));
                k.state.record_tamper(&why, ms);
                if let Some(t) = &st.tracker {
                    st.pending.push(t.tampered(&why, ms, crate::unix_now()));
                }
            }
        }
        Err(e) => log(format!("cannot read the kernel's rules: {e}")),
    }
}

/// What one event asks of the inventory: the decision half of
/// [`on_event`], without I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Need {
    Nothing,
    /// The container is gone.
    Remove(String),
    /// Inspect this container again.
    Inspect(String),
    /// A new snapshot: labels and bridges of networks come only with a
    /// list (rare: a network was created, removed or changed).
    Snapshot,
}

fn need(e: &DockerEvent) -> Need {
    match (e.kind.as_str(), e.action.as_str()) {
        ("container", "destroy") => Need::Remove(e.id.clone()),
        (
            "container",
            "create" | "start" | "restart" | "die" | "stop" | "kill" | "rename" | "update"
            | "pause" | "unpause",
        ) => Need::Inspect(e.id.clone()),
        ("network", "connect" | "disconnect") => match e.attributes.get("container") {
            Some(id) => Need::Inspect(id.clone()),
            None => Need::Nothing,
        },
        ("network", "create" | "destroy" | "update") => Need::Snapshot,
        // A Swarm node joined, left or changed: the cluster ports' peers.
        ("node", "create" | "update" | "remove") => Need::Snapshot,
        // A Swarm service created, changed or removed: its ports' verdicts.
        ("service", "create" | "update" | "remove") => Need::Snapshot,
        _ => Need::Nothing,
    }
}

/// Bring the inventory up to date after one event; `true` when the ruleset
/// may have changed.
async fn on_event(
    engine: &Engine,
    inv: &mut Inventory,
    e: &DockerEvent,
) -> Result<bool, dockward_docker::EngineError> {
    match need(e) {
        Need::Nothing => return Ok(false),
        Need::Remove(id) => inv.containers.retain(|c| c.id != id),
        Need::Inspect(id) => refresh(engine, inv, &id).await?,
        Need::Snapshot => {
            let mut fresh = engine.snapshot().await?;
            carry_cluster(&mut fresh, Some(inv));
            *inv = fresh;
        }
    }
    Ok(true)
}

async fn refresh(
    engine: &Engine,
    inv: &mut Inventory,
    id: &str,
) -> Result<(), dockward_docker::EngineError> {
    let fresh = engine.container(id).await?;
    inv.containers.retain(|c| c.id != id);
    if let Some(c) = fresh {
        inv.containers.push(c);
    }
    Ok(())
}

/// Read again the veths of the container an event is about (all of them
/// after a network was created or removed: a snapshot replaced the
/// inventory).
fn refresh_veths(sys: &(dyn System + Sync), st: &mut State, e: &DockerEvent) {
    let Some(inv) = st.inv.as_ref() else { return };
    let id = match e.kind.as_str() {
        "container" => e.id.as_str(),
        _ => match e.attributes.get("container") {
            Some(id) => id.as_str(),
            None => {
                st.host.veths = read_veths(sys, inv, &mut st.index);
                return;
            }
        },
    };
    match inv.containers.iter().find(|c| c.id == id) {
        Some(c) if c.pid.is_some() && dockward_firewall::bind::may_be_trusted(inv, c) => {
            st.index.refresh(sys, &bridges_of(inv, c));
            let v = c.pid.map(|p| st.index.veths(sys, p)).unwrap_or_default();
            st.host.veths.insert(c.id.clone(), v);
        }
        _ => {
            st.host.veths.remove(id);
        }
    }
}

/// Replace the table or chains (start, reconnection, re-assertion, and
/// every change on the iptables backend), then cut every flow the rules
/// refuse. Returns when the rules were back in force.
fn full(
    k: &mut Kernel<impl Netfilter, impl Xtables>,
    st: &mut State,
    why: &str,
) -> Option<Instant> {
    let inv = st.inv.as_ref()?;
    st.host = read_host(&*k.host, inv, &mut st.index);
    let result = backend::on(k, st.kernel).replace(inv, &st.file, &st.guard, &st.host);
    match result {
        Ok(applied) => {
            let back = Instant::now();
            st.baseline = baseline(k, st.kernel);
            let summary = applied.sweep_and_summary(&mut k.nf);
            st.applied = Some(applied.rs);
            log(format!("{why}: {summary}"));
            Some(back)
        }
        Err(e) => {
            log(format!("{why}: error: {e}; the last good rules stay"));
            None
        }
    }
}

/// Apply the element changes since the last ruleset (or a full replace when
/// the shape changed).
fn update(
    k: &mut Kernel<impl Netfilter, impl Xtables>,
    st: &mut State,
    why: &str,
    started: Instant,
) {
    let Some(inv) = &st.inv else { return };
    let (_, rs) = compute(inv, &st.file, &st.guard, &st.host);
    let Some(old) = st.applied.take() else {
        full(k, st, why);
        return;
    };
    let result = backend::on(k, st.kernel).update(&old, &rs);
    match result {
        Ok(Updated::Nothing) => st.applied = Some(old),
        Ok(Updated::Unsupported) => {
            // Every change re-renders the chains (the last good rules
            // stay when that fails).
            st.applied = Some(old);
            let _ = full(k, st, why);
            log(format!(
                "{why}: chains replaced in {:.1} ms",
                started.elapsed().as_secs_f64() * 1000.0
            ));
        }
        Ok(done) => {
            let cut = revoke(&mut k.nf, &old, &rs);
            log(format!(
                "{why}: {} in {:.1} ms{}",
                if done == Updated::Elements {
                    "elements updated"
                } else {
                    "table replaced"
                },
                started.elapsed().as_secs_f64() * 1000.0,
                if cut > 0 {
                    format!("; {cut} connection(s) cut")
                } else {
                    String::new()
                }
            ));
            // Only the port maps changed (a container came or went): the
            // fingerprint leaves their elements to drift, so it still holds.
            if !tamper::same_fingerprint(&old, &rs) {
                st.baseline = baseline(k, st.kernel);
            }
            st.applied = Some(rs);
        }
        Err(e) => {
            // The table may be gone or changed under us: replace it whole.
            log(format!(
                "{why}: element update refused ({e}); replacing the table"
            ));
            st.applied = Some(old);
            full(k, st, why);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{host as inv, web};
    use dockward_netfilter::{Call, Recording, RecordingIpt};

    #[test]
    fn systemd_hears_ready_on_its_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let sock = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        sd_notify(path.as_os_str(), "READY=1");
        let mut buf = [0u8; 32];
        let n = sock.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
        // An abstract name (`@…`), as systemd gives it.
        let name = format!("dwt-notify-{}", std::process::id());
        use std::os::linux::net::SocketAddrExt;
        let a = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let sock = std::os::unix::net::UnixDatagram::bind_addr(&a).unwrap();
        sd_notify(std::ffi::OsStr::new(&format!("@{name}")), "READY=1");
        let n = sock.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
    }

    fn state(kernel: Kind, inv: Option<Inventory>) -> State {
        State {
            kernel,
            inv,
            file: PolicyFile::default(),
            guard: Err("none in unit tests".into()),
            applied: None,
            host: Host::default(),
            index: PortIndex::default(),
            dockerd: None,
            baseline: None,
            tracker: None,
            pending: Vec::new(),
            changed: false,
            managers_err: None,
        }
    }

    fn applied(k: &Kernel<Recording, RecordingIpt>) -> Vec<&str> {
        k.nf.calls
            .iter()
            .filter_map(|c| match c {
                Call::Apply(s) => Some(s.as_str()),
                _ => None,
            })
            .collect()
    }

    fn event(kind: &str, action: &str, id: &str, attrs: &[(&str, &str)]) -> DockerEvent {
        DockerEvent {
            kind: kind.into(),
            action: action.into(),
            id: id.into(),
            attributes: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            time_nano: 0,
        }
    }

    #[test]
    fn each_event_kind_needs_what_it_changes() {
        for a in [
            "create", "start", "restart", "die", "stop", "kill", "rename", "update", "pause",
            "unpause",
        ] {
            assert_eq!(
                need(&event("container", a, "c1", &[])),
                Need::Inspect("c1".into()),
                "{a}"
            );
        }
        assert_eq!(
            need(&event("container", "destroy", "c1", &[])),
            Need::Remove("c1".into())
        );
        assert_eq!(
            need(&event("container", "exec_start", "c1", &[])),
            Need::Nothing
        );
        assert_eq!(
            need(&event("network", "connect", "n1", &[("container", "c2")])),
            Need::Inspect("c2".into())
        );
        assert_eq!(
            need(&event("network", "disconnect", "n1", &[])),
            Need::Nothing
        );
        for a in ["create", "destroy", "update"] {
            assert_eq!(need(&event("network", a, "n1", &[])), Need::Snapshot, "{a}");
        }
        for a in ["create", "update", "remove"] {
            assert_eq!(need(&event("node", a, "x", &[])), Need::Snapshot, "{a}");
            assert_eq!(need(&event("service", a, "x", &[])), Need::Snapshot, "{a}");
        }
        assert_eq!(need(&event("image", "pull", "x", &[])), Need::Nothing);
    }

    #[test]
    fn a_worker_keeps_what_its_managers_last_said() {
        use dockward_model::{Service, Swarm, SwarmNode};
        let told = Inventory {
            swarm: Some(Swarm {
                services: vec![Service {
                    name: "web".into(),
                    ..Service::default()
                }],
                nodes: vec![SwarmNode::default()],
                ..Swarm::default()
            }),
            ..Inventory::default()
        };
        // A fresh snapshot of the worker's own dockerd carries neither.
        let mut fresh = Inventory {
            swarm: Some(Swarm::default()),
            ..Inventory::default()
        };
        carry_cluster(&mut fresh, Some(&told));
        assert_eq!(fresh, told);
        // A manager's own lists are never replaced.
        let mut manager = Inventory {
            swarm: Some(Swarm {
                manager: true,
                ..Swarm::default()
            }),
            ..Inventory::default()
        };
        carry_cluster(&mut manager, Some(&told));
        assert!(manager.swarm.unwrap().services.is_empty());
    }

    #[test]
    fn at_start_a_closed_table_goes_in_only_when_none_is_there() {
        let (_d, mut k) = crate::testkit::fake_kernel();
        install_closed(&mut k, &state(Kind::Nft, None)).unwrap();
        let first = applied(&k);
        assert_eq!(first.len(), 1);
        assert!(first[0].contains("table inet dockward"), "{}", first[0]);
        let (_d, mut k) = crate::testkit::fake_kernel();
        k.nf.table = Some(serde_json::json!({"nftables": []}));
        install_closed(&mut k, &state(Kind::Nft, None)).unwrap();
        assert!(
            applied(&k).is_empty(),
            "an existing table stays until the snapshot"
        );
        let (_d, mut k) = crate::testkit::fake_kernel();
        install_closed(&mut k, &state(Kind::Ipt, None)).unwrap();
        assert_eq!(k.ipt.restored().len(), 2, "both families closed");
    }

    #[test]
    fn snapshot_then_container_events_are_element_updates() {
        let (_d, mut k) = crate::testkit::fake_kernel();
        let mut st = state(Kind::Nft, Some(inv(vec![web("a", "172.17.0.2", "public")])));
        full(&mut k, &mut st, "snapshot").expect("applied");
        let script = applied(&k)[0].to_string();
        assert!(
            script.contains("table inet dockward")
                && script.contains("172.17.0.2 . tcp . 80 : accept"),
            "{script}"
        );
        assert!(
            k.nf.calls.contains(&Call::Connections),
            "swept after the apply"
        );

        // A container starts: one element in, nothing rebuilt.
        st.inv
            .as_mut()
            .unwrap()
            .containers
            .push(web("b", "172.17.0.3", "public"));
        update(&mut k, &mut st, "container start b", Instant::now());
        let last = applied(&k).last().unwrap().to_string();
        assert!(last.contains("add element inet dockward pub4"), "{last}");
        assert!(last.contains("172.17.0.3 . tcp . 80 : accept"), "{last}");
        assert!(
            !last.contains("table inet dockward {"),
            "not a rebuild: {last}"
        );

        // It goes: its element goes.
        st.inv.as_mut().unwrap().containers.retain(|c| c.id != "b");
        update(&mut k, &mut st, "container destroy b", Instant::now());
        let last = applied(&k).last().unwrap().to_string();
        assert!(last.contains("delete element inet dockward pub4"), "{last}");
        assert!(last.contains("172.17.0.3 . tcp . 80"), "{last}");

        // Nothing changed: nothing applied.
        let n = applied(&k).len();
        update(&mut k, &mut st, "container rename a", Instant::now());
        assert_eq!(applied(&k).len(), n);
    }

    #[test]
    fn a_reload_that_narrows_updates_the_element() {
        let (_d, mut k) = crate::testkit::fake_kernel();
        let mut st = state(Kind::Nft, Some(inv(vec![web("a", "172.17.0.2", "public")])));
        full(&mut k, &mut st, "snapshot").unwrap();
        st.inv.as_mut().unwrap().containers[0].labels.clear();
        st.file = dockward_firewall::parse_file("p.toml", "default = \"deny\"\n").unwrap();
        update(&mut k, &mut st, "reload", Instant::now());
        let last = applied(&k).last().unwrap().to_string();
        assert!(last.contains("172.17.0.2 . tcp . 80 : drop"), "{last}");
    }

    #[test]
    fn a_foreign_flush_is_repaired_and_recorded() {
        let (_d, mut k) = crate::testkit::fake_kernel();
        k.nf.table = Some(serde_json::json!({"nftables": []}));
        let mut st = state(Kind::Nft, Some(inv(vec![web("a", "172.17.0.2", "public")])));
        full(&mut k, &mut st, "snapshot").unwrap();
        let before = applied(&k).len();
        // Someone runs `nft flush ruleset`.
        k.nf.table = None;
        check(&mut k, &mut st, Instant::now());
        let after = applied(&k);
        assert_eq!(after.len(), before + 1, "re-asserted once");
        assert!(after
            .last()
            .unwrap()
            .contains("172.17.0.2 . tcp . 80 : accept"));
        let t = k.state.last_tamper().expect("recorded for status");
        assert_eq!(t.what, "dockward's table is gone");
    }

    #[test]
    fn a_dockerd_restart_replaces_the_table_with_the_new_snapshot() {
        let (_d, mut k) = crate::testkit::fake_kernel();
        let mut st = state(Kind::Nft, Some(inv(vec![web("a", "172.17.0.2", "public")])));
        full(&mut k, &mut st, "snapshot").unwrap();
        // After the restart the container came back on another address.
        st.inv = Some(inv(vec![web("a", "172.17.0.9", "public")]));
        full(&mut k, &mut st, "snapshot").unwrap();
        let last = applied(&k).last().unwrap().to_string();
        assert!(last.contains("172.17.0.9 . tcp . 80 : accept"), "{last}");
        assert!(
            !last.contains("172.17.0.2 "),
            "the old address is gone: {last}"
        );
    }

    #[test]
    fn on_iptables_every_change_replaces_the_chains() {
        let (_d, mut k) = crate::testkit::fake_kernel();
        let mut st = state(Kind::Ipt, Some(inv(vec![web("a", "172.17.0.2", "public")])));
        full(&mut k, &mut st, "snapshot").unwrap();
        assert_eq!(k.ipt.restored().len(), 2);
        st.inv
            .as_mut()
            .unwrap()
            .containers
            .push(web("b", "172.17.0.3", "local"));
        update(&mut k, &mut st, "container start b", Instant::now());
        let restored = k.ipt.restored();
        assert_eq!(restored.len(), 4, "{:?}", k.ipt.calls);
        assert!(restored[2].1.contains("172.17.0.3"), "{}", restored[2].1);
    }
}
