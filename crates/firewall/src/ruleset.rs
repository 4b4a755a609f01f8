//! Verdicts + inventory → the ruleset, as data.
//!
//! Keys are the *post-DNAT* destination (container address, protocol,
//! container port): that is what a forwarded packet carries after Docker's
//! `nat PREROUTING` DNAT, whatever host address or port it was sent to. The
//! `[::]` listeners of docker-proxy are keyed by host port instead, because
//! those packets are delivered to a local process and never forwarded.
//!
//! Stopped containers have no address and so no entry: when they start, the
//! `published` chain's fallback (local only) applies until the watcher adds
//! their entry, so a new container is never more open than its policy.

use crate::cgroup::ProxyCgroup;
use crate::policy::{Expose, Resolved, Stance};
use dockward_model::{Attachment, Inventory, Protocol};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What an entry does, as an nftables verdict.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "list")]
pub enum Verdict {
    Accept,
    #[default]
    LocalOnly,
    Drop,
    /// Local plus the sources of allow list N.
    Allow(usize),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ruleset {
    /// Docker bridge interfaces: traffic from them is "local".
    pub bridges: BTreeSet<String>,
    /// (container IPv4, protocol, container port) → verdict.
    pub pub4: BTreeMap<(Ipv4Addr, Protocol, u16), Verdict>,
    pub pub6: BTreeMap<(Ipv6Addr, Protocol, u16), Verdict>,
    /// docker-proxy `[::]` listeners: (protocol, host port) → verdict.
    pub proxy6: BTreeMap<(Protocol, u16), Verdict>,
    /// docker-proxy's IPv4 listeners: (protocol, host port) → verdict, for
    /// what reaches them without Docker's DNAT (broadcast and multicast
    /// UDP, flows older than the DNAT rule, containers connecting to a host
    /// address). Matched only on sockets of dockerd's cgroup, never by port
    /// alone (see [`crate::cgroup`]).
    pub proxy4: BTreeMap<(Protocol, u16), Verdict>,
    /// Distinct source lists used by `Verdict::Allow(index)`.
    pub allow_lists: Vec<Vec<IpNet>>,
    /// Bridges whose containers may not reach each other.
    pub isolated: BTreeSet<String>,
    /// Allowed (source, destination) container address pairs on isolated bridges.
    pub allow4: BTreeSet<(Ipv4Addr, Ipv4Addr)>,
    pub allow6: BTreeSet<(Ipv6Addr, Ipv6Addr)>,
    /// What a DNATed packet to an address or port without an entry gets:
    /// local only, or drop under `default = "deny"`. Never accept: a
    /// container that just started is no more open than its policy before
    /// the watcher has added its entry.
    pub fallback: Verdict,
    /// Sources that count as local (Docker subnets, loopback): used to
    /// decide which established connections a narrowed verdict must cut.
    pub local_sources: Vec<IpNet>,
    /// dockerd's cgroup: IPv6 to a docker-proxy socket without a `proxy6`
    /// entry gets the fallback (see [`crate::cgroup`]). `None`: no guard
    /// (dockerd is not local, or shares the root cgroup).
    pub proxy_cgroup: Option<ProxyCgroup>,
    /// Interface indexes of the bridges whose names nft's text syntax
    /// cannot hold (a `"`: Docker accepts any name Linux does); they are
    /// matched by index instead. Filled from the host by [`with_host`].
    pub bridge_index: BTreeMap<String, u32>,
    /// Bridges on the host that are not Docker's (libvirt's, a `br0` with
    /// the uplink), at apply time: exempt from the drop that closes direct
    /// routing to every `br-*` bridge, Docker's future ones included.
    pub foreign_bridges: BTreeSet<String>,
    /// The ports of those bridges at apply time: exempt from the drop of
    /// router advertisements and redirects from `veth*` ports (see
    /// [`crate::bind`]).
    pub foreign_ports: BTreeSet<String>,
    /// docker-proxy's IPv4 ports of containers on isolated bridges:
    /// (bridge, protocol, host port). A neighbour on that bridge that
    /// connects to one through its gateway reaches the container from the
    /// host (docker-proxy relays it), past isolation; the guard refuses it
    /// unless [`Ruleset::iso_allow4`] has the source for that port.
    pub iso_proxy4: BTreeSet<(String, Protocol, u16)>,
    /// (allowed source, protocol, host port): the container itself and its
    /// `allow-from` peers.
    pub iso_allow4: BTreeSet<(Ipv4Addr, Protocol, u16)>,
    /// The same over IPv6: docker-proxy's `[::]` ports of members of
    /// isolated bridges, reached through the gateway's IPv6 address.
    pub iso_proxy6: BTreeSet<(String, Protocol, u16)>,
    pub iso_allow6: BTreeSet<(Ipv6Addr, Protocol, u16)>,
    /// Trusted addresses bound, with their MACs, to their containers' own
    /// bridge ports (see [`crate::bind`]). Filled by [`with_host`].
    pub ports: BTreeSet<Port>,
    /// Trusted addresses whose port was not found: reported; an allow pair
    /// from one is dropped.
    pub unbound: BTreeSet<IpAddr>,
    /// Docker's gateway addresses (the host's), which no container may
    /// claim.
    pub gateways: BTreeSet<IpAddr>,
    /// On a Swarm node: the only sources its cluster ports answer (see
    /// [`crate::swarm`]).
    pub cluster: Option<crate::swarm::ClusterPorts>,
}

/// A container's bridge port: the host end of its veth, with the MAC and
/// addresses bound to it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Port {
    pub ifname: String,
    /// Lower case, `aa:bb:cc:dd:ee:ff`.
    pub mac: String,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
}

/// The Docker gateways (the host's own addresses on its bridges).
pub fn gateways(inv: &Inventory) -> BTreeSet<IpAddr> {
    inv.networks
        .iter()
        .filter(|n| n.bridge.is_some())
        .flat_map(|n| &n.subnets)
        .filter_map(|s| s.gateway.as_deref()?.parse().ok())
        .collect()
}

impl Ruleset {
    /// Same chains and sets: the difference is only elements.
    pub fn same_shape(&self, other: &Self) -> bool {
        self.allow_lists.len() == other.allow_lists.len()
            && self.fallback == other.fallback
            && self.proxy_cgroup == other.proxy_cgroup
            && self.cluster.is_some() == other.cluster.is_some()
    }

    /// Is a connection from `src` allowed by `v`? (Which connections to cut
    /// when a verdict narrows.)
    pub fn admits(&self, v: &Verdict, src: IpAddr) -> bool {
        let local = src.is_loopback() || self.local_sources.iter().any(|n| n.contains(&src));
        match v {
            Verdict::Accept => true,
            Verdict::Drop => false,
            Verdict::LocalOnly => local,
            Verdict::Allow(i) => {
                local
                    || self
                        .allow_lists
                        .get(*i)
                        .is_some_and(|l| l.iter().any(|n| n.contains(&src)))
            }
        }
    }
}

/// The verdict that lets in no more than either.
fn narrower(a: &Verdict, b: &Verdict) -> Verdict {
    match (a, b) {
        _ if a == b => a.clone(),
        (Verdict::Drop, _) | (_, Verdict::Drop) => Verdict::Drop,
        (Verdict::Accept, x) | (x, Verdict::Accept) => x.clone(),
        _ => Verdict::LocalOnly,
    }
}

/// Does docker-proxy listen on IPv4 for this binding? (No host address,
/// as for a created container, means every address.)
fn on_v4(b: &dockward_model::PublishedPort) -> bool {
    match b.host_ip.as_deref() {
        None | Some("") => true,
        Some(a) => a.parse::<Ipv4Addr>().is_ok(),
    }
}

/// Bound on every IPv6 address: docker-proxy's `[::]` listener. No host
/// address (a created or stopped container): Docker will bind both
/// `0.0.0.0` and `[::]`.
fn on_all_v6(b: &dockward_model::PublishedPort) -> bool {
    match b.host_ip.as_deref().map(|a| a.trim_matches(['[', ']'])) {
        None | Some("") => true,
        Some(a) => a.parse::<Ipv6Addr>().is_ok_and(|a| a.is_unspecified()),
    }
}

/// Build the ruleset for a resolved policy over an inventory.
pub fn build(resolved: &Resolved, inv: &Inventory) -> Ruleset {
    let mut rs = Ruleset {
        fallback: match resolved.stance {
            Stance::Deny => Verdict::Drop,
            Stance::Local | Stance::Public => Verdict::LocalOnly,
        },
        ..Ruleset::default()
    };
    for n in &inv.networks {
        if let Some(b) = &n.bridge {
            rs.bridges.insert(b.clone());
            rs.local_sources.extend(
                n.subnets
                    .iter()
                    .filter_map(|s| s.cidr.parse::<IpNet>().ok()),
            );
        }
    }
    rs.local_sources.sort();
    rs.local_sources.dedup();
    rs.gateways = gateways(inv);
    rs.cluster = crate::swarm::cluster(inv, &resolved.swarm);
    let mut lists: Vec<Vec<IpNet>> = Vec::new();
    let mut verdict = |e: &Expose| match e {
        Expose::Public => Verdict::Accept,
        Expose::Local => Verdict::LocalOnly,
        Expose::Deny => Verdict::Drop,
        Expose::From(nets) => {
            let i = match lists.iter().position(|l| l == nets) {
                Some(i) => i,
                None => {
                    lists.push(nets.clone());
                    lists.len() - 1
                }
            };
            Verdict::Allow(i)
        }
    };
    // By id: a scan per port is quadratic, 1,000 × 1,000 id compares at
    // 1,000 containers (a tenth of apply's own time before this).
    let by_id: std::collections::HashMap<&str, &dockward_model::Container> =
        inv.containers.iter().map(|c| (c.id.as_str(), c)).collect();
    for pv in &resolved.ports {
        let Some(c) = by_id.get(pv.container_id.as_str()) else {
            continue;
        };
        let mut v = verdict(&pv.expose);
        let bindings: Vec<_> = c
            .ports
            .iter()
            .filter(|p| p.container_port == pv.container_port && p.protocol == pv.protocol)
            .collect();
        // Published on loopback only: nothing forwarded may reach it. The
        // `published` chain also drops anything originally sent to
        // 127.0.0.0/8, which is how such packets arrive from a neighbour.
        let loopback_only = !bindings.is_empty()
            && bindings.iter().all(|b| {
                b.host_ip
                    .as_deref()
                    .and_then(|a| a.parse::<IpAddr>().ok())
                    .is_some_and(|a| a.is_loopback())
            });
        if loopback_only {
            v = Verdict::Drop;
        }
        if c.is_running() {
            for a in &c.networks {
                if let Some(ip) = a.ipv4.as_deref().and_then(|s| s.parse().ok()) {
                    rs.pub4
                        .insert((ip, pv.protocol, pv.container_port), v.clone());
                }
                if let Some(ip) = a.ipv6.as_deref().and_then(|s| s.parse().ok()) {
                    rs.pub6
                        .insert((ip, pv.protocol, pv.container_port), v.clone());
                }
            }
        }
        for b in bindings {
            if let (true, Some(port)) = (on_all_v6(b), b.host_port) {
                rs.proxy6.insert((b.protocol, port), v.clone());
            }
            if let (true, Some(port)) = (on_v4(b), b.host_port) {
                // Two bindings of one port on different host addresses
                // share the entry: the narrower verdict holds.
                let v = match rs.proxy4.get(&(b.protocol, port)) {
                    Some(old) => narrower(old, &v),
                    None => v.clone(),
                };
                rs.proxy4.insert((b.protocol, port), v);
            }
        }
    }
    // Swarm's routing mesh: every ingress-mode port is DNATed to the
    // sandbox on `docker_gwbridge` with its published port unchanged
    // (moby's `DOCKER-INGRESS`), so its entry is keyed like a container's,
    // by that address. Host-mode ports are their task containers' above.
    if let Some(sbox) = inv.ingress_sbox() {
        for sv in resolved
            .services
            .iter()
            .filter(|s| s.mode == dockward_model::PublishMode::Ingress)
        {
            let v = verdict(&sv.expose);
            // One published port is one service's; should two claim it,
            // the narrower holds.
            let v = match rs.pub4.get(&(sbox, sv.protocol, sv.published)) {
                Some(old) => narrower(old, &v),
                None => v,
            };
            rs.pub4.insert((sbox, sv.protocol, sv.published), v);
        }
    }
    rs.allow_lists = lists;
    for iso in &resolved.isolated {
        let Some(net) = inv.network(&iso.network) else {
            continue;
        };
        if let Some(b) = &net.bridge {
            rs.isolated.insert(b.clone());
        }
        let addr = |name: &str| {
            inv.container(name)
                .and_then(|c| c.networks.iter().find(|a| a.is_on(net)))
        };
        // Each member with a published port reaching itself through it
        // (hairpin DNAT crosses `isolate` too), and through docker-proxy.
        for c in inv.containers.iter().filter(|c| c.is_running()) {
            let Some(a) = c.networks.iter().find(|a| a.is_on(net)) else {
                continue;
            };
            if c.ports.is_empty() {
                continue;
            }
            let v4: Option<Ipv4Addr> = a.ipv4.as_deref().and_then(|x| x.parse().ok());
            let v6: Option<Ipv6Addr> = a.ipv6.as_deref().and_then(|x| x.parse().ok());
            rs.allow4.extend(v4.map(|ip| (ip, ip)));
            rs.allow6.extend(v6.map(|ip| (ip, ip)));
            let Some(bridge) = &net.bridge else { continue };
            let peers: Vec<&Attachment> = iso
                .allow
                .iter()
                .filter(|(_, d)| *d == c.name)
                .filter_map(|(src, _)| addr(src))
                .collect();
            for p in &c.ports {
                let Some(port) = p.host_port else { continue };
                let key = (bridge.clone(), p.protocol, port);
                if on_v4(p) {
                    rs.iso_proxy4.insert(key.clone());
                    let s4 = peers.iter().filter_map(|s| s.ipv4.as_deref()?.parse().ok());
                    for ip in v4.into_iter().chain(s4) {
                        rs.iso_allow4.insert((ip, p.protocol, port));
                    }
                }
                if on_all_v6(p) {
                    rs.iso_proxy6.insert(key);
                    let s6 = peers.iter().filter_map(|s| s.ipv6.as_deref()?.parse().ok());
                    for ip in v6.into_iter().chain(s6) {
                        rs.iso_allow6.insert((ip, p.protocol, port));
                    }
                }
            }
        }
        for (src, dst) in &iso.allow {
            let (Some(s), Some(d)) = (addr(src), addr(dst)) else {
                continue;
            };
            if let (Some(s4), Some(d4)) = (
                s.ipv4.as_deref().and_then(|x| x.parse().ok()),
                d.ipv4.as_deref().and_then(|x| x.parse().ok()),
            ) {
                rs.allow4.insert((s4, d4));
            }
            if let (Some(s6), Some(d6)) = (
                s.ipv6.as_deref().and_then(|x| x.parse().ok()),
                d.ipv6.as_deref().and_then(|x| x.parse().ok()),
            ) {
                rs.allow6.insert((s6, d6));
            }
        }
    }
    rs
}
