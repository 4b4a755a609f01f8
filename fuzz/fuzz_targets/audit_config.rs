//! The audit config file (TOML with ignores, globs and dates).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(c) = dockward_audit::config::AuditConfig::parse("fuzz", &text) {
        let mut r = dockward_audit::Report::default();
        let _ = dockward_audit::config::apply_ignores(&mut r, &c.ignores, "2026-11-30");
    }
});
