//! Variable substitution shared by the Dockerfile and compose front ends:
//! `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`,
//! `${VAR+alt}`, `${VAR:?msg}`, `${VAR?msg}`, with nested references inside
//! the default word. Unset variables become the empty string, as in both
//! Docker and compose. The lookup is a plain function so the caller decides
//! where values come from (build args, ENV, a .env map): no process
//! environment is read here.

/// How a literal `$` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Dockerfile: the escape character (`\` or `` ` ``) before `$`.
    Dockerfile { escape: char },
    /// Compose: `$$`.
    Compose,
}

/// `s` with every reference replaced through `lookup`.
pub fn interpolate(s: &str, lookup: &dyn Fn(&str) -> Option<String>, dialect: Dialect) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        match (c, dialect) {
            (c, Dialect::Dockerfile { escape }) if c == escape && next == Some('$') => {
                out.push('$');
                i += 2;
            }
            ('$', Dialect::Compose) if next == Some('$') => {
                out.push('$');
                i += 2;
            }
            ('$', _) if next == Some('{') => match matching_brace(&chars, i + 1) {
                Some(close) => {
                    let inner: String = chars.get(i + 2..close).unwrap_or(&[]).iter().collect();
                    out.push_str(&expand_braced(&inner, lookup, dialect));
                    i = close + 1;
                }
                None => {
                    out.extend(chars.get(i..).unwrap_or(&[]));
                    break;
                }
            },
            ('$', _) if next.is_some_and(is_name_start) => {
                let start = i + 1;
                let mut end = start;
                while chars.get(end).copied().is_some_and(is_name_char) {
                    end += 1;
                }
                let name: String = chars.get(start..end).unwrap_or(&[]).iter().collect();
                out.push_str(&lookup(&name).unwrap_or_default());
                i = end;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Whether `s` refers to a variable (so its value is not written literally).
pub fn has_reference(s: &str, dialect: Dialect) -> bool {
    let probe = |_: &str| Some(String::from("\u{0}"));
    interpolate(s, &probe, dialect).contains('\u{0}')
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Index of the `}` closing the `{` at `open`, counting nested `${`.
fn matching_brace(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while let Some(&c) = chars.get(i) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn expand_braced(inner: &str, lookup: &dyn Fn(&str) -> Option<String>, dialect: Dialect) -> String {
    let name_len = inner
        .char_indices()
        .find(|&(_, c)| !is_name_char(c))
        .map_or(inner.len(), |(i, _)| i);
    let (name, rest) = inner.split_at(name_len);
    let value = lookup(name);
    let set = value.is_some();
    let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    let word = |w: &str| interpolate(w, lookup, dialect);
    let (op, w) = if let Some(w) = rest.strip_prefix(":-") {
        ("-", Some((w, non_empty)))
    } else if let Some(w) = rest.strip_prefix(":+") {
        ("+", Some((w, non_empty)))
    } else if let Some(w) = rest.strip_prefix(":?") {
        ("?", Some((w, non_empty)))
    } else if let Some(w) = rest.strip_prefix('-') {
        ("-", Some((w, set)))
    } else if let Some(w) = rest.strip_prefix('+') {
        ("+", Some((w, set)))
    } else if let Some(w) = rest.strip_prefix('?') {
        ("?", Some((w, set)))
    } else {
        ("", None)
    };
    match (op, w) {
        ("-", Some((w, present))) if !present => word(w),
        ("+", Some((w, present))) => {
            if present {
                word(w)
            } else {
                String::new()
            }
        }
        _ => value.unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("a".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn c(s: &str) -> String {
        interpolate(s, &env, Dialect::Compose)
    }

    #[test]
    fn forms() {
        assert_eq!(c("$A-${A}"), "a-a");
        assert_eq!(c("${B:-/var/run/docker.sock}"), "/var/run/docker.sock");
        assert_eq!(c("${EMPTY:-d}"), "d");
        assert_eq!(c("${EMPTY-d}"), "");
        assert_eq!(c("${B-d}"), "d");
        assert_eq!(c("${A:+x}${B:+y}"), "x");
        assert_eq!(c("${B:-${A}}"), "a");
        assert_eq!(c("$$A"), "$A");
        assert_eq!(c("${B:?required}"), "");
        assert_eq!(c("cost $5 ${"), "cost $5 ${");
        assert_eq!(
            interpolate("\\$A $A", &env, Dialect::Dockerfile { escape: '\\' }),
            "$A a"
        );
    }

    #[test]
    fn references() {
        assert!(has_reference("${X}", Dialect::Compose));
        assert!(has_reference("pre$X", Dialect::Compose));
        assert!(!has_reference("pa$$word", Dialect::Compose));
        assert!(!has_reference("hunter2", Dialect::Compose));
    }
}
