//! Which front end reads a file: by name when a directory is searched, by
//! content when a file is named explicitly (a compose file called
//! `prod.yml` or a Dockerfile called `build/app` is still audited for what
//! it is). Pure: the CLI does the walking and the reading.

use crate::{
    audit_compose, audit_dockerfile, parse_daemon_json, BuildArgs, ComposeEnv, Diagnostic, Finding,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dockerfile,
    Compose,
    DaemonJson,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dockerfile => "dockerfile",
            Self::Compose => "compose",
            Self::DaemonJson => "daemon",
        }
    }
}

/// The kind of a file found while searching a directory, from its name:
/// `Dockerfile`, `Dockerfile.*`, `*.Dockerfile`, `*.dockerfile`,
/// `Containerfile`, `compose*.y(a)ml`, `docker-compose*.y(a)ml`,
/// `daemon.json`. Anything else is not audited.
pub fn kind_by_name(file_name: &str) -> Option<Kind> {
    let n = file_name;
    let yaml = n.ends_with(".yml") || n.ends_with(".yaml");
    // `Dockerfile.md` is documentation and `Dockerfile.dockerignore` is
    // BuildKit's per-Dockerfile ignore file, not Dockerfiles.
    const NOT_DOCKERFILES: &[&str] = &[
        ".md",
        ".txt",
        ".rst",
        ".adoc",
        ".html",
        ".orig",
        ".rej",
        ".bak",
        ".swp",
        ".dockerignore",
    ];
    if NOT_DOCKERFILES.iter().any(|e| n.ends_with(e)) && !yaml {
        return None;
    }
    if n == "Dockerfile"
        || n.starts_with("Dockerfile.")
        || n.ends_with(".Dockerfile")
        || n.ends_with(".dockerfile")
        || n == "Containerfile"
        || n.starts_with("Containerfile.")
    {
        Some(Kind::Dockerfile)
    } else if yaml && (n.starts_with("compose") || n.starts_with("docker-compose")) {
        Some(Kind::Compose)
    } else if n == "daemon.json" {
        Some(Kind::DaemonJson)
    } else {
        None
    }
}

/// The kind of a named file, from what it contains: a JSON object is a
/// daemon.json, YAML with a `services:` key (or a compose top-level key) is
/// a compose file, and anything whose first instruction is FROM, ARG or a
/// parser directive is a Dockerfile. `None`: none of these.
pub fn sniff(text: &str) -> Option<Kind> {
    let body = text.trim_start_matches('\u{feff}');
    let first = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && (!l.starts_with('#') || is_directive(l)))?;
    if first.starts_with('{') {
        return Some(Kind::DaemonJson);
    }
    if is_directive(first) {
        return Some(Kind::Dockerfile);
    }
    let word = first
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    if word == "FROM" || word == "ARG" {
        return Some(Kind::Dockerfile);
    }
    const COMPOSE_KEYS: &[&str] = &[
        "services:",
        "version:",
        "volumes:",
        "networks:",
        "secrets:",
        "configs:",
        "name:",
        "include:",
        "x-",
    ];
    let compose = body
        .lines()
        .any(|l| !l.starts_with([' ', '\t', '#']) && COMPOSE_KEYS.iter().any(|k| l.starts_with(k)));
    compose.then_some(Kind::Compose)
}

fn is_directive(l: &str) -> bool {
    let l = l.trim_start_matches('#').trim_start().to_ascii_lowercase();
    l.starts_with("escape=") || l.starts_with("syntax=") || l.starts_with("check=")
}

/// Audits one file's text as `kind`.
pub fn audit_text(
    kind: Kind,
    path: &str,
    text: &str,
    build_args: &BuildArgs,
    env: &ComposeEnv,
) -> Result<Vec<Finding>, Diagnostic> {
    match kind {
        Kind::Dockerfile => audit_dockerfile(path, text, build_args),
        Kind::Compose => audit_compose(path, text, env),
        Kind::DaemonJson => parse_daemon_json(path, text).map(|s| crate::audit_daemon(&s, path)),
    }
}

/// `.env` as compose reads it: `KEY=VALUE` lines, `export` allowed,
/// surrounding quotes removed, comments and blank lines skipped.
pub fn parse_dotenv(text: &str) -> ComposeEnv {
    let mut env = ComposeEnv::new();
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let l = l.strip_prefix("export ").unwrap_or(l);
        let Some((k, v)) = l.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = if v.len() >= 2
            && ((v.starts_with('"') && v.ends_with('"'))
                || (v.starts_with('\'') && v.ends_with('\'')))
        {
            v.get(1..v.len() - 1).unwrap_or("")
        } else {
            v.split(" #").next().unwrap_or(v).trim_end()
        };
        env.insert(k.trim().to_string(), v.to_string());
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for (n, k) in [
            ("Dockerfile", Some(Kind::Dockerfile)),
            ("Dockerfile.prod", Some(Kind::Dockerfile)),
            ("api.Dockerfile", Some(Kind::Dockerfile)),
            ("api.dockerfile", Some(Kind::Dockerfile)),
            ("Containerfile", Some(Kind::Dockerfile)),
            ("compose.yaml", Some(Kind::Compose)),
            ("compose.prod.yml", Some(Kind::Compose)),
            ("docker-compose.override.yml", Some(Kind::Compose)),
            ("daemon.json", Some(Kind::DaemonJson)),
            ("values.yaml", None),
            ("Dockerfile-notes.md", None),
            ("Dockerfile.md", None),
            ("Dockerfile.dockerignore", None),
            ("compose.json", None),
        ] {
            assert_eq!(kind_by_name(n), k, "{n}");
        }
    }

    #[test]
    fn contents() {
        assert_eq!(
            sniff("# syntax=docker/dockerfile:1\nFROM a\n"),
            Some(Kind::Dockerfile)
        );
        assert_eq!(
            sniff("# a comment\n\nARG X=1\nFROM a\n"),
            Some(Kind::Dockerfile)
        );
        assert_eq!(sniff("from alpine"), Some(Kind::Dockerfile));
        assert_eq!(sniff("\u{feff}{\"icc\": false}"), Some(Kind::DaemonJson));
        assert_eq!(
            sniff("# prod\nservices:\n  web:\n    image: x\n"),
            Some(Kind::Compose)
        );
        assert_eq!(
            sniff("x-common: &c\n  a: 1\nservices: {}\n"),
            Some(Kind::Compose)
        );
        assert_eq!(sniff("hello world\n"), None);
        assert_eq!(sniff(""), None);
    }

    #[test]
    fn dotenv() {
        let e =
            parse_dotenv("# c\nA=1\nexport B=\"two words\"\nC='x' \nD=v # comment\n\nbad line\n");
        assert_eq!(e.get("A").map(String::as_str), Some("1"));
        assert_eq!(e.get("B").map(String::as_str), Some("two words"));
        assert_eq!(e.get("C").map(String::as_str), Some("x"));
        assert_eq!(e.get("D").map(String::as_str), Some("v"));
        assert_eq!(e.len(), 4);
    }
}
