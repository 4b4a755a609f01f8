//! Docker's bridges and the bridge port of each container, from sysfs.
//!
//! The firewall trusts a container's address only on the veth Docker gave
//! it (see `dockward_firewall::bind`), so it must know, for a running
//! container, which port of which bridge is its: the container's side of
//! the veth (read through `/proc/<pid>/root/sys/class/net`, the sysfs its
//! runtime mounted in its network namespace) names its peer's interface
//! index (`iflink`), and the host's `brif` directories say which bridge
//! that index is a port of. Every read goes through [`System`], so the
//! rules are unit-tested on a fake host; anything unreadable yields
//! nothing, and an address without its port is not trusted.

use crate::System;
use dockward_model::{Container, HostBridge, Inventory, Veth};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

const NET: &str = "/sys/class/net";

/// The host's bridges (every interface whose sysfs directory has a
/// `bridge/` directory).
pub fn host_bridges(sys: &dyn System) -> Vec<HostBridge> {
    let Ok(names) = sys.read_dir(Path::new(NET)) else {
        return Vec::new();
    };
    let mut v: Vec<HostBridge> = names
        .into_iter()
        .filter(|n| sys.read_dir(&Path::new(NET).join(n).join("bridge")).is_ok())
        .filter_map(|name| {
            let index = number(sys, &Path::new(NET).join(&name).join("ifindex"))?;
            let mut ports: Vec<String> = ports_of(sys, &name).into_iter().collect();
            ports.sort();
            Some(HostBridge { name, index, ports })
        })
        .collect();
    v.sort();
    v
}

fn number(sys: &dyn System, p: &Path) -> Option<u32> {
    sys.read_text(p).ok()?.trim().parse().ok()
}

/// The ports of `bridge` (`brif` lists them); none when unreadable.
fn ports_of(sys: &dyn System, bridge: &str) -> HashSet<String> {
    sys.read_dir(&Path::new(NET).join(bridge).join("brif"))
        .map(|d| d.into_iter().collect())
        .unwrap_or_default()
}

/// The ports of Docker's bridges by name: (interface index, bridge). Kept
/// across `watch` events, so a container start reads the index of its new
/// veth only, not of every port again.
#[derive(Debug, Default, Clone)]
pub struct PortIndex {
    /// Port name → (interface index, bridge).
    by_name: HashMap<String, (u32, String)>,
    /// Interface index → port name, the lookup a container's `iflink` needs.
    by_index: HashMap<u32, String>,
}

impl PortIndex {
    /// Bring the ports of `bridges` up to date (`brif` lists them).
    pub fn refresh(&mut self, sys: &dyn System, bridges: &[&str]) {
        for bridge in bridges {
            let names = ports_of(sys, bridge);
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
                if let Some(idx) = number(sys, &Path::new(NET).join(&name).join("ifindex")) {
                    self.by_index.insert(idx, name.clone());
                    self.by_name.insert(name, (idx, bridge.to_string()));
                }
            }
        }
    }

    /// The host ends of the veths of the container whose init process is
    /// `pid`: each of its interfaces names its peer's index (`iflink`),
    /// which must be a port of a known bridge.
    pub fn veths(&self, sys: &dyn System, pid: u32) -> Vec<Veth> {
        let inside = PathBuf::from(format!("/proc/{pid}/root{NET}"));
        let Ok(names) = sys.read_dir(&inside) else {
            return Vec::new();
        };
        let mut out: Vec<Veth> = names
            .into_iter()
            .filter_map(|n| {
                let dir = inside.join(n);
                let own = number(sys, &dir.join("ifindex"))?;
                let peer = number(sys, &dir.join("iflink"))?;
                if peer == own {
                    return None;
                }
                let mac = sys.read_text(&dir.join("address")).ok()?.trim().to_string();
                let name = self.by_index.get(&peer)?;
                let (_, bridge) = self.by_name.get(name)?;
                Some(Veth {
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
    sys: &(dyn System + Sync),
    inv: &Inventory,
    index: &mut PortIndex,
    wanted: impl Fn(&Container) -> bool,
) -> BTreeMap<String, Vec<Veth>> {
    let picked: Vec<(&Container, u32)> = inv
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
    index.refresh(sys, &bridges);
    // Each container costs a handful of sysfs reads in its own namespace:
    // on a busy host they are worth two threads.
    let index = &*index;
    let read = |part: &[(&Container, u32)]| {
        part.iter()
            .map(|(c, pid)| (c.id.clone(), index.veths(sys, *pid)))
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
pub fn bridges_of<'a>(inv: &'a Inventory, c: &Container) -> Vec<&'a str> {
    c.networks
        .iter()
        .filter_map(|a| inv.network_of(a)?.bridge.as_deref())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::Fake;

    /// docker0 (index 3) with ports vethA (7) and vethB (8); br-x (4) with
    /// vethC (9); container 100's eth0 peers with vethA, container 200's
    /// with an index that is no bridge port.
    fn host() -> Fake {
        Fake::default()
            .file("/sys/class/net/docker0/ifindex", "3\n")
            .file("/sys/class/net/docker0/bridge/stp_state", "0\n")
            .file("/sys/class/net/docker0/brif/vethA/port_no", "1")
            .file("/sys/class/net/docker0/brif/vethB/port_no", "2")
            .file("/sys/class/net/br-x/ifindex", "4\n")
            .file("/sys/class/net/br-x/bridge/stp_state", "0\n")
            .file("/sys/class/net/br-x/brif/vethC/port_no", "1")
            .file("/sys/class/net/vethA/ifindex", "7\n")
            .file("/sys/class/net/vethB/ifindex", "8\n")
            .file("/sys/class/net/vethC/ifindex", "9\n")
            .file("/sys/class/net/eth9/ifindex", "2\n")
            .file("/proc/100/root/sys/class/net/lo/ifindex", "1\n")
            .file("/proc/100/root/sys/class/net/lo/iflink", "1\n")
            .file("/proc/100/root/sys/class/net/eth0/ifindex", "2\n")
            .file("/proc/100/root/sys/class/net/eth0/iflink", "7\n")
            .file(
                "/proc/100/root/sys/class/net/eth0/address",
                "02:42:ac:11:00:02\n",
            )
            .file("/proc/200/root/sys/class/net/eth0/ifindex", "2\n")
            .file("/proc/200/root/sys/class/net/eth0/iflink", "2\n")
    }

    #[test]
    fn the_bridges_and_their_ports() {
        let b = host_bridges(&host());
        let names: Vec<(&str, u32, Vec<&str>)> = b
            .iter()
            .map(|b| {
                (
                    b.name.as_str(),
                    b.index,
                    b.ports.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("br-x", 4, vec!["vethC"]),
                ("docker0", 3, vec!["vethA", "vethB"])
            ]
        );
    }

    #[test]
    fn a_containers_veth_is_its_peers_bridge_port() {
        let sys = host();
        let mut index = PortIndex::default();
        index.refresh(&sys, &["docker0"]);
        assert_eq!(
            index.veths(&sys, 100),
            [Veth {
                mac: "02:42:ac:11:00:02".into(),
                ifname: "vethA".into(),
                bridge: "docker0".into(),
            }]
        );
        // A peer that is no port of an indexed bridge, a loopback, a pid
        // with nothing readable: nothing.
        assert!(index.veths(&sys, 200).is_empty());
        assert!(index.veths(&sys, 300).is_empty());
        // The bridge not refreshed is not known.
        let mut only_x = PortIndex::default();
        only_x.refresh(&sys, &["br-x"]);
        assert!(only_x.veths(&sys, 100).is_empty());
    }

    #[test]
    fn a_port_that_left_its_bridge_is_forgotten() {
        let sys = host();
        let mut index = PortIndex::default();
        index.refresh(&sys, &["docker0"]);
        let mut gone = host();
        gone.files
            .retain(|p, _| !p.starts_with("/sys/class/net/docker0/brif/vethA"));
        index.refresh(&gone, &["docker0"]);
        assert!(index.veths(&gone, 100).is_empty());
    }
}
