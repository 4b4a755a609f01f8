//! The Docker API firewall's core: `(policy, request) -> decision`.
//!
//! No sockets here. The proxy edge (`dockward proxy`) parses HTTP with
//! hyper, asks [`Policy::decide_head`] about the method and target, buffers
//! the body of the endpoints whose body can give power over the host and
//! asks [`Policy::decide_body`], then forwards the canonical body. Keeping
//! the decisions pure is what lets the bypass cases of ANCHORS §1 be unit
//! tests and fuzz targets, beside the live suite against dockerd.

pub mod action;
pub mod file;
pub mod gojson;
pub mod path;
pub mod policy;
pub mod power;
pub mod route;
pub mod visibility;

pub use action::Action;
pub use file::{Active, Client, PolicyFile};
pub use policy::{Allowed, Checked, Deny, Policy, Subject};
pub use route::{Route, Section};
