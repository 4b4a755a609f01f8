//! The nftables backend: one `inet` table (verdicts, isolation, the
//! docker-proxy guard) and one `bridge` table (addresses bound to their
//! bridge ports), each replaced in one `nft -f` transaction, and changed
//! element by element when only the containers changed.

use super::{Listing, Rules, Updated};
use crate::applied::Applied;
use crate::compute::compute;
use crate::detect::Guard;
use crate::{FwError, Kernel};
use dockward_firewall::{nft, Host, KernelState, PolicyFile, Ruleset, TABLE};
use dockward_model::Inventory;
use dockward_netfilter::{Netfilter, NetfilterError, Xtables};

/// The nftables backend over a kernel's `nft` and conntrack.
pub struct Nft<'k, N>(pub &'k mut N);

impl<N: Netfilter> Rules for Nft<'_, N> {
    fn installed(&mut self) -> Result<Option<KernelState>, NetfilterError> {
        Ok(self
            .0
            .table_json("inet", TABLE)?
            .map(|j| KernelState::parse(&j)))
    }

    fn replace(
        &mut self,
        inv: &Inventory,
        file: &PolicyFile,
        guard: &Guard,
        host: &Host,
    ) -> Result<Applied, FwError> {
        apply_once(self.0, inv, file, guard, host)
    }

    fn update(&mut self, old: &Ruleset, new: &Ruleset) -> Result<Updated, FwError> {
        let (script, done) = match nft::update(old, new) {
            Some(s) if s.is_empty() => return Ok(Updated::Nothing),
            Some(s) => (s, Updated::Elements),
            // The shape changed (an allow list came or went): the table.
            None => (nft::render(new), Updated::Replaced),
        };
        self.0.apply(&script).map_err(FwError::Kernel)?;
        Ok(done)
    }

    fn listing(&mut self) -> Result<Option<Listing>, String> {
        let bridge = super::bridge_table(self.0)?;
        Ok(self
            .0
            .table_json("inet", TABLE)
            .map_err(|e| e.to_string())?
            .map(|inet| Listing::Nft(inet, bridge)))
    }
}

/// Both of dockward's tables out, in one transaction.
pub fn remove(nf: &mut impl Netfilter) -> Result<(), NetfilterError> {
    nf.apply(&nft::remove_script())
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

/// `k`'s nftables side as a backend.
pub fn on<N: Netfilter, X: Xtables>(k: &mut Kernel<N, X>) -> Nft<'_, N> {
    Nft(&mut k.nf)
}
