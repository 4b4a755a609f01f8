//! A container fix as commands to paste: `(spec, changes) -> shell lines`.
//!
//! A container started with `docker run` has no file that holds its
//! options, so the fix rebuilds its command from the inspect (the Docker
//! edge's `runlike`, which gives up rather than drop a setting) and
//! applies the one change the finding asks for. The steps keep the old
//! container until the new one has started (renamed `NAME-old`, stopped
//! only just before the new one starts, since both may publish the same
//! ports), reuse its volumes by name, pass its environment through an
//! env file written by `docker inspect` with umask 077 (secrets are never
//! printed), and say how to go back.
//!
//! Words are quoted for a POSIX shell with `shlex`; a word it cannot quote
//! (a NUL byte) makes the command unavailable rather than wrong.

use dockward_model::{Container, RunOption, RunSpec};

/// What one finding changes in the command.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    /// Remove the option `flag` (with this value, or any value).
    Drop(&'static str, Option<String>),
    /// Replace every `flag` option by one with this value.
    Set(&'static str, String),
    /// Add an option.
    Add(&'static str, String),
    /// Add a flag without a value, once.
    Flag(&'static str),
    /// Bind to 127.0.0.1 the all-interfaces `--publish` options of this
    /// host port and container port (`80/tcp`); a random host port stays
    /// random.
    LocalPort(Option<u16>, String),
    /// Remove the `--volume`/`--mount`/`--tmpfs` option for this target.
    DropMount(String),
    /// Remove the `--device` option for this host path.
    DropDevice(String),
    /// Use another image.
    Image(String),
    /// A command to run first (already quoted).
    Before(String),
    /// Also connect the new container to this network.
    Connect(String),
    /// What the command cannot know, as a comment above it.
    Note(String),
}

fn mount_target(flag: &str, value: &str) -> Option<String> {
    match flag {
        "--volume" => value.split(':').nth(1).map(str::to_string),
        "--tmpfs" => value.split(':').next().map(str::to_string),
        "--mount" => value
            .split(',')
            .find_map(|p| {
                p.strip_prefix("target=")
                    .or_else(|| p.strip_prefix("destination="))
                    .or_else(|| p.strip_prefix("dst="))
            })
            .map(str::to_string),
        _ => None,
    }
}

/// `[ip:]host:container/proto` -> (ip, host port, container/proto).
fn publish_parts(v: &str) -> (String, String, String) {
    let mut it = v.rsplitn(3, ':');
    let container = it.next().unwrap_or_default().to_string();
    let host = it.next().unwrap_or_default().to_string();
    let ip = it.next().unwrap_or_default().to_string();
    (ip, host, container)
}

fn all_interfaces(ip: &str) -> bool {
    matches!(ip, "" | "0.0.0.0" | "::" | "[::]")
}

fn apply(spec: &RunSpec, changes: &[Change]) -> (RunSpec, Vec<String>, Vec<String>) {
    let mut s = spec.clone();
    let mut before = Vec::new();
    let mut notes = Vec::new();
    let mut connect = Vec::new();
    let opt = |flag: &str, value: String| RunOption {
        flag: flag.into(),
        value: Some(value),
    };
    for ch in changes {
        match ch {
            Change::Drop(flag, value) => s
                .options
                .retain(|o| !(o.flag == *flag && (value.is_none() || o.value == *value))),
            Change::Set(flag, value) => {
                let at = s.options.iter().position(|o| o.flag == *flag);
                s.options.retain(|o| o.flag != *flag);
                let at = at.unwrap_or(s.options.len()).min(s.options.len());
                s.options.insert(at, opt(flag, value.clone()));
            }
            Change::Add(flag, value) => s.options.push(opt(flag, value.clone())),
            Change::Flag(flag) => {
                if !s.options.iter().any(|o| o.flag == *flag) {
                    s.options.push(RunOption {
                        flag: (*flag).into(),
                        value: None,
                    });
                }
            }
            Change::LocalPort(host, container) => {
                let mut seen = Vec::new();
                s.options.retain_mut(|o| {
                    if o.flag != "--publish" {
                        return true;
                    }
                    let (ip, hp, cp) = publish_parts(o.value.as_deref().unwrap_or_default());
                    let cp = if cp.contains('/') {
                        cp
                    } else {
                        format!("{cp}/tcp")
                    };
                    // A random host port shows as the one it got.
                    let same_host = hp.is_empty() || host.is_some_and(|h| hp == h.to_string());
                    if !(all_interfaces(&ip) && same_host && cp == *container) {
                        return true;
                    }
                    // `0.0.0.0` and `::` of one `-p` become one binding.
                    let local = format!("127.0.0.1:{hp}:{cp}");
                    if seen.contains(&local) {
                        return false;
                    }
                    seen.push(local.clone());
                    o.value = Some(local);
                    true
                });
            }
            Change::DropMount(target) => s.options.retain(|o| {
                mount_target(&o.flag, o.value.as_deref().unwrap_or_default()).as_ref()
                    != Some(target)
            }),
            Change::DropDevice(path) => s.options.retain(|o| {
                !(o.flag == "--device"
                    && o.value
                        .as_deref()
                        .is_some_and(|v| v == path || v.starts_with(&format!("{path}:"))))
            }),
            Change::Image(i) => s.image.clone_from(i),
            Change::Before(cmd) => before.push(cmd.clone()),
            Change::Connect(net) => connect.push(net.clone()),
            Change::Note(n) => notes.push(format!("# {n}")),
        }
    }
    // Comments follow the command lines, which are joined by `&&`.
    notes.extend(before);
    (s, notes, connect)
}

fn quote(w: &str) -> Result<String, ()> {
    // shlex quotes every `=` (zsh expands a word that starts with one);
    // `KEY=VALUE` options read better bare, and are as safe mid-word.
    let plain = |ch: char| ch.is_ascii_alphanumeric() || "_@%+=:,./-".contains(ch);
    if !w.is_empty() && !w.starts_with('=') && w.chars().all(plain) {
        return Ok(w.to_string());
    }
    shlex::try_quote(w).map(|q| q.into_owned()).map_err(|_| ())
}

fn join(words: &[String]) -> Result<String, ()> {
    let q: Result<Vec<String>, ()> = words.iter().map(|w| quote(w)).collect();
    Ok(q?.join(" "))
}

/// The steps that recreate `c` from `spec` with `changes`, one command
/// per line joined by `&&`; `None` when a word cannot be quoted.
pub(crate) fn commands(c: &Container, spec: &RunSpec, changes: &[Change]) -> Option<String> {
    let (s, before, extra_nets) = apply(spec, changes);
    let name = c.name.as_str();
    let old = format!("{name}-old");
    let env_file = format!("{name}.env");
    let mut create: Vec<String> = vec!["docker".into(), "create".into(), "--name".into()];
    create.push(name.into());
    if s.env > 0 {
        create.push("--env-file".into());
        create.push(env_file.clone());
    }
    for o in &s.options {
        // Labels the image sets come back from the image.
        if o.flag == "--label" {
            let from_image = o
                .value
                .as_deref()
                .and_then(|v| v.split_once('='))
                .is_some_and(|(k, v)| {
                    c.image_labels
                        .as_ref()
                        .is_some_and(|il| il.get(k).map(String::as_str) == Some(v))
                });
            if from_image {
                continue;
            }
        }
        create.push(o.flag.clone());
        create.extend(o.value.clone());
    }
    create.push(s.image.clone());
    create.extend(s.args.iter().cloned());

    let q = |w: &str| quote(w).ok();
    let comments: Vec<String> = before
        .iter()
        .filter(|l| l.starts_with('#'))
        .cloned()
        .collect();
    let mut lines: Vec<String> = before.into_iter().filter(|l| !l.starts_with('#')).collect();
    if s.env > 0 {
        lines.push(format!(
            "(umask 077 && docker inspect --format '{{{{range .Config.Env}}}}{{{{println .}}}}{{{{end}}}}' {} > {})",
            q(name)?,
            q(&env_file)?
        ));
    }
    lines.push(format!("docker rename {} {}", q(name)?, q(&old)?));
    lines.push(join(&create).ok()?);
    for words in &s.connect {
        let mut w = vec!["docker".to_string(), "network".into(), "connect".into()];
        w.extend(words.iter().cloned());
        w.push(name.into());
        lines.push(join(&w).ok()?);
    }
    for net in extra_nets {
        lines.push(format!("docker network connect {} {}", q(&net)?, q(name)?));
    }
    let running = c.is_running();
    if running {
        lines.push(format!("docker stop {}", q(&old)?));
        lines.push(format!("docker start {}", q(name)?));
    }
    // `--rm`: stopping the old one removed it already.
    let auto_remove = s.options.iter().any(|o| o.flag == "--rm");
    if !(auto_remove && running) {
        lines.push(format!("docker rm {}", q(&old)?));
    }
    let mut out = lines.join(" &&\n");
    if s.env > 0 {
        out.push_str(&format!("; rm -f {}", q(&env_file)?));
    }
    for c in comments {
        out.push('\n');
        out.push_str(&c);
    }
    out.push_str(&format!(
        "\n# to go back before the last step: docker rm -f {n}; docker rename {o} {n}{start}",
        n = q(name)?,
        o = q(&old)?,
        start = if running {
            format!(" && docker start {}", q(name)?)
        } else {
            String::new()
        }
    ));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockward_model::ContainerState;

    fn spec() -> RunSpec {
        let o = |f: &str, v: Option<&str>| RunOption {
            flag: f.into(),
            value: v.map(str::to_string),
        };
        RunSpec {
            options: vec![
                o("--user", Some("0")),
                o("--privileged", None),
                o("--label", Some("tier=front")),
                o("--label", Some("org.opencontainers.image.title=web")),
                o("--volume", Some("/etc:/host-etc")),
                o("--publish", Some("8080:80/tcp")),
                o("--publish", Some("[::]:8080:80/tcp")),
                o("--publish", Some("127.0.0.1:9090:90/tcp")),
                o("--device", Some("/dev/fuse:/dev/fuse:rwm")),
                o("--restart", Some("unless-stopped")),
            ],
            env: 2,
            image: "shop/web:2".into(),
            args: vec!["serve".into(), "--motd".into(), "it's up".into()],
            exposed: vec![],
            connect: vec![vec!["--alias".into(), "w".into(), "backend".into()]],
        }
    }

    fn container() -> Container {
        Container {
            name: "web".into(),
            state: ContainerState::Running,
            image_labels: Some([("org.opencontainers.image.title".into(), "web".into())].into()),
            ..Container::default()
        }
    }

    #[test]
    fn steps_keep_the_old_container_until_the_new_one_starts() {
        let out = commands(&container(), &spec(), &[Change::Drop("--privileged", None)])
            .expect("command");
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("(umask 077 && docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}' web > web.env)"), "{out}");
        assert_eq!(lines[1], "docker rename web web-old &&");
        assert_eq!(
            lines[2],
            "docker create --name web --env-file web.env --user 0 --label tier=front --volume /etc:/host-etc --publish 8080:80/tcp --publish '[::]:8080:80/tcp' --publish 127.0.0.1:9090:90/tcp --device /dev/fuse:/dev/fuse:rwm --restart unless-stopped shop/web:2 serve --motd \"it's up\" &&"
        );
        assert_eq!(lines[3], "docker network connect --alias w backend web &&");
        assert_eq!(lines[4], "docker stop web-old &&");
        assert_eq!(lines[5], "docker start web &&");
        assert_eq!(lines[6], "docker rm web-old; rm -f web.env");
        assert!(lines[7].starts_with("# to go back"), "{out}");
    }

    #[test]
    fn each_change_touches_only_its_option() {
        let (s, _, _) = apply(
            &spec(),
            &[
                Change::Set("--user", "10001:10001".into()),
                Change::LocalPort(Some(8080), "80/tcp".into()),
                Change::DropMount("/host-etc".into()),
                Change::DropDevice("/dev/fuse".into()),
            ],
        );
        let w: Vec<String> = s
            .options
            .iter()
            .map(|o| format!("{} {}", o.flag, o.value.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            w,
            [
                "--user 10001:10001",
                "--privileged ",
                "--label tier=front",
                "--label org.opencontainers.image.title=web",
                "--publish 127.0.0.1:8080:80/tcp",
                "--publish 127.0.0.1:9090:90/tcp",
                "--restart unless-stopped",
            ]
        );
    }

    #[test]
    fn hostile_words_from_an_image_come_back_as_the_same_words() {
        let hostile = [
            "$(touch /tmp/pwned)",
            "`id`",
            "a'b\"c",
            "x; rm -rf /",
            "=cmd",
            "~root",
            "*",
            "line1\nline2",
            "tab\there",
            "",
            "--privileged",
            "k=v w",
            "é",
        ];
        for w in hostile {
            let s = RunSpec {
                options: vec![RunOption {
                    flag: "--label".into(),
                    value: Some(format!("k={w}")),
                }],
                env: 0,
                image: "img".into(),
                args: vec![w.to_string()],
                ..RunSpec::default()
            };
            let out = commands(&container(), &s, &[]).expect("quotable");
            let create = out
                .split(" &&\n")
                .find(|l| l.starts_with("docker create"))
                .expect("create line");
            let words = shlex::split(create).expect("one shell line");
            let n = words.len();
            assert_eq!(words[n - 1], w, "{create}");
            assert_eq!(words[n - 3], format!("k={w}"), "{create}");
        }
        let nul = RunSpec {
            args: vec!["a\0b".into()],
            image: "img".into(),
            ..RunSpec::default()
        };
        assert!(
            commands(&container(), &nul, &[]).is_none(),
            "no quoting for NUL"
        );
    }

    #[test]
    fn a_container_run_with_rm_is_removed_by_its_stop() {
        let mut s = spec();
        s.options.push(RunOption {
            flag: "--rm".into(),
            value: None,
        });
        let out = commands(&container(), &s, &[]).expect("command");
        assert!(out.contains("docker stop web-old"), "{out}");
        assert!(!out.contains("docker rm web-old"), "{out}");
    }

    #[test]
    fn a_stopped_container_is_not_started_and_no_env_means_no_env_file() {
        let c = Container {
            state: ContainerState::Exited,
            ..container()
        };
        let s = RunSpec { env: 0, ..spec() };
        let out = commands(&c, &s, &[]).expect("command");
        assert!(
            !out.contains("docker start") && !out.contains("env"),
            "{out}"
        );
    }
}
