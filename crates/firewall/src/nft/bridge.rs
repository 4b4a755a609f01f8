//! The `bridge`-family table that binds trusted addresses to their bridge
//! ports (what is bound, and why, is [`crate::bind`]'s): its sets, its
//! chains, and the element updates between two rulesets.

use super::syntax::{diff, elements, quoted};
use crate::ruleset::{Port, Ruleset};
use crate::TABLE;
use std::fmt::Write;
use std::net::{IpAddr, Ipv6Addr};

pub(crate) fn hex6(ip: &Ipv6Addr) -> String {
    format!("0x{:032x}", u128::from(*ip))
}

/// The bridge table's sets: name, nft type, elements as nft writes them.
fn sets(rs: &Ruleset) -> Vec<(&'static str, &'static str, Vec<String>)> {
    let q = |s: &str| format!("\"{s}\"");
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v.dedup();
        v
    };
    // Each port with an address of one family, as (port, address, raw
    // bits for the neighbour-advertisement target).
    let v4: Vec<(&Port, String)> = rs
        .ports
        .iter()
        .filter_map(|p| Some((p, p.ipv4?.to_string())))
        .collect();
    let v6: Vec<(&Port, String, String)> = rs
        .ports
        .iter()
        .filter_map(|p| Some((p, p.ipv6?.to_string(), hex6(&p.ipv6?))))
        .collect();
    let gw = |v6: bool| -> Vec<String> {
        rs.gateways
            .iter()
            .filter(|a| a.is_ipv6() == v6)
            .map(IpAddr::to_string)
            .collect()
    };
    vec![
        (
            "foreign_ports",
            "type ifname",
            // A name nft's syntax cannot hold loses its exemption.
            rs.foreign_ports.iter().filter_map(|p| quoted(p)).collect(),
        ),
        (
            "bound_mac",
            "type ether_addr",
            sorted(rs.ports.iter().map(|p| p.mac.clone()).collect()),
        ),
        (
            "port_mac",
            "type ifname . ether_addr",
            rs.ports
                .iter()
                .map(|p| format!("{} . {}", q(&p.ifname), p.mac))
                .collect(),
        ),
        (
            "bound4",
            "type ipv4_addr",
            sorted(v4.iter().map(|(_, a)| a.clone()).collect()),
        ),
        (
            "port4",
            "type ifname . ether_addr . ipv4_addr",
            v4.iter()
                .map(|(p, a)| format!("{} . {} . {a}", q(&p.ifname), p.mac))
                .collect(),
        ),
        (
            "at4",
            "type ifname . ipv4_addr",
            v4.iter()
                .map(|(p, a)| format!("{} . {a}", q(&p.ifname)))
                .collect(),
        ),
        (
            "bound6",
            "type ipv6_addr",
            sorted(v6.iter().map(|(_, a, _)| a.clone()).collect()),
        ),
        (
            "port6",
            "type ifname . ether_addr . ipv6_addr",
            v6.iter()
                .map(|(p, a, _)| format!("{} . {} . {a}", q(&p.ifname), p.mac))
                .collect(),
        ),
        (
            "at6",
            "type ifname . ipv6_addr",
            v6.iter()
                .map(|(p, a, _)| format!("{} . {a}", q(&p.ifname)))
                .collect(),
        ),
        // The target of a neighbour advertisement has no named type in nft
        // 1.0.6: raw transport-header bits 64..192 (RFC 4861 §4.4).
        (
            "nd_bound",
            "typeof @th,64,128",
            sorted(v6.iter().map(|(_, _, h)| h.clone()).collect()),
        ),
        (
            "nd_port",
            "typeof iifname . ether saddr . @th,64,128",
            v6.iter()
                .map(|(p, _, h)| format!("{} . {} . {h}", q(&p.ifname), p.mac))
                .collect(),
        ),
        ("gw4", "type ipv4_addr", gw(false)),
        ("gw6", "type ipv6_addr", gw(true)),
        (
            "nd_gw",
            "typeof @th,64,128",
            rs.gateways
                .iter()
                .filter_map(|a| match a {
                    IpAddr::V6(a) => Some(hex6(a)),
                    IpAddr::V4(_) => None,
                })
                .collect(),
        ),
    ]
}

const PREROUTING: &str = concat!(
    "\t\tiifname \"veth*\" iifname != @foreign_ports icmpv6 type { nd-router-advert, nd-redirect } counter drop\n",
    "\t\tether saddr @bound_mac iifname . ether saddr != @port_mac counter drop\n",
    "\t\tip saddr @gw4 counter drop\n",
    "\t\tarp saddr ip @gw4 counter drop\n",
    "\t\tip saddr @bound4 iifname . ether saddr . ip saddr != @port4 counter drop\n",
    "\t\tarp saddr ip @bound4 iifname . arp saddr ether . arp saddr ip != @port4 counter drop\n",
    "\t\tip6 saddr @gw6 counter drop\n",
    "\t\tip6 saddr @bound6 iifname . ether saddr . ip6 saddr != @port6 counter drop\n",
    "\t\ticmpv6 type nd-neighbor-advert @th,64,128 @nd_gw counter drop\n",
    "\t\ticmpv6 type nd-neighbor-advert @th,64,128 @nd_bound iifname . ether saddr . @th,64,128 != @nd_port counter drop\n",
);

const TO_PORT: &str = concat!(
    "\t\tip daddr @bound4 oifname . ip daddr != @at4 counter drop\n",
    "\t\tip6 daddr @bound6 oifname . ip6 daddr != @at6 counter drop\n",
);

/// The bridge table, replacing any previous one in the same transaction.
pub fn render(rs: &Ruleset) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "table bridge {TABLE} {{}}");
    let _ = writeln!(s, "delete table bridge {TABLE}");
    let _ = writeln!(s, "table bridge {TABLE} {{");
    for (name, ty, items) in sets(rs) {
        let _ = writeln!(s, "\tset {name} {{\n\t\t{ty}{}\n\t}}", elements(&items));
    }
    let _ = write!(
        s,
        "\tchain prerouting {{\n\t\ttype filter hook prerouting priority -300; policy accept;\n{PREROUTING}\t}}\n"
    );
    for hook in ["forward", "output"] {
        let _ = write!(
            s,
            "\tchain {hook} {{\n\t\ttype filter hook {hook} priority -300; policy accept;\n{TO_PORT}\t}}\n"
        );
    }
    s.push_str("}\n");
    s
}

/// Take the bridge table out (create-then-delete: valid when absent too).
pub fn remove_script() -> String {
    format!("table bridge {TABLE} {{}}\ndelete table bridge {TABLE}\n")
}

/// The element changes of the bridge table from `old` to `new`.
pub fn update(s: &mut String, old: &Ruleset, new: &Ruleset) {
    for ((name, _, o), (_, _, n)) in sets(old).iter().zip(sets(new).iter()) {
        diff(s, "bridge", name, o, n);
    }
}
