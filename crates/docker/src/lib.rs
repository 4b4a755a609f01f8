//! The Docker edge of dockward.
//!
//! Everything that talks to dockerd lives here and nowhere else: the
//! subsystems (`status`, `firewall`, `audit`) are pure functions of a
//! [`dockward_model::Inventory`] and get it through [`InventorySource`].
//! The conversion from Engine API answers to the model is itself pure
//! ([`convert`]) and tested on answers recorded from a real dockerd.

#![forbid(unsafe_code)]

pub mod client;
pub mod convert;
pub mod endpoint;
pub mod error;
pub mod events;

pub use client::{Engine, ImageConfig, InventorySource};
pub use endpoint::{Endpoint, Origin};
pub use error::{EngineError, Unreachable};
pub use events::{follow, DockerEvent, FollowOptions, Update};
