//! The Docker edge of dockward.
//!
//! Everything that talks to dockerd lives here and nowhere else: the
//! subsystems (`status`, `firewall`, `audit`) are pure functions of a
//! [`dockward_model::Inventory`] and get it through [`InventorySource`].
//! The conversion from Engine API answers to the model is itself pure
//! ([`convert`]) and tested on answers recorded from a real dockerd.

pub mod client;
pub mod convert;
pub mod endpoint;
pub mod error;
pub mod events;
pub mod managers;
pub mod runlike;

pub use client::{Engine, ImageConfig, InventorySource, PidOf, Scope};
pub use endpoint::{Endpoint, Origin};
pub use error::{EngineError, Unreachable};
pub use events::{follow, DockerEvent, FollowOptions, Update};
pub use managers::Managers;

/// A recorded inventory (`--inventory`: JSON as [`dockward_model`]
/// serialises it), for tests, benchmarks and audits of another host's
/// snapshot. The error is one line naming the file.
pub fn recorded(path: &std::path::Path) -> Result<dockward_model::Inventory, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("inventory {shown}: cannot read it ({e})"))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("inventory {shown}: not a dockward inventory ({e})"))
}
