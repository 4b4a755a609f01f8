//! A recording fake for unit tests of the firewall's orchestration: it keeps
//! every call, can be told to refuse, and answers from canned data.

use crate::{Conn, Netfilter, NetfilterError, Xtables};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Apply(String),
    TableJson(String),
    ConnectionsTo(String, String, u16),
    ConnectionsToLocal6(String, u16),
    Connections,
    Cut(Conn),
}

#[derive(Debug, Default)]
pub struct Recording {
    pub calls: Vec<Call>,
    /// When set, `apply` fails with this message and changes nothing.
    pub refuse: Option<String>,
    pub table: Option<serde_json::Value>,
    pub conns: Vec<Conn>,
    pub host: Vec<std::net::IpAddr>,
    /// When set, no `nft` program is here: `apply`, `has_table` and
    /// `table_json` fail to spawn, as on an iptables-only host.
    pub missing: bool,
}

impl Recording {
    fn spawn(&self) -> Result<(), NetfilterError> {
        if self.missing {
            return Err(NetfilterError::Spawn {
                program: "nft".into(),
                cause: "No such file or directory (os error 2)".into(),
            });
        }
        Ok(())
    }
}

impl Netfilter for Recording {
    fn apply(&mut self, script: &str) -> Result<(), NetfilterError> {
        self.spawn()?;
        if let Some(m) = &self.refuse {
            return Err(NetfilterError::Refused {
                program: "nft".into(),
                stderr: m.clone(),
            });
        }
        self.calls.push(Call::Apply(script.to_string()));
        Ok(())
    }

    fn has_table(&mut self, _table: &str) -> Result<bool, NetfilterError> {
        self.spawn()?;
        Ok(self.table.is_some())
    }

    fn table_json(
        &mut self,
        family: &str,
        table: &str,
    ) -> Result<Option<serde_json::Value>, NetfilterError> {
        self.spawn()?;
        self.calls
            .push(Call::TableJson(format!("{family} {table}")));
        Ok(self.table.clone().filter(|_| family == "inet"))
    }

    fn connections_to(
        &mut self,
        proto: &str,
        addr: &str,
        port: u16,
    ) -> Result<Vec<Conn>, NetfilterError> {
        self.calls
            .push(Call::ConnectionsTo(proto.into(), addr.into(), port));
        Ok(self
            .conns
            .iter()
            .filter(|c| c.proto == proto)
            .cloned()
            .collect())
    }

    fn connections_to_local6(
        &mut self,
        proto: &str,
        port: u16,
    ) -> Result<Vec<Conn>, NetfilterError> {
        self.calls
            .push(Call::ConnectionsToLocal6(proto.into(), port));
        Ok(self
            .conns
            .iter()
            .filter(|c| c.proto == proto && c.dport == port)
            .cloned()
            .collect())
    }

    fn connections(&mut self) -> Result<Vec<Conn>, NetfilterError> {
        self.calls.push(Call::Connections);
        Ok(self.conns.clone())
    }

    fn host_addresses(&mut self) -> Result<Vec<std::net::IpAddr>, NetfilterError> {
        Ok(self.host.clone())
    }

    fn cut(&mut self, conn: &Conn) -> Result<(), NetfilterError> {
        self.calls.push(Call::Cut(conn.clone()));
        Ok(())
    }
}

/// One call to the iptables fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IptCall {
    Save { v6: bool },
    Check { v6: bool, script: String },
    Restore { v6: bool, script: String },
}

/// A recording fake of [`Xtables`]: answers `save` with `v4`/`v6`, keeps
/// every call, and can be told to refuse a check or a restore (then the
/// kernel's tables stay as they were, as `iptables-restore` leaves them).
#[derive(Debug, Default)]
pub struct RecordingIpt {
    pub calls: Vec<IptCall>,
    pub v4: String,
    pub v6: String,
    /// When set, `check` and `restore` fail with this message.
    pub refuse: Option<String>,
}

impl RecordingIpt {
    /// The scripts committed, in order, with their family.
    pub fn restored(&self) -> Vec<(bool, &str)> {
        self.calls
            .iter()
            .filter_map(|c| match c {
                IptCall::Restore { v6, script } => Some((*v6, script.as_str())),
                _ => None,
            })
            .collect()
    }

    fn refused(&self, program: &str) -> Result<(), NetfilterError> {
        match &self.refuse {
            Some(m) => Err(NetfilterError::Refused {
                program: program.into(),
                stderr: m.clone(),
            }),
            None => Ok(()),
        }
    }
}

impl Xtables for RecordingIpt {
    fn save(&mut self, v6: bool) -> Result<String, NetfilterError> {
        self.calls.push(IptCall::Save { v6 });
        Ok(if v6 { self.v6.clone() } else { self.v4.clone() })
    }

    fn check(&mut self, v6: bool, script: &str) -> Result<(), NetfilterError> {
        self.calls.push(IptCall::Check {
            v6,
            script: script.into(),
        });
        self.refused("iptables-restore --test")
    }

    fn restore(&mut self, v6: bool, script: &str) -> Result<(), NetfilterError> {
        self.refused("iptables-restore")?;
        self.calls.push(IptCall::Restore {
            v6,
            script: script.into(),
        });
        Ok(())
    }
}
