//! Dockerfile front end: any bytes give findings or a diagnostic, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| dockward_audit::fuzz_dockerfile(data));
