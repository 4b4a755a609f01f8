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
            // apt-get install keeps /var/lib/apt/lists in the layer.
            ("dockerfile-package-cache".to_string(), 4),
            ("dockerfile-package-cache".to_string(), 12),
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
            // A secret by name only: from --build-arg into the history,
            // and by ENV into the image's config.
            ("dockerfile-secret-arg".to_string(), 7),
            ("dockerfile-secret-arg".to_string(), 8),
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

#[test]
fn onbuild_triggers_are_audited_as_what_they_carry() {
    let text = "FROM a:1\nUSER app\nONBUILD RUN sudo make install\nONBUILD ADD https://x/y.sh /y.sh\nONBUILD ARG NPM_TOKEN\nONBUILD COPY id_rsa /root/.ssh/\nONBUILD USER root\n";
    assert_eq!(
        rules(text),
        [
            ("dockerfile-add-remote".to_string(), 4),
            ("dockerfile-secret-arg".to_string(), 5),
            ("dockerfile-secret-file".to_string(), 6),
            ("dockerfile-sudo".to_string(), 3),
        ]
    );
    let f = audit_dockerfile("Dockerfile", text, &BuildArgs::new()).unwrap();
    assert!(
        f.iter().all(|f| f.evidence.starts_with("ONBUILD ")),
        "{f:#?}"
    );
    // The trigger changes children, not this image's user.
    assert!(!rules(text).iter().any(|(r, _)| r == "dockerfile-root-user"));
}

#[test]
fn secret_names_keep_precision() {
    let text = "FROM a:1\nUSER app\nARG TOKEN_TTL\nARG SECRET_FILE\nARG GPG_KEY\nARG PASSWORD_MIN_LENGTH\nARG SSH_PUBLIC_KEY\nARG AWS_SECRET_ACCESS_KEY\nARG DB_PASSWORD\n";
    assert_eq!(
        rules(text),
        [
            ("dockerfile-secret-arg".to_string(), 8),
            ("dockerfile-secret-arg".to_string(), 9),
        ]
    );
}

#[test]
fn scripts_from_the_network_and_verification_off() {
    let text = "FROM a:1\nUSER app\n\
RUN curl -fsSL https://x/i.sh | sh\n\
RUN wget -qO- https://x/i.sh | sudo bash -s --\n\
RUN sh -c \"$(curl -fsSL https://x/i.sh)\"\n\
RUN curl -fsSLk https://x/f -o /f\n\
RUN wget --no-check-certificate https://x/f\n\
RUN pip install --trusted-host pypi.example x\n\
RUN npm config set strict-ssl false\n\
RUN git -c http.sslVerify=false clone https://x/r\n\
ENV NODE_TLS_REJECT_UNAUTHORIZED=0\n\
RUN apk add --allow-untrusted --no-cache x.apk\n\
RUN echo 'deb [trusted=yes] http://x/ ./' > /etc/apt/sources.list.d/x.list\n\
RUN echo 'curl -k | sh' && curl -fsSL https://x/f -o /f && echo \"x\" | sh\n\
RUN chmod 777 /app && chmod 1777 /scratch && chmod -R o+w /data\n\
COPY --chmod=666 app.sh /app/\n\
COPY .env id_ed25519.pub ./\n";
    assert_eq!(
        rules(text),
        [
            ("dockerfile-curl-pipe-shell".to_string(), 3),
            ("dockerfile-curl-pipe-shell".to_string(), 4),
            ("dockerfile-curl-pipe-shell".to_string(), 5),
            ("dockerfile-secret-file".to_string(), 17),
            ("dockerfile-sudo".to_string(), 4),
            ("dockerfile-verify-off".to_string(), 6),
            ("dockerfile-verify-off".to_string(), 7),
            ("dockerfile-verify-off".to_string(), 8),
            ("dockerfile-verify-off".to_string(), 9),
            ("dockerfile-verify-off".to_string(), 10),
            ("dockerfile-verify-off".to_string(), 11),
            ("dockerfile-verify-off".to_string(), 12),
            ("dockerfile-verify-off".to_string(), 13),
            ("dockerfile-world-writable".to_string(), 15),
            ("dockerfile-world-writable".to_string(), 15),
            ("dockerfile-world-writable".to_string(), 16),
        ]
    );
}
