use super::*;

fn rules(text: &str) -> Vec<(String, u32)> {
    let mut v: Vec<(String, u32)> = audit_dockerfile("Dockerfile", text, &BuildArgs::new())
        .unwrap()
        .into_iter()
        .filter(|f| f.suppressed.is_none())
        .map(|f| match f.location {
            Location::File { line, .. } => (f.rule, line),
            _ => (f.rule, 0),
        })
        .collect();
    v.sort();
    v
}

fn root(text: &str) -> bool {
    rules(text).iter().any(|(r, _)| r == "dockerfile-root-user")
}

#[test]
fn root_user_forms() {
    assert!(root("FROM a:1\n"));
    assert!(root("FROM a:1\nUSER root\n"));
    assert!(root("FROM a:1\nUSER 0\n"));
    assert!(root("FROM a:1\nUSER 0:0\n"));
    assert!(root("FROM a:1\nUSER root:root\n"));
    assert!(root("FROM a:1\nARG U=root\nUSER $U\n"));
    assert!(root("FROM a:1\nENV U=0\nUSER ${U}:${U}\n"));
    assert!(root("FROM a:1\nUSER ${NOPE:-root}\n"));
    assert!(!root("FROM a:1\nUSER app\n"));
    assert!(!root("FROM a:1\nUSER 1000:0\n"));
    assert!(!root("FROM a:1\nARG U=app\nUSER $U\n"));
}

#[test]
fn build_args_override_arg_defaults() {
    let text = "FROM a:1\nARG U=app\nUSER $U\n";
    let mut b = BuildArgs::new();
    b.insert("U".into(), "root".into());
    let f = audit_dockerfile("Dockerfile", text, &b).unwrap();
    assert!(f.iter().any(|f| f.rule == "dockerfile-root-user"));
}

#[test]
fn multi_stage_user_inheritance() {
    // Final stage FROM a non-root stage: not root.
    assert!(!root("FROM a:1 AS base\nUSER app\nFROM base\nRUN ls\n"));
    // Final stage FROM a root stage: root, reported at the final FROM.
    assert_eq!(
        rules("FROM a:1 AS build\nUSER app\nFROM a:1 AS base\nUSER 0:0\nFROM base\nRUN ls\n"),
        [("dockerfile-root-user".to_string(), 5)]
    );
    // A root builder does not matter when the final stage sets a user.
    assert!(!root("FROM a:1 AS build\nUSER root\nFROM b:2\nUSER app\n"));
    // The final stage can go back to root.
    assert!(root("FROM a:1 AS base\nUSER app\nFROM base\nUSER root\n"));
}

#[test]
fn unpinned_images() {
    assert!(unpinned("debian"));
    assert!(unpinned("debian:latest"));
    assert!(unpinned("registry:5000/team/app"));
    assert!(!unpinned("registry:5000/team/app:1.2"));
    assert!(!unpinned("debian@sha256:abc"));
    assert!(!unpinned("debian:latest@sha256:abc"));
    assert!(!unpinned("scratch"));
    let r =
        rules("ARG BASE=node\nFROM ${BASE} AS build\nUSER app\nFROM build\nFROM scratch\nUSER 1\n");
    assert_eq!(r, [("dockerfile-unpinned-image".to_string(), 2)]);
}

#[test]
fn sudo_everywhere_but_comments_and_strings() {
    let text = "FROM a:1\nUSER app\n\
RUN apt-get update \\\n    && sudo apt-get install -y curl\n\
RUN echo \"use sudo\" && echo 'sudo'\n\
# RUN sudo ls\n\
RUN <<EOF\nset -e\n/usr/bin/sudo ls\nEOF\n\
RUN [\"sudo\", \"ls\"]\n\
RUN apt-get install -y sudo\n\
RUN cat <<EOF > /etc/motd\nsudo is not run here\nEOF\n";
    assert_eq!(
        rules(text),
        [
            ("dockerfile-sudo".to_string(), 4),
            ("dockerfile-sudo".to_string(), 9),
            ("dockerfile-sudo".to_string(), 11),
        ]
    );
}

#[test]
fn add_secret_and_ssh() {
    let text = "FROM a:1\nUSER app\nADD https://x/y.tgz /y\nADD --checksum=sha256:00 https://x/z /z\nADD app.tar.gz conf.ini /app/\nENV DB_PASSWORD=hunter2 TOKENIZERS_PARALLELISM=false\nARG GITHUB_TOKEN\nENV API_KEY=${API_KEY}\nEXPOSE 80 22/tcp\nEXPOSE 20-30/udp 20-30\n";
    assert_eq!(
        rules(text),
        [
            ("dockerfile-add-local".to_string(), 5),
            ("dockerfile-add-remote".to_string(), 3),
            ("dockerfile-secret".to_string(), 6),
            ("dockerfile-ssh-port".to_string(), 9),
            ("dockerfile-ssh-port".to_string(), 10),
        ]
    );
    let f = audit_dockerfile("Dockerfile", text, &BuildArgs::new()).unwrap();
    let json = serde_json::to_string(&f).unwrap();
    assert!(!json.contains("hunter2"), "{json}");
}

#[test]
fn suppression_and_errors() {
    let text =
        "FROM a:1\n# dockward-ignore: dockerfile-root-user runs under userns-remap\nUSER root\n";
    let f = audit_dockerfile("Dockerfile", text, &BuildArgs::new()).unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].suppressed.as_ref().map(|s| s.reason.as_str()),
        Some("runs under userns-remap")
    );
    let e =
        audit_dockerfile("Dockerfile", "FROM a\nRUN <<EOF\nls\n", &BuildArgs::new()).unwrap_err();
    assert_eq!((e.line, e.column), (2, 1));
}

#[test]
fn secret_names() {
    for n in [
        "DB_PASSWORD",
        "MYSQL_ROOT_PASSWORD",
        "SECRET_KEY_BASE",
        "GITHUB_TOKEN",
        "api_key",
        "AWS_SECRET_ACCESS_KEY",
        "dbPassword",
        "APIKEY",
        "SSH_PRIVATE_KEY",
    ] {
        assert!(secret_name(n), "{n}");
    }
    for n in [
        "TOKENIZERS_PARALLELISM",
        "POSTGRES_PASSWORD_FILE",
        "PWD",
        "KEYBOARD",
        "PATH",
    ] {
        assert!(!secret_name(n), "{n}");
    }
}
