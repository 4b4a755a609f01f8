//! Ruleset → nftables script.
//!
//! Why nft's text syntax through `nft -f` and not the JSON API (or the
//! `nftables` crate that wraps it): the script is the documented, stable
//! interface; one `nft -f` file is one kernel transaction, so a replace is
//! atomic; and the golden files under `tests/golden` are reviewable by anyone
//! who knows nftables. Only counters are read back, with `nft -j`.
//!
//! The table (family `inet`, so one rule set covers IPv4 and IPv6):
//! - `forward` (hook forward, priority filter - 5): replies pass; packets that
//!   came through a published port (`ct status dnat`) go to `published`;
//!   same-bridge traffic on isolated networks goes to `isolate`; anything else
//!   from a Docker bridge is Docker's business; anything *new* from outside
//!   straight to a container address is dropped (the direct-routing bypass,
//!   open on Docker < 28): to every bridge dockward knows, and to every
//!   `br-*` bridge that was not there as someone else's at apply time, so a
//!   network Docker creates after a one-shot apply is closed too; and so is
//!   anything conntrack calls invalid (a
//!   SYN-ACK or FIN-ACK outside any connection, which Docker's per-port
//!   accepts would let through to reveal a closed container is alive).
//! - `published`: packets originally sent to loopback are dropped (a
//!   neighbour reaching a `127.0.0.1:` port through Docker's DNAT); then the
//!   per-port verdict map; ports without an entry are local only.
//! - `input` (hook input): docker-proxy's `[::]` listeners, which receive
//!   IPv6 as a local process and never cross FORWARD; a socket of
//!   docker-proxy without an entry yet (a container that just started) gets
//!   the fallback, found by dockerd's cgroup (see [`crate::cgroup`]).
//!
//! Every `accept` here only ends dockward's own chain: Docker's rules still
//! run after it. Every `drop` is final. So dockward only takes away access.

pub mod bridge;
mod syntax;

use crate::ruleset::{Ruleset, Verdict};
use crate::TABLE;
use dockward_model::Protocol;
use ipnet::IpNet;
use std::collections::BTreeSet;
use std::fmt::Write;
use syntax::{diff, elements, quoted};

fn verdict(v: &Verdict) -> String {
    match v {
        Verdict::Accept => "accept".into(),
        Verdict::LocalOnly => "goto local_only".into(),
        Verdict::Drop => "drop".into(),
        Verdict::Allow(i) => format!("goto allow_{i}"),
    }
}

fn fallback(v: &Verdict) -> String {
    match v {
        Verdict::Drop => "counter drop".into(),
        other => verdict(other),
    }
}

fn pub4_elems(rs: &Ruleset) -> Vec<String> {
    rs.pub4
        .iter()
        .map(|((ip, proto, port), v)| format!("{ip} . {proto} . {port} : {}", verdict(v)))
        .collect()
}

fn pub6_elems(rs: &Ruleset) -> Vec<String> {
    rs.pub6
        .iter()
        .map(|((ip, proto, port), v)| format!("{ip} . {proto} . {port} : {}", verdict(v)))
        .collect()
}

fn proxy_elems(map: &std::collections::BTreeMap<(Protocol, u16), Verdict>) -> Vec<String> {
    map.iter()
        .map(|((proto, port), v)| format!("{proto} . {port} : {}", verdict(v)))
        .collect()
}

fn proxy6_elems(rs: &Ruleset) -> Vec<String> {
    proxy_elems(&rs.proxy6)
}

fn proxy4_elems(rs: &Ruleset) -> Vec<String> {
    proxy_elems(&rs.proxy4)
}

fn bridge_elems(rs: &Ruleset) -> Vec<String> {
    rs.bridges.iter().filter_map(|b| quoted(b)).collect()
}

fn bridge_idx_elems(rs: &Ruleset) -> Vec<String> {
    rs.bridges
        .iter()
        .filter(|b| quoted(b).is_none())
        .filter_map(|b| rs.bridge_index.get(b))
        .map(u32::to_string)
        .collect()
}

fn isolated_elems(rs: &Ruleset) -> Vec<String> {
    rs.isolated
        .iter()
        .filter_map(|b| quoted(b))
        .map(|q| format!("{q} . {q}"))
        .collect()
}

fn isolated_idx_elems(rs: &Ruleset) -> Vec<String> {
    rs.isolated
        .iter()
        .filter(|b| quoted(b).is_none())
        .filter_map(|b| rs.bridge_index.get(b))
        .map(|i| format!("{i} . {i}"))
        .collect()
}

/// Foreign bridges nft cannot name stay out: the `br-*` drop then covers
/// them too, which closes, never opens.
fn foreign_elems(rs: &Ruleset) -> Vec<String> {
    rs.foreign_bridges
        .iter()
        .filter_map(|b| quoted(b))
        .collect()
}

fn allow4_elems(rs: &Ruleset) -> Vec<String> {
    rs.allow4
        .iter()
        .map(|(s, d)| format!("{s} . {d}"))
        .collect()
}

fn allow6_elems(rs: &Ruleset) -> Vec<String> {
    rs.allow6
        .iter()
        .map(|(s, d)| format!("{s} . {d}"))
        .collect()
}

fn iso_proxy_elems(set: &BTreeSet<(String, Protocol, u16)>) -> Vec<String> {
    set.iter()
        .filter_map(|(b, proto, port)| Some(format!("{} . {proto} . {port}", quoted(b)?)))
        .collect()
}

fn iso_allow_elems<A: std::fmt::Display>(set: &BTreeSet<(A, Protocol, u16)>) -> Vec<String> {
    set.iter()
        .map(|(ip, proto, port)| format!("{ip} . {proto} . {port}"))
        .collect()
}

/// The isolation sets of both families: (name, element type, elements).
fn iso_sets(rs: &Ruleset) -> [(&'static str, &'static str, Vec<String>); 4] {
    [
        ("iso_proxy4", "ifname", iso_proxy_elems(&rs.iso_proxy4)),
        ("iso_allow4", "ipv4_addr", iso_allow_elems(&rs.iso_allow4)),
        ("iso_proxy6", "ifname", iso_proxy_elems(&rs.iso_proxy6)),
        ("iso_allow6", "ipv6_addr", iso_allow_elems(&rs.iso_allow6)),
    ]
}

fn list_elems(list: &[IpNet], v6: bool) -> Vec<String> {
    list.iter()
        .filter(|n| matches!(n, IpNet::V6(_)) == v6)
        .map(|n| n.to_string())
        .collect()
}

const FORWARD: &str = concat!(
    "\tchain forward {\n",
    "\t\ttype filter hook forward priority filter - 5; policy accept;\n",
    "\t\tct state related accept\n",
    "\t\tct direction reply accept\n",
    // Isolation first: a neighbour's hairpin through a published
    // port is still a neighbour.
    "\t\tiifname . oifname @isolated goto isolate\n",
    "\t\tiif . oif @isolated_idx goto isolate\n",
    "\t\tct status dnat goto published\n",
    "\t\tiifname @bridges accept\n",
    "\t\tiif @bridges_idx accept\n",
    "\t\toifname @bridges ct state { new, invalid } counter drop\n",
    "\t\toif @bridges_idx ct state { new, invalid } counter drop\n",
    "\t\toifname \"br-*\" oifname != @foreign ct state { new, invalid } counter drop\n",
    "\t}\n",
);

/// The whole table, replacing any previous one in the same transaction,
/// and the bridge table.
pub fn render(rs: &Ruleset) -> String {
    render_with(rs, true)
}

/// The iptables backend's guard: the same table without the `forward`
/// chain (iptables filters forwarded packets), so only the `input` side
/// (docker-proxy's sockets) is nftables', and the bridge table.
pub fn render_guard(rs: &Ruleset) -> String {
    render_with(rs, false)
}

fn render_with(rs: &Ruleset, forward: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# dockward firewall: generated; `dockward firewall remove` takes it out."
    );
    // Create-then-delete makes the delete valid whether or not the table
    // exists; the whole file is one transaction.
    let _ = writeln!(s, "table inet {TABLE} {{}}");
    let _ = writeln!(s, "delete table inet {TABLE}");
    let _ = writeln!(s, "table inet {TABLE} {{");
    let _ = writeln!(
        s,
        "\tset bridges {{\n\t\ttype ifname{}\n\t}}",
        elements(&bridge_elems(rs))
    );
    let _ = writeln!(
        s,
        "\tset bridges_idx {{\n\t\ttype iface_index{}\n\t}}",
        elements(&bridge_idx_elems(rs))
    );
    let _ = writeln!(
        s,
        "\tset foreign {{\n\t\ttype ifname{}\n\t}}",
        elements(&foreign_elems(rs))
    );
    let _ = writeln!(
        s,
        "\tset isolated {{\n\t\ttype ifname . ifname{}\n\t}}",
        elements(&isolated_elems(rs))
    );
    let _ = writeln!(
        s,
        "\tset isolated_idx {{\n\t\ttype iface_index . iface_index{}\n\t}}",
        elements(&isolated_idx_elems(rs))
    );
    let _ = writeln!(
        s,
        "\tset allow4 {{\n\t\ttype ipv4_addr . ipv4_addr{}\n\t}}",
        elements(&allow4_elems(rs))
    );
    let _ = writeln!(
        s,
        "\tset allow6 {{\n\t\ttype ipv6_addr . ipv6_addr{}\n\t}}",
        elements(&allow6_elems(rs))
    );
    for (name, ty, items) in iso_sets(rs) {
        let _ = writeln!(
            s,
            "\tset {name} {{\n\t\ttype {ty} . inet_proto . inet_service{}\n\t}}",
            elements(&items)
        );
    }
    for (i, list) in rs.allow_lists.iter().enumerate() {
        let _ = writeln!(
            s,
            "\tset allow_{i}_v4 {{\n\t\ttype ipv4_addr\n\t\tflags interval{}\n\t}}",
            elements(&list_elems(list, false))
        );
        let _ = writeln!(
            s,
            "\tset allow_{i}_v6 {{\n\t\ttype ipv6_addr\n\t\tflags interval{}\n\t}}",
            elements(&list_elems(list, true))
        );
    }
    if rs.cluster.is_some() {
        let (v4, v6) = cluster_elems(rs);
        let _ = writeln!(
            s,
            "\tset cluster_peers4 {{\n\t\ttype ipv4_addr\n\t\tflags interval{}\n\t}}",
            elements(&v4)
        );
        let _ = writeln!(
            s,
            "\tset cluster_peers6 {{\n\t\ttype ipv6_addr\n\t\tflags interval{}\n\t}}",
            elements(&v6)
        );
    }
    let _ = writeln!(
        s,
        "\tmap pub4 {{\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n\t\tcounter{}\n\t}}",
        elements(&pub4_elems(rs))
    );
    let _ = writeln!(
        s,
        "\tmap pub6 {{\n\t\ttype ipv6_addr . inet_proto . inet_service : verdict\n\t\tcounter{}\n\t}}",
        elements(&pub6_elems(rs))
    );
    let _ = writeln!(
        s,
        "\tmap proxy6 {{\n\t\ttype inet_proto . inet_service : verdict\n\t\tcounter{}\n\t}}",
        elements(&proxy6_elems(rs))
    );
    let _ = writeln!(
        s,
        "\tmap proxy4 {{\n\t\ttype inet_proto . inet_service : verdict\n\t\tcounter{}\n\t}}",
        elements(&proxy4_elems(rs))
    );
    s.push_str(
        "\tchain local_only {\n\t\tiifname \"lo\" accept\n\t\tiifname @bridges accept\n\t\tiif @bridges_idx accept\n\t\tcounter drop\n\t}\n",
    );
    for i in 0..rs.allow_lists.len() {
        let _ = writeln!(
            s,
            "\tchain allow_{i} {{\n\t\tiifname \"lo\" accept\n\t\tiifname @bridges accept\n\t\tiif @bridges_idx accept\n\t\tip saddr @allow_{i}_v4 accept\n\t\tip6 saddr @allow_{i}_v6 accept\n\t\tcounter drop\n\t}}"
        );
    }
    s.push_str(
        "\tchain isolate {\n\t\tip saddr . ip daddr @allow4 accept\n\t\tip6 saddr . ip6 daddr @allow6 accept\n\t\tcounter drop\n\t}\n",
    );
    s.push_str(concat!(
        "\tchain published {\n",
        "\t\tct original ip daddr 127.0.0.0/8 counter drop\n",
        "\t\tct original ip6 daddr ::1 counter drop\n",
        "\t\tip daddr . meta l4proto . th dport vmap @pub4\n",
        "\t\tip6 daddr . meta l4proto . th dport vmap @pub6\n",
    ));
    // No entry (yet): a container that just started gets the fallback.
    let _ = writeln!(s, "\t\t{}\n\t}}", fallback(&rs.fallback));
    if forward {
        s.push_str(FORWARD);
    }
    s.push_str(concat!(
        "\tchain input {\n",
        "\t\ttype filter hook input priority filter - 5; policy accept;\n",
        "\t\tiifname \"lo\" accept\n",
        // Replies to what this host started (dockerd pulling an image,
        // joining a swarm) are never docker-proxy's business.
        "\t\tct direction reply accept\n",
    ));
    // A Swarm node's own ports answer the swarm's nodes only (see
    // `crate::swarm`); before anything that could accept them.
    if rs.cluster.is_some() {
        let ports: Vec<String> = crate::swarm::CLUSTER_PORTS
            .iter()
            .map(|(p, n)| format!("{p} . {n}"))
            .collect();
        let ports = ports.join(", ");
        let _ = writeln!(
            s,
            "\t\tmeta nfproto ipv4 meta l4proto . th dport {{ {ports} }} ip saddr != @cluster_peers4 counter drop"
        );
        let _ = writeln!(
            s,
            "\t\tmeta nfproto ipv6 meta l4proto . th dport {{ {ports} }} ip6 saddr != @cluster_peers6 counter drop"
        );
    }
    // docker-proxy's sockets when the guard can tell them (see
    // `crate::cgroup`), else any socket. `ProxyCgroup` paths hold no `"`
    // (checked where they are made).
    let cg = rs.proxy_cgroup.as_ref().map_or(String::new(), |g| {
        format!("socket cgroupv2 level {} \"{}\" ", g.level, g.path)
    });
    // A neighbour on an isolated bridge reaching a member's port through
    // the gateway (docker-proxy relays it from the host, past the forward
    // path), on either family. Before `proxy6`, which would accept a public
    // port for anyone. Without a guard the port's owner cannot be told, but
    // docker-proxy holds the port on the address the neighbour reaches.
    for (v, ip) in [("4", "ip"), ("6", "ip6")] {
        let _ = writeln!(
            s,
            "\t\tmeta nfproto ipv{v} {cg}iifname . meta l4proto . th dport @iso_proxy{v} {ip} saddr . meta l4proto . th dport != @iso_allow{v} counter drop"
        );
    }
    s.push_str("\t\tmeta nfproto ipv6 meta l4proto . th dport vmap @proxy6\n");
    if let Some(g) = &rs.proxy_cgroup {
        if !g.daemon_ports.is_empty() {
            // dockerd's own listeners (API, Swarm, metrics), found by the
            // sockets dockerd itself holds: not docker-proxy's.
            let ports: Vec<String> = g
                .daemon_ports
                .iter()
                .map(|(proto, port)| format!("{proto} . {port}"))
                .collect();
            let _ = writeln!(
                s,
                "\t\t{cg}meta l4proto . th dport {{ {} }} accept",
                ports.join(", ")
            );
        }
        // What reaches docker-proxy without Docker's DNAT gets its port's
        // verdict (IPv4), and a socket of docker-proxy without an entry
        // (a container that just started) gets the fallback (both).
        let _ = writeln!(
            s,
            "\t\tmeta nfproto ipv4 {cg}meta l4proto . th dport vmap @proxy4"
        );
        let _ = writeln!(s, "\t\t{cg}{}", fallback(&rs.fallback));
    }
    s.push_str("\t}\n}\n");
    s.push_str(&bridge::render(rs));
    s
}

/// Take dockward's tables out (create-then-delete: valid when absent too).
pub fn remove_script() -> String {
    format!("{}{}", remove_inet_script(), bridge::remove_script())
}

/// Take dockward's `inet` table out, leaving the bridge table (which the
/// iptables backend uses too).
pub fn remove_inet_script() -> String {
    format!("table inet {TABLE} {{}}\ndelete table inet {TABLE}\n")
}

/// The element changes from `old` to `new` as one transaction, when both
/// have the same shape; `None` when a full `render` is needed.
pub fn update(old: &Ruleset, new: &Ruleset) -> Option<String> {
    if !old.same_shape(new) {
        return None;
    }
    let mut s = String::new();
    diff(
        &mut s,
        "inet",
        "bridges",
        &bridge_elems(old),
        &bridge_elems(new),
    );
    diff(
        &mut s,
        "inet",
        "bridges_idx",
        &bridge_idx_elems(old),
        &bridge_idx_elems(new),
    );
    diff(
        &mut s,
        "inet",
        "foreign",
        &foreign_elems(old),
        &foreign_elems(new),
    );
    diff(
        &mut s,
        "inet",
        "isolated_idx",
        &isolated_idx_elems(old),
        &isolated_idx_elems(new),
    );
    diff(
        &mut s,
        "inet",
        "isolated",
        &isolated_elems(old),
        &isolated_elems(new),
    );
    diff(
        &mut s,
        "inet",
        "allow4",
        &allow4_elems(old),
        &allow4_elems(new),
    );
    diff(
        &mut s,
        "inet",
        "allow6",
        &allow6_elems(old),
        &allow6_elems(new),
    );
    for (i, (a, b)) in old.allow_lists.iter().zip(&new.allow_lists).enumerate() {
        diff(
            &mut s,
            "inet",
            &format!("allow_{i}_v4"),
            &list_elems(a, false),
            &list_elems(b, false),
        );
        diff(
            &mut s,
            "inet",
            &format!("allow_{i}_v6"),
            &list_elems(a, true),
            &list_elems(b, true),
        );
    }
    diff(&mut s, "inet", "pub4", &pub4_elems(old), &pub4_elems(new));
    diff(&mut s, "inet", "pub6", &pub6_elems(old), &pub6_elems(new));
    diff(
        &mut s,
        "inet",
        "proxy6",
        &proxy6_elems(old),
        &proxy6_elems(new),
    );
    diff(
        &mut s,
        "inet",
        "proxy4",
        &proxy4_elems(old),
        &proxy4_elems(new),
    );
    for ((name, _, old), (_, _, new)) in iso_sets(old).into_iter().zip(iso_sets(new)) {
        diff(&mut s, "inet", name, &old, &new);
    }
    let ((o4, o6), (n4, n6)) = (cluster_elems(old), cluster_elems(new));
    diff(&mut s, "inet", "cluster_peers4", &o4, &n4);
    diff(&mut s, "inet", "cluster_peers6", &o6, &n6);
    bridge::update(&mut s, old, new);
    Some(s)
}

/// The cluster ports' sources as interval-set elements: `join-from`'s
/// networks, then the nodes they do not already cover (an interval set
/// refuses overlapping elements).
fn cluster_elems(rs: &Ruleset) -> (Vec<String>, Vec<String>) {
    let Some(c) = &rs.cluster else {
        return Default::default();
    };
    let nets: Vec<IpNet> = c
        .join_from
        .iter()
        .filter(|n| !c.join_from.iter().any(|o| o != *n && o.contains(*n)))
        .copied()
        .collect();
    let covered = |ip: std::net::IpAddr| nets.iter().any(|n| n.contains(&ip));
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    for n in &nets {
        match n {
            IpNet::V4(_) => v4.push(n.to_string()),
            IpNet::V6(_) => v6.push(n.to_string()),
        }
    }
    v4.extend(
        c.peers4
            .iter()
            .filter(|ip| !covered((**ip).into()))
            .map(ToString::to_string),
    );
    v6.extend(
        c.peers6
            .iter()
            .filter(|ip| !covered((**ip).into()))
            .map(ToString::to_string),
    );
    (v4, v6)
}
