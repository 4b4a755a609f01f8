//! The iptables backend: dockward's `DOCKWARD-*` chains, jumped to from
//! Docker's `DOCKER-USER`, written by `iptables-restore --noflush` (both
//! families checked before either is committed). iptables has no sets to
//! change element by element, so every change re-renders the chains, with
//! the counters carried over. Where the `nft` program runs, the bridge
//! table and the docker-proxy guard are nftables tables here too.

use super::{Listing, Rules, Updated};
use crate::applied::Applied;
use crate::compute::compute;
use crate::detect::{Guard, IPT_NO_GUARD};
use crate::{FwError, Kernel};
use dockward_firewall::{nft, Host, KernelState, PolicyFile, Ruleset, TABLE};
use dockward_model::Inventory;
use dockward_netfilter::{Netfilter, NetfilterError, Xtables};

/// The iptables backend over a whole kernel (its `nft` for the bridge
/// table and the guard, its state file for the marker that says iptables
/// is in use).
pub struct Ipt<'k, N, X>(pub &'k mut Kernel<N, X>);

impl<N: Netfilter, X: Xtables> Rules for Ipt<'_, N, X> {
    fn installed(&mut self) -> Result<Option<KernelState>, NetfilterError> {
        ipt_state(&mut self.0.ipt)
    }

    fn replace(
        &mut self,
        inv: &Inventory,
        file: &PolicyFile,
        guard: &Guard,
        host: &Host,
    ) -> Result<Applied, FwError> {
        apply_iptables(self.0, inv, file, guard, host)
    }

    fn update(&mut self, _old: &Ruleset, _new: &Ruleset) -> Result<Updated, FwError> {
        Ok(Updated::Unsupported)
    }

    fn listing(&mut self) -> Result<Option<Listing>, String> {
        let k = &mut *self.0;
        let bridge = super::bridge_table(&mut k.nf)?;
        let (v4, v6) = k.ipt.saves().map_err(|e| e.to_string())?;
        // The guard's input-only inet table, when there is one.
        let guard = match k.nf.table_json("inet", TABLE) {
            Ok(g) => g,
            Err(NetfilterError::Spawn { .. }) => None,
            Err(e) => return Err(e.to_string()),
        };
        Ok(Some(Listing::Ipt(v4, v6, bridge, guard)))
    }
}

/// dockward's rules on the iptables backend, read back from
/// `iptables-save -c`; `None`: its jump from DOCKER-USER is not there.
pub fn ipt_state(ipt: &mut impl Xtables) -> Result<Option<KernelState>, NetfilterError> {
    let (v4, v6) = ipt.saves()?;
    Ok(dockward_firewall::ipt::kernel_state(&v4, &v6))
}

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
    let Kernel { nf, ipt, state, .. } = k;
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
pub fn remove<X: Xtables>(ipt: &mut X, quiet: bool) -> Option<NetfilterError> {
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
