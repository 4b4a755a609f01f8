//! Dockerfile front end: `(path, text, build args) -> findings`.
//!
//! The file is parsed by [`parse`] (hand-written; the module says why), then
//! walked once, stage by stage, keeping what Docker keeps: global ARGs for
//! FROM lines, per-stage ARG and ENV scopes for USER and EXPOSE, and each
//! stage's effective user, inherited by stages built FROM it. That is what
//! the other linters miss (USER via an ARG, root final stage after a
//! non-root builder, `0:0`), so it is done the way the builder does it.

pub(crate) mod checks;
mod parse;

use crate::finding::{line_col, Diagnostic};
use crate::interpolate::{has_reference, interpolate, Dialect};
use crate::rules::files::{
    DOCKERFILE_ADD_LOCAL, DOCKERFILE_ADD_REMOTE, DOCKERFILE_ROOT_USER, DOCKERFILE_SECRET,
    DOCKERFILE_SECRET_ARG, DOCKERFILE_SSH_PORT, DOCKERFILE_SUDO, DOCKERFILE_UNPINNED_IMAGE,
    DOCKERFILE_VERIFY_OFF, DOCKERFILE_WRITABLE_PROGRAM,
};
use crate::rules::Rule;
use crate::shell::{invocations, invocations_in, simple_commands, Word};
use crate::{suppress, Finding, Location};
use parse::{heredoc_markers, words, Instruction};
use std::collections::BTreeMap;

/// Build arguments (`--build-arg NAME=value`), used to resolve ARGs.
pub type BuildArgs = BTreeMap<String, String>;

/// What a stage runs as, and where that was decided.
#[derive(Debug, Clone)]
struct UserSet {
    raw: String,
    resolved: String,
    offset: usize,
}

#[derive(Debug, Clone)]
struct Stage {
    name: Option<String>,
    from_offset: usize,
    image: String,
    /// Index of the earlier stage this one is built on.
    parent: Option<usize>,
    user: Option<UserSet>,
    env: BTreeMap<String, String>,
    /// Files COPY/ADD gave an owner: (owner's user, destination path,
    /// offset of the instruction).
    chowned: Vec<(String, String, usize)>,
    /// The program ENTRYPOINT (else CMD) runs, when a path.
    program: Option<String>,
}

struct Ctx<'a> {
    path: &'a str,
    text: &'a str,
    escape: char,
    out: Vec<(Finding, Vec<u32>)>,
}

impl Ctx<'_> {
    fn loc(&self, offset: usize) -> (Location, u32) {
        let (line, col) = line_col(self.text, offset);
        (Location::file(self.path, line, col), line)
    }

    /// A finding at `offset`; `instr` is the instruction's own offset, whose
    /// line also accepts an ignore comment.
    fn emit(&mut self, rule: &Rule, offset: usize, instr: usize, evidence: String, fix: String) {
        let (location, line) = self.loc(offset);
        let (_, instr_line) = self.loc(instr);
        let mut lines = vec![line];
        if instr_line != line {
            lines.push(instr_line);
        }
        self.out
            .push((rule.finding(location, evidence, fix), lines));
    }
}

/// Audits one Dockerfile. `build_args` are `--build-arg` values (empty when
/// unknown: ARG defaults apply). A file that does not parse gives a
/// [`Diagnostic`] with its position.
pub fn audit_dockerfile(
    path: &str,
    text: &str,
    build_args: &BuildArgs,
) -> Result<Vec<Finding>, Diagnostic> {
    let parsed = parse::parse(text).map_err(|(offset, msg)| {
        let (line, col) = line_col(text, offset);
        Diagnostic::new(path, line, col, msg)
    })?;
    let mut cx = Ctx {
        path,
        text,
        escape: parsed.escape,
        out: Vec::new(),
    };
    let dialect = Dialect::Dockerfile {
        escape: parsed.escape,
    };
    let mut global: BTreeMap<String, String> = BTreeMap::new();
    let mut stages: Vec<Stage> = Vec::new();
    let mut args: BTreeMap<String, String> = BTreeMap::new();
    for ins in &parsed.instructions {
        let raw_text = text.get(ins.raw.clone()).unwrap_or("");
        let in_stage = !stages.is_empty();
        match ins.keyword.as_str() {
            "ARG" => {
                for (w, _) in words(&ins.args, cx.escape) {
                    let (name, default) = match w.split_once('=') {
                        Some((n, d)) => (n.to_string(), Some(d.to_string())),
                        None => (w.clone(), None),
                    };
                    check_secret(
                        &mut cx,
                        ins,
                        raw_text,
                        "ARG",
                        &name,
                        default.as_deref(),
                        dialect,
                    );
                    let scope = if in_stage { &args } else { &global };
                    let value = build_args
                        .get(&name)
                        .cloned()
                        .or_else(|| {
                            let env = stages.last().map(|s| &s.env);
                            let lookup = |n: &str| lookup(env, scope, n);
                            default.as_deref().map(|d| interpolate(d, &lookup, dialect))
                        })
                        .or_else(|| global.get(&name).cloned());
                    if let Some(v) = value {
                        if in_stage {
                            args.insert(name, v);
                        } else {
                            global.insert(name, v);
                        }
                    }
                }
            }
            "FROM" => {
                args.clear();
                let stage = from_stage(&mut cx, ins, &global, &stages, dialect);
                stages.push(stage);
            }
            "ENV" => {
                let pairs = env_pairs(&ins.args, cx.escape);
                for (name, value) in pairs {
                    check_secret(&mut cx, ins, raw_text, "ENV", &name, Some(&value), dialect);
                    check_env_verify(&mut cx, ins, raw_text, &name, &value);
                    if let Some(st) = stages.last_mut() {
                        let resolved =
                            interpolate(&value, &|n| lookup(Some(&st.env), &args, n), dialect);
                        st.env.insert(name, resolved);
                    }
                }
            }
            "USER" => {
                if let Some(st) = stages.last_mut() {
                    let raw = words(&ins.args, cx.escape)
                        .into_iter()
                        .next()
                        .map(|w| w.0)
                        .unwrap_or_default();
                    let resolved = interpolate(&raw, &|n| lookup(Some(&st.env), &args, n), dialect);
                    st.user = Some(UserSet {
                        raw,
                        resolved,
                        offset: ins.offset,
                    });
                }
            }
            "RUN" => {
                check_run(&mut cx, ins, raw_text);
                checks::check_run_body(&mut cx, ins, raw_text);
            }
            "ADD" => {
                check_add(&mut cx, ins);
                checks::check_copy(&mut cx, ins);
                record_chown(&cx, ins, stages.last_mut(), &args, dialect);
            }
            "COPY" => {
                checks::check_copy(&mut cx, ins);
                record_chown(&cx, ins, stages.last_mut(), &args, dialect);
            }
            "ENTRYPOINT" | "CMD" => {
                if let Some(st) = stages.last_mut() {
                    let prog = program_of(&ins.args);
                    if ins.keyword == "ENTRYPOINT" || st.program.is_none() {
                        st.program = prog;
                    }
                }
            }
            // The instruction runs in every image built FROM this one:
            // audited as what it carries, without changing this build's
            // stages.
            "ONBUILD" => onbuild(&mut cx, ins, dialect),
            "EXPOSE" => {
                let env = stages.last().map(|s| &s.env);
                for (w, off) in words(&ins.args, cx.escape) {
                    let port = interpolate(&w, &|n| lookup(env, &args, n), dialect);
                    if exposes_ssh(&port) {
                        let at = raw_offset(ins, raw_text, &ins.args, off);
                        cx.emit(
                            &DOCKERFILE_SSH_PORT,
                            at,
                            ins.offset,
                            format!("EXPOSE {w}"),
                            format!("Remove `{w}` from EXPOSE and the SSH daemon it serves; use `docker exec -it <container> sh` for access."),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(last) = stages.len().checked_sub(1) {
        check_final_user(&mut cx, &stages, last);
        check_writable_program(&mut cx, &stages, last);
    }
    let Ctx { out, .. } = cx;
    Ok(out
        .into_iter()
        .map(|(mut f, lines)| {
            suppress::apply(text, &mut f, &lines);
            f
        })
        .collect())
}

fn lookup(
    env: Option<&BTreeMap<String, String>>,
    args: &BTreeMap<String, String>,
    name: &str,
) -> Option<String> {
    env.and_then(|e| e.get(name))
        .or_else(|| args.get(name))
        .cloned()
}

/// Byte offset in the file of `off`, an offset into the joined `args`: exact
/// when the raw text holds the same word, else the start of the arguments.
fn raw_offset(ins: &Instruction, raw_text: &str, args: &str, off: usize) -> usize {
    let word: String = args
        .get(off..)
        .unwrap_or("")
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let lead = raw_text.len() - raw_text.trim_start().len();
    match raw_text.get(lead..).map(|r| r.find(&word)) {
        Some(Some(p)) if !word.is_empty() => ins.raw.start + lead + p,
        _ => ins.raw.start + lead,
    }
}

fn from_stage(
    cx: &mut Ctx<'_>,
    ins: &Instruction,
    global: &BTreeMap<String, String>,
    stages: &[Stage],
    dialect: Dialect,
) -> Stage {
    let ws: Vec<(String, usize)> = words(&ins.args, cx.escape)
        .into_iter()
        .filter(|(w, _)| !w.starts_with("--"))
        .collect();
    let (image_raw, image_off) = ws.first().cloned().unwrap_or_default();
    let name = match (ws.get(1), ws.get(2)) {
        (Some((kw, _)), Some((n, _))) if kw.eq_ignore_ascii_case("as") => {
            Some(n.to_ascii_lowercase())
        }
        _ => None,
    };
    let image = interpolate(&image_raw, &|n| global.get(n).cloned(), dialect);
    let parent = stages.iter().rposition(|s| {
        s.name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(&image))
    });
    let raw_text = cx.text.get(ins.raw.clone()).unwrap_or("");
    if parent.is_none() && unpinned(&image) {
        let at = raw_offset(ins, raw_text, &ins.args, image_off);
        let shown = if image == image_raw {
            format!("FROM {image}")
        } else {
            format!("FROM {image_raw} (resolves to {image})")
        };
        let base = image.split('@').next().unwrap_or(&image);
        let repo = strip_tag(base);
        cx.emit(
            &DOCKERFILE_UNPINNED_IMAGE,
            at,
            ins.offset,
            shown,
            format!("FROM {repo}:<version>@sha256:<digest>   (get the digest with `docker buildx imagetools inspect {repo}:<version>`)"),
        );
    }
    Stage {
        name,
        from_offset: ins.offset,
        image,
        parent,
        user: None,
        chowned: Vec::new(),
        program: parent
            .and_then(|p| stages.get(p))
            .and_then(|s| s.program.clone()),
        env: parent
            .and_then(|p| stages.get(p))
            .map(|s| s.env.clone())
            .unwrap_or_default(),
    }
}

/// `repo[:tag]` without the tag; a port in the registry host is not a tag.
fn strip_tag(image: &str) -> &str {
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image.get(last_slash..).and_then(|s| s.rfind(':')) {
        Some(c) => image.get(..last_slash + c).unwrap_or(image),
        None => image,
    }
}

/// No digest, and no tag or `latest`. `scratch` and unresolved names are not
/// reported.
pub(crate) fn unpinned(image: &str) -> bool {
    let image = image.trim();
    if image.is_empty()
        || image.contains('$')
        || image.eq_ignore_ascii_case("scratch")
        || image.contains('@')
    {
        return false;
    }
    let base = strip_tag(image);
    let tag = image
        .get(base.len()..)
        .unwrap_or("")
        .trim_start_matches(':');
    tag.is_empty() || tag == "latest"
}

/// Root: empty, `root`, or uid 0, with any group.
pub(crate) fn is_root(user: &str) -> bool {
    let u = user.split(':').next().unwrap_or("").trim();
    u.is_empty()
        || u == "root"
        || (u.chars().all(|c| c.is_ascii_digit()) && u.trim_start_matches('0').is_empty())
}

fn check_final_user(cx: &mut Ctx<'_>, stages: &[Stage], last: usize) {
    // Walk up the chain of stages to the one that decided the user.
    let mut idx = last;
    let mut hops = 0;
    let decided = loop {
        let Some(st) = stages.get(idx) else {
            break None;
        };
        if let Some(u) = &st.user {
            break Some((idx, u.clone()));
        }
        match st.parent {
            Some(p) if hops < stages.len() => {
                idx = p;
                hops += 1;
            }
            _ => break None,
        }
    };
    let Some(final_stage) = stages.get(last) else {
        return;
    };
    let fix = "Switch to an unprivileged user at the end of the final stage, e.g.\nUSER 10001:10001\n(a numeric uid needs no /etc/passwd entry; create one with `RUN useradd --system --uid 10001 app` if the program wants a name)".to_string();
    match decided {
        Some((i, u)) if is_root(&u.resolved) => {
            let how = if u.raw == u.resolved {
                format!("USER {}", u.raw)
            } else {
                format!("USER {} resolves to {:?}", u.raw, u.resolved)
            };
            let evidence = if i == last {
                format!("final stage runs as root: {how}")
            } else {
                format!(
                    "final stage is built FROM stage {:?}, which runs as root: {how}",
                    stage_name(stages, i)
                )
            };
            let at = if i == last {
                u.offset
            } else {
                final_stage.from_offset
            };
            cx.emit(&DOCKERFILE_ROOT_USER, at, at, evidence, fix);
        }
        Some(_) => {}
        None => {
            let root_stage = stages.get(idx).map_or(final_stage, |s| s);
            let evidence = if idx == last {
                format!("final stage (FROM {}) sets no USER, so it runs as the base image's user, root by default", final_stage.image)
            } else {
                format!(
                    "final stage is built FROM stage {:?} and no stage in that chain sets USER (base image {}, root by default)",
                    stage_name(stages, idx),
                    root_stage.image
                )
            };
            cx.emit(
                &DOCKERFILE_ROOT_USER,
                final_stage.from_offset,
                final_stage.from_offset,
                evidence,
                fix,
            );
        }
    }
}

/// Remembers a COPY/ADD `--chown` of the current stage.
fn record_chown(
    cx: &Ctx<'_>,
    ins: &Instruction,
    stage: Option<&mut Stage>,
    args: &BTreeMap<String, String>,
    dialect: Dialect,
) {
    let Some(st) = stage else { return };
    let ws = words(&ins.args, cx.escape);
    let Some(owner) = ws.iter().find_map(|(w, _)| w.strip_prefix("--chown=")) else {
        return;
    };
    let owner = interpolate(owner, &|n| lookup(Some(&st.env), args, n), dialect);
    let user = owner.split(':').next().unwrap_or("").to_string();
    let mut ops = sources(ins, cx.escape);
    let dest = match exec_form(strip_flags(&ins.args)) {
        Some(list) => list.last().cloned(),
        None => ws
            .iter()
            .rfind(|(w, _)| !w.starts_with("--"))
            .map(|(w, _)| w.clone()),
    };
    let Some(dest) = dest else { return };
    // `COPY --chown=app server /app/` puts it at /app/server.
    if dest.ends_with('/') {
        for (src, _) in ops.drain(..) {
            let base = src.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            st.chowned
                .push((user.clone(), format!("{dest}{base}"), ins.offset));
        }
    } else {
        st.chowned.push((user, dest, ins.offset));
    }
}

/// The program ENTRYPOINT/CMD runs: the first word, in either form.
fn program_of(args: &str) -> Option<String> {
    let first = match exec_form(args) {
        Some(list) => list.into_iter().next(),
        None => args.split_whitespace().next().map(str::to_string),
    }?;
    first.starts_with('/').then_some(first)
}

/// The final stage runs as a user who owns the program it runs: a
/// compromised process can replace its own binary, and the change
/// survives a restart of the container.
fn check_writable_program(cx: &mut Ctx<'_>, stages: &[Stage], last: usize) {
    let Some(st) = stages.get(last) else { return };
    let (Some(user), Some(program)) = (&st.user, &st.program) else {
        return;
    };
    let runs_as = user.resolved.split(':').next().unwrap_or("");
    if is_root(runs_as) {
        return;
    }
    let hit = st
        .chowned
        .iter()
        .rfind(|(owner, dest, _)| owner == runs_as && dest.trim_end_matches('/') == program);
    if let Some((owner, _, at)) = hit {
        cx.emit(
            &DOCKERFILE_WRITABLE_PROGRAM,
            *at,
            *at,
            format!("{program} is copied with --chown={owner}, the user it runs as"),
            format!("Copy the program owned by root, readable by all (`COPY --chmod=755 …` without --chown), and give {owner} only the directories it writes"),
        );
    }
}

fn stage_name(stages: &[Stage], i: usize) -> String {
    stages
        .get(i)
        .and_then(|s| s.name.clone())
        .unwrap_or_else(|| i.to_string())
}

/// ENV pairs: `K=v K2="v 2"`, or the legacy `K value with spaces`.
fn env_pairs(args: &str, escape: char) -> Vec<(String, String)> {
    let ws = words(args, escape);
    match ws.first() {
        Some((first, _)) if !first.contains('=') => {
            let rest = args.trim_start().get(first.len()..).unwrap_or("").trim();
            vec![(first.clone(), rest.to_string())]
        }
        _ => ws
            .into_iter()
            .filter_map(|(w, _)| {
                w.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect(),
    }
}

/// Name looks like it holds a secret: a PASSWORD/PASSWD, SECRET, TOKEN,
/// API_KEY or PRIVATE_KEY part. `_FILE` and `_PATH` names hold paths.
pub(crate) fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    // Names of something about the secret, not the secret: where it is,
    // how long it lives, how big it is, whether it is required.
    const ABOUT: &[&str] = &[
        "FILE",
        "PATH",
        "DIR",
        "TTL",
        "EXPIRY",
        "EXPIRES",
        "EXPIRATION",
        "TIMEOUT",
        "LENGTH",
        "LEN",
        "SIZE",
        "URL",
        "URI",
        "HOST",
        "ENDPOINT",
        "NAME",
        "TYPE",
        "HEADER",
        "FINGERPRINT",
        "ALGORITHM",
        "VERSION",
        "ENABLED",
        "REQUIRED",
        "ROTATION",
        "FORMAT",
        "ENCODING",
    ];
    if upper
        .rsplit(['_', '-', '.'])
        .next()
        .is_some_and(|last| ABOUT.contains(&last))
        && upper.contains(['_', '-', '.'])
    {
        return false;
    }
    let parts: Vec<&str> = upper.split(['_', '-', '.']).collect();
    let any = |f: &dyn Fn(&str) -> bool| parts.iter().any(|p| f(p));
    any(&|p| p.contains("PASSWORD") || p.contains("PASSWD"))
        || any(&|p| p.ends_with("SECRET") || p == "SECRETS")
        || any(&|p| p.ends_with("TOKEN") || p == "TOKENS")
        || any(&|p| p == "APIKEY")
        || parts
            .windows(2)
            .any(|w| matches!(w, ["API", "KEY"] | ["PRIVATE", "KEY"]))
}

/// The instruction an `ONBUILD` carries, checked as itself; its findings
/// say they come from the trigger.
fn onbuild(cx: &mut Ctx<'_>, ins: &Instruction, dialect: Dialect) {
    let raw_text = cx.text.get(ins.raw.clone()).unwrap_or("");
    let lead = raw_text.len() - raw_text.trim_start().len();
    let inner_raw = &raw_text[lead..];
    let kw_len = inner_raw
        .find(char::is_whitespace)
        .unwrap_or(inner_raw.len());
    let keyword = inner_raw[..kw_len].to_ascii_uppercase();
    let args_text = ins.args.trim_start();
    let args = args_text
        .get(
            args_text
                .find(char::is_whitespace)
                .unwrap_or(args_text.len())..,
        )
        .unwrap_or("")
        .trim()
        .to_string();
    let inner = Instruction {
        keyword: keyword.clone(),
        offset: ins.raw.start + lead,
        raw: ins.raw.start + lead + kw_len..ins.raw.end,
        args,
        heredocs: ins.heredocs.clone(),
    };
    let inner_text = cx.text.get(inner.raw.clone()).unwrap_or("");
    let before = cx.out.len();
    match keyword.as_str() {
        "RUN" => {
            check_run(cx, &inner, inner_text);
            checks::check_run_body(cx, &inner, inner_text);
        }
        "ADD" => {
            check_add(cx, &inner);
            checks::check_copy(cx, &inner);
        }
        "COPY" => checks::check_copy(cx, &inner),
        "ENV" => {
            for (name, value) in env_pairs(&inner.args, cx.escape) {
                check_secret(cx, &inner, inner_text, "ENV", &name, Some(&value), dialect);
                check_env_verify(cx, &inner, inner_text, &name, &value);
            }
        }
        "ARG" => {
            for (w, _) in words(&inner.args, cx.escape) {
                let (name, default) = match w.split_once('=') {
                    Some((n, d)) => (n.to_string(), Some(d.to_string())),
                    None => (w.clone(), None),
                };
                check_secret(
                    cx,
                    &inner,
                    inner_text,
                    "ARG",
                    &name,
                    default.as_deref(),
                    dialect,
                );
            }
        }
        _ => {}
    }
    for (f, lines) in cx.out.iter_mut().skip(before) {
        f.evidence = format!(
            "ONBUILD {} (runs in every image built FROM this one)",
            f.evidence
        );
        let (line, _) = line_col(cx.text, ins.offset);
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
}

/// ENV that switches TLS verification off for every later step and for
/// the container.
fn check_env_verify(cx: &mut Ctx<'_>, ins: &Instruction, raw_text: &str, name: &str, value: &str) {
    if checks::verify_off_env(name, value) {
        let at = raw_text
            .find(name)
            .map_or(ins.offset, |p| ins.raw.start + p);
        cx.emit(
            &DOCKERFILE_VERIFY_OFF,
            at,
            ins.offset,
            format!("ENV {name}={value}"),
            format!("Remove {name}; if a private CA signs the server, trust that CA instead:\nCOPY corp-ca.crt /usr/local/share/ca-certificates/\nRUN update-ca-certificates"),
        );
    }
}

/// A secret-looking name: with a literal value, the value is in the file
/// (`dockerfile-secret`); with none, or one taken from another variable,
/// it comes from `--build-arg` and lands in the history, or is copied into
/// the image's config by ENV (`dockerfile-secret-arg`).
#[allow(clippy::too_many_arguments)]
fn check_secret(
    cx: &mut Ctx<'_>,
    ins: &Instruction,
    raw_text: &str,
    kw: &str,
    name: &str,
    value: Option<&str>,
    dialect: Dialect,
) {
    if !secret_name(name) {
        return;
    }
    let at = match raw_text.find(name) {
        Some(p) => ins.raw.start + p,
        None => ins.offset,
    };
    let id = name.to_ascii_lowercase();
    match value {
        Some(v) if !v.trim().is_empty() && !has_reference(v, dialect) => {}
        Some(v) if v.trim().is_empty() && kw == "ENV" => return,
        from_build => {
            let how = match (kw, from_build) {
                ("ENV", Some(v)) => {
                    format!("ENV {name}={v}: the value is copied into the image's config")
                }
                (_, Some(v)) => {
                    format!("ARG {name}={v}: its value is recorded in the image's history")
                }
                (_, None) => format!(
                    "ARG {name}: its value (from --build-arg) is recorded in the image's history"
                ),
            };
            cx.emit(
                &DOCKERFILE_SECRET_ARG,
                at,
                ins.offset,
                how,
                format!("Remove the {kw}; mount the secret only in the step that uses it:\nRUN --mount=type=secret,id={id},env={name} <command>\n(build with `docker build --secret id={id},env={name} .`)"),
            );
            return;
        }
    }
    cx.emit(
        &DOCKERFILE_SECRET,
        at,
        ins.offset,
        format!("{kw} {name}=<redacted>"),
        format!("Remove the literal value; at build time use a secret mount:\nRUN --mount=type=secret,id={id},env={name} <command>\n(build with `docker build --secret id={id},env={name} .`); at run time pass it with `docker run -e {name}` or a Docker secret."),
    );
}

fn check_run(cx: &mut Ctx<'_>, ins: &Instruction, raw_text: &str) {
    let fix = "Drop sudo: RUN already runs as the current USER. Switch users around the steps that need root:\nUSER root\nRUN <command>\nUSER app".to_string();
    let mut hits: Vec<usize> = Vec::new();
    // RUN flags (--mount=…, --network=…) come first.
    let body = strip_flags(&ins.args);
    if let Some(exec) = exec_form(body) {
        let base = raw_text
            .find('[')
            .map_or(ins.raw.start, |p| ins.raw.start + p);
        let ws: Vec<Word> = exec
            .into_iter()
            .map(|t| Word { offset: 0, text: t })
            .collect();
        let mut found = Vec::new();
        invocations_in(&ws, "sudo", &mut found);
        hits.extend(
            found
                .iter()
                .map(|w| raw_text.find(&w.text).map_or(base, |p| ins.raw.start + p)),
        );
    } else {
        let shell_raw = raw_text;
        for w in invocations(&simple_commands(shell_raw, Some(cx.escape)), "sudo") {
            hits.push(ins.raw.start + w.offset);
        }
        // A heredoc is a script when it is the whole command or fed to a shell.
        let mut cmd = body.to_string();
        for (d, _) in heredoc_markers(body) {
            cmd = cmd
                .replacen(&format!("<<-{d}"), "", 1)
                .replacen(&format!("<<{d}"), "", 1);
        }
        let first = cmd.split_whitespace().next().unwrap_or("");
        let first_base = first.rsplit('/').next().unwrap_or(first);
        let script =
            cmd.trim().is_empty() || ["sh", "bash", "dash", "ash", "zsh"].contains(&first_base);
        if script {
            for h in &ins.heredocs {
                for w in invocations(&simple_commands(&h.body, None), "sudo") {
                    hits.push(h.body_offset + w.offset);
                }
            }
        }
    }
    for at in hits {
        cx.emit(
            &DOCKERFILE_SUDO,
            at,
            ins.offset,
            "RUN invokes sudo".to_string(),
            fix.clone(),
        );
    }
}

fn strip_flags(args: &str) -> &str {
    let mut rest = args.trim_start();
    while rest.starts_with("--") {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest.get(end..).unwrap_or("").trim_start();
    }
    rest
}

/// The exec (JSON) form's arguments, if the text is one.
fn exec_form(s: &str) -> Option<Vec<String>> {
    if !s.trim_start().starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(s.trim()).ok()
}

const ARCHIVES: &[&str] = &[
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar.zst", ".tzst",
];

/// The sources of a COPY or ADD (every operand but the destination), with
/// their offsets in the joined arguments (0 in the exec form).
fn sources(ins: &Instruction, escape: char) -> Vec<(String, usize)> {
    let mut operands: Vec<(String, usize)> = match exec_form(strip_flags(&ins.args)) {
        Some(list) => list.into_iter().map(|w| (w, 0)).collect(),
        None => words(&ins.args, escape)
            .into_iter()
            .filter(|(w, _)| !w.starts_with("--"))
            .collect(),
    };
    operands.pop();
    operands
}

fn check_add(cx: &mut Ctx<'_>, ins: &Instruction) {
    let raw_text = cx.text.get(ins.raw.clone()).unwrap_or("");
    let checksum = words(&ins.args, cx.escape)
        .iter()
        .any(|(w, _)| w.starts_with("--checksum"));
    for (src, off) in sources(ins, cx.escape) {
        let at = raw_offset(ins, raw_text, &ins.args, off);
        let lower = src.to_ascii_lowercase();
        let remote = lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("git@")
            || lower.starts_with("git://")
            || lower.starts_with("ssh://");
        if remote {
            let git =
                !lower.starts_with("http") || lower.ends_with(".git") || lower.contains(".git#");
            if checksum && !git {
                continue;
            }
            let fix = if git {
                "Clone at a pinned commit instead: ADD <repo-url>#<commit-sha> <dest>, or RUN git clone <repo-url> /src && git -C /src checkout <commit-sha>".to_string()
            } else {
                "ADD --checksum=sha256:<digest> <url> <dest>   (or: RUN curl -fsSL <url> -o /tmp/f && echo '<sha256>  /tmp/f' | sha256sum -c -)".to_string()
            };
            cx.emit(
                &DOCKERFILE_ADD_REMOTE,
                at,
                ins.offset,
                format!("ADD {src}"),
                fix,
            );
        } else if src.starts_with("<<") || !ARCHIVES.iter().any(|a| lower.ends_with(a)) {
            cx.emit(
                &DOCKERFILE_ADD_LOCAL,
                at,
                ins.offset,
                format!("ADD {src}"),
                format!("COPY {}", strip_flags(&ins.args)),
            );
        }
    }
}

/// EXPOSE entry covering port 22 over TCP: `22`, `22/tcp`, `20-30`.
pub(crate) fn exposes_ssh(port: &str) -> bool {
    let (range, proto) = port.split_once('/').unwrap_or((port, "tcp"));
    if !proto.eq_ignore_ascii_case("tcp") {
        return false;
    }
    let (lo, hi) = range.split_once('-').unwrap_or((range, range));
    match (lo.trim().parse::<u32>(), hi.trim().parse::<u32>()) {
        (Ok(lo), Ok(hi)) => lo <= 22 && 22 <= hi,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
