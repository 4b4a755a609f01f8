//! The kernel side of the firewall, as dfw draws it: one trait, one module
//! per backend. `apply`, `plan`, `status` and `watch` speak to [`Rules`]
//! only; which backend is in force is decided once ([`Kind`]) and then
//! never branched on again.
//!
//! What a backend must do is what `watch` needs to keep its promises:
//! read back what is installed (to install a closed table at boot only
//! when none is there, and for `status`), replace everything of dockward's
//! all or nothing, change it by elements when only containers changed (or
//! say it cannot), and list it for the tamper check. Counters are the
//! backend's own business: nftables keeps them in the table, the iptables
//! backend carries them across each re-render.

pub mod ipt;
pub mod nft;

use crate::applied::Applied;
use crate::detect::Guard;
use crate::{FwError, Kernel};
use dockward_firewall::tamper;
use dockward_firewall::{Host, KernelState, PolicyFile, Ruleset, TABLE};
use dockward_model::Inventory;
use dockward_netfilter::{Netfilter, NetfilterError, Xtables};

/// Which backend is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Nft,
    Ipt,
}

/// What an element update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Updated {
    /// Nothing differed.
    Nothing,
    /// Only elements were added and deleted.
    Elements,
    /// The shape differed: the whole table was replaced.
    Replaced,
    /// This backend has no element updates: replace everything instead.
    Unsupported,
}

/// One way of keeping dockward's rules in the kernel.
pub trait Rules {
    /// What dockward has in force now, read back; `None`: nothing.
    fn installed(&mut self) -> Result<Option<KernelState>, NetfilterError>;
    /// Resolve and put everything of dockward's in, all or nothing: a
    /// refusal leaves the previous rules in force.
    fn replace(
        &mut self,
        inv: &Inventory,
        file: &PolicyFile,
        guard: &Guard,
        host: &Host,
    ) -> Result<Applied, FwError>;
    /// From `old` (in force) to `new` by element changes.
    fn update(&mut self, old: &Ruleset, new: &Ruleset) -> Result<Updated, FwError>;
    /// Everything of dockward's as the kernel lists it; `None`: its table
    /// is gone.
    fn listing(&mut self) -> Result<Option<Listing>, String>;
}

/// The backend `kind` of kernel `k`.
pub fn on<'k, N: Netfilter, X: Xtables>(
    k: &'k mut Kernel<N, X>,
    kind: Kind,
) -> Box<dyn Rules + 'k> {
    match kind {
        Kind::Nft => Box::new(nft::on(k)),
        Kind::Ipt => Box::new(ipt::Ipt(k)),
    }
}

/// The backend whose rules are in force on `k`, by the marker the
/// iptables backend leaves in the state directory.
pub fn in_force<N: Netfilter, X: Xtables>(k: &mut Kernel<N, X>) -> Box<dyn Rules + '_> {
    let kind = if k.state.iptables_used() {
        Kind::Ipt
    } else {
        Kind::Nft
    };
    on(k, kind)
}

/// dockward's bridge table, `Null` where no nft program runs (the
/// iptables backend then binds nothing), `None` when it is gone.
fn bridge_table(nf: &mut impl Netfilter) -> Result<Option<serde_json::Value>, String> {
    match nf.table_json("bridge", TABLE) {
        Ok(b) => Ok(b),
        Err(NetfilterError::Spawn { .. }) => Ok(Some(serde_json::Value::Null)),
        Err(e) => Err(e.to_string()),
    }
}

/// dockward's rules as the kernel lists them now, with its bridge table
/// (`None`: gone).
#[derive(Debug)]
pub enum Listing {
    Nft(serde_json::Value, Option<serde_json::Value>),
    /// iptables-save v4 and v6, the bridge table, the guard's inet table.
    Ipt(
        String,
        String,
        Option<serde_json::Value>,
        Option<serde_json::Value>,
    ),
}

impl Listing {
    /// A digest of the whole listing (see `dockward_firewall::tamper`).
    pub fn fingerprint(&self) -> String {
        let bridge = |b: &Option<serde_json::Value>| {
            b.as_ref()
                .map_or("no bridge table".to_string(), tamper::nft_fingerprint)
        };
        match self {
            Self::Nft(json, b) => tamper::nft_fingerprint(json) + &bridge(b),
            Self::Ipt(v4, v6, b, g) => {
                tamper::ipt_fingerprint(v4, v6)
                    + &bridge(b)
                    + &g.as_ref().map_or(String::new(), tamper::nft_fingerprint)
            }
        }
    }

    /// What the verdicts in force differ in from `want`.
    pub fn drift(&self, want: &Ruleset) -> Option<String> {
        match self {
            Self::Nft(_, None) | Self::Ipt(_, _, None, _) => {
                Some("dockward's bridge table is gone".into())
            }
            Self::Ipt(_, _, _, None) if want.proxy_cgroup.is_some() => {
                Some("dockward's docker-proxy guard table is gone".into())
            }
            Self::Nft(json, _) => KernelState::parse(json).drift(want),
            Self::Ipt(v4, v6, _, _) => dockward_firewall::ipt::drift(want, v4, v6),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::compute;
    use crate::testkit::{fake_kernel, host, web};
    use dockward_netfilter::{Call, IptCall};

    fn ruleset(containers: Vec<dockward_model::Container>) -> Ruleset {
        let guard: Guard = Err(String::new());
        compute(
            &host(containers),
            &PolicyFile::default(),
            &guard,
            &Host::default(),
        )
        .1
    }

    fn applied(calls: &[Call]) -> Vec<&str> {
        calls
            .iter()
            .filter_map(|c| match c {
                Call::Apply(s) => Some(s.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn nftables_changes_elements_when_only_containers_changed() {
        let (_d, mut k) = fake_kernel();
        let one = ruleset(vec![web("a", "172.17.0.2", "public")]);
        let two = ruleset(vec![
            web("a", "172.17.0.2", "public"),
            web("b", "172.17.0.3", "local"),
        ]);
        let mut b = on(&mut k, Kind::Nft);
        assert_eq!(b.update(&one, &one).unwrap(), Updated::Nothing);
        assert_eq!(b.update(&one, &two).unwrap(), Updated::Elements);
        drop(b);
        let scripts = applied(&k.nf.calls);
        assert_eq!(scripts.len(), 1, "{scripts:?}");
        assert!(scripts[0].contains("add element"), "{}", scripts[0]);
        assert!(!scripts[0].contains("delete table"), "{}", scripts[0]);
    }

    #[test]
    fn nftables_replaces_the_table_when_its_shape_changed() {
        let (_d, mut k) = fake_kernel();
        let plain = ruleset(vec![web("a", "172.17.0.2", "public")]);
        // An allow list is a set of its own: the shape changes.
        let listed = ruleset(vec![web("a", "172.17.0.2", "10.0.0.0/8")]);
        assert_eq!(
            on(&mut k, Kind::Nft).update(&plain, &listed).unwrap(),
            Updated::Replaced
        );
        assert!(applied(&k.nf.calls)[0].contains("delete table inet dockward"));
    }

    #[test]
    fn iptables_has_no_element_updates_and_touches_nothing_saying_so() {
        let (_d, mut k) = fake_kernel();
        let one = ruleset(vec![web("a", "172.17.0.2", "public")]);
        let two = ruleset(vec![web("a", "172.17.0.2", "local")]);
        assert_eq!(
            on(&mut k, Kind::Ipt).update(&one, &two).unwrap(),
            Updated::Unsupported
        );
        assert!(k.nf.calls.is_empty() && k.ipt.calls.is_empty());
    }

    #[test]
    fn each_backend_reads_back_its_own_rules() {
        let (_d, mut k) = fake_kernel();
        // Nothing installed anywhere.
        assert!(on(&mut k, Kind::Nft).installed().unwrap().is_none());
        assert!(on(&mut k, Kind::Nft).listing().unwrap().is_none());
        assert!(on(&mut k, Kind::Ipt).installed().unwrap().is_none());
        // The inet table is there: nftables lists it with the bridge one.
        k.nf.table = Some(serde_json::json!({"nftables": []}));
        assert!(on(&mut k, Kind::Nft).installed().unwrap().is_some());
        assert!(matches!(
            on(&mut k, Kind::Nft).listing().unwrap(),
            Some(Listing::Nft(..))
        ));
        // The iptables backend reads the saves, whatever nft holds.
        k.ipt.calls.clear();
        assert!(matches!(
            on(&mut k, Kind::Ipt).listing().unwrap(),
            Some(Listing::Ipt(..))
        ));
        assert!(k.ipt.calls.contains(&IptCall::Save { v6: true }));
    }

    #[test]
    fn the_backend_in_force_is_the_one_the_state_file_names() {
        let (_d, mut k) = fake_kernel();
        k.nf.table = Some(serde_json::json!({"nftables": []}));
        assert!(in_force(&mut k).installed().unwrap().is_some());
        k.state.set_iptables(true);
        k.ipt.calls.clear();
        // iptables in force, and none of its chains there.
        assert!(in_force(&mut k).installed().unwrap().is_none());
        assert!(!k.ipt.calls.is_empty());
    }
}
