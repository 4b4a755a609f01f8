//! A request past the framing guard: the head decision, the subject, the
//! body decision (buffered, canonical), then forwarding and the answer:
//! relayed, filtered for visibility, or tunnelled after a 101.

use super::counted::Counted;
use super::ctx::{drain, json_message, unreachable, Ctx};
use super::hop::strip_hop_by_hop;
use super::judge::{inspect_judge, judge_subject, upstream_get};
use super::Learner;
use crate::framing::Verdict;
use crate::listen::Peer;
use crate::lookup::HostView;
use crate::upstream::{full, Body, BoxError};
use bytes::Bytes;
use dockward_apiguard::power::RefKind;
use dockward_apiguard::{Action, Client, Deny};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{
    HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, TRANSFER_ENCODING, UPGRADE,
};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

/// The framing guard's verdict first (see `framing`): a refused request
/// gets 400 and the connection closes. After a 101 the guard stops reading.
pub(super) async fn handle(
    req: Request<Incoming>,
    ctx: Arc<Ctx>,
) -> Result<Response<Body>, Infallible> {
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
    learn(&ctx, uid, allowed.route.action);
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
        match checked_body(&ctx, policy, &allowed, body, &mut headers, &mut held).await {
            Ok(b) => b,
            Err(Refused { deny, close }) => {
                let mut r = ctx.deny(rec, &deny);
                if close {
                    r.headers_mut()
                        .insert(CONNECTION, HeaderValue::from_static("close"));
                }
                return Ok(r);
            }
        }
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
        return Ok(events(&ctx, vis, &up, rec).await);
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
            return Ok(tunnel(res, client_side, upstream_side, rec));
        }
    }
    Ok(answer(&ctx, policy, &allowed, res, rec).await)
}

/// Learning mode: note the action this client used.
fn learn(ctx: &Ctx, uid: Option<u32>, action: Action) {
    let Some(l) = &ctx.opts.learned else { return };
    let key = Learner {
        listener: ctx.listener.clone(),
        uid,
        addr: match &ctx.peer {
            Peer::Tcp { addr, .. } => addr.rsplit_once(':').map(|(h, _)| h.to_string()),
            Peer::Unix { .. } => None,
        },
    };
    if let Ok(mut g) = l.lock() {
        g.entry(key).or_default().insert(action);
    }
}

/// A body refused; `close`: its rest was never read, so the connection
/// must end.
struct Refused {
    deny: Deny,
    close: bool,
}

/// The body read whole (within the budget), decided, every container it
/// names judged, and re-encoded canonically: what dockerd receives is what
/// was checked, with the headers set to match.
async fn checked_body(
    ctx: &Ctx,
    policy: &dockward_apiguard::Policy,
    allowed: &dockward_apiguard::Allowed,
    body: Incoming,
    headers: &mut hyper::HeaderMap,
    held: &mut crate::body::Held,
) -> Result<Body, Refused> {
    let refused = |deny| Refused { deny, close: false };
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let bytes = crate::body::read(
        body,
        declared,
        policy.max_body,
        ctx.opts.body_timeout,
        held,
        allowed.route.action.name(),
    )
    .await
    .map_err(|deny| Refused { deny, close: true })?;
    let checked = policy
        .decide_body(allowed, &bytes, &HostView)
        .map_err(refused)?;
    drop(bytes);
    // Every container the body names: visible, and (when it is joined or
    // its volumes mounted) holding no power this client lacks.
    let mut ids = std::collections::HashMap::new();
    for r in &checked.refs {
        let (what, enters) = match r.kind {
            RefKind::Join => ("joining the namespace of", true),
            RefKind::VolumesFrom => ("mounting the volumes of", true),
            RefKind::Link => ("linking to", false),
            RefKind::Connect => ("connecting", false),
        };
        let at = format!("{} ({what})", r.at);
        let j = inspect_judge(ctx, policy, &r.container, &at, enters)
            .await
            .map_err(refused)?;
        ids.insert(r.container.clone(), j.id);
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
    Ok(full(b))
}

/// `GET /events` on a connection of its own, filtered for visibility:
/// the containers visible when it starts come from one list, the rest
/// from container events.
async fn events(
    ctx: &Ctx,
    vis: Option<&dockward_apiguard::visibility::Visibility>,
    up: &Request<Body>,
    rec: crate::log::Record,
) -> Response<Body> {
    let mut rec = rec;
    let known = match vis.filter(|v| v.filters()) {
        Some(v) => match upstream_get(ctx, "/containers/json?all=1").await {
            Ok((200, body)) => v.visible_ids(&body),
            Ok((s, _)) => {
                return unreachable(ctx, rec, &format!("listing containers answered {s}"))
            }
            Err(e) => return unreachable(ctx, rec, &e),
        },
        None => Default::default(),
    };
    let (mut p, mut inner) = match crate::stream::get(&ctx.opts.upstream, up).await {
        Ok(x) => x,
        Err(e) => return unreachable(ctx, rec, &e),
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
    Response::from_parts(p, body.boxed())
}

/// dockerd answered 101: the 101 goes back with only the upgrade's own
/// hop headers, and both sides are joined once hyper hands them over. The
/// audit line is written when the tunnel ends.
fn tunnel(
    res: Response<Incoming>,
    client_side: hyper::upgrade::OnUpgrade,
    upstream_side: hyper::upgrade::OnUpgrade,
    rec: crate::log::Record,
) -> Response<Body> {
    tokio::spawn(async move {
        // The whole record moves in (not just the field assigned): it is
        // written when it drops, at the tunnel's end.
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
    Response::from_parts(p, full(Bytes::new()))
}

/// dockerd's answer, relayed: join tokens blanked and containers hidden
/// where the policy says so, everything else streamed as it comes.
async fn answer(
    ctx: &Ctx,
    policy: &dockward_apiguard::Policy,
    allowed: &dockward_apiguard::Allowed,
    res: Response<Incoming>,
    mut rec: crate::log::Record,
) -> Response<Body> {
    let (mut p, b) = res.into_parts();
    strip_hop_by_hop(&mut p.headers);
    let mut inner: Body = b.map_err(|e| -> BoxError { Box::new(e) }).boxed();
    if allowed.blank_join_tokens && p.status == StatusCode::OK {
        let bytes = match inner.collect().await {
            Ok(c) => c.to_bytes(),
            Err(e) => return unreachable(ctx, rec, &e.to_string()),
        };
        let out = dockward_apiguard::power::blank_join_tokens(&bytes).map_or(bytes, Bytes::from);
        p.headers
            .insert(CONTENT_LENGTH, HeaderValue::from(out.len()));
        inner = full(out);
    }
    if let Some(v) = policy.visibility.as_ref() {
        let action = allowed.route.action;
        let ok = p.status == StatusCode::OK;
        if ok
            && (action == Action::ContainersList && v.filters()
                || action == Action::ContainersInspect)
        {
            let bytes = match inner.collect().await {
                Ok(c) => c.to_bytes(),
                Err(e) => return unreachable(ctx, rec, &e.to_string()),
            };
            let filtered = if action == Action::ContainersList {
                v.filter_list(&bytes)
            } else {
                v.filter_inspect(&bytes)
            };
            let Some(out) = filtered else {
                rec.fields.rule = format!("policy {}: hidden container", policy.name);
                let id = allowed.route.id.clone().unwrap_or_default();
                return json_message(rec, 404, &format!("No such container: {id}"));
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
    Response::from_parts(p, body.boxed())
}
