//! Prometheus metrics and the health check, on their own listener so that
//! a scraper never needs access to the Docker API listener.
//!
//! - `dockward_proxy_requests_total{decision,action}`
//! - `dockward_proxy_request_duration_seconds` (histogram)
//! - `dockward_proxy_upstream_errors_total`
//! - `GET /healthz`: 200 when dockerd answers `/_ping`, 503 otherwise.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Labels {
    pub decision: &'static str,
    pub action: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<Labels, Counter>,
    pub duration: Histogram,
    pub upstream_errors: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("dockward_proxy");
        let requests = Family::<Labels, Counter>::default();
        registry.register(
            "requests",
            "Requests by decision and API action",
            requests.clone(),
        );
        let duration = Histogram::new(exponential_buckets(0.0001, 4.0, 10));
        registry.register(
            "request_duration_seconds",
            "Time from request to the last response byte",
            duration.clone(),
        );
        let upstream_errors = Counter::default();
        registry.register(
            "upstream_errors",
            "Requests answered 502 because dockerd could not be reached",
            upstream_errors.clone(),
        );
        Self {
            registry,
            requests,
            duration,
            upstream_errors,
        }
    }
}

impl Metrics {
    pub fn encode(&self) -> String {
        let mut s = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut s, &self.registry);
        s
    }
}

/// Serves `/metrics` and `/healthz` on `url` (`tcp://address:port`).
pub async fn serve_metrics(
    url: &str,
    metrics: std::sync::Arc<Metrics>,
    upstream: crate::Upstream,
) -> Result<(), String> {
    use http_body_util::Full;
    use hyper::{Response, StatusCode};
    let addr: std::net::SocketAddr = url
        .strip_prefix("tcp://")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| {
            format!("--metrics {url:?}: write tcp://ADDRESS:PORT, e.g. tcp://127.0.0.1:9102")
        })?;
    let l = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("--metrics {url}: {e}"))?;
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else {
                continue;
            };
            let metrics = metrics.clone();
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let metrics = metrics.clone();
                        let upstream = upstream.clone();
                        async move {
                            let (status, body) = match req.uri().path() {
                                "/metrics" => (StatusCode::OK, metrics.encode()),
                                "/healthz" => match upstream.ping().await {
                                    Ok(()) => (StatusCode::OK, "ok\n".to_string()),
                                    Err(e) => (
                                        StatusCode::SERVICE_UNAVAILABLE,
                                        format!("dockerd not reachable: {e}\n"),
                                    ),
                                },
                                _ => (StatusCode::NOT_FOUND, "/metrics or /healthz\n".to_string()),
                            };
                            let mut r = Response::new(Full::new(bytes::Bytes::from(body)));
                            *r.status_mut() = status;
                            Ok::<_, std::convert::Infallible>(r)
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    Ok(())
}
