//! The last ruleset `apply` put in force, in `/run/dockward/` (tmpfs: gone
//! at reboot, like the nftables table it describes).
//!
//! Only an optimisation: it tells the next apply what it replaces (to cut
//! revoked connections) without listing the kernel's table. A missing or
//! unreadable file falls back to the listing; it never decides a verdict.

use dockward_firewall::ruleset::{Ruleset, Saved};
use std::path::PathBuf;

/// Where the state lives; `None` keeps none (unit tests).
#[derive(Debug, Clone)]
pub struct StateFile(pub Option<PathBuf>);

impl StateFile {
    pub fn system() -> Self {
        let dir = std::env::var_os("DOCKWARD_STATE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/run/dockward"));
        Self(Some(dir.join("firewall-state.json")))
    }

    pub fn load(&self) -> Option<Ruleset> {
        Self::parse(&self.read_raw()?)
    }

    /// The file's bytes, unparsed (parsing can then overlap the kernel's
    /// transaction).
    pub fn read_raw(&self) -> Option<String> {
        std::fs::read_to_string(self.0.as_ref()?).ok()
    }

    pub fn parse(text: &str) -> Option<Ruleset> {
        let saved: Saved = serde_json::from_str(text).ok()?;
        Some(Ruleset::restore(&saved))
    }

    /// `rs` as the file will hold it.
    pub fn serialize(rs: &Ruleset) -> Option<String> {
        serde_json::to_string(&rs.save()).ok()
    }

    /// Writes what [`StateFile::serialize`] made (temp file + rename).
    pub fn commit(&self, json: Option<String>) {
        if let (Some(p), Some(json)) = (&self.0, json) {
            if let Some(dir) = p.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let tmp = p.with_extension("tmp");
            if std::fs::write(&tmp, json).is_ok() {
                let _ = std::fs::rename(&tmp, p);
            }
        }
    }

    /// Best effort: a failure only costs the next apply a kernel listing.
    pub fn save(&self, rs: &Ruleset) {
        self.commit(Self::serialize(rs));
    }

    pub fn clear(&self) {
        if let Some(p) = &self.0 {
            let _ = std::fs::remove_file(p);
        }
        self.set_iptables(false);
    }

    /// A marker that the iptables backend was used last, so that an nft
    /// apply only lists iptables (two process spawns) when it has chains of
    /// dockward's to take out. `remove` cleans both backends regardless.
    fn marker(&self) -> Option<PathBuf> {
        self.0.as_ref().map(|p| p.with_extension("iptables"))
    }

    pub fn iptables_used(&self) -> bool {
        self.marker().is_some_and(|m| m.exists())
    }

    pub fn set_iptables(&self, used: bool) {
        if let Some(m) = self.marker() {
            if used {
                if let Some(dir) = m.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                let _ = std::fs::write(&m, "");
            } else {
                let _ = std::fs::remove_file(&m);
            }
        }
    }
}
