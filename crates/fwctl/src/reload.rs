//! Telling a running `firewall watch` that its policy file changed.
//!
//! `allow`, `deny` and `reset` edit the file a watch may be holding in
//! memory: applying the new rules beside it would be undone at its next
//! event, from the old policy. So when a watch is running, the edit is
//! its to apply: SIGHUP (the reload it already has), then wait for its
//! announcement ([`crate::state::WatchMark`]) to count one more reload and
//! say how it went.

use crate::state::{StateFile, WatchMark};
use std::path::Path;
use std::time::{Duration, Instant};

/// `Ok(None)`: no watch is running; apply directly. `Ok(Some(mark))`: the
/// watch applied the file. `Err`: it runs with another policy file, or did
/// not reload in `within`, or refused the file.
pub fn reload_watch(
    state: &StateFile,
    policy: Option<&Path>,
    within: Duration,
) -> Result<Option<WatchMark>, String> {
    let Some(before) = state.running_watch() else {
        return Ok(None);
    };
    let same = |a: Option<&Path>, b: Option<&Path>| match (a, b) {
        (Some(a), Some(b)) => {
            a == b
                || a.canonicalize()
                    .ok()
                    .is_some_and(|x| b.canonicalize().ok() == Some(x))
        }
        (None, None) => true,
        _ => false,
    };
    if !same(before.policy.as_deref(), policy) {
        let theirs = before
            .policy
            .as_ref()
            .map_or("no policy file (labels only)".to_string(), |p| {
                format!("policy {}", p.display())
            });
        return Err(format!(
            "a firewall watch (pid {}) runs with {theirs}, and would undo this change: edit that file (--policy), or restart the watch with this one",
            before.pid
        ));
    }
    let pid = i32::try_from(before.pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .ok_or_else(|| format!("the watch's pid {} is not a pid", before.pid))?;
    rustix::process::kill_process(pid, rustix::process::Signal::HUP)
        .map_err(|e| format!("cannot signal the firewall watch (pid {}): {e}", before.pid))?;
    let started = Instant::now();
    while started.elapsed() < within {
        std::thread::sleep(Duration::from_millis(20));
        match state.running_watch() {
            Some(m) if m.reloads > before.reloads => {
                return match &m.last_error {
                    None => Ok(Some(m)),
                    Some(e) => Err(format!(
                        "the firewall watch (pid {}) refused the file: {e}; it keeps its last rules",
                        m.pid
                    )),
                };
            }
            Some(_) => {}
            None => {
                return Err(format!(
                    "the firewall watch (pid {}) stopped before it reloaded",
                    before.pid
                ))
            }
        }
    }
    Err(format!(
        "the firewall watch (pid {}) did not reload within {} s; see its log",
        before.pid,
        within.as_secs()
    ))
}
