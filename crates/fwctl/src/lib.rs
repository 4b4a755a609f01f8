//! `dockward firewall`'s control: between the pure core
//! (`dockward-firewall`: policy → ruleset → script) and the edges (dockerd
//! through `dockward-docker`, the kernel through `dockward-netfilter`, the
//! host through `dockward-hostprobe`). The binary only turns arguments
//! into calls here and results into text and exit codes.
//!
//! Ordering that keeps the firewall's promises (docs/firewall.md):
//! - the policy is resolved completely before anything is applied, so a bad
//!   label or file changes nothing (fail closed, previous rules stay);
//! - a change is one `nft -f` transaction: all or nothing;
//! - connections are cut only *after* the narrower rules are in force, so a
//!   cut flow cannot re-establish through the old verdict.

pub mod alert;
mod applied;
pub mod apply;
pub mod backend;
mod compute;
pub mod detect;
pub mod input;
pub mod reload;
pub mod state;
pub mod sweep;
pub mod watch;

pub use apply::{apply, compute, installed_state, read_host, remove, Applied, ONE_SHOT};
pub use detect::{detect, detect_guard, guard_note, Guard, Listening};
pub use input::{gather, load_policy, policy_path, snapshot, DEFAULT_POLICY};
pub use reload::reload_watch;
pub use state::{unix_now, StateFile, WatchMark, STATE_DIR};

use dockward_docker::EngineError;
use dockward_netfilter::{IptCli, NetfilterError, NftCli};

/// Everything the firewall reads or changes on the host, each behind its
/// trait: nftables and conntrack ([`dockward_netfilter::Netfilter`]),
/// iptables ([`dockward_netfilter::Xtables`]), sysfs and `/proc`
/// ([`dockward_hostprobe::System`]: the bridges and each container's
/// veth), and the state directory. [`Kernel::system`] is the real host;
/// unit tests put the recording fakes, a fake host and a temporary
/// directory in.
pub struct Kernel<N, X> {
    pub nf: N,
    pub ipt: X,
    pub host: std::sync::Arc<dyn dockward_hostprobe::System + Send + Sync>,
    pub state: StateFile,
}

impl<N: std::fmt::Debug, X: std::fmt::Debug> std::fmt::Debug for Kernel<N, X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("nf", &self.nf)
            .field("ipt", &self.ipt)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Kernel<NftCli, IptCli> {
    /// The real programs, with dockward's state in `state_dir`
    /// (`/run/dockward` unless `DOCKWARD_STATE_DIR` says otherwise: the
    /// binary resolves it).
    pub fn system(state_dir: std::path::PathBuf) -> Self {
        Self {
            nf: NftCli,
            ipt: IptCli,
            host: std::sync::Arc::new(dockward_hostprobe::Real),
            state: StateFile(Some(state_dir)),
        }
    }
}

/// Which rules to write: nftables, iptables, or nftables when the `nft`
/// program is there and iptables otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    #[default]
    Auto,
    Nft,
    Iptables,
}

#[derive(Debug)]
pub enum FwError {
    /// A bad policy file, label or inventory file: the operator's to fix.
    Policy(String),
    Engine(EngineError),
    Kernel(NetfilterError),
    Internal(String),
}

impl FwError {
    /// What went wrong, without what it means for the rules: for commands
    /// that change none (`plan`).
    pub fn reason(&self) -> String {
        match self {
            Self::Policy(m) | Self::Internal(m) => m.clone(),
            Self::Engine(e) => e.to_string(),
            Self::Kernel(e) => e.to_string(),
        }
    }
}

impl std::fmt::Display for FwError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Policy(_) | Self::Internal(_) => {
                write!(f, "{}; nothing was applied", self.reason())
            }
            Self::Engine(_) | Self::Kernel(_) => f.write_str(&self.reason()),
        }
    }
}

#[cfg(test)]
pub(crate) mod testkit;
