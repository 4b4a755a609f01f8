//! The shape checks docker-compose makes before it runs anything, for the
//! keys this audit reads: a file compose refuses is reported as the invalid
//! file it is (with the path of the bad key), never audited as if it were
//! fine. `ports: "8080:80"` (a string where compose requires a list) would
//! otherwise read as no ports at all, and exit 0.
//!
//! Booleans are read as docker-compose reads them: YAML 1.1's words (`yes`,
//! `on`, `y`, any case compose's PyYAML accepts) as well as `true`/`false`,
//! and an interpolated value (`${PRIV}`) as Go's `strconv.ParseBool` reads
//! it, which is how compose v2 converts it.

use super::yaml::{Node, Value};
use crate::Diagnostic;

/// Keys whose value compose requires to be a list.
const LISTS: &[&str] = &[
    "ports",
    "volumes",
    "cap_add",
    "cap_drop",
    "devices",
    "security_opt",
];
/// Keys whose value compose requires to be a boolean.
const BOOLS: &[&str] = &["privileged", "read_only"];

/// A boolean as written in a compose file (`None`: not one).
pub(super) fn boolean(text: &str) -> Option<bool> {
    match text {
        // YAML 1.1 (PyYAML's resolver) and strconv.ParseBool together.
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" | "t"
        | "T" | "1" => Some(true),
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N"
        | "f" | "F" | "0" => Some(false),
        _ => None,
    }
}

fn bad(path: &str, at: &Node, msg: String) -> Diagnostic {
    Diagnostic::new(
        path,
        at.line,
        at.column,
        format!("{msg} (docker-compose refuses this file)"),
    )
}

/// The first shape compose would refuse, if any. `text` reads a scalar as
/// the audit does (interpolated).
pub(super) fn check(
    path: &str,
    root: &Node,
    text: &dyn Fn(&Node) -> Option<String>,
) -> Result<(), Diagnostic> {
    let Some((key, services)) = root.get("services") else {
        return Ok(());
    };
    match &services.value {
        Value::Map(_) | Value::Null => {}
        _ => {
            return Err(bad(
                path,
                key,
                "services: must be a mapping of service names".into(),
            ))
        }
    }
    for (name_node, svc) in services.entries() {
        let name = name_node.scalar().unwrap_or_default();
        if !matches!(svc.value, Value::Map(_)) {
            return Err(bad(
                path,
                name_node,
                format!("services.{name}: must be a mapping (image:, ports:, …)"),
            ));
        }
        for list in LISTS {
            if let Some((k, v)) = svc.get(list) {
                if !matches!(v.value, Value::Seq(_) | Value::Null) {
                    return Err(bad(
                        path,
                        k,
                        format!("services.{name}.{list}: must be a list, e.g. `{list}: [\"…\"]`"),
                    ));
                }
            }
        }
        if let Some((k, v)) = svc.get("environment") {
            if !matches!(v.value, Value::Seq(_) | Value::Map(_) | Value::Null) {
                return Err(bad(
                    path,
                    k,
                    format!(
                        "services.{name}.environment: must be a mapping or a list of NAME=VALUE"
                    ),
                ));
            }
        }
        for key in BOOLS {
            if let Some((k, v)) = svc.get(key) {
                let ok = match &v.value {
                    Value::Bool(_) => true,
                    Value::Str(_) => text(v).as_deref().and_then(boolean).is_some(),
                    _ => false,
                };
                if !ok {
                    return Err(bad(
                        path,
                        k,
                        format!("services.{name}.{key}: must be a boolean (true or false)"),
                    ));
                }
            }
        }
    }
    Ok(())
}
