//! Rules for images, read from their config, history and layers
//! (`dockward audit --image`). The history rules are the Dockerfile rules
//! applied to what the builder recorded, so they share their help; their
//! ids say where the evidence was found.

use super::rule::Rule;
use crate::Severity::{High, Low, Medium};

pub(crate) const IMAGE_ROOT_USER: Rule = Rule {
    id: "image-root-user",
    severity: Medium,
    title: "Image runs as root",
    help: "The image's config has no User, or a root one (`root`, `0`, `0:0`): every container from it runs as root unless started with `--user`. Fix: rebuild with an unprivileged `USER 10001:10001` at the end of the final stage, or run it with `--user 10001:10001`.",
    cis: Some("4.1"),
};

pub(crate) const IMAGE_SECRET_ENV: Rule = Rule {
    id: "image-secret-env",
    severity: High,
    title: "Secret in the image's environment",
    help: "An Env entry whose name says secret (`DB_PASSWORD`, `API_TOKEN`, …) has a value in the image's config: anyone who can pull the image reads it with `docker inspect`. The value is never printed. Fix: remove the ENV from the Dockerfile, rotate the secret, and pass it at run time (`docker run -e NAME`, a Docker secret).",
    cis: Some("4.10"),
};

pub(crate) const IMAGE_SECRET_FILE: Rule = Rule {
    id: "image-secret-file",
    severity: High,
    title: "Private key or credentials file in a layer",
    help: "A layer holds a private key (by name, or a file starting with a PEM private key header), a `.env` file or a credentials file (`.netrc`, `.npmrc`, `.pypirc`, `.git-credentials`, `.aws/credentials`, `.docker/config.json`). A file deleted by a later layer is still in the earlier one and in every copy of the image. Fix: rotate the secret; rebuild with a secret mount (`RUN --mount=type=secret,…`) and a .dockerignore that keeps it out of the context.",
    cis: Some("4.10"),
};

pub(crate) const IMAGE_SETUID: Rule = Rule {
    id: "image-setuid",
    severity: Low,
    title: "setuid or setgid binaries in the image",
    help: "A setuid or setgid file runs with its owner's or group's rights whatever the caller: a way to root inside the container for a process that has lost it. Fix: remove the bits the application does not need, in the final stage: `RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} + || true`; run containers with `--security-opt no-new-privileges` as well.",
    cis: Some("4.8"),
};

pub(crate) const IMAGE_WRITABLE_PATH: Rule = Rule {
    id: "image-writable-path",
    severity: Medium,
    title: "World-writable directory on PATH",
    help: "A directory on the image's PATH is writable by every user and has no sticky bit: any process in the container can drop a program there that another user (or root) then runs by name. Fix: `RUN chmod o-w <dir>` in the final stage, or take it off PATH.",
    cis: None,
};

pub(crate) const IMAGE_SSH_PORT: Rule = Rule {
    id: "image-ssh-port",
    severity: Medium,
    title: "SSH port 22 exposed by the image",
    help: "The image exposes 22/tcp, which suggests an SSH daemon inside: credentials to manage and an attack surface `docker exec` makes unnecessary. Fix: remove `EXPOSE 22` and the sshd it serves.",
    cis: None,
};

pub(crate) const IMAGE_NO_HEALTHCHECK: Rule = Rule {
    id: "image-no-healthcheck",
    severity: Low,
    title: "Image has no HEALTHCHECK",
    help: "Without a health check, Docker (and Swarm) cannot tell a hung service from a working one, so nothing restarts or replaces it. Fix: add `HEALTHCHECK CMD <a command that fails when the service does>` to the Dockerfile, or `--health-cmd` when running it.",
    cis: Some("4.6"),
};

pub(crate) const IMAGE_HISTORY_SECRET: Rule = Rule {
    id: "image-history-secret",
    severity: High,
    title: "Secret recorded in the image's history",
    help: "The image's history records a build argument or ENV whose name says secret with its value (the classic builder records every ARG a RUN step used, `|1 TOKEN=… /bin/sh -c …`): `docker history --no-trunc` shows it to whoever can pull the image. The value is never printed. Fix: rotate it, and rebuild with a secret mount instead (`RUN --mount=type=secret,id=token,env=TOKEN <command>`).",
    cis: Some("4.10"),
};

pub(crate) const IMAGE_HISTORY_STEP: Rule = Rule {
    id: "image-history-step",
    severity: Medium,
    title: "Unsafe build step recorded in the image's history",
    help: "A build step the image's history records does what the Dockerfile rule named in the evidence reports (sudo, a script piped from the network, TLS verification off, a world-writable mode, ADD of a URL): the image was built that way, whatever Dockerfile is at hand now. Fix: the Dockerfile rule's fix, then rebuild.",
    cis: None,
};

pub(crate) static RULES: &[Rule] = &[
    IMAGE_HISTORY_SECRET,
    IMAGE_HISTORY_STEP,
    IMAGE_NO_HEALTHCHECK,
    IMAGE_ROOT_USER,
    IMAGE_SECRET_ENV,
    IMAGE_SECRET_FILE,
    IMAGE_SETUID,
    IMAGE_SSH_PORT,
    IMAGE_WRITABLE_PATH,
];
