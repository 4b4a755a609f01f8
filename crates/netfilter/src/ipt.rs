//! [`Xtables`] over the `iptables-save`/`iptables-restore` programs (and
//! their IPv6 twins), for hosts without nftables.

use crate::nft::{run, succeeded};
use crate::NetfilterError;

/// What the iptables backend needs from the kernel: read the filter table,
/// and change dockward's chains in one transaction per family.
pub trait Xtables {
    /// The filter table as `iptables-save -c` prints it (with counters).
    fn save(&mut self, v6: bool) -> Result<String, NetfilterError>;
    /// `iptables-restore --test`: parsed and checked, not committed.
    fn check(&mut self, v6: bool, script: &str) -> Result<(), NetfilterError>;
    /// One `iptables-restore --noflush --counters` transaction.
    fn restore(&mut self, v6: bool, script: &str) -> Result<(), NetfilterError>;
    /// Both families' saves, IPv4 first.
    fn saves(&mut self) -> Result<(String, String), NetfilterError> {
        Ok((self.save(false)?, self.save(true)?))
    }
}

/// The iptables backend's kernel edge: `iptables-save -c` to see what is
/// there (rules with their counters), `iptables-restore --noflush
/// --counters` to change dockward's chains in one transaction per table,
/// keeping the counters a script carries (`-w`: wait for the xtables lock
/// Docker holds while it edits its own rules).
#[derive(Debug, Default, Clone)]
pub struct IptCli;

fn restore_prog(v6: bool) -> &'static str {
    if v6 {
        "ip6tables-restore"
    } else {
        "iptables-restore"
    }
}

impl Xtables for IptCli {
    fn save(&mut self, v6: bool) -> Result<String, NetfilterError> {
        let p = if v6 {
            "ip6tables-save"
        } else {
            "iptables-save"
        };
        let out = succeeded(p, run(p, &["-c", "-t", "filter"], None)?)?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn check(&mut self, v6: bool, script: &str) -> Result<(), NetfilterError> {
        let p = restore_prog(v6);
        let args = ["-w", "--noflush", "--counters", "--test"];
        succeeded(p, run(p, &args, Some(script))?).map(|_| ())
    }

    fn restore(&mut self, v6: bool, script: &str) -> Result<(), NetfilterError> {
        let p = restore_prog(v6);
        succeeded(p, run(p, &["-w", "--noflush", "--counters"], Some(script))?).map(|_| ())
    }
}
