//! What `firewall watch --notify-*` alerts on, as a pure comparison of
//! one moment with the one before: a published port that became public,
//! a new container with the Docker socket or `--privileged`, and the
//! firewall's rules changed by someone else. The first moment is the
//! baseline and is not alerted on: an alert says something changed.
//!
//! The watch's inventory comes from the list endpoint (see
//! `dockward_docker::Scope::Firewall`), which does not carry mounts or
//! `Privileged`; a container's own inspect does, and the watch makes one
//! on every event about it. So socket and privileged alerts are for
//! containers first seen after the baseline, judged on that inspect, and
//! a container known before is never alerted on for a flag the list did
//! not show.

use dockward_firewall::policy::{self, Expose};
use dockward_firewall::PolicyFile;
use dockward_hostpower::{classify, Mount};
use dockward_model::{Inventory, Protocol};
use dockward_notify::{Alert, Kind};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Default)]
pub struct Tracker {
    host: String,
    /// Public ports of running containers: (container, port, protocol).
    public: Option<BTreeSet<(String, u16, Protocol)>>,
    /// Container ids seen so far.
    known: BTreeSet<String>,
}

impl Tracker {
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            ..Self::default()
        }
    }

    fn alert(&self, kind: Kind, container: Option<&str>, message: String, now: u64) -> Alert {
        Alert {
            kind,
            host: self.host.clone(),
            container: container.map(str::to_string),
            message,
            at: now,
        }
    }

    /// The alerts for `inv` under `file`, against the last call's.
    pub fn observe(&mut self, inv: &Inventory, file: &PolicyFile, now: u64) -> Vec<Alert> {
        let running: BTreeSet<&str> = inv
            .containers
            .iter()
            .filter(|c| c.is_running())
            .map(|c| c.name.as_str())
            .collect();
        let public: BTreeSet<(String, u16, Protocol)> = policy::resolve(inv, file)
            .ports
            .into_iter()
            .filter(|p| p.expose == Expose::Public && running.contains(p.container.as_str()))
            .map(|p| (p.container, p.container_port, p.protocol))
            .collect();
        let mut out = Vec::new();
        let Some(before) = self.public.replace(public.clone()) else {
            self.known = inv.containers.iter().map(|c| c.id.clone()).collect();
            return out;
        };
        for (name, port, proto) in public.difference(&before) {
            out.push(self.alert(
                Kind::PortPublic,
                Some(name),
                format!("{name} {port}/{proto} is now reachable from anywhere"),
                now,
            ));
        }
        for c in &inv.containers {
            if !self.known.insert(c.id.clone()) {
                continue;
            }
            if c.privileged {
                out.push(self.alert(
                    Kind::Privileged,
                    Some(&c.name),
                    format!(
                        "{} ({}) was created with --privileged: root on this host",
                        c.name, c.image
                    ),
                    now,
                ));
            }
            if let Some(m) = c
                .mounts
                .iter()
                .find(|m| m.kind == "bind" && classify(&m.source) == Some(Mount::Socket))
            {
                out.push(self.alert(
                    Kind::SocketMount,
                    Some(&c.name),
                    format!(
                        "{} ({}) has the Docker socket ({} -> {}): whoever controls it is root on this host",
                        c.name, c.image, m.source, m.destination
                    ),
                    now,
                ));
            }
        }
        out
    }

    /// The firewall's rules were found changed and were put back.
    pub fn tampered(&self, why: &str, repaired_in_ms: f64, now: u64) -> Alert {
        self.alert(
            Kind::FirewallTampered,
            None,
            format!("dockward's firewall rules were changed by someone else ({why}); put back {repaired_in_ms:.0} ms later"),
            now,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::web;
    use dockward_model::{ContainerState, Mount as M};

    fn kinds(a: &[Alert]) -> Vec<Kind> {
        a.iter().map(|a| a.kind).collect()
    }

    #[test]
    fn the_first_look_is_the_baseline_then_only_changes_alert() {
        let mut t = Tracker::new("h");
        let file = PolicyFile::default();
        let mut inv = Inventory::default();
        let mut old = web("old", "172.17.0.2", "public");
        old.privileged = true;
        inv.containers.push(old);
        assert!(t.observe(&inv, &file, 1).is_empty(), "baseline");
        assert!(t.observe(&inv, &file, 2).is_empty(), "nothing changed");

        inv.containers.push(web("web", "172.17.0.3", "local"));
        assert!(t.observe(&inv, &file, 3).is_empty(), "a local port");
        inv.containers.push(web("pub", "172.17.0.4", "public"));
        let a = t.observe(&inv, &file, 4);
        assert_eq!(kinds(&a), [Kind::PortPublic]);
        assert!(a[0].message.contains("pub 80/tcp"), "{}", a[0].message);
        assert!(t.observe(&inv, &file, 5).is_empty(), "said once");

        let mut agent = web("agent", "172.17.0.5", "local");
        agent.privileged = true;
        agent.mounts.push(M {
            kind: "bind".into(),
            source: "/run/docker.sock".into(),
            destination: "/var/run/docker.sock".into(),
            read_only: true,
            propagation: String::new(),
        });
        inv.containers.push(agent);
        assert_eq!(
            kinds(&t.observe(&inv, &file, 6)),
            [Kind::Privileged, Kind::SocketMount]
        );
        // Stopped, a public label opens nothing reachable.
        let mut stopped = web("later", "172.17.0.6", "public");
        stopped.state = ContainerState::Exited;
        inv.containers.push(stopped);
        assert!(t.observe(&inv, &file, 7).is_empty());
    }
}
