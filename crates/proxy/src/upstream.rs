//! The connection to dockerd: a pooled hyper client over its unix socket
//! (hyperlocal's connector) or over TCP. Kept-alive connections are reused
//! across requests, which is most of the difference with HAProxy-based
//! proxies that open one upstream connection per request.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use hyperlocal::UnixConnector;
use std::path::PathBuf;

pub type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Clone)]
pub enum Upstream {
    Unix {
        path: PathBuf,
        client: Client<UnixConnector, Body>,
    },
    Tcp {
        authority: String,
        client: Client<HttpConnector, Body>,
    },
}

impl Upstream {
    /// `unix:///path`, `tcp://host:port` or `http://host:port`.
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(p) = url.strip_prefix("unix://") {
            if !p.starts_with('/') {
                return Err(format!("upstream {url:?}: write unix:///absolute/path"));
            }
            let client = Client::builder(TokioExecutor::new()).build(UnixConnector);
            return Ok(Self::Unix {
                path: PathBuf::from(p),
                client,
            });
        }
        if let Some(a) = url
            .strip_prefix("tcp://")
            .or_else(|| url.strip_prefix("http://"))
        {
            let a = a.trim_end_matches('/');
            if a.is_empty() || a.contains('/') {
                return Err(format!("upstream {url:?}: write tcp://host:port"));
            }
            let mut http = HttpConnector::new();
            http.set_nodelay(true);
            let client = Client::builder(TokioExecutor::new()).build(http);
            return Ok(Self::Tcp {
                authority: a.to_string(),
                client,
            });
        }
        Err(format!(
            "upstream {url:?}: use unix:///path/docker.sock or tcp://host:port"
        ))
    }

    /// Where it points, for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Unix { path, .. } => format!("unix://{}", path.display()),
            Self::Tcp { authority, .. } => format!("tcp://{authority}"),
        }
    }

    /// The URI to send `path_and_query` to.
    pub fn uri(&self, path_and_query: &str) -> hyper::Uri {
        match self {
            Self::Unix { path, .. } => hyperlocal::Uri::new(path, path_and_query).into(),
            Self::Tcp { authority, .. } => format!("http://{authority}{path_and_query}")
                .parse()
                .unwrap_or_else(|_| hyper::Uri::from_static("/")),
        }
    }

    /// `GET /_ping` within 5 s; the error says why not.
    pub async fn ping(&self) -> Result<(), String> {
        use http_body_util::BodyExt;
        let body: Body = http_body_util::Empty::<Bytes>::new()
            .map_err(|e| match e {})
            .boxed();
        let mut req = hyper::Request::new(body);
        *req.uri_mut() = self.uri("/_ping");
        req.headers_mut().insert(
            hyper::header::HOST,
            hyper::header::HeaderValue::from_static("docker"),
        );
        let res = tokio::time::timeout(std::time::Duration::from_secs(5), self.send(req))
            .await
            .map_err(|_| "no answer in 5 s".to_string())?;
        match res {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("GET /_ping answered {}", r.status())),
            Err(e) => Err(causes(&e)),
        }
    }

    pub async fn send(
        &self,
        req: hyper::Request<Body>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, hyper_util::client::legacy::Error> {
        match self {
            Self::Unix { client, .. } => client.request(req).await,
            Self::Tcp { client, .. } => client.request(req).await,
        }
    }
}

/// An error with its chain of causes, on one line.
pub fn causes(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s = format!("{s}: {c}");
        src = c.source();
    }
    s
}

/// The upstream the environment names: `--upstream`, else `DOCKER_HOST`,
/// else `SOCKET_PATH` (tecnativa's variable), else the default socket.
pub fn resolve(flag: Option<&str>, docker_host: Option<&str>, socket_path: Option<&str>) -> String {
    if let Some(f) = flag.filter(|s| !s.is_empty()) {
        return f.to_string();
    }
    if let Some(h) = docker_host.filter(|s| !s.is_empty()) {
        return h.to_string();
    }
    if let Some(p) = socket_path.filter(|s| !s.is_empty()) {
        return format!("unix://{p}");
    }
    "unix:///var/run/docker.sock".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_order() {
        assert_eq!(
            resolve(Some("tcp://a:1"), Some("unix:///b"), Some("/c")),
            "tcp://a:1"
        );
        assert_eq!(resolve(None, Some("unix:///b"), Some("/c")), "unix:///b");
        assert_eq!(resolve(None, None, Some("/c.sock")), "unix:///c.sock");
        assert_eq!(resolve(None, Some(""), None), "unix:///var/run/docker.sock");
    }

    #[test]
    fn parse_forms() {
        assert!(Upstream::parse("unix:///var/run/docker.sock").is_ok());
        assert!(Upstream::parse("tcp://127.0.0.1:2375").is_ok());
        assert!(Upstream::parse("unix://relative").is_err());
        assert!(Upstream::parse("ssh://host").is_err());
    }
}
