//! One request, from its parsed head to its answer: the head decision, the
//! subject, the body decision (buffered, canonical), then the bytes that
//! were checked go to dockerd and its answer comes back, relayed by its
//! own framing, filtered for visibility where the policy says so, or
//! tunnelled after a 101.
//!
//! What dockerd receives is the client's request line and header lines as
//! parsed, minus the hop-by-hop ones (`framing::request`); a body that was
//! checked goes as the canonical bytes the check read; any other body goes
//! as the client's bytes, re-chunked when chunked. A request with a body
//! that is not checked (an image load, a build context) streams both ways
//! at once: dockerd may answer while it still reads.

use super::conn::{reply, After, Client, Io};
use super::ctx::{unreachable, Ctx};
use super::judge::{inspect_judge, judge_subject, upstream_get};
use super::Learner;
use crate::framing::request::{self, Body as Sent};
use crate::framing::response::{self, Out};
use crate::listen::Peer;
use crate::log::Record;
use crate::lookup::HostView;
use crate::relay::{pump, Broke, Reading};
use crate::upstream::Body;
use bytes::{Bytes, BytesMut};
use dockward_apiguard::power::RefKind;
use dockward_apiguard::{Action, Allowed, Client as Who, Deny, Policy};
use hyper::{Response, StatusCode};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

/// Bodies of answers the proxy rewrites (lists, inspects) are read whole,
/// up to this size.
const MAX_REWRITTEN: usize = 256 << 20;

/// Handles one request on `c`; says whether the connection goes on.
pub(super) async fn request<T: Io>(c: &mut Client<T>, head: request::Head, ctx: &Ctx) -> After {
    let start = Instant::now();
    let mut rec = ctx.record(head.method(), head.target(), start);
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
    let who = Who {
        listener: &ctx.listener,
        uid,
        gid,
    };
    let Some(policy) = active.select(who) else {
        let d = Deny {
            status: 403,
            rule: "no policy for this client".into(),
            hint: format!(
                "no [[policy]] of the policy file matches listener {} and uid {uid:?}, gid {gid:?}",
                ctx.listener
            ),
        };
        return refuse(c, &head, ctx.deny(rec, &d)).await;
    };
    let allowed = match policy.decide_head(head.method(), head.target()) {
        Ok(a) => a,
        Err(d) => return refuse(c, &head, ctx.deny(rec, &d)).await,
    };
    rec.fields.action = Some(allowed.route.action.name());
    learn(ctx, uid, allowed.route.action);
    // What the request enters, writes or reads — or, under a policy that
    // hides containers, acts on — is judged before a byte of it is sent;
    // the path then names the container by its full id.
    let mut pinned: Option<String> = None;
    if let Some(subject) = &allowed.subject {
        match judge_subject(ctx, policy, &allowed, subject).await {
            Ok(p) => pinned = p,
            Err(d) => return refuse(c, &head, ctx.deny(rec, &d)).await,
        }
    }
    // An absolute-form target goes to dockerd as the path it was judged by.
    if pinned.is_none() && !head.target().starts_with('/') {
        pinned = head
            .target()
            .parse::<hyper::Uri>()
            .ok()
            .and_then(|u| u.path_and_query().map(|p| p.as_str().to_string()))
            .or_else(|| Some("/".into()));
    }
    // An /events subscription holds its connection for as long as the
    // client listens: it gets one of its own, read without a pool (a
    // thousand idle subscribers must stay small; see `stream`). dockerd
    // never upgrades /events, so an Upgrade header is not passed on.
    if allowed.route.action == Action::EventsGet {
        if head.body.is_some() && !drain(c, &head).await {
            return After::Close;
        }
        // Held for as long as the client listens: no idle buffer.
        if c.buf.is_empty() {
            c.buf = BytesMut::new();
        }
        let up = head.upstream(pinned.as_deref(), Sent::AsSent, false);
        let res = events(ctx, policy, &up, rec).await;
        return reply_to(c, &head, res, head.keep_alive).await;
    }
    let mut held = crate::body::Held::new(&ctx.opts.budget);
    let checked = if allowed.check_body {
        if head.expect_continue && head.body.is_some() && !continue_(c).await {
            return After::Close;
        }
        match checked_body(ctx, policy, &allowed, c, &head, &mut held).await {
            Ok(b) => Some(b),
            Err(Refused { deny, close }) => {
                let r = ctx.deny(rec, &deny);
                let keep = head.keep_alive && !close;
                return reply_to(c, &head, r, keep).await;
            }
        }
    } else {
        None
    };
    rec.fields.decision = "allow";
    rec.fields.rule = allowed.rule.clone();
    let sent = match &checked {
        Some(b) => Sent::Length(b.len()),
        None => Sent::AsSent,
    };
    let up = head.upstream(pinned.as_deref(), sent, true);
    let ask = Ask {
        head: &head,
        up,
        checked,
        policy,
        allowed: &allowed,
    };
    exchange(c, ctx, ask, rec).await
}

/// A request ready for dockerd.
struct Ask<'a> {
    head: &'a request::Head,
    /// The head dockerd receives.
    up: Vec<u8>,
    /// The checked body, canonical; `None`: the client's body (if any)
    /// streams.
    checked: Option<Bytes>,
    policy: &'a Policy,
    allowed: &'a Allowed,
}

/// How an exchange with dockerd ended.
enum Answered {
    /// The answer went to the client; whether dockerd's connection can
    /// carry another request.
    Done { reusable: bool },
    /// dockerd switched protocols: the tunnel starts.
    Upgrade(response::Head),
}

/// Why an exchange failed, and whether the client got any of an answer.
enum Failed {
    /// Nothing written to the client: a 502 can still be sent.
    Early(String),
    /// Part of an answer went out: only closing tells the client.
    Late,
}

/// Sends the request on a kept or new connection to dockerd and relays
/// the answer. A kept connection dockerd may have closed while idle: a GET
/// or HEAD that fails on it before any answer is sent again once on a new
/// one; any other request is sent on it only after a probe finds it open
/// (it is not sent twice: dockerd may have acted on it).
async fn exchange<T: Io>(c: &mut Client<T>, ctx: &Ctx, ask: Ask<'_>, mut rec: Record) -> After {
    let head = ask.head;
    // An upgrade takes its connection into the tunnel.
    let dedicated = head.upgrade().is_some();
    let streamed = ask.checked.is_none() && head.body.is_some();
    // A streamed body cannot be sent twice, so it never rides a kept
    // connection dockerd may have closed while idle: it gets a new one.
    let idempotent = matches!(head.method(), "GET" | "HEAD");
    let opened = if dedicated || streamed {
        ctx.opts.upstream.open().await
    } else {
        match ctx.take_upstream().await {
            Ok(mut u) => {
                if u.reused && !idempotent && !u.alive() {
                    ctx.opts.upstream.open().await
                } else {
                    Ok(u)
                }
            }
            e => e,
        }
    };
    let mut conn = match opened {
        Ok(u) => u,
        Err(e) => return failed(c, ctx, head, rec, Failed::Early(e), streamed).await,
    };
    let answered = if streamed {
        if head.expect_continue && !continue_(c).await {
            return After::Close;
        }
        both_ways(c, &mut conn, &ask, &mut rec).await
    } else {
        let mut tries = 0;
        loop {
            let r = match send(&mut conn.io, &ask.up, ask.checked.as_deref()).await {
                Ok(()) => answer(&mut conn.io, &mut conn.buf, &mut c.io, &ask, &mut rec).await,
                Err(e) => Err(Failed::Early(e)),
            };
            match r {
                Err(Failed::Early(_)) if conn.reused && idempotent && tries == 0 => {
                    tries += 1;
                    conn = match ctx.opts.upstream.open().await {
                        Ok(u) => u,
                        Err(e) => return failed(c, ctx, head, rec, Failed::Early(e), false).await,
                    };
                }
                r => break r,
            }
        }
    };
    conn.reused = true;
    match answered {
        Ok(Answered::Done { reusable }) => {
            if reusable && !dedicated && !streamed {
                ctx.put_upstream(conn);
            }
            if head.keep_alive {
                After::Keep
            } else {
                After::Close
            }
        }
        Ok(Answered::Upgrade(h)) => {
            rec.fields.status = 101;
            tunnel(c, conn, h, rec).await;
            After::Close
        }
        Err(f) => failed(c, ctx, head, rec, f, streamed).await,
    }
}

/// A failed exchange: a 502 when the client got nothing yet; the client's
/// connection goes on only when its request was read whole.
async fn failed<T: Io>(
    c: &mut Client<T>,
    ctx: &Ctx,
    head: &request::Head,
    rec: Record,
    f: Failed,
    body_unread: bool,
) -> After {
    match f {
        Failed::Early(e) => {
            let keep = head.keep_alive && !body_unread;
            let res = unreachable(ctx, rec, &e);
            reply_to(c, head, res, keep).await
        }
        Failed::Late => After::Close,
    }
}

/// The head, then the checked body, in one write when it is small.
async fn send<W: AsyncWrite + Unpin>(
    io: &mut W,
    up: &[u8],
    body: Option<&[u8]>,
) -> Result<(), String> {
    let r = match body {
        Some(b) if !b.is_empty() && b.len() <= 16 * 1024 => {
            let mut all = Vec::with_capacity(up.len() + b.len());
            all.extend_from_slice(up);
            all.extend_from_slice(b);
            io.write_all(&all).await
        }
        Some(b) => match io.write_all(up).await {
            Ok(()) => io.write_all(b).await,
            e => e,
        },
        None => io.write_all(up).await,
    };
    r.map_err(|e| format!("cannot send the request to dockerd: {e}"))
}

/// A streamed body: the client's body goes to dockerd while dockerd's
/// answer comes back. An answer that ends before the body was sent whole
/// closes the client's connection (its remaining bytes cannot be framed
/// for dockerd any more).
async fn both_ways<T: Io>(
    c: &mut Client<T>,
    conn: &mut crate::upstream::Conn,
    ask: &Ask<'_>,
    rec: &mut Record,
) -> Result<Answered, Failed> {
    let Some(dec) = ask.head.body.clone() else {
        return Err(Failed::Early("no body to stream".into()));
    };
    let (mut cr, mut cw) = tokio::io::split(&mut c.io);
    let (mut ur, mut uw) = tokio::io::split(&mut conn.io);
    let mut sent_bytes = 0u64;
    let up_head = ask.up.clone();
    let chunked = ask.head.chunked;
    let cbuf = &mut c.buf;
    let body = async {
        let mut from = Reading {
            io: &mut cr,
            buf: cbuf,
            dec,
        };
        pump(&mut from, &mut uw, up_head, chunked, &mut sent_bytes).await
    };
    let answer = answer(&mut ur, &mut conn.buf, &mut cw, ask, rec);
    tokio::pin!(body, answer);
    let mut body_done: Option<bool> = None;
    loop {
        tokio::select! {
            b = &mut body, if body_done.is_none() => {
                match b {
                    Ok(()) => body_done = Some(true),
                    // The client's body broke or dockerd stopped reading:
                    // whatever dockerd answers, this connection ends.
                    Err(Broke::Read(_)) => return Err(Failed::Late),
                    Err(Broke::Write(_)) => body_done = Some(false),
                }
            }
            a = &mut answer => {
                return match (a, body_done) {
                    (Ok(done), Some(true)) => Ok(done),
                    // Answered before the body was sent whole: the rest
                    // of the client's body cannot be framed any more.
                    (Ok(_), _) => Err(Failed::Late),
                    (Err(f), _) => Err(f),
                };
            }
        }
    }
}

/// The answer: 1xx skipped (the proxy answers `Expect` itself), 101
/// handed back for the tunnel, join tokens blanked and hidden containers
/// left out where the policy says so, everything else relayed by its own
/// framing as it comes.
async fn answer<R, W>(
    ur: &mut R,
    ubuf: &mut BytesMut,
    cw: &mut W,
    ask: &Ask<'_>,
    rec: &mut Record,
) -> Result<Answered, Failed>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let head = ask.head;
    let to_head = head.method() == "HEAD";
    let h = loop {
        let h = crate::upstream::read_head(ur, ubuf, to_head)
            .await
            .map_err(Failed::Early)?;
        match h.status {
            101 if head.upgrade().is_some() => return Ok(Answered::Upgrade(h)),
            101 => return Err(Failed::Early("dockerd switched protocols unasked".into())),
            100..=199 => continue,
            _ => break h,
        }
    };
    rec.fields.status = h.status;
    let close = !head.keep_alive;
    let action = ask.allowed.route.action;
    let ok = h.status == 200;
    let vis = ask.policy.visibility.as_ref().filter(|_| ok);
    let blank = ask.allowed.blank_join_tokens && ok;
    let rewrite = vis.is_some_and(|v| {
        action == Action::ContainersList && v.filters() || action == Action::ContainersInspect
    });
    // A HEAD whose GET would be rewritten: the head alone, without the
    // length of what the client may not see.
    if to_head && (blank || rewrite) {
        write(cw, &h.client(Out::Chunked, close)).await?;
        return Ok(Answered::Done {
            reusable: h.keeps(),
        });
    }
    if let (Some(dec), true) = (h.body.clone(), blank || rewrite) {
        let body = Reading {
            io: ur,
            buf: ubuf,
            dec,
        }
        .collect(MAX_REWRITTEN)
        .await
        .map_err(Failed::Early)?;
        let mut out = body;
        if blank {
            out = dockward_apiguard::power::blank_join_tokens(&out).map_or(out, Bytes::from);
        }
        if let (Some(v), true) = (vis, rewrite) {
            let filtered = if action == Action::ContainersList {
                v.filter_list(&out)
            } else {
                v.filter_inspect(&out)
            };
            let Some(f) = filtered else {
                // Hidden: the client is told what dockerd says of a
                // container that does not exist.
                let id = ask.allowed.route.id.clone().unwrap_or_default();
                rec.fields.rule = format!("policy {}: hidden container", ask.policy.name);
                rec.fields.status = 404;
                let msg = serde_json::json!({ "message": format!("No such container: {id}") })
                    .to_string();
                rec.bytes += msg.len() as u64;
                let mut all = format!(
                    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}\r\n",
                    msg.len(),
                    if close { "Connection: close\r\n" } else { "" }
                )
                .into_bytes();
                all.extend_from_slice(msg.as_bytes());
                write(cw, &all).await?;
                return Ok(Answered::Done {
                    reusable: h.keeps(),
                });
            };
            out = Bytes::from(f);
        }
        rec.bytes += out.len() as u64;
        let mut all = h.client(Out::Length(out.len() as u64), close);
        all.extend_from_slice(&out);
        write(cw, &all).await?;
        return Ok(Answered::Done {
            reusable: h.keeps(),
        });
    }
    let Some(dec) = h.body.clone() else {
        write(cw, &h.client(Out::None, close)).await?;
        return Ok(Answered::Done {
            reusable: h.keeps(),
        });
    };
    let out = match h.length {
        Some(n) => Out::Length(n),
        None if head.version == 1 => Out::Chunked,
        None => Out::Close,
    };
    let client_head = h.client(out, close || out == Out::Close);
    let mut from = Reading {
        io: ur,
        buf: ubuf,
        dec,
    };
    match pump(
        &mut from,
        cw,
        client_head,
        out == Out::Chunked,
        &mut rec.bytes,
    )
    .await
    {
        Ok(()) if out == Out::Close => Err(Failed::Late),
        Ok(()) => Ok(Answered::Done {
            reusable: h.keeps(),
        }),
        Err(_) => Err(Failed::Late),
    }
}

async fn write<W: AsyncWrite + Unpin>(cw: &mut W, b: &[u8]) -> Result<(), Failed> {
    cw.write_all(b).await.map_err(|_| Failed::Late)?;
    cw.flush().await.map_err(|_| Failed::Late)
}

/// dockerd answered 101: the 101 goes back with only the upgrade's own
/// hop headers, what either side sent past its head goes on, and the two
/// connections are joined until either ends. The audit line is written
/// when the tunnel ends.
async fn tunnel<T: Io>(
    c: &mut Client<T>,
    mut conn: crate::upstream::Conn,
    h: response::Head,
    mut rec: Record,
) {
    let mut first = h.client(Out::Upgrade, false);
    first.extend_from_slice(&conn.buf);
    rec.bytes += conn.buf.len() as u64;
    conn.buf = BytesMut::new();
    if c.io.write_all(&first).await.is_err() || c.io.flush().await.is_err() {
        return;
    }
    if !c.buf.is_empty() {
        rec.bytes += c.buf.len() as u64;
        if conn.io.write_all(&c.buf).await.is_err() {
            return;
        }
        c.buf = BytesMut::new();
    }
    if let Ok((a, b)) = tokio::io::copy_bidirectional(&mut c.io, &mut conn.io).await {
        rec.bytes += a + b;
    }
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

/// `100 Continue` for a client that waits for it before its body.
async fn continue_<T: Io>(c: &mut Client<T>) -> bool {
    c.io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
        .await
        .is_ok()
        && c.io.flush().await.is_ok()
}

/// An answer the proxy made, written as this request's client reads it.
async fn reply_to<T: Io>(
    c: &mut Client<T>,
    head: &request::Head,
    res: Response<Body>,
    keep: bool,
) -> After {
    reply(
        &mut c.io,
        res,
        keep,
        head.version == 0,
        head.method() == "HEAD",
    )
    .await
}

/// A refused request: its body is read and dropped (up to 1 MiB, 5 s) so
/// that a client still sending it reads the refusal, not a broken pipe;
/// a body not read whole (or one the client waits to be asked for) ends
/// the connection after the answer.
async fn refuse<T: Io>(c: &mut Client<T>, head: &request::Head, res: Response<Body>) -> After {
    let drained = head.body.is_none() || !head.expect_continue && drain(c, head).await;
    let keep = head.keep_alive && drained;
    reply_to(c, head, res, keep).await
}

/// Reads the request's body and drops it: true when it ended within
/// 1 MiB and 5 s.
async fn drain<T: Io>(c: &mut Client<T>, head: &request::Head) -> bool {
    let Some(dec) = head.body.clone() else {
        return true;
    };
    let mut r = Reading {
        io: &mut c.io,
        buf: &mut c.buf,
        dec,
    };
    let all = async {
        let mut n = 0usize;
        while let Some(d) = r.next().await? {
            n += d.len();
            if n > 1 << 20 {
                return Err(String::new());
            }
        }
        Ok::<(), String>(())
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(5), all).await,
        Ok(Ok(()))
    )
}

/// A body refused; `close`: its rest was never read, so the connection
/// must end.
struct Refused {
    deny: Deny,
    close: bool,
}

/// The body read whole (within the budget), decided, every container it
/// names judged, and re-encoded canonically: what dockerd receives is what
/// was checked.
async fn checked_body<T: Io>(
    ctx: &Ctx,
    policy: &Policy,
    allowed: &Allowed,
    c: &mut Client<T>,
    head: &request::Head,
    held: &mut crate::body::Held,
) -> Result<Bytes, Refused> {
    let refused = |deny| Refused { deny, close: false };
    let bytes = match head.body.clone() {
        None => Bytes::new(),
        Some(dec) => {
            let mut r = Reading {
                io: &mut c.io,
                buf: &mut c.buf,
                dec,
            };
            crate::body::read(
                &mut r,
                head.length,
                policy.max_body,
                ctx.opts.body_timeout,
                held,
                allowed.route.action.name(),
            )
            .await
            .map_err(|deny| Refused { deny, close: true })?
        }
    };
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
    Ok(checked
        .value
        .map(|mut v| {
            dockward_apiguard::power::fields::pin(allowed.route.action, &mut v, &ids);
            v.to_bytes()
        })
        .unwrap_or_default()
        .into())
}

/// `GET /events` on a connection of its own, filtered for visibility:
/// the containers visible when it starts come from one list, the rest
/// from container events.
async fn events(ctx: &Ctx, policy: &Policy, up: &[u8], mut rec: Record) -> Response<Body> {
    let vis = policy.visibility.as_ref();
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
    if let Some(v) = vis.filter(|v| v.filters() && p.status == StatusCode::OK) {
        p.headers.remove(hyper::header::CONTENT_LENGTH);
        inner = crate::events::filter(
            inner,
            v,
            known,
            crate::events::inspect_lookup(&ctx.opts.upstream),
        );
    }
    let body = super::counted::Counted {
        inner,
        rec: Some(rec),
    };
    Response::from_parts(p, http_body_util::BodyExt::boxed(body))
}
