//! What is actually in force: dockward's table as the kernel reports it
//! (`nft -j list table inet dockward`), parsed into plain data.
//!
//! `status` shows verdicts from here rather than from the policy, so it
//! reports the firewall that filters packets, not the one we meant to
//! install; `watch` compares it with the ruleset it applied to notice a
//! foreign `nft flush ruleset` or a deleted element, and re-asserts.

use crate::ruleset::{Ruleset, Verdict};
use dockward_model::Protocol;
use ipnet::IpNet;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Packets and bytes that matched one map element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counter {
    pub packets: u64,
    pub bytes: u64,
}

/// One map element's verdict and counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub verdict: Verdict,
    pub counter: Counter,
}

/// dockward's table, as in the kernel.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KernelState {
    pub pub4: BTreeMap<(Ipv4Addr, Protocol, u16), Entry>,
    pub pub6: BTreeMap<(Ipv6Addr, Protocol, u16), Entry>,
    pub proxy6: BTreeMap<(Protocol, u16), Entry>,
    pub proxy4: BTreeMap<(Protocol, u16), Entry>,
    /// `allow_<i>` source lists (IPv4 and IPv6 together).
    pub allow_lists: BTreeMap<usize, Vec<IpNet>>,
    /// The verdict for a published port without an entry.
    pub fallback: Option<Verdict>,
    /// The cgroup path of the docker-proxy guard in `input`, if any (nft's
    /// JSON leaves the level out).
    pub proxy_guard: Option<String>,
    /// A Swarm node's cluster ports answer its nodes only (the
    /// `cluster_peers` sets are in the table).
    pub cluster_closed: bool,
}

impl KernelState {
    /// Parse `nft -j list table inet <table>`; malformed parts are skipped
    /// (the caller treats a missing entry as "not as applied").
    pub fn parse(json: &Value) -> Self {
        let mut st = Self::default();
        let Some(items) = json.get("nftables").and_then(Value::as_array) else {
            return st;
        };
        for item in items {
            if let Some(set) = item.get("set") {
                let name = set.get("name").and_then(Value::as_str).unwrap_or("");
                if name.starts_with("cluster_peers") {
                    st.cluster_closed = true;
                }
            }
            if let Some(map) = item.get("map") {
                let name = map.get("name").and_then(Value::as_str).unwrap_or("");
                for (key, entry) in map_elems(map) {
                    match (name, key.as_slice()) {
                        ("pub4", [a, p, port]) => {
                            if let Some(k) = key3(a, p, port) {
                                st.pub4.insert(k, entry);
                            }
                        }
                        ("pub6", [a, p, port]) => {
                            if let Some(k) = key3(a, p, port) {
                                st.pub6.insert(k, entry);
                            }
                        }
                        ("proxy6", [p, port]) => {
                            if let (Some(p), Some(port)) = (proto(p), as_port(port)) {
                                st.proxy6.insert((p, port), entry);
                            }
                        }
                        ("proxy4", [p, port]) => {
                            if let (Some(p), Some(port)) = (proto(p), as_port(port)) {
                                st.proxy4.insert((p, port), entry);
                            }
                        }
                        _ => {}
                    }
                }
            } else if let Some(set) = item.get("set") {
                let name = set.get("name").and_then(Value::as_str).unwrap_or("");
                let Some(i) = name
                    .strip_prefix("allow_")
                    .and_then(|r| r.strip_suffix("_v4").or_else(|| r.strip_suffix("_v6")))
                    .and_then(|i| i.parse::<usize>().ok())
                else {
                    continue;
                };
                let list = st.allow_lists.entry(i).or_default();
                for e in set
                    .get("elem")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(n) = prefix(e) {
                        list.push(n);
                    }
                }
                list.sort();
            } else if let Some(rule) = item.get("rule") {
                if rule.get("chain").and_then(Value::as_str) == Some("input") {
                    if let Some(path) = rule
                        .get("expr")
                        .and_then(Value::as_array)
                        .and_then(|e| e.iter().find_map(cgroup_match))
                    {
                        st.proxy_guard = Some(path);
                    }
                }
                if rule.get("chain").and_then(Value::as_str) == Some("published") {
                    // The last rule of `published` is the fallback.
                    if let Some(v) = rule
                        .get("expr")
                        .and_then(Value::as_array)
                        .and_then(|e| e.iter().rev().find_map(verdict))
                    {
                        st.fallback = Some(v);
                    }
                }
            }
        }
        st
    }

    /// The decisive parts as a [`Ruleset`] (what was applied before), for
    /// deciding which connections a change must cut.
    pub fn as_ruleset(&self) -> Ruleset {
        let n = self.allow_lists.keys().next_back().map_or(0, |i| i + 1);
        Ruleset {
            pub4: self
                .pub4
                .iter()
                .map(|(k, e)| (*k, e.verdict.clone()))
                .collect(),
            pub6: self
                .pub6
                .iter()
                .map(|(k, e)| (*k, e.verdict.clone()))
                .collect(),
            proxy6: self
                .proxy6
                .iter()
                .map(|(k, e)| (*k, e.verdict.clone()))
                .collect(),
            proxy4: self
                .proxy4
                .iter()
                .map(|(k, e)| (*k, e.verdict.clone()))
                .collect(),
            allow_lists: (0..n)
                .map(|i| self.allow_lists.get(&i).cloned().unwrap_or_default())
                .collect(),
            fallback: self.fallback.clone().unwrap_or_default(),
            ..Ruleset::default()
        }
    }

    /// Why the kernel's table differs from `expected`, if it does. Only the
    /// parts that decide packets are compared; counters are ignored.
    pub fn drift(&self, expected: &Ruleset) -> Option<String> {
        fn cmp<K: Ord + Clone + std::fmt::Debug>(
            name: &str,
            got: &BTreeMap<K, Entry>,
            want: &BTreeMap<K, Verdict>,
        ) -> Option<String> {
            if got.len() != want.len() {
                return Some(format!(
                    "{name} has {} entries, expected {}",
                    got.len(),
                    want.len()
                ));
            }
            for (k, v) in want {
                match got.get(k) {
                    Some(e) if e.verdict == *v => {}
                    Some(e) => {
                        return Some(format!("{name} {k:?} is {:?}, expected {v:?}", e.verdict))
                    }
                    None => return Some(format!("{name} {k:?} is missing")),
                }
            }
            None
        }
        if self.fallback.as_ref() != Some(&expected.fallback) {
            return Some("the published chain is missing or changed".into());
        }
        if self.proxy_guard.as_deref() != expected.proxy_cgroup.as_ref().map(|g| g.path.as_str()) {
            return Some("the docker-proxy guard is missing or changed".into());
        }
        cmp("pub4", &self.pub4, &expected.pub4)
            .or_else(|| cmp("pub6", &self.pub6, &expected.pub6))
            .or_else(|| cmp("proxy6", &self.proxy6, &expected.proxy6))
            .or_else(|| {
                // proxy4 is only in force with the guard (iptables has none).
                if expected.proxy_cgroup.is_some() {
                    cmp("proxy4", &self.proxy4, &expected.proxy4)
                } else {
                    None
                }
            })
    }
}

/// The path of a `socket cgroupv2 … "path"` match.
fn cgroup_match(e: &Value) -> Option<String> {
    let m = e.get("match")?;
    if m.get("left")?.get("socket")?.get("key")?.as_str()? != "cgroupv2" {
        return None;
    }
    m.get("right")?.as_str().map(str::to_string)
}

/// (address, protocol, port) of a `pub4`/`pub6` element.
fn key3<A: std::str::FromStr>(a: &Value, p: &Value, port: &Value) -> Option<(A, Protocol, u16)> {
    Some((a.as_str()?.parse().ok()?, proto(p)?, as_port(port)?))
}

fn as_port(v: &Value) -> Option<u16> {
    v.as_u64().and_then(|p| u16::try_from(p).ok())
}

fn proto(v: &Value) -> Option<Protocol> {
    v.as_str().and_then(Protocol::parse)
}

fn prefix(e: &Value) -> Option<IpNet> {
    if let Some(s) = e.as_str() {
        return s.parse::<IpAddr>().ok().map(IpNet::from);
    }
    let p = e.get("prefix")?;
    let addr: IpAddr = p.get("addr")?.as_str()?.parse().ok()?;
    let len = u8::try_from(p.get("len")?.as_u64()?).ok()?;
    IpNet::new(addr, len).ok()
}

/// A JSON verdict (`{"accept": null}`, `{"goto": {"target": "allow_1"}}`).
fn verdict(v: &Value) -> Option<Verdict> {
    let o = v.as_object()?;
    if o.contains_key("accept") {
        return Some(Verdict::Accept);
    }
    if o.contains_key("drop") {
        return Some(Verdict::Drop);
    }
    let target = o
        .get("goto")
        .or_else(|| o.get("jump"))?
        .get("target")?
        .as_str()?;
    if target == "local_only" {
        return Some(Verdict::LocalOnly);
    }
    target
        .strip_prefix("allow_")?
        .parse()
        .ok()
        .map(Verdict::Allow)
}

/// (key parts, entry) of every element of a verdict map.
fn map_elems(map: &Value) -> Vec<(Vec<Value>, Entry)> {
    let mut out = Vec::new();
    for pair in map
        .get("elem")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some([k, v]) = pair.as_array().map(Vec::as_slice) else {
            continue;
        };
        let Some(v) = verdict(v) else { continue };
        let (val, counter) = match k.get("elem") {
            Some(e) => (e.get("val").unwrap_or(&Value::Null), e.get("counter")),
            None => (k, None),
        };
        let parts = match val.get("concat").and_then(Value::as_array) {
            Some(c) => c.clone(),
            None => vec![val.clone()],
        };
        let counter = counter
            .map(|c| Counter {
                packets: c.get("packets").and_then(Value::as_u64).unwrap_or(0),
                bytes: c.get("bytes").and_then(Value::as_u64).unwrap_or(0),
            })
            .unwrap_or_default();
        out.push((
            parts,
            Entry {
                verdict: v,
                counter,
            },
        ));
    }
    out
}
