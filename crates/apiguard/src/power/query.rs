//! Host power in a request's query: `POST /build` and `POST /commit`.
//!
//! dockerd reads the query with Go's `url.ParseQuery` and takes the
//! *first* value of a repeated parameter (`r.FormValue`); Go 1.17+
//! refuses `;` as a separator. A query that could be read two ways —
//! a repeated parameter, a `;`, a malformed escape — is refused rather
//! than guessed.
//!
//! Build: `networkmode` other than the default, `bridge` or `none` runs
//! the build's `RUN` steps in the host's network (`host`) or another
//! container's (`container:<id>`); `remote` makes dockerd fetch a URL or
//! a git repository from wherever the host can reach. BuildKit's own
//! `remote=client-session` (the context comes over the client's session)
//! passes.

use super::{Check, Refusal};
use crate::action::Action;
use std::collections::BTreeMap;

fn unhex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Go's `url.QueryUnescape`: `+` is a space, `%XX` a byte.
fn unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'%' => {
                let (Some(h), Some(l)) = (
                    b.get(i + 1).and_then(|x| unhex(*x)),
                    b.get(i + 2).and_then(|x| unhex(*x)),
                ) else {
                    return Err(format!("invalid escape in {s:?}"));
                };
                out.push(h * 16 + l);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} is not UTF-8 once decoded"))
}

/// The query's parameters, each with all its values, as Go parses them.
pub fn parse(query: &str) -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if query.contains(';') {
        return Err("a ';' in the query (Go reads it differently by version)".into());
    }
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        m.entry(unescape(k)?).or_default().push(unescape(v)?);
    }
    Ok(m)
}

/// The one value of `name`; a repeated parameter is refused.
fn one<'a>(q: &'a BTreeMap<String, Vec<String>>, name: &str) -> Result<Option<&'a str>, String> {
    match q.get(name).map(Vec::as_slice) {
        None => Ok(None),
        Some([v]) => Ok(Some(v)),
        Some(_) => Err(format!("the query repeats {name:?}")),
    }
}

/// The parameters dockerd reads on `POST /build` (moby
/// `newImageBuildOptions`, v28); any other is refused as unknown.
const BUILD_PARAMS: &[&str] = &[
    "dockerfile",
    "q",
    "nocache",
    "forcerm",
    "rm",
    "pull",
    "memswap",
    "memory",
    "cpushares",
    "cpuperiod",
    "cpuquota",
    "cpusetcpus",
    "cpusetmems",
    "cgroupparent",
    "networkmode",
    "t",
    "extrahosts",
    "securityopt",
    "squash",
    "target",
    "remote",
    "session",
    "buildid",
    "platform",
    "outputs",
    "shmsize",
    "isolation",
    "ulimits",
    "buildargs",
    "labels",
    "cachefrom",
    "version",
];

/// A refusal when parameter `name` is given with a value outside `ok`
/// (absent is fine); a repeated parameter is an error.
fn only(
    q: &BTreeMap<String, Vec<String>>,
    name: &str,
    ok: &[&str],
    check: Check,
    why: &str,
) -> Result<Option<Refusal>, String> {
    Ok(one(q, name)?.filter(|v| !ok.contains(v)).map(|v| Refusal {
        check,
        detail: format!("{name}={v} ({why})"),
    }))
}

/// The query of `action`: `Err` for a query that could be read two ways,
/// else the refusals (allowed or not).
pub fn check(action: Action, query: &str) -> Result<Vec<Refusal>, String> {
    let mut out = Vec::new();
    if action == Action::ImagesPull {
        // `docker import URL`: dockerd fetches the URL itself.
        let q = parse(query)?;
        out.extend(only(
            &q,
            "fromSrc",
            &["", "-"],
            Check::BuildRemote,
            "dockerd would fetch it from wherever the host reaches",
        )?);
        return Ok(out);
    }
    if action != Action::BuildStart {
        return Ok(out);
    }
    let q = parse(query)?;
    for (k, v) in &q {
        if !BUILD_PARAMS.contains(&k.as_str()) {
            out.push(Refusal {
                check: Check::UnknownField,
                detail: format!("build parameter {k:?} (one dockward does not know)"),
            });
        }
        if k == "securityopt" && v.iter().any(|x| !x.is_empty()) {
            out.push(Refusal {
                check: Check::Unconfined,
                detail: "build securityopt".into(),
            });
        }
    }
    out.extend(only(
        &q,
        "networkmode",
        &["", "default", "bridge", "none"],
        Check::BuildNetwork,
        "build steps would run in that network namespace",
    )?);
    out.extend(only(
        &q,
        "remote",
        &["", "client-session"],
        Check::BuildRemote,
        "dockerd would fetch the context from wherever the host reaches",
    )?);
    Ok(out)
}

/// `POST /commit?container=<id>`: the container committed (read like an
/// export).
pub fn commit_container(query: &str) -> Result<Option<String>, String> {
    let q = parse(query)?;
    Ok(one(&q, "container")?.map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(q: &str) -> Result<Vec<Check>, String> {
        check(Action::BuildStart, q).map(|v| v.into_iter().map(|r| r.check).collect())
    }

    #[test]
    fn build_queries() {
        assert_eq!(ids("t=x&networkmode=default&rm=1"), Ok(vec![]));
        assert_eq!(ids("remote=client-session&session=abc"), Ok(vec![]));
        assert_eq!(ids("networkmode=host"), Ok(vec![Check::BuildNetwork]));
        assert_eq!(ids("networkmode=ho%73t"), Ok(vec![Check::BuildNetwork]));
        assert_eq!(
            ids("networkmode=container:abc"),
            Ok(vec![Check::BuildNetwork])
        );
        assert_eq!(
            ids("remote=http://127.0.0.1:9/x.tar"),
            Ok(vec![Check::BuildRemote])
        );
        assert!(ids("networkmode=default&networkmode=host").is_err());
        assert!(ids("t=x;networkmode=host").is_err());
        assert!(ids("networkmode=%zz").is_err());
        assert_eq!(ids("t=a&t=b&dockerfile=D&buildargs=%7B%7D"), Ok(vec![]));
        assert_eq!(ids("newthing=1"), Ok(vec![Check::UnknownField]));
        let pull = |q: &str| {
            check(Action::ImagesPull, q).map(|v| v.into_iter().map(|r| r.check).collect::<Vec<_>>())
        };
        assert_eq!(pull("fromImage=busybox&tag=1"), Ok(vec![]));
        assert_eq!(pull("fromSrc=-&repo=x"), Ok(vec![]));
        assert_eq!(
            pull("fromSrc=http://127.0.0.1/x.tar"),
            Ok(vec![Check::BuildRemote])
        );
        assert_eq!(
            commit_container("container=abc&repo=x"),
            Ok(Some("abc".into()))
        );
    }
}
