//! Applying: (policy, inventory, host) → ruleset through the core, then
//! into the kernel by one backend, all or nothing.

use crate::detect::{Guard, IPT_NO_GUARD};
use crate::sweep::sweep;
use crate::Kernel;
use crate::{Backend, FwError};
use dockward_firewall::{
    build, nft, resolve, Host, KernelState, PolicyFile, Resolved, Ruleset, TABLE,
};
use dockward_model::Inventory;
use dockward_netfilter::{host_bridges, Netfilter, NetfilterError, PortIndex, Xtables};
use std::net::IpAddr;

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
pub fn installed_state(
    k: &mut Kernel<impl Netfilter, impl Xtables>,
) -> Result<Option<KernelState>, NetfilterError> {
    if k.state.iptables_used() {
        return ipt_state(&mut k.ipt);
    }
    Ok(k.nf
        .table_json("inet", TABLE)?
        .map(|j| KernelState::parse(&j)))
}

/// dockward's rules on the iptables backend, read back from
/// `iptables-save -c`; `None`: its jump from DOCKER-USER is not there.
pub fn ipt_state(ipt: &mut impl Xtables) -> Result<Option<KernelState>, NetfilterError> {
    let (v4, v6) = ipt.saves()?;
    Ok(dockward_firewall::ipt::kernel_state(&v4, &v6))
}

/// What a one-shot apply guarantees, said after it (docs/firewall.md).
pub const ONE_SHOT: &str = "one-shot: containers and networks created from now on get the fallback until the next apply, and an address the rules trust stays bound to its current container's port (a container that takes it over, or this one restarted, gets nothing for it); `dockward firewall watch` keeps the rules current as containers come and go";

/// The iptables backend: both scripts checked (`--test`) before either is
/// applied, so a refusal leaves the previous rules in place. Returns the
/// summary and the ruleset now in force.
pub fn apply_iptables(
    k: &mut Kernel<impl Netfilter, impl Xtables>,
    inv: &Inventory,
    file: &PolicyFile,
    guard: &Guard,
    host: &Host,
) -> Result<Applied, FwError> {
    let Kernel { nf, ipt, state } = k;
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
    state.set_iptables(true);
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
            script + &nft::bridge::render(&rs)
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
pub fn remove_iptables<X: Xtables>(ipt: &mut X, quiet: bool) -> Option<NetfilterError> {
    let run = |ipt: &mut X| -> Result<(), NetfilterError> {
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

/// The one-shot apply on `backend` (`Auto`: nftables, or iptables when the
/// nft program does not run here), with `host` as read by [`read_host`]. Only one
/// backend is in force at a time: after an nftables apply, the iptables
/// chains of an earlier one go. The caller sweeps after
/// ([`Applied::sweep_and_summary`]).
pub fn apply(
    k: &mut Kernel<impl Netfilter, impl Xtables>,
    backend: Backend,
    inv: &Inventory,
    file: &PolicyFile,
    guard: &Guard,
    host: &Host,
) -> Result<Applied, FwError> {
    if backend == Backend::Iptables {
        return apply_iptables(k, inv, file, guard, host);
    }
    match apply_once(&mut k.nf, inv, file, guard, host) {
        Ok(a) => {
            if k.state.iptables_used() {
                remove_iptables(&mut k.ipt, true);
                k.state.set_iptables(false);
            }
            Ok(a)
        }
        Err(FwError::Kernel(NetfilterError::Spawn { .. })) if backend == Backend::Auto => {
            apply_iptables(k, inv, file, guard, host)
        }
        Err(e) => Err(e),
    }
}

/// Take out everything of dockward's, on both backends: whichever was
/// used, nothing stays. A host without nft only needs the iptables part,
/// and the other way.
pub fn remove(k: &mut Kernel<impl Netfilter, impl Xtables>) -> Result<(), FwError> {
    let nft_result = k.nf.apply(&nft::remove_script());
    let ipt_result = remove_iptables(&mut k.ipt, nft_result.is_ok());
    match (nft_result, ipt_result) {
        (Err(e), Some(_)) => return Err(FwError::Kernel(e)),
        (Ok(()), Some(e)) => return Err(FwError::Kernel(e)),
        _ => {}
    }
    k.state.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockward_netfilter::{Call, Conn, IptCall, Recording, RecordingIpt};

    fn no_guard() -> Guard {
        Err(String::new())
    }

    /// `apply` on `backend` of the one-container host, public, no file.
    fn apply_on(
        k: &mut Kernel<Recording, RecordingIpt>,
        backend: Backend,
    ) -> Result<Applied, FwError> {
        let file = PolicyFile::default();
        apply(
            k,
            backend,
            &inv("public"),
            &file,
            &no_guard(),
            &Host::default(),
        )
    }

    /// What `iptables-save -c` prints once `script` is in, with
    /// `[3:180]` counted on the `counted` rule.
    fn as_save(script: &str, counted: &str) -> String {
        script
            .lines()
            .filter(|l| {
                l.starts_with(':') || l.starts_with("-A") || l.starts_with('*') || *l == "COMMIT"
            })
            .map(|l| {
                if l == counted {
                    format!("[3:180] {l}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect()
    }

    fn inv(label: &str) -> Inventory {
        crate::testkit::host(vec![crate::testkit::web("web", "172.17.0.2", label)])
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
        let (_dir, mut k) = crate::testkit::fake_kernel();
        let mut i = inv("public");
        i.daemon.firewall_backend = Some("nftables".into());
        let e = apply_iptables(
            &mut k,
            &i,
            &PolicyFile::default(),
            &Err(String::new()),
            &Host::default(),
        )
        .unwrap_err();
        assert!(matches!(e, FwError::Policy(_)), "{e:?}");
        assert!(e.to_string().contains("use --backend nft"), "{e}");
        assert!(k.nf.calls.is_empty(), "{:?}", k.nf.calls);
        assert!(k.ipt.calls.is_empty(), "{:?}", k.ipt.calls);
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
        assert!(matches!(e, FwError::Kernel(_)), "{e:?}");
        assert!(e.to_string().contains("previous rules stay"), "{e}");
    }

    #[test]
    fn iptables_checks_both_families_before_committing_either() {
        let (_dir, mut k) = crate::testkit::fake_kernel();
        k.ipt.refuse = Some("iptables-restore: line 3 failed".into());
        let e = apply_iptables(
            &mut k,
            &inv("public"),
            &PolicyFile::default(),
            &no_guard(),
            &Host::default(),
        )
        .unwrap_err();
        assert!(matches!(e, FwError::Kernel(_)), "{e:?}");
        assert!(k.ipt.restored().is_empty(), "{:?}", k.ipt.calls);
        assert!(!k.state.iptables_used(), "a refused apply is not recorded");
        assert!(
            k.nf.calls.is_empty(),
            "nothing in nft either: {:?}",
            k.nf.calls
        );
    }

    #[test]
    fn iptables_apply_commits_both_families_keeps_counters_and_records_the_backend() {
        let (_dir, mut k) = crate::testkit::fake_kernel();
        let file = PolicyFile::default();
        apply_iptables(&mut k, &inv("public"), &file, &no_guard(), &Host::default()).unwrap();
        let kinds: Vec<&str> = k
            .ipt
            .calls
            .iter()
            .map(|c| match c {
                IptCall::Save { .. } => "save",
                IptCall::Check { .. } => "check",
                IptCall::Restore { .. } => "restore",
            })
            .collect();
        assert_eq!(
            kinds,
            ["save", "save", "check", "check", "restore", "restore"]
        );
        let restored = k.ipt.restored();
        assert_eq!((restored[0].0, restored[1].0), (false, true), "IPv4 first");
        let v4 = restored[0].1.to_string();
        assert!(v4.contains("172.17.0.2"), "{v4}");
        assert!(k.state.iptables_used());
        // The bridge table goes in through nft, on this backend too.
        assert!(
            matches!(k.nf.calls.last(), Some(Call::Apply(_))),
            "{:?}",
            k.nf.calls
        );

        // The kernel now holds those rules, one of them with traffic
        // counted: a re-render carries the counter over.
        let rule = v4
            .lines()
            .find(|l| l.starts_with("-A DOCKWARD-PUB"))
            .expect("a rule of the published chain")
            .to_string();
        let save = as_save(&v4, &rule);
        k.ipt = RecordingIpt {
            v4: save,
            ..Default::default()
        };
        apply_iptables(&mut k, &inv("public"), &file, &no_guard(), &Host::default()).unwrap();
        let again = k.ipt.restored()[0].1;
        assert!(again.contains(&format!("[3:180] {rule}")), "{again}");
    }

    #[test]
    fn auto_falls_back_to_iptables_only_when_nft_is_missing() {
        let (_dir, mut k) = crate::testkit::fake_kernel();
        k.nf.missing = true;
        let a = apply_on(&mut k, Backend::Auto).unwrap();
        assert!(a.iptables);
        assert_eq!(k.ipt.restored().len(), 2);
        // nft refusing a script is not a missing nft: no fallback.
        let (_dir, mut k) = crate::testkit::fake_kernel();
        k.nf.refuse = Some("Error: syntax error".into());
        assert!(apply_on(&mut k, Backend::Auto).is_err());
        assert!(k.ipt.calls.is_empty(), "{:?}", k.ipt.calls);
        // Asked for nft, no fallback either.
        let (_dir, mut k) = crate::testkit::fake_kernel();
        k.nf.missing = true;
        assert!(apply_on(&mut k, Backend::Nft).is_err());
        assert!(k.ipt.calls.is_empty(), "{:?}", k.ipt.calls);
    }

    #[test]
    fn an_nft_apply_takes_out_an_earlier_iptables_apply() {
        let (_dir, mut k) = crate::testkit::fake_kernel();
        apply_on(&mut k, Backend::Iptables).unwrap();
        let v4 = k.ipt.restored()[0].1.to_string();
        let save = as_save(&v4, "");
        k.ipt = RecordingIpt {
            v4: save,
            ..Default::default()
        };
        let a = apply_on(&mut k, Backend::Nft).unwrap();
        assert!(!a.iptables);
        let removal = k.ipt.restored();
        assert_eq!(removal.len(), 1, "IPv4 only had chains: {:?}", k.ipt.calls);
        assert!(removal[0].1.contains("-X DOCKWARD-PUB"), "{}", removal[0].1);
        assert!(!k.state.iptables_used());
    }

    #[test]
    fn remove_cleans_both_backends_and_the_state() {
        let (_dir, mut k) = crate::testkit::fake_kernel();
        k.state.set_iptables(true);
        k.state.record_tamper("a foreign flush", 12.0);
        remove(&mut k).unwrap();
        assert!(
            matches!(k.nf.calls.as_slice(), [Call::Apply(s)] if s.contains("delete table")),
            "{:?}",
            k.nf.calls
        );
        assert!(
            k.ipt.calls.contains(&IptCall::Save { v6: true }),
            "{:?}",
            k.ipt.calls
        );
        assert!(!k.state.iptables_used());
        assert!(k.state.last_tamper().is_none());
    }
}
