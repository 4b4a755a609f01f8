//! `firewall allow|deny|reset|rules`: ufw-docker's `allow web 80 from
//! 192.168.1.0/24`, as an edit of the policy file (the edit itself is the
//! pure `dockward_firewall::policy::apply_edit`), then the same apply as
//! `firewall apply`, or a reload of the running watch. Nothing is left
//! half-done: a file that cannot be applied is put back.

use super::write_stdout;
use crate::cli::{FirewallEditArgs, FirewallRulesArgs, Format};
use crate::config::Config;
use dockward_firewall::policy::{self, apply_edit, Edit, Expose, Source, Target};
use dockward_fwctl::{gather, reload_watch, FwError, Kernel, DEFAULT_POLICY};
use dockward_model::{Inventory, Protocol};
use dockward_netfilter::{Netfilter, Xtables};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Verb {
    Allow,
    Deny,
    Reset,
}

/// How long a running watch has to reload.
const RELOAD_WITHIN: Duration = Duration::from_secs(5);

/// `[PORT[/PROTO]] [from CIDR...]`.
fn parse_rest(verb: Verb, rest: &[String]) -> Result<(Option<String>, Vec<String>), String> {
    let mut it = rest.iter().peekable();
    let port = it.next_if(|t| !t.eq_ignore_ascii_case("from")).cloned();
    let from: Vec<String> = match it.next() {
        None => Vec::new(),
        Some(t) if t.eq_ignore_ascii_case("from") => it.cloned().collect(),
        Some(t) => {
            return Err(format!(
                "unexpected {t:?}: give one PORT[/PROTO], then `from CIDR...`"
            ))
        }
    };
    let said_from = rest.iter().any(|t| t.eq_ignore_ascii_case("from"));
    match verb {
        Verb::Allow if said_from && from.is_empty() => {
            Err("`from` needs at least one address or CIDR after it".into())
        }
        Verb::Deny | Verb::Reset if said_from => Err(
            "`from` belongs to allow only: deny closes a port to everyone outside, reset takes the rule out"
                .into(),
        ),
        _ => Ok((port, from)),
    }
}

/// A container by that name, else a Swarm service (by the service list
/// or its task containers' label), else what `--service` says.
fn target(inv: &Inventory, name: &str, service: bool) -> (Target, Option<String>) {
    let is_container = inv.containers.iter().any(|c| c.name == name);
    let is_service = inv
        .swarm
        .as_ref()
        .is_some_and(|s| s.services.iter().any(|x| x.name == name))
        || inv.containers.iter().any(|c| {
            c.labels
                .get("com.docker.swarm.service.name")
                .map(String::as_str)
                == Some(name)
        });
    if service || (is_service && !is_container) {
        return (Target::Service(name.into()), None);
    }
    let note = (!is_container).then(|| {
        format!("note: no container named {name} now; the rule applies when one starts (--service for a Swarm service)")
    });
    (Target::Name(name.into()), note)
}

type Key = (String, u16, Protocol);

/// Every container port's verdict, and every service port's (named
/// `NAME (service)`, by target port) on a node that knows the services.
fn verdicts(inv: &Inventory, file: &policy::PolicyFile) -> BTreeMap<Key, (Expose, Source)> {
    let r = policy::resolve(inv, file);
    let services = r.services.into_iter().map(|s| {
        (
            (format!("{} (service)", s.service), s.target, s.protocol),
            (s.expose, s.source),
        )
    });
    r.ports
        .into_iter()
        .map(|p| {
            (
                (p.container, p.container_port, p.protocol),
                (p.expose, p.source),
            )
        })
        .chain(services)
        .collect()
}

/// The ports whose verdict changes, one line each; and a note for each
/// port of the target a label decides, where the file cannot reach.
fn diff(
    inv: &Inventory,
    before: &policy::PolicyFile,
    after: &policy::PolicyFile,
    t: &Target,
) -> (Vec<String>, Vec<String>) {
    let (a, b) = (verdicts(inv, before), verdicts(inv, after));
    let mut lines = Vec::new();
    for (k, (e, _)) in &b {
        let old = a.get(k).map(|(e, _)| e.describe().to_string());
        let new = e.describe().to_string();
        if old.as_deref() != Some(&new) {
            lines.push(format!(
                "  {} {}/{}: {} -> {new}",
                k.0,
                k.1,
                k.2,
                old.unwrap_or_else(|| "-".into())
            ));
        }
    }
    let ours: std::collections::BTreeSet<String> = inv
        .containers
        .iter()
        .filter(|c| match t {
            Target::Name(n) => c.name == *n,
            Target::Service(s) => c.labels.get("com.docker.swarm.service.name") == Some(s),
        })
        .map(|c| c.name.clone())
        .chain(match t {
            Target::Service(s) => Some(format!("{s} (service)")),
            Target::Name(_) => None,
        })
        .collect();
    let notes = b
        .iter()
        .filter(|((name, _, _), _)| ours.contains(name))
        .filter_map(|((name, port, proto), (_, src))| match src {
            Source::Label(l) => Some(format!(
                "note: {name} {port}/{proto} is decided by its label {l}, which wins over the file: remove the label (recreate the container) for this rule to count"
            )),
            _ => None,
        })
        .collect();
    (lines, notes)
}

pub(crate) async fn run(
    config: &Config,
    args: &FirewallEditArgs,
    verb: Verb,
    k: &mut Kernel<impl Netfilter, impl Xtables>,
) -> Result<(), FwError> {
    let (port, from) = parse_rest(verb, &args.rest)
        .map_err(|e| FwError::Policy(format!("{} {}: {e}", args.name, args.rest.join(" "))))?;
    let path: PathBuf = args
        .policy
        .policy
        .clone()
        .unwrap_or_else(|| DEFAULT_POLICY.into());
    let shown = path.display().to_string();
    let (old_text, existed) = match std::fs::read_to_string(&path) {
        Ok(t) => (t, true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), false),
        Err(e) => {
            return Err(FwError::Policy(format!(
                "policy file {shown}: cannot read it ({e})"
            )))
        }
    };
    let before = policy::parse_file(&shown, &old_text)
        .map_err(|e| FwError::Policy(format!("{e}; fix the file by hand first")))?;
    let (inv, guard) = gather(&config.endpoint, args.policy.inventory.as_deref(), &before).await?;
    let (t, note) = target(&inv, &args.name, args.service);
    let edit = Edit {
        target: t.clone(),
        port,
        verb: match verb {
            Verb::Allow => policy::Verb::Allow(from),
            Verb::Deny => policy::Verb::Deny,
            Verb::Reset => policy::Verb::Reset,
        },
    };
    let (new_text, changed, after) =
        apply_edit(&old_text, &edit).map_err(|e| FwError::Policy(format!("{shown}: {e}")))?;
    if let Some(n) = note {
        eprintln!("dockward firewall: {n}");
    }
    if !changed {
        return write_stdout(&format!(
            "{shown}: no rule of {} to take out; nothing changed\n",
            args.name
        ));
    }
    let (lines, notes) = diff(&inv, &before, &after, &t);
    for n in &notes {
        eprintln!("dockward firewall: {n}");
    }
    let mut out = String::new();
    if lines.is_empty() {
        out.push_str("no published port changes verdict now\n");
    } else {
        out.push_str("verdicts that change:\n");
        for l in &lines {
            out.push_str(l);
            out.push('\n');
        }
    }
    if args.dry_run {
        out.push_str(&format!(
            "nothing written (--dry-run); {shown} would become:\n{new_text}"
        ));
        return write_stdout(&out);
    }
    crate::out::replace_file(&path, &new_text)
        .map_err(|e| FwError::Internal(format!("{shown}: {e}; nothing changed")))?;
    let put_back = || {
        let r = if existed {
            crate::out::replace_file(&path, &old_text)
        } else {
            std::fs::remove_file(&path)
        };
        if let Err(e) = r {
            eprintln!(
                "dockward firewall: error: could not put {shown} back ({e}); restore it by hand"
            );
        }
    };
    match reload_watch(&k.state, Some(&path), RELOAD_WITHIN) {
        Ok(Some(m)) => {
            out.push_str(&format!(
                "written: {shown}; applied by the running firewall watch (pid {})\n",
                m.pid
            ));
            write_stdout(&out)
        }
        Ok(None) => {
            let host = dockward_fwctl::read_host(
                &*k.host,
                &inv,
                &mut dockward_hostprobe::ports::PortIndex::default(),
            );
            match dockward_fwctl::apply(k, args.policy.backend.into(), &inv, &after, &guard, &host)
            {
                Ok(applied) => {
                    let summary = applied.sweep_and_summary(&mut k.nf);
                    out.push_str(&format!(
                        "written: {shown}\n{summary}\n{}\n",
                        dockward_fwctl::ONE_SHOT
                    ));
                    write_stdout(&out)
                }
                Err(e) => {
                    put_back();
                    Err(with_put_back(e, &shown))
                }
            }
        }
        Err(e) => {
            put_back();
            Err(FwError::Policy(format!("{e}; {shown} is as it was")))
        }
    }
}

fn with_put_back(e: FwError, shown: &str) -> FwError {
    let why = format!("{}; {shown} is put back as it was", e.reason());
    match e {
        FwError::Kernel(_) | FwError::Engine(_) => {
            eprintln!("dockward firewall: error: {why}");
            e
        }
        FwError::Policy(_) => FwError::Policy(why),
        FwError::Internal(_) => FwError::Internal(why),
    }
}

fn selector_words(s: &policy::Selector) -> String {
    let mut w = Vec::new();
    if let Some(n) = &s.name {
        w.push(format!("name={n}"));
    }
    if let Some(p) = &s.compose_project {
        w.push(format!("compose_project={p}"));
    }
    if let Some(x) = &s.compose_service {
        w.push(format!("compose_service={x}"));
    }
    if let Some(l) = &s.label {
        w.push(format!("label={l}"));
    }
    w.join(" ")
}

/// `firewall rules`: the file's entries, in the order they are weighed
/// (later ones win).
pub(crate) fn rules(args: &FirewallRulesArgs) -> Result<(), FwError> {
    let path: PathBuf = args.policy.clone().unwrap_or_else(|| DEFAULT_POLICY.into());
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && args.policy.is_none() => {
            String::new()
        }
        Err(e) => {
            return Err(FwError::Policy(format!(
                "policy file {shown}: cannot read it ({e})"
            )))
        }
    };
    let file = policy::parse_file(&shown, &text).map_err(|e| FwError::Policy(e.to_string()))?;
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for c in &file.containers {
        let m = selector_words(&c.selector);
        if let Some(e) = &c.expose {
            rows.push((m.clone(), "all".into(), e.describe().to_string()));
        }
        for p in &c.ports {
            rows.push((m.clone(), p.key.clone(), p.expose.describe().to_string()));
        }
    }
    let default = file.default.map_or("local (built in)".to_string(), |s| {
        format!("{s:?}").to_ascii_lowercase()
    });
    let text = match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "schema": "dockward.firewall-rules/v1",
                "file": shown,
                "default": default,
                "rules": rows.iter().map(|(m, p, v)| serde_json::json!({"match": m, "port": p, "verdict": v})).collect::<Vec<_>>(),
            });
            serde_json::to_string_pretty(&doc).map_err(|e| FwError::Internal(e.to_string()))? + "\n"
        }
        Format::Text => {
            let mut s =
                format!("{shown}: default {default}; later rules win; labels win over all\n");
            if rows.is_empty() {
                s.push_str("no rules (dockward firewall allow NAME [PORT] adds one)\n");
            }
            let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(5);
            if !rows.is_empty() {
                s.push_str(&format!("{:<w$}  {:<9}  VERDICT\n", "MATCH", "PORT"));
            }
            for (m, p, v) in &rows {
                s.push_str(&format!("{m:<w$}  {p:<9}  {v}\n"));
            }
            s
        }
    };
    write_stdout(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn port_and_sources_from_the_words_after_the_name() {
        assert_eq!(parse_rest(Verb::Allow, &[]).unwrap(), (None, vec![]));
        assert_eq!(
            parse_rest(
                Verb::Allow,
                &words(&["80/tcp", "from", "10.0.0.0/8", "192.0.2.1"])
            )
            .unwrap(),
            (Some("80/tcp".into()), words(&["10.0.0.0/8", "192.0.2.1"]))
        );
        assert_eq!(
            parse_rest(Verb::Allow, &words(&["from", "10.0.0.0/8"])).unwrap(),
            (None, words(&["10.0.0.0/8"]))
        );
        assert!(parse_rest(Verb::Allow, &words(&["80", "from"])).is_err());
        assert!(parse_rest(Verb::Allow, &words(&["80", "10.0.0.0/8"])).is_err());
        assert!(parse_rest(Verb::Allow, &words(&["80", "443"])).is_err());
        assert!(parse_rest(Verb::Deny, &words(&["80", "from", "10.0.0.0/8"])).is_err());
    }
}
