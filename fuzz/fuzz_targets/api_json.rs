//! The Go-compatible JSON reader and the body decision: never a panic,
//! and the canonical bytes parse back to the same tree.
#![no_main]
use std::collections::BTreeMap;

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
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let policy = dockward_apiguard::Policy::from_env(&env).expect("valid env");
    for target in [
        "/v1.41/containers/create",
        "/v1.41/containers/x/start",
        "/v1.41/containers/x/exec",
        "/v1.41/volumes/create",
        "/v1.41/services/create",
    ] {
        if let Ok(a) = policy.decide_head("POST", target) {
            let _ = policy.decide_body(&a, data);
        }
    }
});
