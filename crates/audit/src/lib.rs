//! `dockward audit`: every check is a pure function `(artifact) -> findings`.
//!
//! Front ends turn an artifact (a Dockerfile's text, a compose file's text,
//! daemon settings, an inventory) into findings; they never read files or
//! talk to dockerd themselves. The CLI gathers the artifacts and renders.

#![forbid(unsafe_code)]

pub mod finding;

pub use finding::{Finding, Location, Severity, Suppression};
pub mod rules;
mod rules_files;
mod rules_host;
