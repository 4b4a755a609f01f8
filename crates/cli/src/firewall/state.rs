//! The last ruleset `apply` put in force, in `/run/dockward/` (tmpfs: gone
//! at reboot, like the nftables table it describes).
//!
//! A record for operators and `status`: it never decides a verdict (the
//! sweep after an apply reads conntrack against the rules now in force,
//! not against what was replaced). Beside it, `watch` keeps the last
//! tampering it repaired ([`Tamper`]).

use dockward_firewall::ruleset::Ruleset;
use dockward_firewall::tamper::Tamper;
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

    /// Best effort: the file is a record, not an input.
    pub fn save(&self, rs: &Ruleset) {
        self.commit(Self::serialize(rs));
    }

    fn tamper_path(&self) -> Option<PathBuf> {
        self.0
            .as_ref()
            .map(|p| p.with_file_name("firewall-tamper.json"))
    }

    /// Best effort, like the state itself.
    pub fn record_tamper(&self, what: &str, repaired_in_ms: f64) {
        let Some(p) = self.tamper_path() else { return };
        let t = Tamper {
            at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            what: what.to_string(),
            repaired_in_ms,
        };
        if let Ok(json) = serde_json::to_string(&t) {
            if let Some(dir) = p.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let tmp = p.with_extension("tmp");
            if std::fs::write(&tmp, json).is_ok() {
                let _ = std::fs::rename(&tmp, p);
            }
        }
    }

    pub fn last_tamper(&self) -> Option<Tamper> {
        serde_json::from_str(&std::fs::read_to_string(self.tamper_path()?).ok()?).ok()
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
