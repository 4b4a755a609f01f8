//! What `dockward firewall` keeps between runs, in `/run/dockward/`
//! (tmpfs: gone at reboot, like the rules it describes): which backend was
//! used last, and the last tampering `watch` repaired ([`Tamper`], shown
//! by `status`). Neither decides a verdict: the rules are made from the
//! inventory and the policy alone, and the sweep after an apply judges
//! conntrack against the rules now in force.

use dockward_firewall::tamper::Tamper;
use std::path::PathBuf;

/// The default state directory.
pub const STATE_DIR: &str = "/run/dockward";

/// dockward's state directory; `None` keeps nothing.
#[derive(Debug, Clone)]
pub struct StateFile(pub Option<PathBuf>);

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The file a running `watch` announces itself in.
const WATCH: &str = "watch.json";

/// A running `firewall watch`, as it announces itself: how `allow`,
/// `deny` and `reset` find the process to reload, and see that it did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WatchMark {
    pub pid: u32,
    /// The policy file it reads on SIGHUP; `None`: labels only.
    pub policy: Option<PathBuf>,
    /// Reloads so far, and how the last one went (`None`: it applied).
    pub reloads: u64,
    pub last_error: Option<String>,
}

impl StateFile {
    /// Announces this process as the running watch.
    pub fn announce_watch(&self, mark: &WatchMark) {
        if let Ok(json) = serde_json::to_string(mark) {
            self.write(WATCH, &json);
        }
    }

    /// The watch is stopping: no one to reload any more.
    pub fn withdraw_watch(&self) {
        if let Some(p) = self.path(WATCH) {
            let _ = std::fs::remove_file(p);
        }
    }

    /// The running watch, when its announcement names a live `dockward`
    /// process (a stale file from a killed one names none, or another
    /// program that got its pid).
    pub fn running_watch(&self) -> Option<WatchMark> {
        let m: WatchMark =
            serde_json::from_str(&std::fs::read_to_string(self.path(WATCH)?).ok()?).ok()?;
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", m.pid)).ok()?;
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let ours = args.first().is_some_and(|a| a.ends_with(b"dockward"))
            && args.iter().any(|a| *a == b"watch");
        ours.then_some(m)
    }

    fn path(&self, name: &str) -> Option<PathBuf> {
        self.0.as_ref().map(|d| d.join(name))
    }

    /// Best effort (temp file + rename): these files are records, not
    /// inputs to a verdict.
    fn write(&self, name: &str, text: &str) {
        let (Some(dir), Some(p)) = (&self.0, self.path(name)) else {
            return;
        };
        let _ = std::fs::create_dir_all(dir);
        let tmp = p.with_extension("tmp");
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, p);
        }
    }

    pub fn record_tamper(&self, what: &str, repaired_in_ms: f64) {
        let t = Tamper {
            at: unix_now(),
            what: what.to_string(),
            repaired_in_ms,
        };
        if let Ok(json) = serde_json::to_string(&t) {
            self.write(TAMPER, &json);
        }
    }

    pub fn last_tamper(&self) -> Option<Tamper> {
        serde_json::from_str(&std::fs::read_to_string(self.path(TAMPER)?).ok()?).ok()
    }

    /// `remove`: nothing of dockward's is in force any more.
    pub fn clear(&self) {
        if let Some(p) = self.path(TAMPER) {
            let _ = std::fs::remove_file(p);
        }
        self.set_iptables(false);
    }

    /// A marker that the iptables backend was used last, so that an nft
    /// apply only lists iptables (two process spawns) when it has chains of
    /// dockward's to take out. `remove` cleans both backends regardless.
    pub fn iptables_used(&self) -> bool {
        self.path(IPTABLES).is_some_and(|m| m.exists())
    }

    pub fn set_iptables(&self, used: bool) {
        if used {
            self.write(IPTABLES, "");
        } else if let Some(m) = self.path(IPTABLES) {
            let _ = std::fs::remove_file(m);
        }
    }
}

const TAMPER: &str = "firewall-tamper.json";
/// The name earlier versions used: a marker left by one is still read.
const IPTABLES: &str = "firewall-state.iptables";
