//! Compose front end (YAML with anchors, merge keys, interpolation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| dockward_audit::fuzz_compose(data));
