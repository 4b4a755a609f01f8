//! dockward's rules read back from `iptables-save`, as the same
//! [`KernelState`] the nftables table gives, and their drift from what was
//! applied.

use super::names::{FWD, IN6, LOCAL, PUB};
use super::save::counted;
use crate::kernel::{Counter, Entry, KernelState};
use crate::ruleset::{Ruleset, Verdict};
use dockward_model::Protocol;
use ipnet::IpNet;
use std::net::{Ipv4Addr, Ipv6Addr};

/// dockward's rules as `iptables-save -c -t filter` and `ip6tables-save
/// -c -t filter` print them, read back into the same [`KernelState`] the
/// nftables table gives: what `status` shows (verdicts and packet counters)
/// and what `watch` compares with what it applied. `None` when dockward's
/// IPv4 jump is not there (not installed, or flushed by someone else).
///
/// Fields are read by flag, not by comparing whole lines, so iptables'
/// own normalisation of a rule cannot look like drift.
pub fn kernel_state(save_v4: &str, save_v6: &str) -> Option<KernelState> {
    let mut st = KernelState::default();
    let mut jump = false;
    for (v6, text) in [(false, save_v4), (true, save_v6)] {
        for line in text.lines() {
            let (c, rule) = counted(line);
            let counter = c.map(parse_counter).unwrap_or_default();
            let f: Vec<&str> = rule.split_whitespace().collect();
            let [flag, chain, rest @ ..] = f.as_slice() else {
                continue;
            };
            if *flag != "-A" {
                continue;
            }
            if !v6 && *chain == "DOCKER-USER" && rest == ["-j", FWD] {
                jump = true;
            }
            let verdict = rule_target(rest);
            match *chain {
                PUB if !rest.contains(&"--ctorigdst") => {
                    let Some(verdict) = verdict else { continue };
                    let dst = value(rest, "-d");
                    let (proto, port) = (
                        value(rest, "-p").and_then(Protocol::parse),
                        value(rest, "--dport").and_then(|p| p.parse::<u16>().ok()),
                    );
                    let entry = Entry { verdict, counter };
                    match (dst, proto, port) {
                        (None, None, None) if !v6 => st.fallback = Some(entry.verdict),
                        (Some(d), Some(p), Some(n)) => {
                            let addr = d.split('/').next().unwrap_or(d);
                            if let Ok(a) = addr.parse::<Ipv4Addr>() {
                                st.pub4.insert((a, p, n), entry);
                            } else if let Ok(a) = addr.parse::<Ipv6Addr>() {
                                st.pub6.insert((a, p, n), entry);
                            }
                        }
                        _ => {}
                    }
                }
                IN6 if v6 => {
                    let (Some(verdict), Some(p), Some(n)) = (
                        verdict,
                        value(rest, "-p").and_then(Protocol::parse),
                        value(rest, "--dport").and_then(|p| p.parse::<u16>().ok()),
                    ) else {
                        continue;
                    };
                    st.proxy6.insert((p, n), Entry { verdict, counter });
                }
                c => {
                    let Some(i) = c
                        .strip_prefix("DOCKWARD-ALLOW-")
                        .and_then(|i| i.parse::<usize>().ok())
                    else {
                        continue;
                    };
                    let list = st.allow_lists.entry(i).or_default();
                    if let Some(net) = value(rest, "-s").and_then(|n| n.parse::<IpNet>().ok()) {
                        list.push(net);
                        list.sort();
                    }
                }
            }
        }
    }
    jump.then_some(st)
}

/// Why dockward's iptables rules differ from `want`, if they do (as
/// [`KernelState::drift`]). IPv6 forwarding rules exist only where Docker
/// manages ip6tables (see [`render`]), so `pub6` counts only there.
pub fn drift(want: &Ruleset, save_v4: &str, save_v6: &str) -> Option<String> {
    let Some(st) = kernel_state(save_v4, save_v6) else {
        return Some("dockward's jump from DOCKER-USER is gone".into());
    };
    // The docker-proxy guard is nftables' even on this backend (its own
    // table, which the caller reads and fingerprints): not in these saves.
    let mut want = want.clone();
    want.proxy_cgroup = None;
    st.drift(&want)
}

fn parse_counter(c: &str) -> Counter {
    let (p, b) = c.split_once(':').unwrap_or((c, "0"));
    Counter {
        packets: p.parse().unwrap_or(0),
        bytes: b.parse().unwrap_or(0),
    }
}

/// The value after `flag` in a rule's fields.
fn value<'a>(fields: &[&'a str], flag: &str) -> Option<&'a str> {
    fields
        .iter()
        .position(|f| *f == flag)
        .and_then(|i| fields.get(i + 1))
        .copied()
}

/// The verdict of a rule from its `-j`/`-g` target, as [`target`] writes it.
fn rule_target(fields: &[&str]) -> Option<Verdict> {
    if let Some(t) = value(fields, "-g") {
        if t == LOCAL {
            return Some(Verdict::LocalOnly);
        }
        return t
            .strip_prefix("DOCKWARD-ALLOW-")?
            .parse()
            .ok()
            .map(Verdict::Allow);
    }
    match value(fields, "-j")? {
        "RETURN" => Some(Verdict::Accept),
        "DROP" => Some(Verdict::Drop),
        _ => None,
    }
}
