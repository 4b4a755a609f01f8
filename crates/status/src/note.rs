//! What `status` warns about, as values; the words are written once, here,
//! by `Display`, and the JSON report carries those words (its contract:
//! docs/status-json.md), so no consumer has to match text.

use serde::{Serialize, Serializer};

#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// `firewall watch` put back a change someone else made.
    Tampered {
        /// Seconds since it was repaired.
        ago: u64,
        what: String,
        repaired_in_ms: f64,
    },
    /// Ports published on every interface: DNAT comes before ufw/firewalld.
    AllInterfaces,
    /// `[::]` bindings: docker-proxy relays IPv6 to the container.
    Ipv6Relay,
    /// Docker before `fixed_in` routes to container addresses directly.
    DirectRouting {
        version: String,
        fixed_in: u32,
    },
    HostNetwork,
    /// The host's own traffic never crosses FORWARD.
    LocalTraffic,
    /// Ports are published and dockward's firewall is not in force.
    FirewallNotInstalled,
    /// dockward's firewall is in force (it replaces the warnings it covers).
    FirewallInForce,
    /// A `dockward.*` label dockward cannot use as written.
    Label {
        container: String,
        label: String,
        value: String,
        problem: String,
    },
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tampered {
                ago,
                what,
                repaired_in_ms,
            } => {
                let ago = match ago {
                    0..=119 => format!("{ago} s"),
                    120..=7199 => format!("{} min", ago / 60),
                    _ => format!("{} h", ago / 3600),
                };
                write!(
                    f,
                    "someone else changed dockward's firewall rules {ago} ago ({what}); `dockward firewall watch` put them back in {repaired_in_ms:.0} ms and cut what they let in"
                )
            }
            Self::AllInterfaces => f.write_str("ports on all interfaces are DNATed before the host firewall: ufw and firewalld rules do not apply to them"),
            Self::Ipv6Relay => f.write_str("[::] bindings are relayed by docker-proxy to the container's IPv4 address: reachable over IPv6 past every IPv4 rule"),
            Self::DirectRouting { version, fixed_in } => write!(
                f,
                "Docker {version} does not drop packets routed straight to container addresses: a neighbour that routes a bridge subnet via this host reaches every container port, loopback-only ones included (fixed in Docker {fixed_in})"
            ),
            Self::HostNetwork => f.write_str("host-network containers use the host's own ports: they are not published, and cannot be filtered per container"),
            Self::LocalTraffic => f.write_str("traffic from this host itself (loopback or its own addresses) never crosses FORWARD: no per-container rule can filter it"),
            Self::FirewallInForce => f.write_str("dockward firewall is in force: published ports are filtered by the verdicts shown (FIREWALL); routing straight to container addresses from outside is dropped"),
            Self::FirewallNotInstalled => f.write_str("dockward firewall is not installed: `dockward firewall plan` shows what it would close"),
            Self::Label {
                container,
                label,
                value,
                problem,
            } => write!(f, "container {container}: label {label}={value}: {problem}"),
        }
    }
}

impl Serialize for Note {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
