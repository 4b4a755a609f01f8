//! Exit codes, documented in `dockward --help` and docs/exit-codes.md.
//! Scripts depend on them: never renumber.

pub(crate) const OK: u8 = 0;
/// Findings at or above the threshold (audit).
pub(crate) const FINDINGS: u8 = 1;
pub(crate) const USAGE: u8 = 2;
pub(crate) const UNREACHABLE: u8 = 3;
pub(crate) const DAEMON_ERROR: u8 = 4;
pub(crate) const INTERNAL: u8 = 5;
/// The kernel refused a firewall change, or nft/conntrack are missing.
pub(crate) const FIREWALL: u8 = 6;
