//! `dockward firewall`: published ports closed to the outside unless allowed.
//!
//! The core is three pure steps, as in dfw (policy → rules → apply), each
//! tested on its own:
//! 1. [`policy::resolve`]: labels and the policy file → one verdict per
//!    published container port, and isolation settings per network; bad
//!    input is an error naming the container, label and value, and nothing
//!    is applied;
//! 2. [`ruleset::build`]: verdicts and the inventory → a [`ruleset::Ruleset`]
//!    (plain data: sets and maps keyed by container address and port);
//! 3. [`nft::render`]: ruleset → one `nft -f` script that replaces dockward's
//!    own table atomically, or [`nft::update`]: the element changes between
//!    two rulesets of the same shape (a container start is an element update,
//!    not a rebuild).
//!
//! Why dockward's own nftables table and not Docker's chains: Docker
//! (20.10–28, iptables or iptables-nft) DNATs published ports in
//! `nat PREROUTING` and accepts them in `filter FORWARD`, before any
//! ufw/firewalld rule sees them. In nftables every base chain on a hook sees
//! the packet; an `accept` ends only its own chain while a `drop` is final.
//! A table of our own on the forward hook can therefore only *take away*
//! access Docker gave, never open what Docker closed, and never needs to
//! edit, flush or reorder Docker's (or anyone's) chains.

pub mod bind;
pub mod cgroup;
pub mod host;
pub mod ipt;
pub mod kernel;
pub mod nft;
pub mod plan;
pub mod policy;
pub mod revoke;
pub mod ruleset;
pub mod swarm;
pub mod tamper;

pub use cgroup::ProxyCgroup;
pub use host::{with_host, Host, HostBridges};
pub use kernel::KernelState;
pub use policy::{
    parse_expose, parse_file, resolve, Expose, PolicyError, PolicyFile, Resolved, Stance,
};
pub use ruleset::{build, Ruleset, Verdict};

/// The name of dockward's nftables table (family `inet`).
pub const TABLE: &str = "dockward";
