//! daemon.json, dockerd flags and the order-keeping parser of `harden`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dockward_audit::fuzz_daemon(data);
    let text = String::from_utf8_lossy(data);
    if let Ok(o) = dockward_audit::harden::parse_object("fuzz", &text) {
        let p = dockward_audit::harden::plan(&o, &dockward_audit::DaemonSettings::default());
        // What harden writes must parse back.
        assert!(dockward_audit::harden::parse_object("again", &p.after.to_pretty()).is_ok());
    }
});
