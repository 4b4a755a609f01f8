//! `dockward audit`: every check is a pure function `(artifact) -> findings`.
//!
//! Front ends turn an artifact (a Dockerfile's text, a compose file's text,
//! daemon settings, an inventory) into findings; they never read files or
//! talk to dockerd themselves. The CLI gathers the artifacts and renders.
//! Keeping the core pure is what lets the corpus tests pin every trap
//! (USER via ARG, anchors carrying `privileged`, secrets never printed) with
//! plain strings, and lets the fuzz entries below run without a filesystem.

pub mod artifact;
pub mod baseline;
pub mod finding;
pub mod harden;
pub mod hostfiles;
pub mod hostsetup;
pub mod image;

pub use finding::{Diagnostic, Finding, Location, Severity, Suppression};
pub mod compose;
pub mod config;
pub mod container;
pub mod daemon;
pub mod dockerfile;
pub mod interpolate;
pub mod render;
pub mod report;
pub mod rules;
mod runcmd;
mod shell;
mod suppress;
pub mod swarm;

pub use compose::{audit_compose, ComposeEnv};
pub use container::{audit_container, Exposure};
pub use daemon::{
    audit_daemon, parse_daemon_json, parse_docker_opts, parse_dockerd_args, DaemonSettings,
};
pub use dockerfile::{audit_dockerfile, BuildArgs};
pub use image::{audit_image, ImageFacts};
pub use report::{Report, Target};
pub use swarm::{audit_node_ports, audit_service, audit_swarm, NodePorts};

/// Fuzz entry for the Dockerfile front end: any bytes, never a panic.
pub fn fuzz_dockerfile(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = audit_dockerfile("fuzz/Dockerfile", &text, &BuildArgs::new());
}

/// Fuzz entry for the compose front end: any bytes, never a panic.
pub fn fuzz_compose(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = audit_compose("fuzz/compose.yaml", &text, &ComposeEnv::new());
}

/// Fuzz entry for the daemon front ends (daemon.json and dockerd flags).
pub fn fuzz_daemon(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(s) = parse_daemon_json("fuzz/daemon.json", &text) {
        let _ = audit_daemon(&s, "fuzz");
    }
    let args: Vec<&str> = text.split_whitespace().collect();
    let _ = audit_daemon(&parse_dockerd_args(&args), "fuzz");
}
