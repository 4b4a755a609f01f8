//! Image front end: `(image config, history, layer listings) -> findings`.
//!
//! An image is judged without running it, from three things the Docker
//! edge reads: its config (`GET /images/{name}/json`), its history
//! (`GET /images/{name}/history`) and the file listing of each layer (the
//! tar of `docker save`, read as a stream: names, modes, link targets, and
//! whether a small file starts a PEM private key).
//!
//! The history is what the builder recorded for each step, so it is read
//! back into the Dockerfile it came from (`#(nop) ENV …` is `ENV …`,
//! `|1 TOKEN=x /bin/sh -c cmd` is `ARG TOKEN=x` then `RUN cmd`, BuildKit's
//! `RUN /bin/sh -c cmd # buildkit` is `RUN cmd`) and audited by the
//! Dockerfile front end: one set of rules for what a build does, wherever
//! it is read from.
//!
//! Layers are applied in order with the OCI whiteout rules (`.wh.name`
//! removes `name`, `.wh..wh..opq` empties a directory of what lower layers
//! put there) to get the filesystem a container sees, which the setuid and
//! PATH checks judge; secret files are looked for in every layer, since a
//! file a later layer deletes is still in the image.

use crate::dockerfile::{audit_dockerfile, checks, is_root, secret_name};
use crate::rules::image::{
    IMAGE_HISTORY_SECRET, IMAGE_HISTORY_STEP, IMAGE_NO_HEALTHCHECK, IMAGE_ROOT_USER,
    IMAGE_SECRET_ENV, IMAGE_SECRET_FILE, IMAGE_SETUID, IMAGE_SSH_PORT, IMAGE_WRITABLE_PATH,
};
use crate::{BuildArgs, Finding, Location};
use std::collections::BTreeMap;

/// What the Docker edge read of one image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFacts {
    /// The reference asked for (`shop/web:2`).
    pub name: String,
    /// `sha256:…`.
    pub id: String,
    /// `Config.User`.
    pub user: String,
    /// `Config.Env`.
    pub env: Vec<String>,
    /// `Config.ExposedPorts` keys (`22/tcp`).
    pub exposed: Vec<String>,
    /// `Config.Healthcheck.Test`, `None` when the image has none.
    pub healthcheck: Option<Vec<String>>,
    /// `Config.OnBuild`: instructions that run in every image built FROM
    /// this one.
    pub onbuild: Vec<String>,
    /// Oldest first.
    pub history: Vec<HistoryStep>,
    /// Oldest first; `None` when the layers were not read (a config and
    /// history audit only).
    pub layers: Option<Vec<Layer>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryStep {
    pub created_by: String,
    /// The step made no layer (`ENV`, `USER`, …).
    pub empty_layer: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layer {
    /// The layer's digest (`sha256:…` of its uncompressed tar).
    pub digest: String,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FileKind {
    #[default]
    File,
    Dir,
    Symlink,
    Other,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileEntry {
    /// Absolute, cleaned (`/usr/bin/su`).
    pub path: String,
    /// Permission bits with setuid/setgid/sticky.
    pub mode: u32,
    pub kind: FileKind,
    /// A symlink's target.
    pub link: Option<String>,
    /// A regular file that holds a PEM private key header.
    pub private_key: bool,
}

struct Ctx<'a> {
    img: &'a ImageFacts,
    out: Vec<Finding>,
}

impl Ctx<'_> {
    fn loc(&self, layer: Option<&str>) -> Location {
        Location::Image {
            name: self.img.name.clone(),
            id: self.img.id.chars().take(19).collect(),
            layer: layer.map(str::to_string),
        }
    }
}

/// Audits one image.
pub fn audit_image(img: &ImageFacts) -> Vec<Finding> {
    let mut cx = Ctx {
        img,
        out: Vec::new(),
    };
    config(&mut cx);
    history(&mut cx);
    if let Some(layers) = &img.layers {
        files(&mut cx, layers);
    }
    cx.out
}

fn config(cx: &mut Ctx<'_>) {
    let img = cx.img;
    if is_root(&img.user) {
        let shown = if img.user.trim().is_empty() {
            "no User in its config (root)".to_string()
        } else {
            format!("User {:?} (uid 0)", img.user)
        };
        let f = IMAGE_ROOT_USER.finding(
            cx.loc(None),
            shown,
            format!("rebuild with `USER 10001:10001` at the end of the final stage, or run it with `docker run --user 10001:10001 {}`", img.name),
        );
        cx.out.push(f);
    }
    for e in &img.env {
        let Some((name, value)) = e.split_once('=') else {
            continue;
        };
        if secret_name(name) && !value.trim().is_empty() {
            let f = IMAGE_SECRET_ENV.finding(
                cx.loc(None),
                format!("Env {name}=<redacted>"),
                format!("remove `ENV {name}=…` from the Dockerfile and rebuild; rotate the value (it is in every copy of the image); pass it at run time with `docker run -e {name}`"),
            );
            cx.out.push(f);
        }
    }
    if img
        .exposed
        .iter()
        .any(|p| crate::dockerfile::exposes_ssh(p))
    {
        let f = IMAGE_SSH_PORT.finding(
            cx.loc(None),
            format!("exposes {}", img.exposed.join(", ")),
            "remove `EXPOSE 22` and the sshd it serves; use `docker exec -it <container> sh`"
                .to_string(),
        );
        cx.out.push(f);
    }
    let none = img
        .healthcheck
        .as_ref()
        .is_none_or(|t| t.is_empty() || t.first().is_some_and(|w| w == "NONE"));
    if none {
        let f = IMAGE_NO_HEALTHCHECK.finding(
            cx.loc(None),
            "no HEALTHCHECK in its config".to_string(),
            "add `HEALTHCHECK CMD <a command that fails when the service does>` to the Dockerfile, or run it with `--health-cmd`".to_string(),
        );
        cx.out.push(f);
    }
}

/// A recorded step as Dockerfile lines.
pub(crate) fn step_lines(created_by: &str) -> Vec<String> {
    let mut s = created_by.trim();
    s = s.strip_suffix("# buildkit").unwrap_or(s).trim_end();
    // BuildKit: `RUN /bin/sh -c …`, `RUN |1 A=b /bin/sh -c …`.
    if let Some(rest) = s.strip_prefix("RUN ") {
        s = rest.trim_start();
    } else if let Some(rest) = s.strip_prefix("/bin/sh -c #(nop)") {
        // Classic builder, an instruction that ran nothing.
        return vec![rest.trim().replacen(" in /", " /", 1)];
    } else if !s.starts_with("/bin/sh -c ") && !s.starts_with('|') {
        // BuildKit's other instructions are recorded as written.
        return vec![s.to_string()];
    }
    let mut lines = Vec::new();
    // `|N A=b C=d` then the command: the build arguments it saw.
    if let Some(rest) = s.strip_prefix('|') {
        let mut words = rest.split(' ');
        let n: usize = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let mut used = 1 + rest.split(' ').next().map_or(0, str::len);
        for w in words.by_ref().take(n) {
            lines.push(format!("ARG {w}"));
            used += 1 + w.len();
        }
        s = rest.get(used..).unwrap_or("").trim_start();
    }
    let cmd = s.strip_prefix("/bin/sh -c ").unwrap_or(s);
    // One instruction: inner newlines become continuations.
    lines.push(format!("RUN {}", cmd.replace('\n', " \\\n")));
    lines
}

fn history(cx: &mut Ctx<'_>) {
    let img = cx.img;
    let mut text = String::from("FROM scratch\n");
    // The step, and its layer index, of each line of the text.
    let mut line_step: Vec<Option<usize>> = vec![None];
    let mut layer_of: Vec<Option<usize>> = Vec::new();
    let mut next_layer = 0;
    for (i, step) in img.history.iter().enumerate() {
        layer_of.push((!step.empty_layer).then_some(next_layer));
        if !step.empty_layer {
            next_layer += 1;
        }
        for l in step_lines(&step.created_by) {
            // The config's OnBuild list is where triggers are judged.
            if l.starts_with("ONBUILD ") {
                continue;
            }
            let n = l.lines().count().max(1);
            text.push_str(&l);
            text.push('\n');
            line_step.extend(std::iter::repeat_n(Some(i), n));
        }
    }
    // The image's ONBUILD triggers, audited as the Dockerfile front end
    // audits them (their evidence says ONBUILD).
    for t in &img.onbuild {
        let l = format!("ONBUILD {}", t.replace('\n', " \\\n"));
        let n = l.lines().count().max(1);
        text.push_str(&l);
        text.push('\n');
        line_step.extend(std::iter::repeat_n(None, n));
    }
    // A history that does not read back as a Dockerfile (another shell's
    // steps) gives nothing here rather than a wrong finding.
    let Ok(found) = audit_dockerfile("history", &text, &BuildArgs::new()) else {
        return;
    };
    let layer_digest = |step: Option<usize>| -> Option<String> {
        let idx = layer_of.get(step?).copied().flatten()?;
        img.layers.as_ref()?.get(idx).map(|l| l.digest.clone())
    };
    for f in found {
        let Location::File { line, .. } = f.location else {
            continue;
        };
        let step = line_step
            .get(usize::try_from(line).unwrap_or(0).saturating_sub(1))
            .copied()
            .flatten();
        // The step as an instruction, without the build arguments the
        // builder recorded in front of it (their values may be secrets).
        let recorded = step
            .and_then(|s| img.history.get(s))
            .and_then(|s| step_lines(&s.created_by).pop())
            .unwrap_or_default();
        let layer = layer_digest(step);
        if step.is_none() && !f.evidence.starts_with("ONBUILD ") {
            continue;
        }
        // A trigger's evidence already says ONBUILD and what it runs.
        let recorded = if step.is_none() {
            f.evidence.clone()
        } else {
            recorded
        };
        let (rule, evidence) = match f.rule.as_str() {
            // ENV values are judged in the config, where they are now.
            "dockerfile-secret" | "dockerfile-secret-file" if step.is_none() => {
                (&IMAGE_HISTORY_SECRET, f.evidence.clone())
            }
            "dockerfile-secret" if f.evidence.starts_with("ARG ") => (
                &IMAGE_HISTORY_SECRET,
                format!(
                    "the history records build argument {}",
                    f.evidence.trim_start_matches("ARG ")
                ),
            ),
            "dockerfile-sudo"
            | "dockerfile-curl-pipe-shell"
            | "dockerfile-verify-off"
            | "dockerfile-world-writable"
            | "dockerfile-add-remote" => (
                &IMAGE_HISTORY_STEP,
                format!("{} ({}): {}", f.title, f.rule, clip(&recorded)),
            ),
            _ => continue,
        };
        let mut g = rule.finding(cx.loc(layer.as_deref()), evidence, f.remediation.clone());
        if rule.id == IMAGE_HISTORY_STEP.id {
            g.severity = f.severity;
        }
        // The classic builder records an ARG's default at the ARG and
        // again before each RUN that used it: one finding, at the layer.
        if let Some(same) = cx
            .out
            .iter_mut()
            .find(|o| o.rule == g.rule && o.evidence == g.evidence)
        {
            if matches!(same.location, Location::Image { layer: None, .. }) {
                *same = g;
            }
            continue;
        }
        cx.out.push(g);
    }
}

/// A recorded command, cut for the evidence line (whole in the history).
fn clip(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 120 {
        format!("{}…", one.chars().take(120).collect::<String>())
    } else {
        one
    }
}

fn files(cx: &mut Ctx<'_>, layers: &[Layer]) {
    // The filesystem a container sees: path -> (entry, layer index).
    let mut view: BTreeMap<String, (FileEntry, usize)> = BTreeMap::new();
    let mut secrets: Vec<(String, &'static str, usize)> = Vec::new();
    for (li, layer) in layers.iter().enumerate() {
        for e in &layer.files {
            let (dir, base) = e.path.rsplit_once('/').unwrap_or(("", e.path.as_str()));
            if base == ".wh..wh..opq" {
                let prefix = format!("{dir}/");
                view.retain(|p, (_, l)| *l == li || !p.starts_with(&prefix));
                continue;
            }
            if let Some(gone) = base.strip_prefix(".wh.") {
                let p = format!("{dir}/{gone}");
                let prefix = format!("{p}/");
                view.retain(|q, _| q != &p && !q.starts_with(&prefix));
                continue;
            }
            if e.kind == FileKind::File {
                let by_name = checks::secret_file(&e.path).filter(|what| {
                    // `.key`/`.pem` names alone are too often public;
                    // their content decides.
                    *what != "a private key or key store" || !e.path.ends_with(".key")
                });
                let what = if e.private_key {
                    Some("a PEM private key")
                } else {
                    by_name
                };
                if let Some(w) = what {
                    secrets.push((e.path.clone(), w, li));
                }
            }
            view.insert(e.path.clone(), (e.clone(), li));
        }
    }
    const MAX: usize = 20;
    let total = secrets.len();
    for (n, (path, what, li)) in secrets.into_iter().enumerate() {
        if n == MAX {
            break;
        }
        let still = view.get(&path).is_some_and(|(_, l)| *l == li);
        let mut evidence = format!(
            "{path}: {what}{}",
            if still {
                ""
            } else {
                ", deleted by a later layer but still in this one"
            }
        );
        if n + 1 == MAX && total > MAX {
            evidence.push_str(&format!(" (and {} more)", total - MAX));
        }
        let f = IMAGE_SECRET_FILE.finding(
            cx.loc(layers.get(li).map(|l| l.digest.as_str())),
            evidence,
            format!("rotate what {path} holds; rebuild without it: mount it only where it is used (`RUN --mount=type=secret,id=cred,target={path} <command>`) and list it in .dockerignore"),
        );
        cx.out.push(f);
    }

    let setuid: Vec<&str> = view
        .values()
        .filter(|(e, _)| e.kind == FileKind::File && e.mode & 0o6000 != 0)
        .map(|(e, _)| e.path.as_str())
        .collect();
    if !setuid.is_empty() {
        let shown: Vec<&str> = setuid.iter().take(8).copied().collect();
        let more = setuid.len().saturating_sub(shown.len());
        let f = IMAGE_SETUID.finding(
            cx.loc(None),
            format!(
                "{} setuid/setgid file(s): {}{}",
                setuid.len(),
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ),
            "in the final stage: RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} + || true\n(keep only the bits the application needs); run containers with --security-opt no-new-privileges".to_string(),
        );
        cx.out.push(f);
    }

    let path_var = cx
        .img
        .env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    for dir in path_var.split(':').filter(|d| d.starts_with('/')) {
        let Some(e) = resolve(&view, dir) else {
            continue;
        };
        if e.kind == FileKind::Dir && e.mode & 0o002 != 0 && e.mode & 0o1000 == 0 {
            let f = IMAGE_WRITABLE_PATH.finding(
                cx.loc(None),
                format!("{dir} is on PATH and mode {:o}", e.mode & 0o7777),
                format!("in the final stage: RUN chmod o-w {dir}"),
            );
            cx.out.push(f);
        }
    }
}

/// The entry at `path` in the view, following symlinks (a few hops).
fn resolve<'a>(
    view: &'a BTreeMap<String, (FileEntry, usize)>,
    path: &str,
) -> Option<&'a FileEntry> {
    let mut p = clean(path);
    for _ in 0..8 {
        let (e, _) = view.get(&p)?;
        match (&e.kind, &e.link) {
            (FileKind::Symlink, Some(target)) => {
                p = if target.starts_with('/') {
                    clean(target)
                } else {
                    let parent = p.rsplit_once('/').map_or("", |(d, _)| d);
                    clean(&format!("{parent}/{target}"))
                };
            }
            _ => return Some(e),
        }
    }
    None
}

/// `filepath.Clean` for absolute paths inside an image.
pub fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, mode: u32) -> FileEntry {
        FileEntry {
            path: path.into(),
            mode,
            kind: FileKind::File,
            ..FileEntry::default()
        }
    }

    fn dir(path: &str, mode: u32) -> FileEntry {
        FileEntry {
            path: path.into(),
            mode,
            kind: FileKind::Dir,
            ..FileEntry::default()
        }
    }

    fn rules(f: &[Finding]) -> Vec<&str> {
        let mut v: Vec<&str> = f.iter().map(|f| f.rule.as_str()).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn history_reads_back_as_the_dockerfile_it_came_from() {
        assert_eq!(
            step_lines("/bin/sh -c #(nop)  ENV PATH=/bin"),
            ["ENV PATH=/bin"]
        );
        assert_eq!(
            step_lines("|2 GITHUB_TOKEN=ghp_x MODE=a /bin/sh -c make"),
            ["ARG GITHUB_TOKEN=ghp_x", "ARG MODE=a", "RUN make"]
        );
        assert_eq!(
            step_lines("|1 NPM_TOKEN=abc /bin/sh -c npm ci"),
            ["ARG NPM_TOKEN=abc", "RUN npm ci"]
        );
        assert_eq!(
            step_lines("RUN /bin/sh -c curl -fsSL x | sh # buildkit"),
            ["RUN curl -fsSL x | sh"]
        );
        assert_eq!(
            step_lines("ADD https://x/y.sh /y.sh # buildkit"),
            ["ADD https://x/y.sh /y.sh"]
        );
        assert_eq!(
            step_lines("/bin/sh -c #(nop) COPY file:ab12 in /app "),
            ["COPY file:ab12 /app"]
        );
    }

    #[test]
    fn config_history_and_layers() {
        let img = ImageFacts {
            name: "shop/web:2".into(),
            id: "sha256:0123456789abcdef0123".into(),
            user: String::new(),
            env: vec![
                "PATH=/app/bin:/usr/bin".into(),
                "DB_PASSWORD=hunter2".into(),
                "TOKEN_TTL=60".into(),
            ],
            exposed: vec!["22/tcp".into(), "80/tcp".into()],
            healthcheck: None,
            onbuild: vec!["RUN curl -fsSL https://x/i.sh | sh".into()],
            history: vec![
                HistoryStep {
                    created_by: "/bin/sh -c #(nop) ADD file:aa in / ".into(),
                    empty_layer: false,
                },
                HistoryStep {
                    created_by: "|1 GITHUB_TOKEN=ghp_secret /bin/sh -c sudo make install".into(),
                    empty_layer: false,
                },
                HistoryStep {
                    created_by: "/bin/sh -c #(nop)  ENV DB_PASSWORD=hunter2".into(),
                    empty_layer: true,
                },
                HistoryStep {
                    created_by: "/bin/sh -c rm /root/.ssh/id_rsa".into(),
                    empty_layer: false,
                },
            ],
            layers: Some(vec![
                Layer {
                    digest: "sha256:l0".into(),
                    files: vec![
                        dir("/usr/bin", 0o755),
                        file("/usr/bin/su", 0o4755),
                        dir("/app/bin", 0o777),
                    ],
                },
                Layer {
                    digest: "sha256:l1".into(),
                    files: vec![
                        file("/root/.ssh/id_rsa", 0o600),
                        FileEntry {
                            private_key: true,
                            ..file("/srv/tls/server.key", 0o600)
                        },
                        file("/srv/tls/public.key", 0o644),
                    ],
                },
                Layer {
                    digest: "sha256:l2".into(),
                    files: vec![file("/root/.ssh/.wh.id_rsa", 0)],
                },
            ]),
        };
        let f = audit_image(&img);
        assert_eq!(
            rules(&f),
            [
                "image-history-secret",
                "image-history-step",
                "image-history-step",
                "image-no-healthcheck",
                "image-root-user",
                "image-secret-env",
                "image-secret-file",
                "image-secret-file",
                "image-setuid",
                "image-ssh-port",
                "image-writable-path",
            ],
            "{f:#?}"
        );
        let all = format!("{f:?}");
        assert!(
            !all.contains("hunter2") && !all.contains("ghp_secret"),
            "values never printed"
        );
        let deleted = f
            .iter()
            .find(|f| f.evidence.starts_with("/root/.ssh/id_rsa"))
            .unwrap();
        assert!(
            deleted.evidence.contains("deleted by a later layer"),
            "{}",
            deleted.evidence
        );
        assert_eq!(
            deleted.location,
            Location::Image {
                name: "shop/web:2".into(),
                id: "sha256:0123456789ab".into(),
                layer: Some("sha256:l1".into())
            }
        );
        let sudo = f
            .iter()
            .find(|f| f.rule == "image-history-step" && f.evidence.contains("sudo"))
            .unwrap();
        let trigger = f
            .iter()
            .find(|f| f.evidence.contains("ONBUILD RUN"))
            .unwrap();
        assert!(trigger.evidence.contains("curl"), "{}", trigger.evidence);
        assert!(
            sudo.evidence.contains("dockerfile-sudo"),
            "{}",
            sudo.evidence
        );
        assert!(
            matches!(&sudo.location, Location::Image { layer: Some(l), .. } if l == "sha256:l1")
        );
    }

    #[test]
    fn whiteouts_and_symlinks_decide_the_final_view() {
        let img = ImageFacts {
            user: "10001".into(),
            healthcheck: Some(vec!["CMD".into(), "true".into()]),
            env: vec!["PATH=/bin".into()],
            layers: Some(vec![
                Layer {
                    digest: "a".into(),
                    files: vec![
                        dir("/usr/bin", 0o777),
                        FileEntry {
                            kind: FileKind::Symlink,
                            link: Some("usr/bin".into()),
                            ..file("/bin", 0o777)
                        },
                        file("/opt/x/su", 0o4755),
                    ],
                },
                Layer {
                    digest: "b".into(),
                    files: vec![file("/opt/x/.wh..wh..opq", 0), dir("/tmpbin", 0o1777)],
                },
            ]),
            ..ImageFacts::default()
        };
        let f = audit_image(&img);
        assert_eq!(rules(&f), ["image-writable-path"], "{f:#?}");
        assert!(
            f[0].evidence.starts_with("/bin is on PATH"),
            "{}",
            f[0].evidence
        );
    }

    #[test]
    fn clean_is_go_filepath_clean_for_absolute_paths() {
        assert_eq!(clean("/a/./b/../c//d/"), "/a/c/d");
        assert_eq!(clean("/../x"), "/x");
        assert_eq!(clean("usr/bin"), "/usr/bin");
    }
}
