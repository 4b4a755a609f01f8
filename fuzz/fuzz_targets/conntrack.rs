//! conntrack's text output, as parsed before connections are cut.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = dockward_netfilter::conntrack::parse_entries(&String::from_utf8_lossy(data));
});
