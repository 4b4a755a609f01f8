//! The Go-compatible JSON reader and the body decisions: never a panic,
//! and the canonical bytes parse back to the same tree. The same bytes
//! are also judged as a container's inspect and as a build query.
#![no_main]
use dockward_apiguard::power::binds::HostFs;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A host with `/` and `/srv` only, and `/srv/l` a link to `/`: no I/O.
struct Fs;

impl HostFs for Fs {
    fn canonicalize(&self, p: &Path) -> std::io::Result<PathBuf> {
        match p.to_str() {
            Some("/") | Some("/srv") => Ok(p.to_path_buf()),
            Some("/srv/l") => Ok(PathBuf::from("/")),
            _ => Err(std::io::ErrorKind::NotFound.into()),
        }
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(v) = dockward_apiguard::gojson::parse(data) {
        let again = dockward_apiguard::gojson::parse(&v.to_bytes()).expect("canonical bytes parse");
        assert_eq!(again, v);
    }
    let env: BTreeMap<String, String> = [
        ("CONTAINERS", "1"),
        ("POST", "1"),
        ("EXEC", "1"),
        ("VOLUMES", "1"),
        ("SERVICES", "1"),
        ("NETWORKS", "1"),
        ("ALLOW_BIND_MOUNTS", "/srv"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let policy = dockward_apiguard::Policy::from_env(&env).expect("valid env");
    for target in [
        "/v1.41/containers/create",
        "/v1.41/containers/x/start",
        "/v1.41/containers/x/update",
        "/v1.41/containers/x/exec",
        "/v1.41/volumes/create",
        "/v1.41/services/create",
        "/v1.41/networks/create",
        "/v1.41/networks/n/connect",
    ] {
        if let Ok(a) = policy.decide_head("POST", target) {
            let _ = policy.decide_body(&a, data, &Fs);
        }
    }
    let _ = policy.judge_container("x", "x", data, &Fs, true);
    if let Ok(q) = std::str::from_utf8(data) {
        let _ = dockward_apiguard::power::query::check(dockward_apiguard::Action::BuildStart, q);
    }
});
