//! Hop-by-hop headers (RFC 9110 §7.6.1): what belongs to one connection
//! and must not be passed on, in either direction.

use hyper::header::{HeaderMap, HeaderName, CONNECTION};

/// Headers that belong to one hop (RFC 9110 §7.6.1), plus those named in
/// Connection.
pub(super) fn strip_hop_by_hop(h: &mut HeaderMap) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn the_fixed_names_and_those_connection_names_go() {
        let mut h = map(&[
            ("connection", "keep-alive, X-Secret , x-other"),
            ("connection", "x-third"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "tcp"),
            ("proxy-authorization", "basic x"),
            ("x-secret", "1"),
            ("x-other", "2"),
            ("x-third", "3"),
            ("content-type", "application/json"),
            ("x-registry-auth", "kept"),
        ]);
        strip_hop_by_hop(&mut h);
        let left: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
        assert_eq!(left, ["content-type", "x-registry-auth"]);
    }

    #[test]
    fn a_head_without_any_is_left_alone() {
        let mut h = map(&[("content-type", "text/plain"), ("x-a", "1")]);
        let before = h.clone();
        strip_hop_by_hop(&mut h);
        assert_eq!(h, before);
    }
}
