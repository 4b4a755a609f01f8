//! The request path: framing checks, the head decision, the body decision
//! (buffered, canonical), forwarding, the response stream or the tunnel.

use crate::framing::{Guard, Verdict};
use crate::listen::{Conn, Listen, Peer};
use crate::log::{Fields, Record, Sink};
use crate::lookup::{no_such, plausible, HostView};
use crate::metrics::Metrics;
use crate::upstream::{full, Body, BoxError, Upstream};
use bytes::Bytes;
use dockward_apiguard::policy::Subject;
use dockward_apiguard::power::container::{exec_container, Judged};
use dockward_apiguard::power::RefKind;
use dockward_apiguard::{Action, Active, Allowed, Client, Deny, Policy};
use http_body_util::{BodyExt, Limited};
use hyper::body::{Frame, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{
    HeaderMap, HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST,
    TRANSFER_ENCODING, UPGRADE,
};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct Options {
    /// Swapped whole on SIGHUP; requests take a snapshot.
    pub policy: RwLock<Arc<Active>>,
    /// Learning mode: the actions each client used, by client.
    pub learned: Option<std::sync::Mutex<BTreeMap<Learner, BTreeSet<Action>>>>,
    pub upstream: Upstream,
    pub sink: Arc<Sink>,
    pub metrics: Arc<Metrics>,
    /// Time allowed to send a request head.
    pub header_timeout: Duration,
    /// Largest request head, in bytes.
    pub max_header: usize,
    /// Longest pause between the frames of a body being checked.
    pub body_timeout: Duration,
    /// Bytes of request bodies held at once, across all connections.
    pub budget: Arc<crate::body::Budget>,
    /// Inspects the decisions needed, kept right by dockerd's `/events`.
    pub lookups: Arc<crate::lookup::Cache>,
}

/// A client as learning mode tells clients apart: the listener, and the
/// uid on unix sockets or the source address on TCP.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Learner {
    pub listener: String,
    pub uid: Option<u32>,
    pub addr: Option<String>,
}

/// Headers that belong to one hop (RFC 9110 §7.6.1), plus those named in
/// Connection.
fn strip_hop_by_hop(h: &mut HeaderMap) {
    const HOP: [&str; 9] = [
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-authorization",
        "proxy-authenticate",
    ];
    // Most requests and answers carry none: one pass over the few names
    // present instead of nine hashed removals.
    if !h.keys().any(|k| HOP.contains(&k.as_str())) {
        return;
    }
    let named: Vec<HeaderName> = h
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        h.remove(n);
    }
    for n in HOP {
        h.remove(n);
    }
}

/// A JSON `{"message": …}` answer, the shape docker clients print as
/// "Error response from daemon: …".
fn json_message(mut rec: Record, status: u16, msg: &str) -> Response<Body> {
    rec.fields.status = status;
    let body = serde_json::json!({ "message": msg.trim_end() }).to_string();
    let mut r = Response::new(
        Counted {
            inner: full(body),
            rec: Some(rec),
        }
        .boxed(),
    );
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// Counts response bytes and writes the audit line when the stream ends.
struct Counted {
    inner: Body,
    rec: Option<Record>,
}

impl hyper::body::Body for Counted {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let p = Pin::new(&mut self.inner).poll_frame(cx);
        match &p {
            Poll::Ready(Some(Ok(f))) => {
                if let (Some(d), Some(r)) = (f.data_ref(), self.rec.as_mut()) {
                    r.bytes += d.len() as u64;
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => {
                self.rec = None;
            }
            Poll::Pending => {}
        }
        p
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

struct Ctx {
    opts: Arc<Options>,
    peer: Peer,
    listener: String,
    /// This client connection's upstream connection, between requests.
    upstream: std::sync::Mutex<Option<SendRequest<Body>>>,
    /// Watches the bytes hyper reads from this client (see `framing`).
    guard: std::sync::Mutex<Guard>,
}

impl Ctx {
    fn record(&self, method: &str, target: &str, start: Instant) -> Record {
        Record::new(
            self.opts.sink.clone(),
            self.opts.metrics.clone(),
            Fields {
                listener: self.listener.clone(),
                client: self.peer.clone(),
                method: method.to_string(),
                target: target.to_string(),
                action: None,
                decision: "deny",
                rule: String::new(),
                status: 0,
            },
            start,
        )
    }

    /// This client's idle upstream connection, else a new one.
    async fn take_upstream(&self) -> Result<SendRequest<Body>, String> {
        let idle = self
            .upstream
            .lock()
            .ok()
            .and_then(|mut g| g.take())
            .filter(|s| s.is_ready());
        match idle {
            Some(s) => Ok(s),
            None => self.opts.upstream.connect().await,
        }
    }

    /// Keeps `sender` for this client's next request.
    fn put_upstream(&self, sender: SendRequest<Body>) {
        if let Ok(mut g) = self.upstream.lock() {
            *g = Some(sender);
        }
    }

    fn deny(&self, mut rec: Record, d: &Deny) -> Response<Body> {
        rec.fields.rule = d.rule.clone();
        json_message(rec, d.status, &d.body())
    }
}

/// Reads and drops a refused request's body (up to 1 MiB, 5 s), so that a
/// client still sending it reads the 403 instead of a broken pipe.
async fn drain(body: Incoming) {
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        Limited::new(body, 1 << 20).collect(),
    )
    .await;
}

/// 502 with the reason; the next request tries again.
fn unreachable(ctx: &Ctx, mut rec: Record, cause: &str) -> Response<Body> {
    ctx.opts.metrics.upstream_errors.inc();
    rec.fields.rule = "upstream unreachable".into();
    let msg = format!(
        "dockward proxy: dockerd is not reachable at {} ({cause}); the proxy retries on every request",
        ctx.opts.upstream.describe()
    );
    json_message(rec, 502, &msg)
}

/// The framing guard's verdict first (see `framing`): a refused request
/// gets 400 and the connection closes. After a 101 the guard stops reading.
async fn handle(req: Request<Incoming>, ctx: Arc<Ctx>) -> Result<Response<Body>, Infallible> {
    let verdict = ctx.guard.lock().map_or(
        Verdict::Refuse("the proxy lost track of this connection's requests"),
        |mut g| g.verdict(),
    );
    if let Verdict::Refuse(why) = verdict {
        let rec = ctx.record(
            req.method().as_str(),
            &req.uri().to_string(),
            Instant::now(),
        );
        let mut r = ctx.deny(
            rec,
            &Deny {
                status: 400,
                rule: "HTTP framing".into(),
                hint: format!(
                    "{why}; framing that could be read two ways is refused (RFC 9112 §6): \
                     send one Content-Length, or Transfer-Encoding: chunked alone"
                ),
            },
        );
        r.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        return Ok(r);
    }
    let r = forward(req, ctx.clone()).await?;
    if r.status() == StatusCode::SWITCHING_PROTOCOLS {
        if let Ok(mut g) = ctx.guard.lock() {
            g.tunnel();
        }
    }
    Ok(r)
}

/// A request past the framing guard: the decisions, then forwarding.
async fn forward(mut req: Request<Incoming>, ctx: Arc<Ctx>) -> Result<Response<Body>, Infallible> {
    let start = Instant::now();
    let method = req.method().as_str().to_string();
    let target = req.uri().to_string();
    let mut rec = ctx.record(&method, &target, start);
    let active = ctx
        .opts
        .policy
        .read()
        .map(|p| p.clone())
        .unwrap_or_else(|e| e.into_inner().clone());
    let (uid, gid) = match &ctx.peer {
        Peer::Unix { uid, gid, .. } => (Some(*uid), Some(*gid)),
        Peer::Tcp { .. } => (None, None),
    };
    let client = Client {
        listener: &ctx.listener,
        uid,
        gid,
    };
    let Some(policy) = active.select(client) else {
        let d = Deny {
            status: 403,
            rule: "no policy for this client".into(),
            hint: format!(
                "no [[policy]] of the policy file matches listener {} and uid {uid:?}, gid {gid:?}",
                ctx.listener
            ),
        };
        drain(req.into_body()).await;
        return Ok(ctx.deny(rec, &d));
    };
    let allowed = match policy.decide_head(&method, &target) {
        Ok(a) => a,
        Err(d) => {
            drain(req.into_body()).await;
            return Ok(ctx.deny(rec, &d));
        }
    };
    rec.fields.action = Some(allowed.route.action.name());
    if let Some(l) = &ctx.opts.learned {
        let key = Learner {
            listener: ctx.listener.clone(),
            uid,
            addr: match &ctx.peer {
                Peer::Tcp { addr, .. } => addr.rsplit_once(':').map(|(h, _)| h.to_string()),
                Peer::Unix { .. } => None,
            },
        };
        if let Ok(mut g) = l.lock() {
            g.entry(key).or_default().insert(allowed.route.action);
        }
    }
    // What the request enters, writes or reads — or, under a policy that
    // hides containers, acts on — is judged before a byte of it is sent;
    // the path then names the container by its full id.
    let mut pinned: Option<String> = None;
    if let Some(subject) = &allowed.subject {
        match judge_subject(&ctx, policy, &allowed, subject).await {
            Ok(p) => pinned = p,
            Err(d) => {
                drain(req.into_body()).await;
                return Ok(ctx.deny(rec, &d));
            }
        }
    }
    let upgrade = req.headers().get(UPGRADE).cloned();
    let on_upgrade = upgrade.as_ref().map(|_| hyper::upgrade::on(&mut req));
    let (parts, body) = req.into_parts();
    let path_and_query = pinned.unwrap_or_else(|| {
        parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string()
    });
    let mut headers = parts.headers;
    strip_hop_by_hop(&mut headers);
    headers.remove(HOST);
    let mut held = crate::body::Held::new(&ctx.opts.budget);
    let body: Body = if allowed.check_body {
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let read = crate::body::read(
            body,
            declared,
            policy.max_body,
            ctx.opts.body_timeout,
            &mut held,
            allowed.route.action.name(),
        )
        .await;
        let bytes = match read {
            Ok(b) => b,
            Err(d) => {
                // The rest of the body is never read: the connection ends.
                let mut r = ctx.deny(rec, &d);
                r.headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
                return Ok(r);
            }
        };
        let checked = match policy.decide_body(&allowed, &bytes, &HostView) {
            Ok(c) => c,
            Err(d) => return Ok(ctx.deny(rec, &d)),
        };
        drop(bytes);
        // Every container the body names: visible, and (when it is joined
        // or its volumes mounted) holding no power this client lacks.
        let mut ids = std::collections::HashMap::new();
        for r in &checked.refs {
            let (what, enters) = match r.kind {
                RefKind::Join => ("joining the namespace of", true),
                RefKind::VolumesFrom => ("mounting the volumes of", true),
                RefKind::Link => ("linking to", false),
                RefKind::Connect => ("connecting", false),
            };
            match inspect_judge(
                &ctx,
                policy,
                &r.container,
                &format!("{} ({what})", r.at),
                enters,
            )
            .await
            {
                Ok(j) => {
                    ids.insert(r.container.clone(), j.id);
                }
                Err(d) => return Ok(ctx.deny(rec, &d)),
            }
        }
        let b = checked
            .value
            .map(|mut v| {
                dockward_apiguard::power::fields::pin(allowed.route.action, &mut v, &ids);
                v.to_bytes()
            })
            .unwrap_or_default();
        headers.remove(CONTENT_LENGTH);
        if !b.is_empty() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        headers.insert(CONTENT_LENGTH, HeaderValue::from(b.len()));
        full(b)
    } else {
        body.map_err(|e| -> BoxError { Box::new(e) }).boxed()
    };
    rec.fields.decision = "allow";
    rec.fields.rule = allowed.rule.clone();
    let mut up = Request::new(body);
    *up.method_mut() = parts.method;
    *up.uri_mut() = path_and_query
        .parse()
        .unwrap_or_else(|_| hyper::Uri::from_static("/"));
    *up.headers_mut() = headers;
    up.headers_mut()
        .insert(HOST, HeaderValue::from_static("docker"));
    if let Some(u) = &upgrade {
        up.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        up.headers_mut().insert(UPGRADE, u.clone());
    }
    let vis = policy.visibility.as_ref();
    // An /events subscription holds its connection for as long as the
    // client listens: it gets one of its own, read without hyper's client
    // (a thousand idle subscribers must stay small; see `stream`).
    if allowed.route.action == Action::EventsGet && upgrade.is_none() {
        let known = match vis.filter(|v| v.filters()) {
            Some(v) => match upstream_get(&ctx, "/containers/json?all=1").await {
                Ok((200, body)) => v.visible_ids(&body),
                Ok((s, _)) => {
                    return Ok(unreachable(
                        &ctx,
                        rec,
                        &format!("listing containers answered {s}"),
                    ))
                }
                Err(e) => return Ok(unreachable(&ctx, rec, &e)),
            },
            None => Default::default(),
        };
        let (mut p, mut inner) = match crate::stream::get(&ctx.opts.upstream, &up).await {
            Ok(x) => x,
            Err(e) => return Ok(unreachable(&ctx, rec, &e)),
        };
        rec.fields.status = p.status.as_u16();
        strip_hop_by_hop(&mut p.headers);
        if let Some(v) = vis.filter(|v| v.filters() && p.status == StatusCode::OK) {
            p.headers.remove(CONTENT_LENGTH);
            inner = crate::events::filter(
                inner,
                v,
                known,
                crate::events::inspect_lookup(&ctx.opts.upstream),
            );
        }
        let body = Counted {
            inner,
            rec: Some(rec),
        };
        return Ok(Response::from_parts(p, body.boxed()));
    }
    // Reuse this client's upstream connection when it is idle; an upgrade
    // gets a connection of its own, which the tunnel then keeps.
    let dedicated = upgrade.is_some();
    let sender = if dedicated {
        ctx.opts.upstream.connect().await
    } else {
        ctx.take_upstream().await
    };
    let mut sender = match sender {
        Ok(s) => s,
        Err(e) => return Ok(unreachable(&ctx, rec, &e)),
    };
    let sent = sender.send_request(up).await;
    if !dedicated {
        ctx.put_upstream(sender);
    }
    let mut res = match sent {
        Ok(r) => r,
        Err(e) => return Ok(unreachable(&ctx, rec, &crate::upstream::causes(&e))),
    };
    rec.fields.status = res.status().as_u16();
    if res.status() == StatusCode::SWITCHING_PROTOCOLS {
        if let Some(client_side) = on_upgrade {
            let upstream_side = hyper::upgrade::on(&mut res);
            tokio::spawn(async move {
                // The audit line is written when the tunnel ends.
                let mut rec = rec;
                if let (Ok(c), Ok(u)) = (client_side.await, upstream_side.await) {
                    let (mut c, mut u) = (TokioIo::new(c), TokioIo::new(u));
                    if let Ok((a, b)) = tokio::io::copy_bidirectional(&mut c, &mut u).await {
                        rec.bytes = a + b;
                    }
                }
            });
            let (mut p, _) = res.into_parts();
            let up_headers = std::mem::take(&mut p.headers);
            for (k, v) in up_headers.iter() {
                if k != CONNECTION && k != UPGRADE && k != TRANSFER_ENCODING {
                    p.headers.append(k.clone(), v.clone());
                }
            }
            p.headers
                .insert(CONNECTION, HeaderValue::from_static("Upgrade"));
            if let Some(u) = up_headers.get(UPGRADE) {
                p.headers.insert(UPGRADE, u.clone());
            }
            return Ok(Response::from_parts(p, full(Bytes::new())));
        }
    }
    let (mut p, b) = res.into_parts();
    strip_hop_by_hop(&mut p.headers);
    let mut inner: Body = b.map_err(|e| -> BoxError { Box::new(e) }).boxed();
    if allowed.blank_join_tokens && p.status == StatusCode::OK {
        let bytes = match inner.collect().await {
            Ok(c) => c.to_bytes(),
            Err(e) => return Ok(unreachable(&ctx, rec, &e.to_string())),
        };
        let out = dockward_apiguard::power::blank_join_tokens(&bytes).map_or(bytes, Bytes::from);
        p.headers
            .insert(CONTENT_LENGTH, HeaderValue::from(out.len()));
        inner = full(out);
    }
    if let Some(v) = vis {
        let action = allowed.route.action;
        let ok = p.status == StatusCode::OK;
        if ok
            && (action == Action::ContainersList && v.filters()
                || action == Action::ContainersInspect)
        {
            let bytes = match inner.collect().await {
                Ok(c) => c.to_bytes(),
                Err(e) => return Ok(unreachable(&ctx, rec, &e.to_string())),
            };
            let filtered = if action == Action::ContainersList {
                v.filter_list(&bytes)
            } else {
                v.filter_inspect(&bytes)
            };
            let Some(out) = filtered else {
                rec.fields.rule = format!("policy {}: hidden container", policy.name);
                let id = allowed.route.id.clone().unwrap_or_default();
                return Ok(json_message(rec, 404, &format!("No such container: {id}")));
            };
            p.headers
                .insert(CONTENT_LENGTH, HeaderValue::from(out.len()));
            inner = full(out);
        } else if ok && action == Action::EventsGet && v.filters() {
            // (Only an /events request with an Upgrade header gets here;
            // without the starting list, container ids are learned from
            // container events alone.)
            p.headers.remove(CONTENT_LENGTH);
            inner = crate::events::filter(
                inner,
                v,
                Default::default(),
                crate::events::inspect_lookup(&ctx.opts.upstream),
            );
        }
    }
    let body = Counted {
        inner,
        rec: Some(rec),
    };
    Ok(Response::from_parts(p, body.boxed()))
}

/// The container a request acts on (for an exec instance, its
/// container), judged; for a container route, the path to forward with the
/// container's full id in place of the name.
async fn judge_subject(
    ctx: &Ctx,
    policy: &Policy,
    allowed: &Allowed,
    subject: &Subject,
) -> Result<Option<String>, Deny> {
    let action = allowed.route.action;
    let what = match action {
        Action::ExecCreate => "exec into",
        Action::ExecStart => "starting an exec in",
        Action::ContainersAttach | Action::ContainersAttachWs => "attaching to",
        Action::ContainersArchivePut => "writing files into",
        _ => "reading the files of",
    };
    let container = match subject {
        Subject::Enters(c) | Subject::Visible(c) => c.clone(),
        Subject::Exec(e) => {
            let gone = || Deny {
                status: 404,
                rule: "exec lookup".into(),
                hint: format!("No such exec instance: {e}"),
            };
            if !plausible(e) {
                return Err(gone());
            }
            match upstream_get(ctx, &format!("/exec/{e}/json")).await {
                Ok((200, body)) => exec_container(&body).map_err(|why| Deny {
                    status: 403,
                    rule: "exec lookup".into(),
                    hint: format!(
                        "{why}; the request is refused when its container cannot be judged"
                    ),
                })?,
                Ok((404, _)) => return Err(gone()),
                Ok((s, _)) => {
                    return Err(lookup_failed(
                        ctx,
                        &format!("inspecting exec {e} answered {s}"),
                    ))
                }
                Err(why) => return Err(lookup_failed(ctx, &why)),
            }
        }
    };
    let j = inspect_judge(ctx, policy, &container, what, subject.enters()).await?;
    let container_route = !matches!(subject, Subject::Exec(_))
        && action.section() == "containers"
        && allowed.route.id.is_some();
    Ok(container_route.then(|| allowed.target.pinned(&j.id)))
}

/// A lookup dockerd did not answer: 502, and the request is refused.
fn lookup_failed(ctx: &Ctx, why: &str) -> Deny {
    ctx.opts.metrics.upstream_errors.inc();
    Deny {
        status: 502,
        rule: "container lookup".into(),
        hint: format!(
            "dockerd did not answer the lookup the decision needs ({why}); the request is refused"
        ),
    }
}

/// One container by name or id: inspected and judged for this policy.
async fn inspect_judge(
    ctx: &Ctx,
    policy: &Policy,
    name: &str,
    what: &str,
    enters: bool,
) -> Result<Judged, Deny> {
    if !plausible(name) {
        return Err(no_such(name));
    }
    let cache = &ctx.opts.lookups;
    let looked = match cache.get(name) {
        Some(body) => Ok((200, body)),
        None => upstream_get(ctx, &format!("/containers/{name}/json")).await,
    };
    match looked {
        Ok((200, body)) => {
            let j = policy.judge_container(what, name, &body, &HostView, enters)?;
            cache.put(name, body.clone());
            cache.put(&j.id, body);
            Ok(j)
        }
        Ok((404, _)) => Err(no_such(name)),
        Ok((s, _)) => Err(lookup_failed(
            ctx,
            &format!("inspecting {name} answered {s}"),
        )),
        Err(why) => Err(lookup_failed(ctx, &why)),
    }
}

/// `GET path` on this client's upstream connection: status and body.
async fn upstream_get(ctx: &Ctx, path: &str) -> Result<(u16, Bytes), String> {
    let mut sender = ctx.take_upstream().await?;
    let r = crate::upstream::get(&mut sender, path).await?;
    ctx.put_upstream(sender);
    Ok(r)
}

/// A client connection whose every read is shown to the framing guard
/// before hyper parses it.
struct Watched<T> {
    io: T,
    ctx: Arc<Ctx>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let p = Pin::new(&mut self.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = p {
            let new = &buf.filled()[before..];
            if !new.is_empty() {
                match self.ctx.guard.lock() {
                    Ok(mut g) => g.feed(new),
                    Err(_) => return Poll::Ready(Err(std::io::ErrorKind::Other.into())),
                }
            }
        }
        p
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// A connection ready for HTTP.
enum Served {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>),
}

/// Serves every listener until `shutdown` resolves, then stops accepting,
/// asks open connections to finish (streams get `grace` to end) and returns.
pub async fn serve(
    listeners: Vec<Listen>,
    names: Vec<String>,
    opts: Arc<Options>,
    shutdown: impl std::future::Future<Output = ()>,
    grace: Duration,
) {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for (l, name) in listeners.into_iter().zip(names) {
        let opts = opts.clone();
        let mut stop = stop_rx.clone();
        tasks.spawn(async move {
            let l = Arc::new(l);
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let next = tokio::select! {
                    _ = stop.changed() => break,
                    a = l.accept() => a,
                };
                let (conn, peer) = match next {
                    Ok(Ok(c)) => c,
                    Ok(Err(who)) => {
                        tracing::warn!("refused a connection: {who}");
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!("accept on {name}: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let opts = opts.clone();
                let name = name.clone();
                let mut stop = stop.clone();
                conns.spawn(async move {
                    // TLS first (in this task, so a slow handshake never
                    // holds up accepting), then the client is known.
                    let mut peer = peer;
                    let conn = match conn {
                        Conn::Tls(s, acceptor) => {
                            let hs =
                                tokio::time::timeout(opts.header_timeout, acceptor.accept(s)).await;
                            let Ok(Ok(tls)) = hs else {
                                tracing::warn!("TLS handshake failed on {name}");
                                return;
                            };
                            if let Peer::Tcp { client_cert, .. } = &mut peer {
                                *client_cert = tls
                                    .get_ref()
                                    .1
                                    .peer_certificates()
                                    .and_then(|c| c.first())
                                    .map(|c| crate::tls::fingerprint(c.as_ref()));
                            }
                            Served::Tls(Box::new(tls))
                        }
                        Conn::Unix(s) => Served::Unix(s),
                        Conn::Tcp(s) => Served::Tcp(s),
                    };
                    let header_timeout = opts.header_timeout;
                    let max_header = opts.max_header;
                    let ctx = Arc::new(Ctx {
                        opts,
                        peer,
                        listener: name,
                        upstream: std::sync::Mutex::new(None),
                        guard: std::sync::Mutex::new(Guard::new(max_header.max(8192))),
                    });
                    let watched = ctx.clone();
                    let svc = hyper::service::service_fn(move |req| handle(req, ctx.clone()));
                    let mut b = hyper::server::conn::http1::Builder::new();
                    b.timer(TokioTimer::new())
                        .header_read_timeout(header_timeout)
                        .max_buf_size(max_header.max(8192))
                        .keep_alive(true);
                    macro_rules! run {
                        ($io:expr) => {{
                            let io = Watched {
                                io: $io,
                                ctx: watched,
                            };
                            let conn = b.serve_connection(TokioIo::new(io), svc).with_upgrades();
                            tokio::pin!(conn);
                            tokio::select! {
                                _ = conn.as_mut() => {}
                                _ = stop.changed() => {
                                    conn.as_mut().graceful_shutdown();
                                    let _ = conn.await;
                                }
                            }
                        }};
                    }
                    match conn {
                        Served::Unix(s) => run!(s),
                        Served::Tcp(s) => run!(s),
                        Served::Tls(s) => run!(s),
                    }
                });
                while conns.try_join_next().is_some() {}
            }
            let _ =
                tokio::time::timeout(grace, async { while conns.join_next().await.is_some() {} })
                    .await;
        });
    }
    shutdown.await;
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(grace + Duration::from_secs(1), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
}
