//! Applying: (policy, inventory, host) → ruleset through the core, then
//! into the kernel by one backend ([`crate::backend`]), all or nothing.

pub use crate::applied::{summary, Applied};
pub use crate::compute::{compute, read_host, read_veths};

use crate::backend::{self, ipt, Kind};
use crate::detect::Guard;
use crate::Kernel;
use crate::{Backend, FwError};
use dockward_firewall::{Host, KernelState, PolicyFile};
use dockward_model::Inventory;
use dockward_netfilter::{Netfilter, NetfilterError, Xtables};

/// What dockward has in force, from whichever backend installed it (the
/// iptables marker in the state directory says which): for `status`, `audit`
/// and `watch`. `None`: nothing of dockward's is in the kernel.
pub fn installed_state(
    k: &mut Kernel<impl Netfilter, impl Xtables>,
) -> Result<Option<KernelState>, NetfilterError> {
    backend::in_force(k).installed()
}

/// What a one-shot apply guarantees, said after it (docs/firewall.md).
pub const ONE_SHOT: &str = "one-shot: containers and networks created from now on get the fallback until the next apply, and an address the rules trust stays bound to its current container's port (a container that takes it over, or this one restarted, gets nothing for it); `dockward firewall watch` keeps the rules current as containers come and go";

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
        return backend::on(k, Kind::Ipt).replace(inv, file, guard, host);
    }
    let on_nft = backend::on(k, Kind::Nft).replace(inv, file, guard, host);
    match on_nft {
        Ok(a) => {
            if k.state.iptables_used() {
                ipt::remove(&mut k.ipt, true);
                k.state.set_iptables(false);
            }
            Ok(a)
        }
        Err(FwError::Kernel(NetfilterError::Spawn { .. })) if backend == Backend::Auto => {
            backend::on(k, Kind::Ipt).replace(inv, file, guard, host)
        }
        Err(e) => Err(e),
    }
}

/// Take out everything of dockward's, on both backends: whichever was
/// used, nothing stays. A host without nft only needs the iptables part,
/// and the other way.
pub fn remove(k: &mut Kernel<impl Netfilter, impl Xtables>) -> Result<(), FwError> {
    let nft_result = backend::nft::remove(&mut k.nf);
    let ipt_result = ipt::remove(&mut k.ipt, nft_result.is_ok());
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
    use crate::backend::ipt::apply_iptables;
    use crate::backend::nft::apply_once;
    use dockward_firewall::nft;
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
