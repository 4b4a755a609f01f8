//! Exit codes, documented in `dockward --help` and docs/exit-codes.md.
//! Scripts depend on them: never renumber.

pub const OK: u8 = 0;
/// Findings at or above the threshold (audit).
pub const FINDINGS: u8 = 1;
pub const USAGE: u8 = 2;
pub const UNREACHABLE: u8 = 3;
pub const DAEMON_ERROR: u8 = 4;
pub const INTERNAL: u8 = 5;
/// The kernel refused a firewall change, or nft/conntrack are missing.
pub const FIREWALL: u8 = 6;
