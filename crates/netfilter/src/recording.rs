//! A recording fake for unit tests of the firewall's orchestration: it keeps
//! every call, can be told to refuse, and answers from canned data.

use crate::{Conn, Netfilter, NetfilterError};

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
}

impl Netfilter for Recording {
    fn apply(&mut self, script: &str) -> Result<(), NetfilterError> {
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
        Ok(self.table.is_some())
    }

    fn table_json(
        &mut self,
        family: &str,
        table: &str,
    ) -> Result<Option<serde_json::Value>, NetfilterError> {
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
