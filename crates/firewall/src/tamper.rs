//! Has anyone but dockward changed dockward's rules?
//!
//! `KernelState::drift` compares what the verdicts mean (the port maps, the
//! fallback, the guard), which is not all a third party can take away: a
//! flushed `forward` or `local_only` chain, an emptied `bridges` set or a
//! flushed `DOCKWARD-FWD` leaves every map intact and every port open. So
//! `watch` also keeps a fingerprint of the whole of its rules as the kernel
//! listed them right after its own last change (every table, chain, set,
//! map, element and rule, and on iptables the jumps into its chains), and
//! any difference is tampering. Counters and handles are left out: they
//! change with traffic and with every re-load, not with meaning; so are
//! the elements of the port maps (`pub4`, `pub6`, `proxy4`, `proxy6`),
//! which `drift` compares one by one with the verdicts. A container start
//! changes only those, so it needs no new fingerprint
//! ([`same_fingerprint`]), and `watch` lists its table once per event, not
//! twice.
//!
//! The trigger is the kernel's own change notification (`nft monitor`,
//! which nf_tables sends for every committed generation, iptables-nft's
//! included); [`relevant`] picks the lines that can concern dockward so
//! that Docker's own rule churn costs nothing. Hosts on iptables-legacy
//! have no such events; there the periodic check remains the trigger.

use crate::Ruleset;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The last change to dockward's rules that `watch` did not make, and
/// repaired (kept for `status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tamper {
    /// When it was repaired (seconds since the Unix epoch).
    pub at: u64,
    /// What differed.
    pub what: String,
    /// From the kernel's notice (or the periodic check) to the rules back.
    pub repaired_in_ms: f64,
}

/// The maps whose elements [`crate::KernelState::drift`] compares.
const PORT_MAPS: [&str; 4] = ["pub4", "pub6", "proxy4", "proxy6"];

/// The fingerprint of `nft -j list table inet dockward`.
pub fn nft_fingerprint(listing: &Value) -> String {
    let mut v = listing.clone();
    if let Some(items) = v.get_mut("nftables").and_then(Value::as_array_mut) {
        items.retain(|i| i.get("metainfo").is_none());
        for i in items.iter_mut() {
            if let Some(m) = i.get_mut("map").and_then(Value::as_object_mut) {
                if m.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| PORT_MAPS.contains(&n))
                {
                    m.remove("elem");
                }
            }
        }
    }
    normalize(&mut v);
    v.to_string()
}

fn normalize(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("handle");
            if let Some(c) = m.get_mut("counter") {
                if c.is_object() {
                    *c = Value::Null;
                }
            }
            for (_, x) in m.iter_mut() {
                normalize(x);
            }
            // A set's elements come back in hash order.
            if let Some(Value::Array(e)) = m.get_mut("elem") {
                e.sort_by_key(|x| x.to_string());
            }
        }
        Value::Array(a) => a.iter_mut().for_each(normalize),
        _ => {}
    }
}

/// Would the nft fingerprint of `new` equal that of `old`? Yes when they
/// differ only in the port maps' elements.
pub fn same_fingerprint(old: &Ruleset, new: &Ruleset) -> bool {
    old.same_shape(new)
        && old.bridges == new.bridges
        && old.bridge_index == new.bridge_index
        && old.foreign_bridges == new.foreign_bridges
        && old.foreign_ports == new.foreign_ports
        && old.isolated == new.isolated
        && old.allow4 == new.allow4
        && old.allow6 == new.allow6
        && old.allow_lists == new.allow_lists
        && old.ports == new.ports
        && old.iso_proxy4 == new.iso_proxy4
        && old.iso_allow4 == new.iso_allow4
        && old.iso_proxy6 == new.iso_proxy6
        && old.iso_allow6 == new.iso_allow6
        && old.gateways == new.gateways
}

/// The fingerprint of dockward's iptables rules in two `iptables-save -c`
/// outputs: its chains, their rules and every rule that jumps into them,
/// without counters.
pub fn ipt_fingerprint(save_v4: &str, save_v6: &str) -> String {
    let mut out = String::new();
    for (family, save) in [("4", save_v4), ("6", save_v6)] {
        let mut table = "";
        for line in save.lines() {
            if let Some(t) = line.strip_prefix('*') {
                table = t;
                continue;
            }
            let line = strip_counters(line);
            if line.contains("DOCKWARD-") {
                out.push_str(family);
                out.push(' ');
                out.push_str(table);
                out.push(' ');
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    out
}

/// `[p:b] -A …` → `-A …`; `:CHAIN POLICY [p:b]` → `:CHAIN POLICY`.
fn strip_counters(line: &str) -> String {
    let line = match line.strip_prefix('[') {
        Some(rest) => rest.split_once("] ").map_or(line, |(_, r)| r),
        None => line,
    };
    if line.starts_with(':') {
        if let Some((head, _)) = line.rsplit_once(" [") {
            return head.to_string();
        }
    }
    line.to_string()
}

/// Which kernel backend a monitor line is read for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    Nft,
    Iptables,
}

/// Can this `nft monitor` line be a change to dockward's rules? Set
/// flushes are announced without their table ("W: Received event for an
/// unknown set"), so warnings count. dockward's own tables (`inet`, which
/// on the iptables backend holds the docker-proxy guard, and `bridge`) are
/// watched on both backends; on iptables-nft its chains also live in the
/// `filter` tables, entered from `DOCKER-USER`, `FORWARD` and `INPUT`.
pub fn relevant(line: &str, watched: Watched) -> bool {
    if line.starts_with("W:")
        || line.contains(" inet dockward")
        || line.contains(" bridge dockward")
    {
        return true;
    }
    match watched {
        Watched::Nft => false,
        Watched::Iptables => {
            (line.contains(" ip filter ") || line.contains(" ip6 filter "))
                && ["DOCKWARD-", "DOCKER-USER", "INPUT", "FORWARD"]
                    .iter()
                    .any(|c| line.contains(c))
                || line.contains("delete table ip filter")
                || line.contains("delete table ip6 filter")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counters_handles_and_element_order_do_not_count() {
        let a = json!({"nftables": [
            {"metainfo": {"version": "1.0.6"}},
            {"set": {"name": "bridges", "handle": 3, "elem": ["docker0", "br-1"]}},
            {"rule": {"chain": "forward", "handle": 9, "expr": [{"counter": {"packets": 5, "bytes": 300}}, {"drop": null}]}}
        ]});
        let b = json!({"nftables": [
            {"metainfo": {"version": "1.0.7"}},
            {"set": {"name": "bridges", "handle": 4, "elem": ["br-1", "docker0"]}},
            {"rule": {"chain": "forward", "handle": 12, "expr": [{"counter": {"packets": 0, "bytes": 0}}, {"drop": null}]}}
        ]});
        assert_eq!(nft_fingerprint(&a), nft_fingerprint(&b));
        // An emptied set or a flushed chain is a difference.
        let emptied = json!({"nftables": [
            {"set": {"name": "bridges", "handle": 3}},
            {"rule": {"chain": "forward", "handle": 9, "expr": [{"counter": {"packets": 5, "bytes": 300}}, {"drop": null}]}}
        ]});
        assert_ne!(nft_fingerprint(&a), nft_fingerprint(&emptied));
        let flushed = json!({"nftables": [
            {"set": {"name": "bridges", "handle": 3, "elem": ["docker0", "br-1"]}}
        ]});
        assert_ne!(nft_fingerprint(&a), nft_fingerprint(&flushed));
        // The port maps' elements are drift's to compare, not the
        // fingerprint's.
        let with_map = |e: Value| json!({"nftables": [{"map": {"name": "pub4", "elem": e}}]});
        assert_eq!(
            nft_fingerprint(&with_map(json!([1]))),
            nft_fingerprint(&with_map(json!([2])))
        );
        let allow = |e: Value| json!({"nftables": [{"set": {"name": "allow4", "elem": e}}]});
        assert_ne!(
            nft_fingerprint(&allow(json!([1]))),
            nft_fingerprint(&allow(json!([2])))
        );
    }

    #[test]
    fn a_port_change_keeps_the_fingerprint_an_allow_pair_does_not() {
        let old = Ruleset::default();
        let mut new = old.clone();
        new.pub4.insert(
            (
                "172.17.0.2".parse().unwrap(),
                dockward_model::Protocol::Tcp,
                80,
            ),
            crate::Verdict::Accept,
        );
        assert!(same_fingerprint(&old, &new));
        new.allow4
            .insert(("172.17.0.3".parse().unwrap(), "172.17.0.2".parse().unwrap()));
        assert!(!same_fingerprint(&old, &new));
    }

    #[test]
    fn iptables_fingerprint_keeps_chains_rules_and_jumps() {
        let save = "*filter\n:INPUT ACCEPT [10:600]\n:DOCKWARD-FWD - [0:0]\n[3:180] -A DOCKER-USER -j DOCKWARD-FWD\n[0:0] -A DOCKWARD-FWD -o docker0 -m conntrack --ctstate INVALID,NEW -j DROP\n[9:9] -A FORWARD -j DOCKER-USER\nCOMMIT\n";
        let fp = ipt_fingerprint(save, "");
        assert_eq!(
            fp,
            "4 filter :DOCKWARD-FWD -\n4 filter -A DOCKER-USER -j DOCKWARD-FWD\n4 filter -A DOCKWARD-FWD -o docker0 -m conntrack --ctstate INVALID,NEW -j DROP\n"
        );
        let recounted = save
            .replace("[3:180]", "[4:240]")
            .replace("[0:0] -A", "[7:1] -A");
        assert_eq!(ipt_fingerprint(&recounted, ""), fp);
        let no_jump = save.replace("[3:180] -A DOCKER-USER -j DOCKWARD-FWD\n", "");
        assert_ne!(ipt_fingerprint(&no_jump, ""), fp);
    }

    #[test]
    fn monitor_lines_that_concern_dockward() {
        assert!(relevant(
            "delete rule inet dockward forward handle 7",
            Watched::Nft
        ));
        assert!(relevant(
            "W: Received event for an unknown set.",
            Watched::Nft
        ));
        assert!(relevant("delete table inet dockward", Watched::Nft));
        assert!(!relevant(
            "add rule ip filter DOCKER ip daddr 172.17.0.2 accept",
            Watched::Nft
        ));
        assert!(!relevant(
            "# new generation 12 by process 9 (nft)",
            Watched::Nft
        ));
        assert!(relevant(
            "delete rule ip filter DOCKER-USER handle 12",
            Watched::Iptables
        ));
        assert!(relevant(
            "delete rule ip6 filter INPUT handle 3",
            Watched::Iptables
        ));
        assert!(relevant(
            "flush chain ip filter DOCKWARD-FWD",
            Watched::Iptables
        ));
        assert!(!relevant(
            "add rule ip nat DOCKER tcp dport 8080 dnat to 172.17.0.2:80",
            Watched::Iptables
        ));
        // dockward's own tables on both backends: the bridge binding, and
        // on iptables the docker-proxy guard's inet table.
        for w in [Watched::Nft, Watched::Iptables] {
            assert!(relevant("flush chain inet dockward input", w));
            assert!(relevant("delete element bridge dockward port4 { }", w));
        }
    }
}
