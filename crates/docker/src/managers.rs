//! A Swarm worker's view of the services and nodes, read from its
//! managers.
//!
//! Only a manager may list services and nodes (`GET /services` answers 503
//! "This node is not a swarm manager" on a worker), yet every node DNATs
//! every ingress-mode port, so the firewall on a worker must know each
//! service's labels and ports; and it hears of no node joining, whose
//! address its cluster ports must answer. It asks a manager: the `dockward
//! proxy` that runs on the managers (`contrib/swarm/`) with only
//! `SERVICES=1`, `NODES=1` and `EVENTS=1`, on a TCP port,
//! over TLS with the swarm's own certificates (swarmkit's PKI, which every
//! node already holds under `<data-root>/swarm/certificates`):
//! - the worker presents its node certificate, so only a node of this
//!   swarm is answered (the proxy's `--tls-client-ca` is the swarm's root);
//! - it checks the manager's certificate against the swarm's root and the
//!   name `swarm-manager`, which swarmkit puts only in managers'
//!   certificates: a worker, or anything else on the network, cannot pose
//!   as the manager and hand it a list that opens ports.
//!
//! Which managers: the ones `/info` names (`Swarm.RemoteManagers`), at the
//! proxy's port instead of 2377, tried in turn.
//!
//! The PEM files are read by `dockward_pem`, as the proxy reads them
//! (swarmkit's key carries headers RFC 7468 parsers refuse).
//!
//! Why a hand-made transport for bollard: bollard's own TLS checks the
//! certificate against the address it dials, and swarmkit's certificates
//! carry node names, not addresses.

use crate::convert;
use crate::error::EngineError;
use bollard::{BollardRequest, Docker};
use dockward_model as m;
use rustls::pki_types::ServerName;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where swarmkit keeps a node's certificates under the data root.
pub const DEFAULT_CERTS: &str = "/var/lib/docker/swarm/certificates";

/// The name swarmkit gives managers in their certificates.
const MANAGER_NAME: &str = "swarm-manager";

/// How long one manager may take before the next is tried.
const TIMEOUT: Duration = Duration::from_secs(3);

/// The managers' proxy: its port and this node's certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Managers {
    pub port: u16,
    /// `swarm-node.crt`, `swarm-node.key` and `swarm-root-ca.crt`.
    pub certs: PathBuf,
}

impl Managers {
    fn tls(&self) -> Result<tokio_rustls::TlsConnector, String> {
        let file = |name: &str| self.certs.join(name);
        let mut roots = rustls::RootCertStore::empty();
        for c in dockward_pem::certs(&file("swarm-root-ca.crt"), "the swarm's root")? {
            roots
                .add(c)
                .map_err(|e| format!("{}: {e}", file("swarm-root-ca.crt").display()))?;
        }
        let chain = dockward_pem::certs(&file("swarm-node.crt"), "this node's certificate")?;
        let key = dockward_pem::key(&file("swarm-node.key"), "this node's key")?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| format!("{}: {e}", self.certs.display()))?;
        Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
    }

    /// A bollard client for one manager (`host` as in `10.0.0.1:2377`).
    fn client(&self, tls: tokio_rustls::TlsConnector, host: &str) -> Result<Docker, String> {
        let ip = host_part(host).ok_or_else(|| format!("manager address {host:?}"))?;
        let addr = std::net::SocketAddr::new(ip, self.port);
        let transport = move |req: BollardRequest| {
            let tls = tls.clone();
            async move {
                let io = |e: std::io::Error| bollard::errors::Error::IOError { err: e };
                let tcp = tokio::time::timeout(TIMEOUT, tokio::net::TcpStream::connect(addr))
                    .await
                    .map_err(|_| io(std::io::ErrorKind::TimedOut.into()))?
                    .map_err(io)?;
                let name = ServerName::try_from(MANAGER_NAME).expect("a valid DNS name");
                let stream = tokio::time::timeout(TIMEOUT, tls.connect(name, tcp))
                    .await
                    .map_err(|_| io(std::io::ErrorKind::TimedOut.into()))?
                    .map_err(io)?;
                let (mut send, conn) =
                    hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                        .await
                        .map_err(bollard::errors::Error::from)?;
                tokio::spawn(conn);
                send.send_request(req)
                    .await
                    .map_err(bollard::errors::Error::from)
            }
        };
        Docker::connect_with_custom_transport(
            transport,
            Some(format!("https://{addr}")),
            TIMEOUT.as_secs(),
            // Docker 20.10's API: services' labels, ports and endpoint
            // mode are all in it, and every later dockerd serves it (a
            // custom transport negotiates nothing).
            &bollard::ClientVersion {
                major_version: 1,
                minor_version: 41,
            },
        )
        .map_err(|e| e.to_string())
    }

    /// Every service and node of the swarm, from the first of `managers`
    /// that answers; an error names each one tried.
    pub async fn cluster(
        &self,
        managers: &[String],
    ) -> Result<(Vec<m::Service>, Vec<m::SwarmNode>), EngineError> {
        let err = |detail: String| EngineError::Api {
            url: format!("the managers' proxy (port {})", self.port),
            call: "GET /services".into(),
            detail,
        };
        let tls = self.tls().map_err(|e| {
            err(format!(
                "this node's swarm certificates: {e}; give the directory that holds swarm-node.crt as `certificates` in the policy file's [swarm] table"
            ))
        })?;
        let mut tried = Vec::new();
        for host in managers {
            let listed = match self.client(tls.clone(), host) {
                Ok(d) => tokio::try_join!(
                    d.list_services(None::<bollard::query_parameters::ListServicesOptions>),
                    d.list_nodes(None::<bollard::query_parameters::ListNodesOptions>),
                )
                .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match listed {
                Ok((services, nodes)) => {
                    let mut out: Vec<m::Service> = services.iter().map(convert::service).collect();
                    out.sort_by(|a, b| a.name.cmp(&b.name));
                    let mut nodes: Vec<m::SwarmNode> =
                        nodes.iter().map(convert::swarm_node).collect();
                    nodes.sort_by(|a, b| a.hostname.cmp(&b.hostname).then(a.id.cmp(&b.id)));
                    return Ok((out, nodes));
                }
                Err(e) => tried.push(format!("{host}: {e}")),
            }
        }
        if tried.is_empty() {
            return Err(err("this node knows no manager".into()));
        }
        Err(err(format!(
            "{}; check that `dockward proxy` listens there with SERVICES=1, NODES=1, EVENTS=1 and the swarm's certificates (contrib/swarm/)",
            tried.join("; ")
        )))
    }
}

impl Managers {
    /// Follow the managers' service and node events (a worker hears of
    /// none from its own dockerd): a notice on `tx` for each. The managers are tried
    /// in turn, again a second after all failed; what changes while none
    /// answers, the watch's own polling finds. Returns when the receiver
    /// is gone.
    pub async fn follow_cluster(self, managers: Vec<String>, tx: tokio::sync::mpsc::Sender<()>) {
        use futures_util::StreamExt;
        let filters = std::collections::HashMap::from([(
            "type".to_string(),
            vec!["service".to_string(), "node".to_string()],
        )]);
        loop {
            for host in &managers {
                let Ok(d) = self.tls().and_then(|tls| self.client(tls, host)) else {
                    continue;
                };
                let opts = bollard::query_parameters::EventsOptionsBuilder::default()
                    .filters(&filters)
                    .build();
                let mut stream = d.events(Some(opts));
                while let Some(Ok(_)) = stream.next().await {
                    if tx.send(()).await.is_err() {
                        return;
                    }
                }
            }
            if tx.is_closed() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// The address part of `10.0.0.1:2377` or `[fd00::1]:2377`.
fn host_part(addr: &str) -> Option<std::net::IpAddr> {
    if let Ok(ip) = addr.parse() {
        return Some(ip);
    }
    let (h, _) = addr.rsplit_once(':')?;
    h.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manager_addresses() {
        assert_eq!(host_part("10.0.0.1:2377"), "10.0.0.1".parse().ok());
        assert_eq!(host_part("[fd00::1]:2377"), "fd00::1".parse().ok());
        assert_eq!(host_part("manager:2377"), None);
    }

    #[tokio::test]
    async fn missing_certificates_say_where_to_point() {
        let m = Managers {
            port: 2378,
            certs: PathBuf::from("/nonexistent/dir"),
        };
        let e = m.cluster(&["10.0.0.1:2377".into()]).await.unwrap_err();
        let s = e.to_string();
        assert!(
            s.contains("/nonexistent/dir") && s.contains("certificates"),
            "{s}"
        );
    }
}
