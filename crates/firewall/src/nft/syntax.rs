//! Pieces of nft's text syntax shared by the `inet` and `bridge` tables.

use crate::TABLE;
use std::fmt::Write;

pub(crate) fn elements(items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!("\n\t\telements = {{ {} }}", items.join(",\n\t\t\t     "))
    }
}

/// An interface name as nft's text syntax holds it, exactly, or `None`.
/// A quoted string there runs to the next `"` and has no escapes (nft's
/// scanner: `\"[^"]*\"`), so a backslash, `+`, `'` or `;` is literal and
/// only a `"` cannot be written; such names are matched by interface index
/// ([`Ruleset::bridge_index`]). Linux forbids `/`, `:`, whitespace and NUL.
pub(crate) fn quoted(s: &str) -> Option<String> {
    (!s.contains('"')).then(|| format!("\"{s}\""))
}

/// Delete elements that went away or changed (by key), add new or changed.
pub(crate) fn diff(s: &mut String, family: &str, name: &str, old: &[String], new: &[String]) {
    use std::collections::HashSet;
    let (o, n): (HashSet<&String>, HashSet<&String>) = (old.iter().collect(), new.iter().collect());
    let key = |e: &String| e.split(" : ").next().unwrap_or(e).to_string();
    let gone: Vec<String> = old.iter().filter(|e| !n.contains(e)).map(key).collect();
    let added: Vec<&str> = new
        .iter()
        .filter(|e| !o.contains(e))
        .map(String::as_str)
        .collect();
    if !gone.is_empty() {
        let _ = writeln!(
            s,
            "delete element {family} {TABLE} {name} {{ {} }}",
            gone.join(", ")
        );
    }
    if !added.is_empty() {
        let _ = writeln!(
            s,
            "add element {family} {TABLE} {name} {{ {} }}",
            added.join(", ")
        );
    }
}
