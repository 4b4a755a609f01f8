//! The kernel edge of `dockward firewall`.
//!
//! Everything the firewall does to the kernel goes through [`Netfilter`]
//! (one atomic nftables transaction, reading back dockward's own table,
//! listing/deleting conntrack entries) or, on hosts without nftables,
//! [`Xtables`] (`iptables-save`/`-restore`). The core never touches the
//! kernel, so it is tested with [`Recording`] and [`RecordingIpt`], and
//! this crate stays a thin shell over the programs.
//!
//! Why the `nft` and `conntrack` programs and not netlink from Rust: `nft -f`
//! is the documented interface whose one file is one kernel transaction
//! (all or nothing: a bad script changes nothing, so the previous good
//! ruleset stays), it is on every host that has nftables, and no maintained
//! Rust crate speaks nf_tables batches without `unsafe` FFI to libnftables.
//! A process spawn costs ~2 ms, well inside the 50 ms budget of an apply.

pub mod conntrack;
mod ipt;
mod nft;
mod recording;

pub use conntrack::{parse_entries, Conn};
pub use ipt::{IptCli, Xtables};
pub use nft::NftCli;
pub use recording::{Call, IptCall, Recording, RecordingIpt};

#[derive(Debug, thiserror::Error)]
pub enum NetfilterError {
    #[error("cannot run `{program}`: {cause}. Install it (apt-get install nftables conntrack) and run dockward as root")]
    Spawn { program: String, cause: String },
    #[error(
        "`{program}` refused the change: {stderr}. Nothing was applied; the previous rules stay"
    )]
    Refused { program: String, stderr: String },
    #[error("`{program}` printed output dockward cannot read: {cause}")]
    Output { program: String, cause: String },
}

/// What dockward needs from the kernel, and nothing more.
pub trait Netfilter {
    /// Run one nftables script as a single transaction.
    fn apply(&mut self, script: &str) -> Result<(), NetfilterError>;
    /// Is `inet <table>` in the kernel? (`nft list tables`: cheap, unlike
    /// listing a table with thousands of elements.)
    fn has_table(&mut self, table: &str) -> Result<bool, NetfilterError>;
    /// `nft -j list table <family> <table>`; `None` when the table is absent.
    fn table_json(
        &mut self,
        family: &str,
        table: &str,
    ) -> Result<Option<serde_json::Value>, NetfilterError>;
    /// Connections whose reply comes from `addr`:`port` (the container side
    /// of a DNATed published port).
    fn connections_to(
        &mut self,
        proto: &str,
        addr: &str,
        port: u16,
    ) -> Result<Vec<Conn>, NetfilterError>;
    /// Connections delivered to a local process on this host `port` over
    /// IPv6 (docker-proxy's `[::]` listeners).
    fn connections_to_local6(
        &mut self,
        proto: &str,
        port: u16,
    ) -> Result<Vec<Conn>, NetfilterError>;
    /// Every tracked flow, IPv4 and IPv6 (the sweep after an apply or a
    /// re-assertion: each is checked against the rules now in force).
    fn connections(&mut self) -> Result<Vec<Conn>, NetfilterError>;
    /// This host's own addresses: flows it starts itself never cross the
    /// forward hook, so no rule of dockward's refuses them.
    fn host_addresses(&mut self) -> Result<Vec<std::net::IpAddr>, NetfilterError>;
    /// Delete one connection by its original tuple.
    fn cut(&mut self, conn: &Conn) -> Result<(), NetfilterError>;
}
