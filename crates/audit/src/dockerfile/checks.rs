//! What a RUN, COPY or ADD does, read as the shell and the builder read it:
//! scripts piped from the network, verification switched off, world-writable
//! modes, secret files copied in, package caches left behind.
//!
//! The commands come from [`crate::shell::commands`], so a flag inside a
//! quoted argument (`echo "curl -k"`) is not a flag, `sh -c '…'` scripts
//! are looked into, and wrappers (`env`, `sudo`, `timeout 5`) are seen
//! through. The flags are the tools' own: curl's short options cluster
//! (`-fsSLk` is `-k`), npm and yarn spell strict-ssl two ways, git's
//! `http.sslVerify` is case-insensitive (git config keys are).
//!
//! Coverage against hadolint, trivy and Docker's build checks is the table
//! in docs/audit.md.

use super::{exec_form, raw_offset, sources, strip_flags, Ctx};
use crate::dockerfile::parse::{words, Instruction};
use crate::rules::files::{
    DOCKERFILE_CURL_PIPE_SHELL, DOCKERFILE_PACKAGE_CACHE, DOCKERFILE_SECRET_FILE,
    DOCKERFILE_VERIFY_OFF, DOCKERFILE_WORLD_WRITABLE,
};
use crate::shell::{commands, Command, Word};

const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "ash", "zsh", "ksh", "python", "python3", "perl", "ruby", "node",
];

/// The commands of a RUN and where its body starts in the file.
fn run_commands(cx: &Ctx<'_>, ins: &Instruction, raw_text: &str) -> (Vec<Command>, usize) {
    let body = strip_flags(raw_text);
    let base = ins.raw.start + (raw_text.len() - body.len());
    if let Some(list) = exec_form(strip_flags(&ins.args)) {
        // The exec form runs no shell: one command, its words as given.
        let text = shlex::try_join(list.iter().map(String::as_str)).unwrap_or_default();
        return (commands(&text, None), ins.offset);
    }
    (commands(body, Some(cx.escape)), base)
}

pub(super) fn check_run_body(cx: &mut Ctx<'_>, ins: &Instruction, raw_text: &str) {
    let (cmds, base) = run_commands(cx, ins, raw_text);
    let at = |w: &Word| base + w.offset;
    // Scripts from the network straight into an interpreter.
    for (i, c) in cmds.iter().enumerate() {
        let fetch = matches!(c.name(), "curl" | "wget");
        let into = cmds.get(i + 1).map(Command::name).unwrap_or("");
        if fetch && c.piped && SHELLS.contains(&into) {
            cx.emit(
                &DOCKERFILE_CURL_PIPE_SHELL,
                at(&c.words[c.program]),
                ins.offset,
                format!("RUN {} … | {into}", c.name()),
                "RUN curl -fsSL <url> -o /tmp/install.sh \\\n && echo '<sha256>  /tmp/install.sh' | sha256sum -c - \\\n && sh /tmp/install.sh".into(),
            );
        }
        if SHELLS.contains(&c.name()) {
            let substituted = c.args().iter().any(|w| {
                let t = w.text.trim_start();
                ["$(curl", "$(wget", "`curl", "`wget", "<(curl", "<(wget"]
                    .iter()
                    .any(|p| t.starts_with(p))
            });
            if substituted {
                cx.emit(
                    &DOCKERFILE_CURL_PIPE_SHELL,
                    at(&c.words[c.program]),
                    ins.offset,
                    format!("RUN {} runs a script it downloads", c.name()),
                    "RUN curl -fsSL <url> -o /tmp/install.sh \\\n && echo '<sha256>  /tmp/install.sh' | sha256sum -c - \\\n && sh /tmp/install.sh".into(),
                );
            }
        }
    }
    // `bash <(curl …)`: the lexer reads `<(` as a redirection.
    let flat: String = raw_text.split_whitespace().collect::<Vec<_>>().join(" ");
    if ["<(curl ", "<(wget "].iter().any(|p| flat.contains(p)) {
        cx.emit(
            &DOCKERFILE_CURL_PIPE_SHELL,
            ins.offset,
            ins.offset,
            "RUN runs a downloaded script through process substitution".into(),
            "RUN curl -fsSL <url> -o /tmp/install.sh \\\n && echo '<sha256>  /tmp/install.sh' | sha256sum -c - \\\n && sh /tmp/install.sh".into(),
        );
    }
    for c in &cmds {
        if let Some((w, what)) = verify_off(c) {
            cx.emit(
                &DOCKERFILE_VERIFY_OFF,
                at(w),
                ins.offset,
                format!("RUN {what}"),
                "Remove it; if a private CA signs the server, trust that CA instead:\nCOPY corp-ca.crt /usr/local/share/ca-certificates/\nRUN update-ca-certificates".into(),
            );
        }
        if c.name() == "chmod" {
            if let Some(mode) = c.args().iter().find(|w| !w.text.starts_with('-')) {
                if world_writable(&mode.text) {
                    cx.emit(
                        &DOCKERFILE_WORLD_WRITABLE,
                        at(mode),
                        ins.offset,
                        format!("RUN chmod {}", mode.text),
                        "chown the path to the user that writes it and keep it closed to others:\nRUN chown -R 10001:10001 <path> && chmod -R u+rwX,go-w <path>".into(),
                    );
                }
            }
        }
    }
    if trusted_sources(raw_text) {
        cx.emit(
            &DOCKERFILE_VERIFY_OFF,
            ins.offset,
            ins.offset,
            "RUN adds an apt source marked [trusted=yes]".into(),
            "Drop `[trusted=yes]` and install the repository's signing key: `[signed-by=/usr/share/keyrings/<repo>.gpg]`".into(),
        );
    }
    package_cache(cx, ins, raw_text, &cmds);
}

/// `[trusted=yes]` written into an apt source list.
fn trusted_sources(raw: &str) -> bool {
    raw.to_ascii_lowercase()
        .replace(' ', "")
        .contains("[trusted=yes]")
}

fn is_false(v: &str) -> bool {
    matches!(
        v.trim_matches(['"', '\'']).to_ascii_lowercase().as_str(),
        "false" | "0" | "no" | "off"
    )
}

/// An environment assignment that switches verification off.
pub(super) fn verify_off_env(name: &str, value: &str) -> bool {
    let v = value.trim_matches(['"', '\'']);
    match name {
        "GIT_SSL_NO_VERIFY" => !v.is_empty() && !is_false(v),
        "NODE_TLS_REJECT_UNAUTHORIZED" | "PYTHONHTTPSVERIFY" => v == "0",
        "NPM_CONFIG_STRICT_SSL" | "npm_config_strict_ssl" => is_false(v),
        _ => false,
    }
}

/// The word and a description when a command switches verification off.
fn verify_off(c: &Command) -> Option<(&Word, String)> {
    for w in c.words.get(..c.program).unwrap_or(&[]) {
        if let Some((n, v)) = w.text.split_once('=') {
            if verify_off_env(n, v) {
                return Some((w, format!("sets {n}={v}")));
            }
        }
    }
    let args = c.args();
    let has = |flag: &str| {
        args.iter()
            .find(|w| w.text == flag || w.text.starts_with(&format!("{flag}=")))
    };
    let name = c.name();
    let hit = match name {
        "curl" => args.iter().find(|w| {
            w.text == "--insecure"
                || (w.text.starts_with('-')
                    && !w.text.starts_with("--")
                    && w.text.len() > 1
                    && w.text[1..].chars().all(|ch| ch.is_ascii_alphabetic())
                    && w.text.contains('k'))
        }),
        "wget" => has("--no-check-certificate"),
        "pip" | "pip3" | "python" | "python3" => has("--trusted-host"),
        "npm" | "yarn" | "pnpm" => args.iter().find(|w| {
            let t = w.text.to_ascii_lowercase();
            (t.starts_with("--strict-ssl=") && is_false(&t["--strict-ssl=".len()..]))
                || (t == "strict-ssl"
                    && args
                        .iter()
                        .any(|x| x.offset >= w.offset && x.text != w.text && is_false(&x.text)))
        }),
        "git" => args.iter().enumerate().find_map(|(i, w)| {
            let t = w.text.to_ascii_lowercase();
            if let Some(v) = t.strip_prefix("http.sslverify=") {
                return is_false(v).then_some(w);
            }
            (t == "http.sslverify" && args.get(i + 1).is_some_and(|n| is_false(&n.text)))
                .then_some(w)
        }),
        "apt-get" | "apt" | "aptitude" => args.iter().find(|w| {
            let t = w.text.to_ascii_lowercase();
            t == "--allow-unauthenticated"
                || t == "--allow-insecure-repositories"
                || t.contains("allowunauthenticated=true")
                || ((t.contains("verify-peer") || t.contains("verify-host"))
                    && (t.ends_with("=false") || t.ends_with("=\"false\"")))
        }),
        "apk" => has("--allow-untrusted"),
        "yum" | "dnf" | "microdnf" | "zypper" => {
            has("--nogpgcheck").or_else(|| has("--no-gpg-checks"))
        }
        "rpm" => has("--nosignature"),
        _ => None,
    }?;
    Some((hit, format!("{name} {}", hit.text)))
}

/// A chmod mode that lets others write (sticky directories excepted).
pub(super) fn world_writable(mode: &str) -> bool {
    let m = mode.trim();
    if !m.is_empty() && m.len() <= 4 && m.chars().all(|c| c.is_digit(8)) {
        let digits: Vec<u32> = m.chars().filter_map(|c| c.to_digit(8)).collect();
        let others = digits.last().copied().unwrap_or(0);
        let sticky = digits.len() == 4 && digits[0] & 1 == 1;
        return others & 2 == 2 && !sticky;
    }
    m.split(',').any(|clause| {
        let who: String = clause.chars().take_while(|c| "ugoa".contains(*c)).collect();
        let rest = &clause[who.len()..];
        (who.contains('o') || who.contains('a'))
            && (rest.starts_with('+') || rest.starts_with('='))
            && rest.contains('w')
            && !rest.contains('t')
    })
}

/// apt-get/apt install without removing the lists, apk add without
/// `--no-cache`, in a RUN with no cache mount.
fn package_cache(cx: &mut Ctx<'_>, ins: &Instruction, raw_text: &str, cmds: &[Command]) {
    let flags = &raw_text[..raw_text.len() - strip_flags(raw_text).len()];
    if flags.contains("type=cache") {
        return;
    }
    let cleans_apt = cmds.iter().any(|c| {
        c.name() == "rm"
            && c.args()
                .iter()
                .any(|w| w.text.starts_with("/var/lib/apt/lists"))
    }) || cmds.iter().any(|c| {
        matches!(c.name(), "apt-get" | "apt") && c.args().iter().any(|w| w.text == "clean")
    }) && raw_text.contains("/var/lib/apt/lists");
    for c in cmds {
        let args = c.args();
        let install = args.iter().any(|w| w.text == "install");
        let (hit, fix) = match c.name() {
            "apt-get" | "apt" if install && !cleans_apt => (
                true,
                "end the same RUN with `&& rm -rf /var/lib/apt/lists/*`",
            ),
            "apk"
                if args.iter().any(|w| w.text == "add")
                    && !args.iter().any(|w| w.text == "--no-cache")
                    && !raw_text.contains("/var/cache/apk") =>
            {
                (true, "use `apk add --no-cache <packages>`")
            }
            _ => (false, ""),
        };
        if hit {
            cx.emit(
                &DOCKERFILE_PACKAGE_CACHE,
                ins.raw.start
                    + (raw_text.len() - strip_flags(raw_text).len())
                    + c.words[c.program].offset,
                ins.offset,
                format!(
                    "RUN {} {} leaves its cache in the layer",
                    c.name(),
                    if c.name() == "apk" { "add" } else { "install" }
                ),
                fix.into(),
            );
        }
    }
}

/// The secret file a COPY/ADD source names, if any.
pub(crate) fn secret_file(src: &str) -> Option<&'static str> {
    let path = src.trim_end_matches('/');
    let base = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    if base == ".env" {
        return Some("a .env file");
    }
    if let Some(suffix) = base.strip_prefix(".env.") {
        let example = ["example", "sample", "template", "dist", "defaults", "test"];
        return (!example.contains(&suffix)).then_some("a .env file");
    }
    if ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"].contains(&base.as_str()) {
        return Some("an SSH private key");
    }
    if [".key", ".p12", ".pfx", ".jks", ".keystore"]
        .iter()
        .any(|e| base.ends_with(e))
    {
        return Some("a private key or key store");
    }
    if [
        ".netrc",
        ".npmrc",
        ".pypirc",
        ".git-credentials",
        ".htpasswd",
        ".dockercfg",
    ]
    .contains(&base.as_str())
        || path.to_ascii_lowercase().ends_with(".aws/credentials")
        || path.to_ascii_lowercase().ends_with(".docker/config.json")
    {
        return Some("a credentials file");
    }
    None
}

/// COPY and ADD: secret files among the sources, a world-writable
/// `--chmod`.
pub(super) fn check_copy(cx: &mut Ctx<'_>, ins: &Instruction) {
    let raw_text = cx.text.get(ins.raw.clone()).unwrap_or("");
    let ws = words(&ins.args, cx.escape);
    for (w, off) in &ws {
        if let Some(mode) = w.strip_prefix("--chmod=") {
            if world_writable(mode) {
                let at = raw_offset(ins, raw_text, &ins.args, *off);
                cx.emit(
                    &DOCKERFILE_WORLD_WRITABLE,
                    at,
                    ins.offset,
                    format!("{} {w}", ins.keyword),
                    format!("{} --chown=10001:10001 --chmod=755 <src> <dest>   (owner writes, others read)", ins.keyword),
                );
            }
        }
    }
    for (src, off) in sources(ins, cx.escape) {
        if let Some(what) = secret_file(&src) {
            let at = raw_offset(ins, raw_text, &ins.args, off);
            cx.emit(
                &DOCKERFILE_SECRET_FILE,
                at,
                ins.offset,
                format!("{} {src}: {what}", ins.keyword),
                "Remove it from the image and mount it only where it is used:\nRUN --mount=type=secret,id=cred,target=/run/secrets/cred <command>\n(build with `docker build --secret id=cred,src=<file> .`); add it to .dockerignore".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_that_let_others_write() {
        for m in [
            "777", "0777", "666", "o+w", "a+rwx", "u+x,o+w", "ugo=rwx", "2777", "0002",
        ] {
            assert!(world_writable(m), "{m}");
        }
        for m in [
            "755", "644", "1777", "3777", "u+w", "+w", "g+w", "o-w", "a+rwxt", "750",
        ] {
            assert!(!world_writable(m), "{m}");
        }
    }

    #[test]
    fn secret_files_and_their_look_alikes() {
        for s in [
            ".env",
            "./config/.env.production",
            "id_rsa",
            "/root/.ssh/id_ed25519",
            "server.key",
            "cert.p12",
            ".npmrc",
            "home/.aws/credentials",
            ".docker/config.json",
        ] {
            assert!(secret_file(s).is_some(), "{s}");
        }
        for s in [
            ".env.example",
            "id_rsa.pub",
            "server.crt",
            "keys/",
            "environment",
            "config.json",
            "README.md",
        ] {
            assert!(secret_file(s).is_none(), "{s}");
        }
    }

    #[test]
    fn verification_switched_off_in_environment() {
        assert!(verify_off_env("GIT_SSL_NO_VERIFY", "1"));
        assert!(verify_off_env("NODE_TLS_REJECT_UNAUTHORIZED", "0"));
        assert!(verify_off_env("PYTHONHTTPSVERIFY", "'0'"));
        assert!(!verify_off_env("NODE_TLS_REJECT_UNAUTHORIZED", "1"));
        assert!(!verify_off_env("GIT_SSL_NO_VERIFY", "false"));
        assert!(!verify_off_env("GIT_SSL_NO_VERIFY", ""));
    }
}
