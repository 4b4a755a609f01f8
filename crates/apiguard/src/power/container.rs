//! Judging a container that already exists, from dockerd's inspect: does
//! it hold host power? Entering it (exec, attach), writing into it
//! (archive PUT), reading its files (archive GET, export, commit) or
//! joining it (`container:` modes, `VolumesFrom`) hands that power to the
//! client, so those requests are judged by the same allow-lists as a
//! create: a client may get into a container only the powers it could
//! have created itself.
//!
//! The inspect's `HostConfig` has the shape of a create's, with dockerd's
//! defaults filled in, so it goes through the same field checks, read as
//! dockerd's own output: `MaskedPaths`/`ReadonlyPaths` are the defaults
//! unless they are empty (`systempaths=unconfined`); fields newer than
//! dockward's tables are not held against the container; a container
//! that joins another's namespace or mounts its volumes is judged as if
//! it held that container's power (one level is not followed: refused).
//! Bind sources are resolved again, so a symlink planted since the create
//! is seen.

use super::{Check, Cx, Env, RefKind, Refusal};
use crate::action::Action;
use crate::gojson::Value;

/// dockerd's JSON (serde_json) as the checker's tree.
pub fn from_serde(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(n.to_string()),
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(from_serde).collect()),
        serde_json::Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), from_serde(v))).collect())
        }
    }
}

/// The inspected container: its full id, its name and labels (what
/// visibility is judged on), and the host power it holds (every refusal,
/// allowed or not).
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub id: String,
    pub name: String,
    pub labels: Option<serde_json::Map<String, serde_json::Value>>,
    pub power: Vec<Refusal>,
}

/// Judges `GET /containers/{id}/json`'s body. `Err` when it cannot be read
/// (the caller refuses).
pub fn judge(inspect: &[u8], env: &Env<'_>) -> Result<Judged, String> {
    let v: serde_json::Value = serde_json::from_slice(inspect)
        .map_err(|e| format!("dockerd's inspect could not be read: {e}"))?;
    let id = v
        .get("Id")
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or("dockerd's inspect has no Id")?
        .to_string();
    let name = v
        .get("Name")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
        .trim_start_matches('/')
        .to_string();
    let labels = v
        .get("Config")
        .and_then(|c| c.get("Labels"))
        .and_then(serde_json::Value::as_object)
        .cloned();
    let mut hc = match v.get("HostConfig") {
        Some(h @ serde_json::Value::Object(_)) => from_serde(h),
        _ => return Err("dockerd's inspect has no HostConfig".into()),
    };
    if let Value::Object(m) = &mut hc {
        // Defaults filled in by dockerd are not a loosening; only an
        // emptied list is (`systempaths=unconfined`).
        // `CgroupnsMode: host` is dockerd's own default on cgroup v1 hosts
        // (and with `default-cgroupns-mode: host`); the cgroup filesystem
        // is mounted read-only in an unprivileged container either way.
        m.retain(|(k, v)| {
            let k = crate::gojson::fold(k);
            let default_paths = matches!(k.as_str(), "maskedpaths" | "readonlypaths")
                && matches!(v, Value::Array(a) if !a.is_empty());
            let default_cgroupns = k == "cgroupnsmode";
            !(default_paths || default_cgroupns)
        });
    }
    let mut cx = Cx {
        env,
        out: Vec::new(),
        refs: Vec::new(),
    };
    super::fields::body(
        Action::ContainersCreate,
        &Value::Object(vec![("HostConfig".into(), hc)]),
        &mut cx,
    );
    let mut power: Vec<Refusal> = cx
        .out
        .into_iter()
        .filter(|r| r.check != Check::UnknownField)
        .collect();
    for r in cx.refs {
        match r.kind {
            RefKind::Join => power.push(Refusal {
                check: Check::HostNamespace,
                detail: format!(
                    "{} joins container {}'s namespace (not followed)",
                    r.at, r.container
                ),
            }),
            RefKind::VolumesFrom => power.push(Refusal {
                check: Check::Bind,
                detail: format!(
                    "{} mounts container {}'s volumes (not followed)",
                    r.at, r.container
                ),
            }),
            RefKind::Link | RefKind::Connect => {}
        }
    }
    Ok(Judged {
        id,
        name,
        labels,
        power,
    })
}

/// `GET /exec/{id}/json` → the container it runs in.
pub fn exec_container(inspect: &[u8]) -> Result<String, String> {
    let v: serde_json::Value = serde_json::from_slice(inspect)
        .map_err(|e| format!("dockerd's exec inspect could not be read: {e}"))?;
    v.get("ContainerID")
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| "dockerd's exec inspect names no container".to_string())
}

#[cfg(test)]
mod tests {
    use super::super::binds::fake::{FakeFs, Fixture};
    use super::*;

    fn power(hc: &str) -> Vec<Check> {
        let fx = Fixture::new(FakeFs {
            dirs: vec!["/srv".into(), "/srv/data".into(), "/etc".into()],
            ..Default::default()
        });
        let env = fx.env();
        let body = format!(r#"{{"Id":"abc","Name":"/web","HostConfig":{hc}}}"#);
        let mut c: Vec<Check> = judge(body.as_bytes(), &env)
            .unwrap()
            .power
            .iter()
            .map(|r| r.check)
            .collect();
        c.dedup();
        c
    }

    #[test]
    fn an_ordinary_container_has_none() {
        assert_eq!(
            power(
                r#"{"Binds":["/srv/data/x:/x","vol:/v"],"NetworkMode":"default","IpcMode":"private","PidMode":"","CgroupnsMode":"host","Runtime":"runc","MaskedPaths":["/proc/kcore"],"ReadonlyPaths":["/proc/sys"],"CapAdd":null,"Devices":[],"KernelMemoryTCP":0,"SomethingNew":1,"Privileged":false,"LogConfig":{"Type":"json-file","Config":{}}}"#
            ),
            []
        );
    }

    #[test]
    fn powered_containers() {
        assert_eq!(power(r#"{"Privileged":true}"#), [Check::Privileged]);
        assert_eq!(power(r#"{"Binds":["/etc:/e"]}"#), [Check::Bind]);
        assert_eq!(
            power(r#"{"Binds":["/var/run/docker.sock:/s"]}"#),
            [Check::Socket]
        );
        assert_eq!(power(r#"{"NetworkMode":"host"}"#), [Check::HostNetwork]);
        assert_eq!(power(r#"{"PidMode":"host"}"#), [Check::HostNamespace]);
        assert_eq!(
            power(r#"{"NetworkMode":"container:abc"}"#),
            [Check::HostNamespace]
        );
        assert_eq!(power(r#"{"VolumesFrom":["other"]}"#), [Check::Bind]);
        assert_eq!(power(r#"{"CapAdd":["SYS_TIME"]}"#), [Check::Capability]);
        assert_eq!(power(r#"{"MaskedPaths":[]}"#), [Check::Unconfined]);
        assert_eq!(
            power(r#"{"SecurityOpt":["seccomp=unconfined"]}"#),
            [Check::Unconfined]
        );
    }

    #[test]
    fn exec_inspect() {
        assert_eq!(
            exec_container(br#"{"ID":"e","ContainerID":"c1"}"#).unwrap(),
            "c1"
        );
        assert!(exec_container(b"{}").is_err());
    }
}
