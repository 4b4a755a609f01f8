//! Ruleset → `iptables-restore --noflush` scripts, for hosts without
//! nftables (the `iptables` backend).
//!
//! The same verdicts as the nftables table ([`crate::nft`]), in chains of
//! dockward's own, entered from the two places Docker leaves to the
//! operator: `DOCKER-USER` (FORWARD, before Docker's own rules; moby
//! creates it and never flushes it) for IPv4 and, when Docker manages
//! ip6tables, IPv6; and `INPUT` for docker-proxy's `[::]` listeners, which
//! receive IPv6 as a local process. `--noflush` keeps every other chain as
//! it is; dockward's chains are flushed and refilled in the same restore,
//! which iptables applies as one transaction per table. RETURN ends
//! dockward's chain and lets Docker's rules decide, DROP is final: as with
//! nftables, dockward only takes access away.
//!
//! The jump into dockward's chain is added only when the listing (an
//! `iptables-save`, read as `iptables -S` by [`from_save`]) does not
//! show it already, so a re-apply never stacks jumps.

use crate::ruleset::{Ruleset, Verdict};
use ipnet::IpNet;
use std::fmt::Write;

mod names;
mod readback;
mod save;

pub use names::{FWD, IN6, ISO, LOCAL, PUB};
pub use readback::{drift, kernel_state};
pub use save::{from_save, with_counters};

/// Both scripts of one apply (or remove).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scripts {
    pub v4: String,
    pub v6: String,
}

/// The rule's target. dockward's own chains are entered with `-g` (goto),
/// as nftables' `goto`: their RETURN then goes back to the chain that
/// called dockward (DOCKER-USER or INPUT), so Docker's rules decide next.
/// A `-j` there would return into dockward's chain and fall through to
/// its later rules.
fn target(v: &Verdict) -> String {
    match v {
        Verdict::Accept => "-j RETURN".into(),
        Verdict::LocalOnly => format!("-g {LOCAL}"),
        Verdict::Drop => "-j DROP".into(),
        Verdict::Allow(i) => format!("-g DOCKWARD-ALLOW-{i}"),
    }
}

/// An interface name as one `iptables-restore` argument: quoted, with `\`
/// and `"` escaped (its parser unescapes both inside quotes), so any name
/// Linux allows is matched exactly, except one that ends in `+`: that is
/// iptables' prefix wildcard and has no escape. Such a name is `Wild`:
/// used where matching more only closes more (drops, isolation), never
/// where it would open (the `RETURN`s).
enum IfName {
    Exact(String),
    Wild(String),
}

impl IfName {
    fn of(s: &str) -> Self {
        let q = format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        if s.ends_with('+') {
            Self::Wild(q)
        } else {
            Self::Exact(q)
        }
    }

    fn exact(&self) -> Option<&str> {
        match self {
            Self::Exact(q) => Some(q),
            Self::Wild(_) => None,
        }
    }

    fn any(&self) -> &str {
        match self {
            Self::Exact(q) | Self::Wild(q) => q,
        }
    }
}

/// dockward's chains present in an `iptables -S` listing.
fn existing(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter_map(|l| l.strip_prefix("-N "))
        .filter(|c| c.starts_with("DOCKWARD-"))
        .map(str::to_string)
        .collect()
}

fn has_jump(listing: &str, from: &str, to: &str) -> bool {
    listing
        .lines()
        .any(|l| l.trim() == format!("-A {from} -j {to}"))
}

fn has_chain(listing: &str, chain: &str) -> bool {
    listing.lines().any(|l| l.trim() == format!("-N {chain}"))
}

/// Declares, flushes and (for stale ones) deletes chains.
fn header(s: &mut String, wanted: &[String], listing: &str) {
    s.push_str("*filter\n");
    for c in wanted {
        let _ = writeln!(s, ":{c} - [0:0]");
    }
    let stale: Vec<String> = existing(listing)
        .into_iter()
        .filter(|c| !wanted.contains(c))
        .collect();
    for c in wanted.iter().chain(&stale) {
        let _ = writeln!(s, "-F {c}");
    }
    for c in &stale {
        let _ = writeln!(s, "-X {c}");
    }
}

/// The chains both families share: local-only, allow lists, isolation,
/// published ports and the forward entry.
fn forward_rules(s: &mut String, rs: &Ruleset, v6: bool) {
    let bridges: Vec<IfName> = rs.bridges.iter().map(|b| IfName::of(b)).collect();
    let bridges: Vec<&str> = bridges.iter().filter_map(IfName::exact).collect();
    // Local only: loopback and Docker's bridges.
    let _ = writeln!(s, "-A {LOCAL} -i lo -j RETURN");
    for b in &bridges {
        let _ = writeln!(s, "-A {LOCAL} -i {b} -j RETURN");
    }
    let _ = writeln!(s, "-A {LOCAL} -j DROP");
    for (i, list) in rs.allow_lists.iter().enumerate() {
        let c = format!("DOCKWARD-ALLOW-{i}");
        let _ = writeln!(s, "-A {c} -i lo -j RETURN");
        for b in &bridges {
            let _ = writeln!(s, "-A {c} -i {b} -j RETURN");
        }
        for n in list.iter().filter(|n| matches!(n, IpNet::V6(_)) == v6) {
            let _ = writeln!(s, "-A {c} -s {n} -j RETURN");
        }
        let _ = writeln!(s, "-A {c} -j DROP");
    }
}

fn forward_chain(s: &mut String, rs: &Ruleset, v6: bool) {
    let bridges: Vec<IfName> = rs.bridges.iter().map(|b| IfName::of(b)).collect();
    if v6 {
        for (a, b) in &rs.allow6 {
            let _ = writeln!(s, "-A {ISO} -s {a}/128 -d {b}/128 -j RETURN");
        }
    } else {
        for (a, b) in &rs.allow4 {
            let _ = writeln!(s, "-A {ISO} -s {a}/32 -d {b}/32 -j RETURN");
        }
    }
    let _ = writeln!(s, "-A {ISO} -j DROP");
    let loopback = if v6 { "::1/128" } else { "127.0.0.0/8" };
    let _ = writeln!(s, "-A {PUB} -m conntrack --ctorigdst {loopback} -j DROP");
    if v6 {
        for ((ip, proto, port), v) in &rs.pub6 {
            let _ = writeln!(
                s,
                "-A {PUB} -d {ip}/128 -p {proto} -m {proto} --dport {port} {}",
                target(v)
            );
        }
    } else {
        for ((ip, proto, port), v) in &rs.pub4 {
            let _ = writeln!(
                s,
                "-A {PUB} -d {ip}/32 -p {proto} -m {proto} --dport {port} {}",
                target(v)
            );
        }
    }
    let _ = writeln!(s, "-A {PUB} {}", target(&rs.fallback));
    let _ = writeln!(s, "-A {FWD} -m conntrack --ctstate RELATED -j RETURN");
    let _ = writeln!(s, "-A {FWD} -m conntrack --ctdir REPLY -j RETURN");
    let _ = writeln!(s, "-A {FWD} -m conntrack --ctstate DNAT -g {PUB}");
    for b in rs.isolated.iter().map(|b| IfName::of(b)) {
        let b = b.any();
        let _ = writeln!(s, "-A {FWD} -i {b} -o {b} -g {ISO}");
    }
    for b in bridges.iter().filter_map(IfName::exact) {
        let _ = writeln!(s, "-A {FWD} -i {b} -j RETURN");
    }
    for b in &bridges {
        let _ = writeln!(
            s,
            "-A {FWD} -o {} -m conntrack --ctstate INVALID,NEW -j DROP",
            b.any()
        );
    }
    // Docker's bridges to come (`br-` + network id): closed to direct
    // routing even after a one-shot apply; the host's other bridges of
    // that name at apply time are not Docker's and keep their traffic.
    for b in rs
        .foreign_bridges
        .iter()
        .filter(|b| b.starts_with("br-"))
        .map(|b| IfName::of(b))
    {
        if let Some(b) = b.exact() {
            let _ = writeln!(s, "-A {FWD} -o {b} -j RETURN");
        }
    }
    let _ = writeln!(
        s,
        "-A {FWD} -o br-+ -m conntrack --ctstate INVALID,NEW -j DROP"
    );
}

fn chains(rs: &Ruleset, forward: bool, input: bool) -> Vec<String> {
    let mut v = vec![LOCAL.to_string()];
    v.extend((0..rs.allow_lists.len()).map(|i| format!("DOCKWARD-ALLOW-{i}")));
    if forward {
        v.extend([ISO.to_string(), PUB.to_string(), FWD.to_string()]);
    }
    if input {
        v.push(IN6.to_string());
    }
    v
}

/// The scripts for `rs`, given the filter table's listings in `iptables -S`
/// form (from [`from_save`]).
pub fn render(rs: &Ruleset, listing_v4: &str, listing_v6: &str) -> Scripts {
    let mut v4 = String::new();
    header(&mut v4, &chains(rs, true, false), listing_v4);
    forward_rules(&mut v4, rs, false);
    forward_chain(&mut v4, rs, false);
    if !has_jump(listing_v4, "DOCKER-USER", FWD) {
        let _ = writeln!(v4, "-I DOCKER-USER 1 -j {FWD}");
    }
    v4.push_str("COMMIT\n");

    // IPv6 forwarding: from DOCKER-USER where Docker manages ip6tables, as
    // on IPv4; where it does not (`ip6tables: false`, Docker's default
    // before 27), IPv6 to a container is plainly routed with no rule of
    // Docker's at all, so dockward's chain is entered from FORWARD itself
    // and drops it as the nftables table does (direct routing).
    let from6 = forward_entry6(listing_v6);
    let mut v6 = String::new();
    header(&mut v6, &chains(rs, true, true), listing_v6);
    forward_rules(&mut v6, rs, true);
    forward_chain(&mut v6, rs, true);
    if !has_jump(listing_v6, from6, FWD) {
        let _ = writeln!(v6, "-I {from6} 1 -j {FWD}");
    }
    let _ = writeln!(v6, "-A {IN6} -i lo -j RETURN");
    for ((proto, port), v) in &rs.proxy6 {
        let _ = writeln!(
            v6,
            "-A {IN6} -p {proto} -m {proto} --dport {port} {}",
            target(v)
        );
    }
    if !has_jump(listing_v6, "INPUT", IN6) {
        let _ = writeln!(v6, "-I INPUT 1 -j {IN6}");
    }
    v6.push_str("COMMIT\n");
    Scripts { v4, v6 }
}

/// Where IPv6 forwarding enters dockward's chain (see [`render`]).
fn forward_entry6(listing_v6: &str) -> &'static str {
    if has_chain(listing_v6, "DOCKER-USER") {
        "DOCKER-USER"
    } else {
        "FORWARD"
    }
}

/// Takes dockward's jumps and chains out; everything else stays.
pub fn remove(listing_v4: &str, listing_v6: &str) -> Scripts {
    let one = |listing: &str, jumps: &[(&str, &str)]| {
        let mut s = String::from("*filter\n");
        for (from, to) in jumps {
            if has_jump(listing, from, to) {
                let _ = writeln!(s, "-D {from} -j {to}");
            }
        }
        let ours = existing(listing);
        for c in &ours {
            let _ = writeln!(s, "-F {c}");
        }
        for c in &ours {
            let _ = writeln!(s, "-X {c}");
        }
        s.push_str("COMMIT\n");
        s
    };
    Scripts {
        v4: one(listing_v4, &[("DOCKER-USER", FWD)]),
        v6: one(
            listing_v6,
            &[("DOCKER-USER", FWD), ("FORWARD", FWD), ("INPUT", IN6)],
        ),
    }
}

/// Whether dockward's iptables rules are in place (its IPv4 jump).
pub fn installed(listing_v4: &str) -> bool {
    has_jump(listing_v4, "DOCKER-USER", FWD)
}

/// Why the iptables backend cannot work with this dockerd, if it cannot:
/// Docker's own nftables firewall backend (Docker 29's `firewall-backend:
/// nftables`, reported as `FirewallBackend.Driver` since API 1.48) creates
/// no `DOCKER-USER` chain to enter dockward's chains from.
pub fn unusable(docker_firewall_backend: Option<&str>) -> Option<String> {
    match docker_firewall_backend {
        Some(d) if d.starts_with("nftables") => Some(format!(
            "dockerd's firewall backend is {d}, which has no DOCKER-USER chain: use --backend nft (or auto)"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockward_model::Protocol;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn rs() -> Ruleset {
        let mut r = Ruleset {
            fallback: Verdict::LocalOnly,
            ..Ruleset::default()
        };
        r.bridges.insert("docker0".into());
        r.bridges.insert("br-1\";x".into());
        r.isolated.insert("br-1".into());
        r.allow4
            .insert((Ipv4Addr::new(172, 18, 0, 2), Ipv4Addr::new(172, 18, 0, 3)));
        r.pub4.insert(
            (Ipv4Addr::new(172, 17, 0, 2), Protocol::Tcp, 80),
            Verdict::Accept,
        );
        r.pub4.insert(
            (Ipv4Addr::new(172, 17, 0, 3), Protocol::Udp, 53),
            Verdict::Allow(0),
        );
        r.pub6
            .insert((Ipv6Addr::LOCALHOST, Protocol::Tcp, 80), Verdict::Drop);
        r.proxy6.insert((Protocol::Tcp, 8080), Verdict::LocalOnly);
        r.allow_lists.push(vec![
            "192.0.2.0/24".parse().unwrap(),
            "2001:db8::/32".parse().unwrap(),
        ]);
        r
    }

    #[test]
    fn golden_v4_and_v6() {
        let s = render(
            &rs(),
            "-P FORWARD DROP\n-N DOCKER-USER\n-A DOCKER-USER -j RETURN\n-N DOCKWARD-ALLOW-7\n",
            "-P INPUT ACCEPT\n",
        );
        insta::assert_snapshot!("ipt_v4", s.v4);
        insta::assert_snapshot!("ipt_v6", s.v6);
        // Interface names are quoted exactly; the jump is inserted once; a
        // stale chain is flushed and deleted.
        assert!(s
            .v4
            .contains("-A DOCKWARD-LOCAL -i \"br-1\\\";x\" -j RETURN"));
        assert!(s.v4.contains("-I DOCKER-USER 1 -j DOCKWARD-FWD"));
        assert!(s.v4.contains("-X DOCKWARD-ALLOW-7"));
        // No DOCKER-USER in ip6tables: IPv6 forwarding enters from FORWARD
        // (direct routing closed as on nftables), docker-proxy from INPUT.
        assert!(
            s.v6.contains("-I FORWARD 1 -j DOCKWARD-FWD")
                && s.v6.contains("-I INPUT 1 -j DOCKWARD-IN6")
        );
        assert!(
            s.v6.contains("-A DOCKWARD-ALLOW-0 -s 2001:db8::/32 -j RETURN")
                && !s.v6.contains("192.0.2.0")
        );
    }

    #[test]
    fn a_trailing_plus_is_a_wildcard_so_it_only_ever_closes() {
        let mut r = rs();
        r.bridges.insert("br-w+".into());
        r.foreign_bridges.insert("br-lan".into());
        r.foreign_bridges.insert("br-v+".into());
        let s = render(&r, "-N DOCKER-USER\n", "").v4;
        assert!(!s.contains("-i \"br-w+\" -j RETURN"), "{s}");
        assert!(s.contains("-o \"br-w+\" -m conntrack --ctstate INVALID,NEW -j DROP"));
        assert!(s.contains("-A DOCKWARD-FWD -o \"br-lan\" -j RETURN"));
        assert!(!s.contains("br-v+"), "{s}");
        // The drop for Docker's bridges to come is last.
        let drop = s
            .find("-o br-+ -m conntrack --ctstate INVALID,NEW -j DROP")
            .unwrap();
        assert!(s.find("\"br-lan\" -j RETURN").unwrap() < drop, "{s}");
    }

    #[test]
    fn reapply_does_not_stack_jumps_and_remove_takes_only_ours() {
        let listing = "-N DOCKER-USER\n-N DOCKWARD-FWD\n-N DOCKWARD-PUB\n-A DOCKER-USER -j DOCKWARD-FWD\n-A DOCKER-USER -j RETURN\n";
        let s = render(&rs(), listing, "");
        assert!(!s.v4.contains("-I DOCKER-USER"));
        let r = remove(listing, "-N DOCKWARD-IN6\n-A INPUT -j DOCKWARD-IN6\n");
        assert_eq!(r.v4, "*filter\n-D DOCKER-USER -j DOCKWARD-FWD\n-F DOCKWARD-FWD\n-F DOCKWARD-PUB\n-X DOCKWARD-FWD\n-X DOCKWARD-PUB\nCOMMIT\n");
        assert!(r.v6.contains("-D INPUT -j DOCKWARD-IN6") && r.v6.contains("-X DOCKWARD-IN6"));
        assert!(installed(listing));
    }

    #[test]
    fn the_kernel_accepts_the_scripts() {
        // iptables-restore --test parses and checks without committing.
        if std::process::Command::new("iptables-restore")
            .arg("--version")
            .output()
            .is_err()
        {
            return;
        }
        use std::io::Write as _;
        let s = render(&rs(), "-N DOCKER-USER\n", "-N DOCKER-USER\n");
        for (prog, script) in [("iptables-restore", &s.v4), ("ip6tables-restore", &s.v6)] {
            // The test creates DOCKER-USER only inside the checked script.
            let text = script.replacen("*filter\n", "*filter\n:DOCKER-USER - [0:0]\n", 1);
            let mut c = std::process::Command::new(prog)
                .args(["--test", "--noflush"])
                .stdin(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            c.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
            let o = c.wait_with_output().unwrap();
            assert!(
                o.status.success(),
                "{prog}: {}\n{text}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }

    /// What `iptables-save -c` prints after restoring `script`: the `-A`
    /// lines with counters, plus the jump `-I` inserted.
    fn saved(script: &str) -> String {
        script
            .lines()
            .filter_map(|l| {
                if let Some(r) = l.strip_prefix("-I DOCKER-USER 1 ") {
                    return Some(format!("[0:0] -A DOCKER-USER {r}"));
                }
                l.starts_with("-A ").then(|| format!("[3:180] {l}"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn saved_rules_read_back_without_drift() {
        let r = rs();
        let s = render(&r, "-N DOCKER-USER\n", "-N DOCKER-USER\n");
        let st = kernel_state(&saved(&s.v4), &saved(&s.v6)).expect("installed");
        assert_eq!(st.drift(&r), None, "{st:?}");
        let v6_declared = format!(":DOCKER-USER - [0:0]\n{}", saved(&s.v6));
        assert_eq!(drift(&r, &saved(&s.v4), &v6_declared), None);
        // The guard lives in nftables: a ruleset with one has no drift here.
        let mut guarded = r.clone();
        guarded.proxy_cgroup = Some(crate::cgroup::ProxyCgroup {
            level: 1,
            path: "docker".into(),
            daemon_ports: vec![],
        });
        assert_eq!(drift(&guarded, &saved(&s.v4), &v6_declared), None);
        // Without Docker's ip6tables there are no IPv6 forward rules to find.
        let s4only = render(&r, "-N DOCKER-USER\n", "");
        assert_eq!(drift(&r, &saved(&s4only.v4), &saved(&s4only.v6)), None);
        assert_eq!(st.pub4.values().next().unwrap().counter.packets, 3);
        assert_eq!(st.allow_lists.get(&0).map(Vec::len), Some(2));
        // A rule gone, or a verdict changed, is drift.
        let less = saved(&s.v4).replace(
            "[3:180] -A DOCKWARD-PUB -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j RETURN\n",
            "",
        );
        assert!(kernel_state(&less, &saved(&s.v6))
            .unwrap()
            .drift(&r)
            .is_some());
        let opened = saved(&s.v4).replace("--dport 53 -g DOCKWARD-ALLOW-0", "--dport 53 -j RETURN");
        assert!(kernel_state(&opened, &saved(&s.v6))
            .unwrap()
            .drift(&r)
            .is_some());
        // No jump: not installed.
        let unjumped = saved(&s.v4).replace("-A DOCKER-USER -j DOCKWARD-FWD", "");
        assert!(kernel_state(&unjumped, "").is_none());
    }

    #[test]
    fn docker_on_nftables_rules_out_the_iptables_backend() {
        assert!(unusable(Some("nftables"))
            .unwrap()
            .contains("--backend nft"));
        for ok in [None, Some("iptables"), Some("iptables+firewalld")] {
            assert_eq!(unusable(ok), None);
        }
    }

    #[test]
    fn a_save_reads_as_the_listing_and_counters_carry_over() {
        let save = "*filter\n:INPUT ACCEPT [1:2]\n:DOCKER-USER - [0:0]\n:DOCKWARD-PUB - [0:0]\n[0:0] -A DOCKER-USER -j DOCKWARD-FWD\n[7:420] -A DOCKWARD-PUB -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j RETURN\nCOMMIT\n";
        let (listing, counters) = from_save(save);
        assert!(installed(&listing));
        assert!(has_chain(&listing, "DOCKER-USER") && existing(&listing) == ["DOCKWARD-PUB"]);
        let s = render(&rs(), &listing, "");
        let counted = with_counters(&s.v4, &counters);
        assert!(counted.contains(
            "[7:420] -A DOCKWARD-PUB -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j RETURN\n"
        ));
        assert_eq!(
            counted.lines().filter(|l| l.starts_with('[')).count(),
            1,
            "{counted}"
        );
    }
}
