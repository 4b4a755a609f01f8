//! The request target as dockerd will route it, or a refusal.
//!
//! dockerd (moby's router on gorilla/mux) routes on the once-decoded path
//! without the query, case-sensitively, after an optional `/v<version>`
//! prefix that it parses loosely (`/v1.41`, `/v01.41`, `/v1.41.0`). It
//! answers `.`/`..` segments, `//` and their encoded forms with a 301 (a
//! proxy that follows it has let the client choose a second path), decodes
//! `%2F` inside a segment and routes the result, and serves absolute-form
//! targets (`GET http://x/info`). tecnativa's HAProxy matched a prefix
//! of the decoded path, case-insensitively, anchored at the start only.
//!
//! Here: the absolute form is reduced to its path; the path is decoded
//! once; encoded slashes and backslashes, NUL, empty and dot segments are
//! refused rather than interpreted; the version prefix is parsed into
//! numbers; the rest must match a route exactly (see [`crate::route`]).

/// An API version `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32);

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// A request target, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `None`: unversioned (dockerd uses its own current version).
    pub version: Option<Version>,
    /// Decoded path without the version prefix, e.g. `/containers/abc/json`.
    pub path: String,
    /// The decoded segments of `path`.
    pub segments: Vec<String>,
    /// The raw query, without `?` (not decoded; forwarded as is).
    pub query: String,
}

impl Target {
    /// The path and query to forward with segment 1 (the object: a
    /// container's name or id prefix) replaced by `id`, so that what
    /// dockerd acts on is the object that was judged, whatever is renamed
    /// in between. Only for routes whose other segments are fixed words.
    pub fn pinned(&self, id: &str) -> String {
        let mut seg = self.segments.clone();
        if let Some(s) = seg.get_mut(1) {
            *s = id.to_string();
        }
        let prefix = self
            .version
            .map(|v| format!("/v{}.{}", v.0, v.1))
            .unwrap_or_default();
        let query = if self.query.is_empty() {
            String::new()
        } else {
            format!("?{}", self.query)
        };
        format!("{prefix}/{}{query}", seg.join("/"))
    }
}

fn unhex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes one segment; refuses what could be routed two ways.
fn decode(seg: &str) -> Result<String, String> {
    let b = seg.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|x| unhex(*x)),
                b.get(i + 2).and_then(|x| unhex(*x)),
            ) else {
                return Err(format!("invalid percent-encoding in {seg:?}"));
            };
            let d = h * 16 + l;
            if d == b'/' || d == b'\\' || d == 0 {
                return Err(format!(
                    "encoded {:?} in a path segment ({seg:?}) is refused",
                    char::from(d)
                ));
            }
            out.push(d);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    let s = String::from_utf8(out).map_err(|_| format!("path segment {seg:?} is not UTF-8"))?;
    if s.contains('\\') || s.chars().any(char::is_control) {
        return Err(format!(
            "path segment {seg:?} holds a backslash or control character"
        ));
    }
    Ok(s)
}

/// Parses dockerd's loose version prefix: `v` followed by digits and dots.
fn version(seg: &str) -> Option<Result<Version, String>> {
    let rest = seg.strip_prefix('v')?;
    if rest.is_empty() || !rest.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
        return None;
    }
    let mut parts = rest.split('.');
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts
        .next()
        .map(|p| {
            if p.is_empty() {
                Some(0)
            } else {
                p.parse::<u32>().ok()
            }
        })
        .unwrap_or(Some(0));
    Some(match (major, minor) {
        (Some(a), Some(b)) => Ok(Version(a, b)),
        _ => Err(format!("API version {seg:?} cannot be read")),
    })
}

/// Normalises a request target (origin or absolute form).
pub fn normalize(target: &str) -> Result<Target, String> {
    let t = if let Some(rest) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    {
        // Absolute form: the authority is ignored, as dockerd does.
        match rest.find('/') {
            Some(i) => rest.get(i..).unwrap_or("/"),
            None => "/",
        }
    } else {
        target
    };
    if !t.starts_with('/') {
        return Err(format!("request target {target:?} is not a path"));
    }
    if t.contains('#') {
        return Err("a fragment in the request target is refused".to_string());
    }
    let (raw_path, query) = t.split_once('?').unwrap_or((t, ""));
    let raw_segments: Vec<&str> = raw_path.get(1..).unwrap_or("").split('/').collect();
    let mut segments = Vec::with_capacity(raw_segments.len());
    for (n, s) in raw_segments.iter().enumerate() {
        let d = decode(s)?;
        if d.is_empty() && !(raw_segments.len() == 1 && n == 0) {
            return Err(format!(
                "empty segment in path {raw_path:?} (dockerd would redirect)"
            ));
        }
        if d == "." || d == ".." {
            return Err(format!(
                "dot segment in path {raw_path:?} (dockerd would redirect)"
            ));
        }
        segments.push(d);
    }
    let mut version_found = None;
    if let Some(first) = segments.first() {
        if let Some(v) = version(first) {
            version_found = Some(v?);
            segments.remove(0);
        }
    }
    if segments.first().is_some_and(String::is_empty) {
        segments.clear();
    }
    let path = format!("/{}", segments.join("/"));
    Ok(Target {
        version: version_found,
        path,
        segments,
        query: query.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(t: &str) -> (Option<Version>, String) {
        let n = normalize(t).unwrap();
        (n.version, n.path)
    }

    #[test]
    fn pinned_names_the_judged_object() {
        let id = "0123abcd";
        for (t, want) in [
            (
                "/v1.41/containers/web/exec",
                "/v1.41/containers/0123abcd/exec",
            ),
            (
                "/containers/web/archive?path=%2Fetc",
                "/containers/0123abcd/archive?path=%2Fetc",
            ),
            (
                "http://x/v01.41/containers/web/attach?stream=1",
                "/v1.41/containers/0123abcd/attach?stream=1",
            ),
        ] {
            assert_eq!(normalize(t).unwrap().pinned(id), want, "{t}");
        }
    }

    #[test]
    fn versions_and_forms() {
        assert_eq!(
            p("/v1.41/containers/json?all=1"),
            (Some(Version(1, 41)), "/containers/json".into())
        );
        assert_eq!(p("/v01.41/info"), (Some(Version(1, 41)), "/info".into()));
        assert_eq!(p("/v1.41.0/info"), (Some(Version(1, 41)), "/info".into()));
        assert_eq!(p("/v1.12/info"), (Some(Version(1, 12)), "/info".into()));
        assert_eq!(p("/_ping"), (None, "/_ping".into()));
        assert_eq!(
            p("http://docker/v1.41/info"),
            (Some(Version(1, 41)), "/info".into())
        );
        assert_eq!(
            p("/containers/a%2Db/json"),
            (None, "/containers/a-b/json".into())
        );
        assert_eq!(
            normalize("/containers/json?filters=%7B%7D").unwrap().query,
            "filters=%7B%7D"
        );
        assert_eq!(p("/"), (None, "/".into()));
    }

    #[test]
    fn what_could_route_two_ways_is_refused() {
        for t in [
            "/v1.41/containers/../info",
            "/v1.41/containers/%2e%2e/info",
            "/v1.41//info",
            "/v1.41/containers/x%2Fexec",
            "/containers/x%5cy",
            "/containers/%00",
            "/containers/%zz",
            "/containers/%ff/json",
            "*",
            "info",
            "/info#x",
            "/v99999999999/info",
        ] {
            assert!(normalize(t).is_err(), "{t}");
        }
    }
}
