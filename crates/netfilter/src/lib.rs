//! The kernel edge of `dockward firewall`.
//!
//! Everything the firewall does to the kernel goes through [`Netfilter`]:
//! one atomic nftables transaction, reading back dockward's own table, and
//! listing/deleting conntrack entries. The core never touches the kernel, so
//! it is tested with [`Recording`], and this crate stays a thin shell over the
//! `nft` and `conntrack` programs.
//!
//! Why the `nft` and `conntrack` programs and not netlink from Rust: `nft -f`
//! is the documented interface whose one file is one kernel transaction
//! (all or nothing: a bad script changes nothing, so the previous good
//! ruleset stays), it is on every host that has nftables, and no maintained
//! Rust crate speaks nf_tables batches without `unsafe` FFI to libnftables.
//! A process spawn costs ~2 ms, well inside the 50 ms budget of an apply.

#![forbid(unsafe_code)]

pub mod conntrack;
mod nft;
mod recording;

pub use conntrack::{parse_entries, Conn};
pub use nft::{IptCli, NftCli};
pub use recording::{Call, Recording};

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

/// One packet counter of an nftables map element or rule.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Counter {
    pub packets: u64,
    pub bytes: u64,
}

/// What dockward needs from the kernel, and nothing more.
pub trait Netfilter {
    /// Run one nftables script as a single transaction.
    fn apply(&mut self, script: &str) -> Result<(), NetfilterError>;
    /// Is `inet <table>` in the kernel? (`nft list tables`: cheap, unlike
    /// listing a table with thousands of elements.)
    fn has_table(&mut self, table: &str) -> Result<bool, NetfilterError>;
    /// `nft -j list table inet <table>`; `None` when the table is absent.
    fn table_json(&mut self, table: &str) -> Result<Option<serde_json::Value>, NetfilterError>;
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

/// The host's bridge interfaces and their indexes, from sysfs (a bridge
/// has a `bridge/` directory). Names that are not UTF-8 are left out: no
/// Docker network can have one.
pub fn host_bridges() -> Vec<(String, u32)> {
    let Ok(dir) = std::fs::read_dir("/sys/class/net") else {
        return Vec::new();
    };
    let mut v: Vec<(String, u32)> = dir
        .flatten()
        .filter(|e| e.path().join("bridge").is_dir())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let idx = std::fs::read_to_string(e.path().join("ifindex"))
                .ok()?
                .trim()
                .parse()
                .ok()?;
            Some((name, idx))
        })
        .collect();
    v.sort();
    v
}
