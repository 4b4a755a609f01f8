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

/// The host's bridge interfaces and their indexes, from sysfs (a bridge
/// has a `bridge/` directory). Names that are not UTF-8 are left out: no
/// Docker network can have one.
pub fn host_bridges() -> Vec<dockward_model::HostBridge> {
    let Ok(dir) = std::fs::read_dir("/sys/class/net") else {
        return Vec::new();
    };
    let mut v: Vec<dockward_model::HostBridge> = dir
        .flatten()
        .filter(|e| e.path().join("bridge").is_dir())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let index = std::fs::read_to_string(e.path().join("ifindex"))
                .ok()?
                .trim()
                .parse()
                .ok()?;
            let mut ports: Vec<String> = ports_of(&name).into_iter().collect();
            ports.sort();
            Some(dockward_model::HostBridge { name, index, ports })
        })
        .collect();
    v.sort();
    v
}

/// The ports of `bridge` (`brif` lists them); none when unreadable.
fn ports_of(bridge: &str) -> std::collections::HashSet<String> {
    std::fs::read_dir(format!("/sys/class/net/{bridge}/brif"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The ports of Docker's bridges by name: (interface index, bridge). Kept
/// across `watch` events, so a container start reads the index of its new
/// veth only, not of every port again.
#[derive(Debug, Default, Clone)]
pub struct PortIndex {
    /// Port name → (interface index, bridge).
    by_name: std::collections::HashMap<String, (u32, String)>,
    /// Interface index → port name, the lookup a container's `iflink` needs.
    by_index: std::collections::HashMap<u32, String>,
}

impl PortIndex {
    /// Bring the ports of `bridges` up to date (`brif` lists them).
    pub fn refresh(&mut self, bridges: &[&str]) {
        for bridge in bridges {
            let names = ports_of(bridge);
            let by_index = &mut self.by_index;
            self.by_name.retain(|n, (idx, b)| {
                let keep = b != bridge || names.contains(n);
                if !keep {
                    by_index.remove(idx);
                }
                keep
            });
            for name in names {
                if self.by_name.contains_key(&name) {
                    continue;
                }
                let idx = std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex"))
                    .ok()
                    .and_then(|s| s.trim().parse::<u32>().ok());
                if let Some(idx) = idx {
                    self.by_index.insert(idx, name.clone());
                    self.by_name.insert(name, (idx, bridge.to_string()));
                }
            }
        }
    }

    /// The host ends of the veths of the container whose init process is
    /// `pid`: each of its interfaces (read through
    /// `/proc/<pid>/root/sys/class/net`, the sysfs its runtime mounted in
    /// its network namespace) names its peer's interface index (`iflink`),
    /// which is a port of a bridge. Anything unreadable yields nothing: an
    /// address without its port is not trusted.
    pub fn veths(&self, pid: u32) -> Vec<dockward_model::Veth> {
        let read = |p: &std::path::Path| std::fs::read_to_string(p).ok();
        let inside = std::path::PathBuf::from(format!("/proc/{pid}/root/sys/class/net"));
        let Ok(dir) = std::fs::read_dir(&inside) else {
            return Vec::new();
        };
        let mut out: Vec<dockward_model::Veth> = dir
            .flatten()
            .filter_map(|e| {
                let own: u32 = read(&e.path().join("ifindex"))?.trim().parse().ok()?;
                let peer: u32 = read(&e.path().join("iflink"))?.trim().parse().ok()?;
                if peer == own {
                    return None;
                }
                let mac = read(&e.path().join("address"))?.trim().to_string();
                let name = self.by_index.get(&peer)?;
                let (_, bridge) = self.by_name.get(name)?;
                Some(dockward_model::Veth {
                    mac,
                    ifname: name.clone(),
                    bridge: bridge.clone(),
                })
            })
            .collect();
        out.sort();
        out
    }
}

/// The veths of the running containers of `inv` that `wanted` picks (the
/// ones whose addresses the rules may trust: reading every container's
/// sysfs would be most of an apply's time on a large host), with `index`
/// refreshed for their bridges first.
pub fn veths(
    inv: &dockward_model::Inventory,
    index: &mut PortIndex,
    wanted: impl Fn(&dockward_model::Container) -> bool,
) -> std::collections::BTreeMap<String, Vec<dockward_model::Veth>> {
    let picked: Vec<(&dockward_model::Container, u32)> = inv
        .containers
        .iter()
        .filter(|c| wanted(c))
        .filter_map(|c| Some((c, c.pid?)))
        .collect();
    let mut bridges: Vec<&str> = picked
        .iter()
        .flat_map(|(c, _)| bridges_of(inv, c))
        .collect();
    bridges.sort_unstable();
    bridges.dedup();
    index.refresh(&bridges);
    // Each container costs a handful of sysfs reads in its own namespace:
    // on a busy host they are worth two threads.
    let index = &*index;
    let read = |part: &[(&dockward_model::Container, u32)]| {
        part.iter()
            .map(|(c, pid)| (c.id.clone(), index.veths(*pid)))
            .collect::<Vec<_>>()
    };
    if picked.len() < 32 {
        return read(&picked).into_iter().collect();
    }
    let (a, b) = picked.split_at(picked.len() / 2);
    std::thread::scope(|s| {
        let other = s.spawn(|| read(b));
        let mut out = read(a);
        // A panic in the other half is re-raised here, as if unthreaded.
        out.extend(
            other
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p)),
        );
        out.into_iter().collect()
    })
}

/// The bridges of the networks `c` is attached to.
pub fn bridges_of<'a>(
    inv: &'a dockward_model::Inventory,
    c: &dockward_model::Container,
) -> Vec<&'a str> {
    c.networks
        .iter()
        .filter_map(|a| inv.network_of(a)?.bridge.as_deref())
        .collect()
}
