//! The containers a decision rests on: the request's subject (for an exec
//! instance, its container) and every container a body names, inspected
//! through the lookup cache and judged by the client's policy. A lookup
//! dockerd does not answer refuses the request.

use super::ctx::Ctx;
use crate::lookup::{no_such, plausible, HostView};
use bytes::Bytes;
use dockward_apiguard::policy::Subject;
use dockward_apiguard::power::container::{exec_container, Judged};
use dockward_apiguard::{Action, Allowed, Deny, Policy};

/// The container a request acts on (for an exec instance, its
/// container), judged; for a container route, the path to forward with the
/// container's full id in place of the name.
pub(super) async fn judge_subject(
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
pub(super) async fn inspect_judge(
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

/// `GET path` on this client's upstream connection: status and body. A
/// kept connection dockerd closed while idle gets one retry on a new one.
pub(super) async fn upstream_get(ctx: &Ctx, path: &str) -> Result<(u16, Bytes), String> {
    let mut conn = ctx.take_upstream().await?;
    let r = match conn.get(path).await {
        Err(_) if conn.reused => {
            conn = ctx.opts.upstream.open().await?;
            conn.get(path).await
        }
        r => r,
    };
    let (status, body, keeps) = r?;
    if keeps {
        ctx.put_upstream(conn);
    }
    Ok((status, body))
}
