//! Host-power checks on request bodies: what a body asks dockerd to do
//! that gives a container (or an exec, service, volume) power over the
//! host. Works on the tree [`crate::gojson`] parsed with dockerd's own
//! reading, so `privileged`, `PRIVILEGED` and `Privil\u0065ged` are one key.
//!
//! Checked wherever dockerd reads them:
//! - container create: `HostConfig`, and the same fields at the top level,
//!   which dockerd still applies when `HostConfig` is absent or null (the
//!   legacy wrapper in moby's runconfig), so both places are checked;
//! - container update: `Devices`, `DeviceCgroupRules`;
//! - exec create: `Privileged`;
//! - container start: any body at all (API < 1.24 re-configured the
//!   container from it);
//! - volume create: local-driver volumes with `o=bind` (a bind mount in
//!   disguise) of a host system path or the socket;
//! - service create/update: the task's `ContainerSpec` (mounts,
//!   capabilities).
//!
//! Each refusal names a check id; an operator allows a check explicitly
//! (`ALLOW_HOST_POWER=privileged,bind` or the policy file).

use crate::gojson::Value;
use dockward_hostpower::{classify, dangerous_capability, unconfined, Mount};

/// One refusal: the check id and what was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `privileged`, `capability`, `host-namespace`, `host-network`,
    /// `device`, `unconfined`, `bind`, `socket`, `start-body`,
    /// `exec-privileged`, `plugin`.
    pub check: &'static str,
    pub detail: String,
}

/// Every check id, for validating configuration.
pub const CHECKS: &[&str] = &[
    "privileged",
    "capability",
    "host-namespace",
    "host-network",
    "device",
    "unconfined",
    "bind",
    "socket",
    "start-body",
    "exec-privileged",
    "plugin",
];

fn refuse(out: &mut Vec<Refusal>, check: &'static str, detail: String) {
    out.push(Refusal { check, detail });
}

fn truthy(v: Option<&Value>) -> bool {
    // Anything but false/null/absent is refused: a string "true" is not
    // what dockerd decodes into a bool, so it is ambiguous at best.
    !matches!(v, None | Some(Value::Null) | Some(Value::Bool(false)))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.map(|v| {
        v.items()
            .iter()
            .map(|x| {
                x.as_str().map_or_else(
                    || String::from_utf8_lossy(&x.to_bytes()).into_owned(),
                    str::to_string,
                )
            })
            .collect()
    })
    .unwrap_or_default()
}

fn nonempty_list(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    }
}

fn bind_source(out: &mut Vec<Refusal>, src: &str, what: &str) {
    match classify(src) {
        Some(Mount::Socket) => refuse(
            out,
            "socket",
            format!("{what} binds {src} (the Docker or containerd socket)"),
        ),
        Some(Mount::Sensitive) => refuse(out, "bind", format!("{what} binds host path {src}")),
        None => {}
    }
}

/// The fields of a HostConfig-like object (HostConfig, or the legacy top
/// level of a create body).
fn host_config(h: &Value, out: &mut Vec<Refusal>, at: &str) {
    if truthy(h.get("Privileged")) {
        refuse(out, "privileged", format!("{at}Privileged"));
    }
    for key in ["CapAdd", "Capabilities"] {
        for c in strings(h.get(key)) {
            if dangerous_capability(&c) {
                refuse(out, "capability", format!("{at}{key} {c}"));
            }
        }
    }
    for (key, check) in [
        ("PidMode", "host-namespace"),
        ("IpcMode", "host-namespace"),
        ("UTSMode", "host-namespace"),
        ("UsernsMode", "host-namespace"),
        ("CgroupnsMode", "host-namespace"),
        ("NetworkMode", "host-network"),
    ] {
        if let Some(v) = h.get(key) {
            let s = v.as_str().unwrap_or("");
            if s.eq_ignore_ascii_case("host") || !(v.is_null() || v.as_str().is_some()) {
                refuse(
                    out,
                    check,
                    format!("{at}{key} {}", String::from_utf8_lossy(&v.to_bytes())),
                );
            }
        }
    }
    for key in ["Devices", "DeviceCgroupRules"] {
        if nonempty_list(h.get(key)) {
            refuse(out, "device", format!("{at}{key}"));
        }
    }
    for o in strings(h.get("SecurityOpt")) {
        if unconfined(&o).is_some() {
            refuse(out, "unconfined", format!("{at}SecurityOpt {o}"));
        }
    }
    for b in strings(h.get("Binds")) {
        let src = b.split(':').next().unwrap_or("");
        if src.starts_with('/') {
            bind_source(out, src, &format!("{at}Binds"));
        }
    }
    for m in h.get("Mounts").map(Value::items).unwrap_or_default() {
        mount(m, out, &format!("{at}Mounts"));
    }
}

/// A `Mounts[]` entry (containers and services share the shape).
fn mount(m: &Value, out: &mut Vec<Refusal>, at: &str) {
    let ty = m.get("Type").and_then(Value::as_str).unwrap_or("");
    let src = m.get("Source").and_then(Value::as_str).unwrap_or("");
    if ty.eq_ignore_ascii_case("bind") {
        bind_source(out, src, at);
    } else if ty.eq_ignore_ascii_case("volume") || ty.is_empty() {
        let driver = m.get("VolumeOptions").and_then(|o| o.get("DriverConfig"));
        let name = driver
            .and_then(|d| d.get("Name"))
            .and_then(Value::as_str)
            .unwrap_or("local");
        if let Some(opts) = driver.and_then(|d| d.get("Options")) {
            local_volume(name, opts, out, &format!("{at} volume"));
        }
    }
}

/// A local-driver volume with `o=bind` is a bind mount of `device`.
fn local_volume(driver: &str, opts: &Value, out: &mut Vec<Refusal>, at: &str) {
    if !(driver.is_empty() || driver == "local") {
        return;
    }
    let o = opts.get("o").and_then(Value::as_str).unwrap_or("");
    let bind = o.split(',').any(|x| matches!(x.trim(), "bind" | "rbind"));
    let device = opts.get("device").and_then(Value::as_str).unwrap_or("");
    if bind {
        bind_source(out, device, &format!("{at} (local driver, o={o})"));
    }
}

/// What the body of `action` asks for that needs an explicit allow.
/// `body` is `None` for an empty body.
pub fn check(action: &str, body: Option<&Value>) -> Vec<Refusal> {
    let mut out = Vec::new();
    match (action, body) {
        ("containers.create", Some(b)) => {
            match b.get("HostConfig") {
                Some(h) if !h.is_null() => host_config(h, &mut out, "HostConfig."),
                _ => {}
            }
            // dockerd still applies top-level HostConfig fields.
            host_config(b, &mut out, "");
        }
        ("containers.update", Some(b)) => {
            for key in ["Devices", "DeviceCgroupRules"] {
                if nonempty_list(b.get(key)) {
                    refuse(&mut out, "device", key.to_string());
                }
            }
        }
        ("containers.start", Some(b)) => {
            let empty = b.is_null() || matches!(b, Value::Object(m) if m.is_empty());
            if !empty {
                refuse(
                    &mut out,
                    "start-body",
                    "a body on container start (HostConfig at start)".to_string(),
                );
            }
        }
        ("exec.create", Some(b)) if truthy(b.get("Privileged")) => {
            refuse(&mut out, "exec-privileged", "Privileged exec".to_string());
        }
        ("volumes.create", Some(b)) => {
            let driver = b.get("Driver").and_then(Value::as_str).unwrap_or("local");
            if let Some(opts) = b.get("DriverOpts") {
                local_volume(driver, opts, &mut out, "volume");
            }
        }
        ("services.create" | "services.update", Some(b)) => {
            if let Some(spec) = b.get("TaskTemplate").and_then(|t| t.get("ContainerSpec")) {
                for c in strings(spec.get("CapabilityAdd")) {
                    if dangerous_capability(&c) {
                        refuse(
                            &mut out,
                            "capability",
                            format!("ContainerSpec.CapabilityAdd {c}"),
                        );
                    }
                }
                for m in spec.get("Mounts").map(Value::items).unwrap_or_default() {
                    mount(m, &mut out, "ContainerSpec.Mounts");
                }
                if let Some(p) = spec.get("Privileges") {
                    if p.get("Seccomp")
                        .and_then(|s| s.get("Mode"))
                        .and_then(Value::as_str)
                        == Some("unconfined")
                        || p.get("AppArmor")
                            .and_then(|s| s.get("Mode"))
                            .and_then(Value::as_str)
                            == Some("disabled")
                    {
                        refuse(
                            &mut out,
                            "unconfined",
                            "ContainerSpec.Privileges".to_string(),
                        );
                    }
                }
            }
        }
        // A plugin asks for host privileges when it is installed.
        ("plugins.pull" | "plugins.upgrade", _) => {
            refuse(
                &mut out,
                "plugin",
                "installing a plugin grants it the privileges it asks for".to_string(),
            );
        }
        _ => {}
    }
    out
}

/// Actions whose body is parsed and checked (and forwarded canonical).
pub fn checks_body(action: &str) -> bool {
    matches!(
        action,
        "containers.create"
            | "containers.update"
            | "containers.start"
            | "exec.create"
            | "volumes.create"
            | "services.create"
            | "services.update"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gojson::parse;

    fn ids(action: &str, body: &str) -> Vec<&'static str> {
        let v = parse(body.as_bytes()).unwrap();
        let mut c: Vec<&str> = check(action, Some(&v)).iter().map(|r| r.check).collect();
        c.sort_unstable();
        c.dedup();
        c
    }

    #[test]
    fn create_bodies() {
        assert!(ids(
            "containers.create",
            r#"{"Image":"x","HostConfig":{"Binds":["/srv/data:/d"],"CapAdd":["NET_BIND_SERVICE"]}}"#
        )
        .is_empty());
        assert_eq!(
            ids(
                "containers.create",
                r#"{"Image":"x","HostConfig":{"privileged":true}}"#
            ),
            ["privileged"]
        );
        // Legacy top-level fields, with no or a null HostConfig.
        assert_eq!(
            ids(
                "containers.create",
                r#"{"Image":"x","Privileged":true,"Binds":["/:/host"]}"#
            ),
            ["bind", "privileged"]
        );
        assert_eq!(
            ids(
                "containers.create",
                r#"{"Image":"x","HostConfig":null,"PidMode":"host"}"#
            ),
            ["host-namespace"]
        );
        assert_eq!(
            ids(
                "containers.create",
                r#"{"HostConfig":{"CapAdd":["cap_sys_admin"],"NetworkMode":"host","Devices":[{"PathOnHost":"/dev/sda"}],"SecurityOpt":["apparmor=unconfined"]}}"#
            ),
            ["capability", "device", "host-network", "unconfined"]
        );
        assert_eq!(
            ids(
                "containers.create",
                r#"{"HostConfig":{"Binds":["/var/run/docker.sock:/s:ro"]}}"#
            ),
            ["socket"]
        );
        assert_eq!(
            ids(
                "containers.create",
                r#"{"HostConfig":{"Mounts":[{"Type":"bind","Source":"/etc","Target":"/e"}]}}"#
            ),
            ["bind"]
        );
        assert_eq!(
            ids(
                "containers.create",
                r#"{"HostConfig":{"Mounts":[{"Type":"volume","Target":"/h","VolumeOptions":{"DriverConfig":{"Name":"local","Options":{"type":"none","o":"bind","device":"/"}}}}]}}"#
            ),
            ["bind"]
        );
        assert_eq!(
            ids(
                "containers.create",
                r#"{"HostConfig":{"PidMode":["host"]}}"#
            ),
            ["host-namespace"],
            "a non-string is refused"
        );
        assert_eq!(
            ids(
                "containers.create",
                r#"{"HostConfig":{"Privileged":"true"}}"#
            ),
            ["privileged"]
        );
    }

    #[test]
    fn other_bodies() {
        assert_eq!(
            ids("containers.start", r#"{"Binds":["/:/h"]}"#),
            ["start-body"]
        );
        assert!(ids("containers.start", "{}").is_empty());
        assert!(ids("containers.start", "null").is_empty());
        assert_eq!(
            ids("exec.create", r#"{"Cmd":["sh"],"privileged":true}"#),
            ["exec-privileged"]
        );
        assert_eq!(
            ids(
                "containers.update",
                r#"{"Devices":[{"PathOnHost":"/dev/mem"}]}"#
            ),
            ["device"]
        );
        assert_eq!(
            ids(
                "volumes.create",
                r#"{"Name":"v","DriverOpts":{"type":"none","o":"bind","device":"/etc"}}"#
            ),
            ["bind"]
        );
        assert!(ids(
            "volumes.create",
            r#"{"Name":"v","DriverOpts":{"type":"none","o":"bind","device":"/srv/v"}}"#
        )
        .is_empty());
        assert_eq!(
            ids(
                "services.create",
                r#"{"TaskTemplate":{"ContainerSpec":{"Image":"x","Mounts":[{"Type":"bind","Source":"/run/docker.sock"}]}}}"#
            ),
            ["socket"]
        );
    }
}
