//! The proxy's head decision: path normalisation and routing of any
//! request target, under the most permissive environment policy.
//! Input: method, a NUL, the target.
#![no_main]
use std::collections::BTreeMap;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (method, target) = text.split_once('\0').unwrap_or(("GET", &text));
    let env: BTreeMap<String, String> = dockward_apiguard::Section::ALL
        .iter()
        .map(|s| (s.var().to_string(), "1".to_string()))
        .chain([("POST".to_string(), "1".to_string())])
        .collect();
    let policy = dockward_apiguard::Policy::from_env(&env).expect("valid env");
    if let Ok(a) = policy.decide_head(method, target) {
        // What was allowed is a normalised path with no dot or empty segment.
        assert!(!a
            .target
            .segments
            .iter()
            .any(|s| s.is_empty() || s == "." || s == ".."));
    }
});
