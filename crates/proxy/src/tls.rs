//! TLS on TCP listeners, with client certificates: the way dockerd's own
//! `--tlsverify` works, so a client keeps its `DOCKER_TLS_VERIFY`,
//! `DOCKER_CERT_PATH` setup. rustls (ring provider) does the handshake;
//! the client is named in the audit log by its certificate's SHA-256.

use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// An acceptor for `cert`/`key`; with `client_ca`, clients must present a
/// certificate signed by it (otherwise the handshake fails).
pub fn acceptor(cert: &Path, key: &Path, client_ca: Option<&Path>) -> Result<TlsAcceptor, String> {
    let chain = dockward_pem::certs(cert, "--tls-cert")?;
    let key = dockward_pem::key(key, "--tls-key")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let config = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in dockward_pem::certs(ca, "--tls-client-ca")? {
                roots
                    .add(c)
                    .map_err(|e| format!("--tls-client-ca {}: {e}", ca.display()))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| format!("--tls-client-ca {}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    }
    .with_single_cert(chain, key)
    .map_err(|e| format!("--tls-cert/--tls-key: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Hex SHA-256 of a DER certificate.
pub fn fingerprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
