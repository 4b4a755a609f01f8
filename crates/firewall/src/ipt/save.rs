//! `iptables-save -c` dumps: as the `iptables -S` listing the renderer
//! reads, with the counters of dockward's rules carried over a re-render.

use std::fmt::Write;

/// A save line's `[packets:bytes]` prefix, if any, and the rule after it.
pub(crate) fn counted(line: &str) -> (Option<&str>, &str) {
    match line.strip_prefix('[').and_then(|r| r.split_once("] ")) {
        Some((c, rule)) => (Some(c), rule),
        None => (None, line),
    }
}

/// An `iptables-save -c -t filter` dump as the `iptables -S` listing that
/// [`render`] reads, plus the counters of dockward's rules by rule text, so
/// that a re-render carries them over ([`with_counters`]) instead of
/// starting `status`'s packet counts again at zero.
pub fn from_save(save: &str) -> (String, std::collections::HashMap<String, String>) {
    let mut listing = String::new();
    let mut counters = std::collections::HashMap::new();
    for line in save.lines() {
        if let Some(rest) = line.strip_prefix(':') {
            let mut f = rest.split_whitespace();
            let (Some(name), Some(policy)) = (f.next(), f.next()) else {
                continue;
            };
            if policy == "-" {
                let _ = writeln!(listing, "-N {name}");
            } else {
                let _ = writeln!(listing, "-P {name} {policy}");
            }
        } else {
            let (c, rule) = counted(line);
            if !rule.starts_with("-A ") {
                continue;
            }
            let _ = writeln!(listing, "{rule}");
            if let (Some(c), true) = (c, rule.starts_with("-A DOCKWARD-")) {
                counters
                    .entry(rule.to_string())
                    .or_insert_with(|| c.to_string());
            }
        }
    }
    (listing, counters)
}

/// `script` with the saved counters in front of each rule that was there
/// before (`[packets:bytes] -A …`, for `iptables-restore --counters`).
pub fn with_counters(script: &str, counters: &std::collections::HashMap<String, String>) -> String {
    let mut out = String::with_capacity(script.len());
    for line in script.lines() {
        if let Some(c) = counters.get(line) {
            let _ = write!(out, "[{c}] ");
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}
