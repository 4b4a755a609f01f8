//! `dockward firewall allow|deny|reset`: one edit of the policy file's
//! text, `(text, edit) -> text`.
//!
//! The file is the operator's: edited with `toml_edit`, which keeps
//! comments, key order and formatting, so only the entry the command
//! speaks for changes. The entry is a `[[container]]` table (a
//! `[[service]]` one for a Swarm service: its ports on every node, and
//! its tasks') whose `match` holds exactly one key, `name`; an entry with
//! a wider match is never touched, because it
//! speaks for other containers too. The policy file says later entries
//! win, so a new entry goes last. The result is parsed again with
//! [`super::parse_file`] before anyone writes it: an edit never produces
//! a file `apply` would refuse.

use super::expose::{parse_cidrs, parse_port_key};
use toml_edit::{value, Array, DocumentMut, InlineTable, Item, Table, Value};

/// What the entry selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A container by name.
    Name(String),
    /// A Swarm service by name.
    Service(String),
}

impl Target {
    /// The table its entries are in, and the name they match.
    fn table_name(&self) -> (&'static str, &str) {
        match self {
            Self::Name(n) => ("container", n),
            Self::Service(s) => ("service", s),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    /// Public, or local plus these sources.
    Allow(Vec<String>),
    Deny,
    /// Take the entry (or its port) out: labels and the default decide.
    Reset,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub target: Target,
    /// `"80"` or `"80/tcp"`; `None`: the whole container.
    pub port: Option<String>,
    pub verb: Verb,
}

/// The file's text after `edit`, whether anything changed (a reset of a
/// rule that is not there changes nothing), and the file as parsed.
pub fn apply_edit(text: &str, edit: &Edit) -> Result<(String, bool, super::PolicyFile), String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| format!("not valid TOML ({e}); fix it by hand first"))?;
    if let Some(p) = &edit.port {
        parse_port_key(p).map_err(|e| format!("port {p:?}: {e}"))?;
    }
    let verdict = match &edit.verb {
        Verb::Allow(from) if from.is_empty() => Some(Value::from("public")),
        Verb::Allow(from) => {
            parse_cidrs(from.iter().map(String::as_str))?;
            Some(Value::Array(
                from.iter().map(String::as_str).collect::<Array>(),
            ))
        }
        Verb::Deny => Some(Value::from("deny")),
        Verb::Reset => None,
    };
    let (table, mval) = edit.target.table_name();
    let item = doc
        .entry(table)
        .or_insert(Item::ArrayOfTables(Default::default()));
    let Some(entries) = item.as_array_of_tables_mut() else {
        return Err(format!(
            "`{table}` is not an array of [[{table}]] tables; fix it by hand first"
        ));
    };
    let ours = |t: &Table| {
        let m = t.get("match");
        let one =
            |k: &str, v: Option<&Value>| k == "name" && v.and_then(Value::as_str) == Some(mval);
        match m {
            Some(Item::Value(Value::InlineTable(it))) => {
                it.len() == 1 && it.iter().all(|(k, v)| one(k, Some(v)))
            }
            Some(Item::Table(t)) => t.len() == 1 && t.iter().all(|(k, v)| one(k, v.as_value())),
            _ => false,
        }
    };
    let at = (0..entries.len())
        .rev()
        .find(|&i| entries.get(i).is_some_and(ours));
    let changed = match (at, verdict) {
        (None, None) => false,
        (Some(i), None) => {
            match &edit.port {
                None => entries.remove(i),
                Some(p) => {
                    let Some(t) = entries.get_mut(i) else {
                        return Err("entry vanished".into());
                    };
                    let removed = remove_port(t, p);
                    if !removed {
                        return finish(&doc, false);
                    }
                    let empty_ports = t
                        .get("ports")
                        .and_then(Item::as_inline_table)
                        .is_none_or(InlineTable::is_empty);
                    if empty_ports {
                        t.remove("ports");
                    }
                    if empty_ports && !t.contains_key("expose") {
                        entries.remove(i);
                    }
                }
            }
            true
        }
        (at, Some(v)) => {
            let i = match at {
                Some(i) => i,
                None => {
                    let mut t = Table::new();
                    let mut m = InlineTable::new();
                    m.insert("name", Value::from(mval));
                    t.insert("match", value(m));
                    entries.push(t);
                    entries.len() - 1
                }
            };
            let Some(t) = entries.get_mut(i) else {
                return Err("entry vanished".into());
            };
            match &edit.port {
                // Every port of the container: what was said per port
                // before would otherwise still win over it.
                None => {
                    t.insert("expose", value(v));
                    t.remove("ports");
                }
                Some(p) => {
                    remove_port(t, p);
                    let ports = t.entry("ports").or_insert(value(InlineTable::new()));
                    let Some(ports) = ports.as_inline_table_mut() else {
                        return Err(
                            "`ports` of this entry is not an inline table; fix it by hand first"
                                .into(),
                        );
                    };
                    ports.insert(p, v);
                    ports.fmt();
                }
            }
            true
        }
    };
    finish(&doc, changed)
}

/// Removes every key that speaks for `port`'s traffic: the same number
/// with the same protocol, or with no protocol on either side (`80` is
/// every protocol of port 80, so it and `80/tcp` overlap).
fn remove_port(t: &mut Table, port: &str) -> bool {
    let Ok((num, proto)) = parse_port_key(port) else {
        return false;
    };
    let overlaps = |(n, p): (u16, Option<dockward_model::Protocol>)| {
        n == num && (p.is_none() || proto.is_none() || p == proto)
    };
    let Some(ports) = t.get_mut("ports").and_then(Item::as_inline_table_mut) else {
        return false;
    };
    let keys: Vec<String> = ports
        .iter()
        .map(|(k, _)| k.to_string())
        .filter(|k| parse_port_key(k).is_ok_and(overlaps))
        .collect();
    for k in &keys {
        ports.remove(k);
    }
    !keys.is_empty()
}

fn finish(doc: &DocumentMut, changed: bool) -> Result<(String, bool, super::PolicyFile), String> {
    let text = doc.to_string();
    let file = super::parse_file("the edited policy", &text)
        .map_err(|e| format!("the edit would make an invalid file ({e})"))?;
    Ok((text, changed, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(target: Target, port: Option<&str>, verb: Verb) -> Edit {
        Edit {
            target,
            port: port.map(str::to_string),
            verb,
        }
    }

    fn name(n: &str) -> Target {
        Target::Name(n.into())
    }

    const FILE: &str = "# our policy\ndefault = \"local\"   # keep it\n\n[[container]]\nmatch = { compose_project = \"shop\" }  # the shop\nexpose = \"public\"\n";

    #[test]
    fn allow_adds_an_entry_last_and_keeps_comments() {
        let (t, changed, _) =
            apply_edit(FILE, &edit(name("web"), None, Verb::Allow(vec![]))).unwrap();
        assert!(changed);
        assert!(t.starts_with(FILE), "{t}");
        assert!(
            t.ends_with("[[container]]\nmatch = { name = \"web\" }\nexpose = \"public\"\n"),
            "{t}"
        );
        // Again: the same entry is edited, not a second one added.
        let (t2, _, _) = apply_edit(
            &t,
            &edit(
                name("web"),
                Some("80/tcp"),
                Verb::Allow(vec!["192.168.1.0/24".into()]),
            ),
        )
        .unwrap();
        assert_eq!(t2.matches("[[container]]").count(), 2, "{t2}");
        assert!(
            t2.contains("ports = { \"80/tcp\" = [\"192.168.1.0/24\"] }"),
            "{t2}"
        );
        let f = crate::policy::parse_file("t", &t2).unwrap();
        assert_eq!(f.containers.len(), 2);
        // `80` (every protocol) overlaps `80/tcp`: deny replaces the allow.
        let (t3, _, _) = apply_edit(&t2, &edit(name("web"), Some("80"), Verb::Deny)).unwrap();
        assert!(t3.contains("ports = { 80 = \"deny\" }"), "{t3}");
        // The whole container: per-port rules of the entry go with it.
        let (t4, _, _) = apply_edit(&t3, &edit(name("web"), None, Verb::Deny)).unwrap();
        assert!(!t4.contains("ports"), "{t4}");
        assert!(t4.contains("expose = \"deny\""), "{t4}");
    }

    #[test]
    fn reset_takes_out_the_port_then_the_entry_and_never_a_wider_one() {
        let (t, _, _) = apply_edit(FILE, &edit(name("web"), Some("443"), Verb::Deny)).unwrap();
        let (t, changed, _) = apply_edit(&t, &edit(name("web"), Some("443"), Verb::Reset)).unwrap();
        assert!(changed);
        assert_eq!(t, FILE, "an entry left empty goes");
        let (t, changed, _) = apply_edit(FILE, &edit(name("web"), None, Verb::Reset)).unwrap();
        assert!(!changed);
        assert_eq!(t, FILE);
        // An entry that selects more than the one container is not ours.
        let wide = "[[container]]\nmatch = { name = \"web\", label = \"x\" }\nexpose = \"deny\"\n";
        let (t, changed, _) = apply_edit(wide, &edit(name("web"), None, Verb::Reset)).unwrap();
        assert!(!changed);
        assert_eq!(t, wide);
    }

    #[test]
    fn services_by_label_and_bad_input_refused_by_name() {
        let (t, _, _) =
            apply_edit("", &edit(Target::Service("api".into()), None, Verb::Deny)).unwrap();
        assert!(
            t.contains("[[service]]\nmatch = { name = \"api\" }\nexpose = \"deny\""),
            "{t}"
        );
        let e = apply_edit(
            "",
            &edit(name("w"), None, Verb::Allow(vec!["10.0.0.300/8".into()])),
        )
        .unwrap_err();
        assert!(e.contains("10.0.0.300/8"), "{e}");
        let e = apply_edit("", &edit(name("w"), Some("http"), Verb::Deny)).unwrap_err();
        assert!(e.contains("port \"http\""), "{e}");
        let e = apply_edit("default = [", &edit(name("w"), None, Verb::Deny)).unwrap_err();
        assert!(e.contains("not valid TOML"), "{e}");
        let e = apply_edit("container = 1", &edit(name("w"), None, Verb::Deny)).unwrap_err();
        assert!(e.contains("fix it by hand"), "{e}");
    }
}
