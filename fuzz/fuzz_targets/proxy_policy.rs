//! The proxy's policy file: any text parses or gives a one-line error.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match dockward_apiguard::PolicyFile::parse("fuzz.toml", &text) {
        Ok(f) => {
            let c = dockward_apiguard::Client {
                listener: "unix:///x",
                uid: Some(0),
                gid: Some(0),
            };
            if let Some(p) = f.select(c) {
                let _ = p.decide_head("GET", "/v1.41/containers/json");
            }
        }
        Err(e) => assert!(!e.contains('\n') || e.lines().count() <= 3),
    }
});
