//! The names of dockward's iptables chains, shared by the renderer and
//! the read-back.

pub const FWD: &str = "DOCKWARD-FWD";
pub const PUB: &str = "DOCKWARD-PUB";
pub const LOCAL: &str = "DOCKWARD-LOCAL";
pub const ISO: &str = "DOCKWARD-ISO";
pub const IN6: &str = "DOCKWARD-IN6";
