//! One POST over HTTP/1.1, plain or TLS (the system's CA store, or
//! `SSL_CERT_FILE`).

use crate::{json_body, Alert, Format};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use tokio::net::TcpStream;

/// The parts of a webhook URL a connection needs.
pub(crate) struct Target {
    tls: bool,
    host: String,
    port: u16,
    /// Path and query.
    path: String,
}

impl Target {
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!("--notify-url {url:?}: {why}; give http://HOST[:PORT]/PATH or https://…")
        };
        let uri: hyper::Uri = url.parse().map_err(|_| bad("not a URL"))?;
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(bad("only http and https")),
        };
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("no host"))?;
        Ok(Self {
            tls,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port: uri.port_u16().unwrap_or(if tls { 443 } else { 80 }),
            path: uri
                .path_and_query()
                .map_or("/".to_string(), |p| p.as_str().to_string()),
        })
    }

    fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match (self.tls, self.port) {
            (true, 443) | (false, 80) => host,
            _ => format!("{host}:{}", self.port),
        }
    }
}

fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for c in found.certs {
        let _ = roots.add(c);
    }
    if roots.is_empty() {
        return Err(
            "no CA certificates found (install ca-certificates, or set SSL_CERT_FILE)".into(),
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

pub(crate) async fn post(url: &str, format: Format, alert: &Alert) -> Result<(), String> {
    let t = Target::parse(url)?;
    let (body, content_type) = match format {
        Format::Json => (json_body(alert).to_string(), "application/json"),
        Format::Ntfy => (alert.message.clone(), "text/plain; charset=utf-8"),
    };
    let mut req = Request::post(&t.path)
        .header(hyper::header::HOST, t.authority())
        .header(hyper::header::CONTENT_TYPE, content_type)
        .header(
            hyper::header::USER_AGENT,
            concat!("dockward/", env!("CARGO_PKG_VERSION")),
        );
    if format == Format::Ntfy {
        req = req
            .header(
                "Title",
                format!("dockward on {}: {}", alert.host, alert.kind.as_str()),
            )
            .header("Tags", "warning");
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let tcp = TcpStream::connect((t.host.as_str(), t.port))
        .await
        .map_err(|e| format!("cannot connect to {}:{} ({e})", t.host, t.port))?;
    let status = if t.tls {
        let name = rustls::pki_types::ServerName::try_from(t.host.clone())
            .map_err(|e| format!("{}: {e}", t.host))?;
        let stream = tokio_rustls::TlsConnector::from(tls_config()?)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {}: {e}", t.host))?;
        send(TokioIo::new(stream), req).await?
    } else {
        send(TokioIo::new(tcp), req).await?
    };
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the webhook answered {status}"))
    }
}

async fn send<T>(io: T, req: Request<Full<Bytes>>) -> Result<hyper::StatusCode, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(conn);
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    // Read the answer to its end so the connection closes cleanly.
    let _ = resp.into_body().collect().await;
    driver.abort();
    Ok(status)
}
