//! Rules for Dockerfiles and compose files.
//!
//! CIS ids follow the CIS Docker Benchmark v1.6.0 as numbered by
//! docker-bench-security; a rule without a matching recommendation has none.

use super::rule::Rule;
use crate::Severity::{Critical, High, Low, Medium};

pub(crate) const DOCKERFILE_ADD_LOCAL: Rule = Rule {
    id: "dockerfile-add-local",
    severity: Low,
    title: "ADD used for a local file that is not an archive",
    help: "ADD also fetches URLs and unpacks archives, so a reader cannot tell what it does without checking the source. For a plain local file use COPY, which only copies. Fix: replace `ADD src dest` with `COPY src dest`.",
    cis: Some("4.9"),
};

pub(crate) const DOCKERFILE_ADD_REMOTE: Rule = Rule {
    id: "dockerfile-add-remote",
    severity: Medium,
    title: "ADD fetches a remote URL without a checksum",
    help: "ADD of an http(s) or git URL downloads whatever the server returns at build time, unverified. Fix: download with a pinned checksum (`ADD --checksum=sha256:<digest> <url> <dest>`), or fetch and verify in a RUN step (`curl -fsSL <url> -o /tmp/f && echo '<sha256>  /tmp/f' | sha256sum -c -`).",
    cis: Some("4.9"),
};

pub(crate) const DOCKERFILE_ROOT_USER: Rule = Rule {
    id: "dockerfile-root-user",
    severity: Medium,
    title: "Image runs as root",
    help: "The final stage has no USER, or its USER resolves to root (`root`, `0`, `0:0`, `root:root`, or an ARG/ENV that resolves to one of them). A process escaping the container then starts as root on the host unless user namespaces are remapped. Fix: create an unprivileged user and switch to it at the end of the final stage: `RUN useradd --system --uid 10001 app` then `USER 10001`.",
    cis: Some("4.1"),
};

pub(crate) const DOCKERFILE_SECRET: Rule = Rule {
    id: "dockerfile-secret",
    severity: High,
    title: "Secret stored in an ENV or ARG value",
    help: "ENV values are baked into the image and ARG values into its history (`docker history`), so anyone who can pull the image reads them. Fix: pass secrets at build time with a secret mount (`RUN --mount=type=secret,id=token cat /run/secrets/token`) and at run time through the environment or Docker secrets, never as a literal in the Dockerfile.",
    cis: Some("4.10"),
};

pub(crate) const DOCKERFILE_SECRET_ARG: Rule = Rule {
    id: "dockerfile-secret-arg",
    severity: Medium,
    title: "Secret passed as a build argument",
    help: "An ARG whose name says it holds a secret (`ARG GITHUB_TOKEN`) gets its value from `--build-arg`, and every build argument a RUN step uses is recorded in the image's history, readable by whoever can pull it; an ENV set from it puts the value in the image's config. Names of paths, files, lifetimes and public keys (`TOKEN_FILE`, `TOKEN_TTL`, `GPG_KEY`) are not reported. Fix: use a build secret (`RUN --mount=type=secret,id=token,env=GITHUB_TOKEN <command>`, built with `docker build --secret id=token,env=GITHUB_TOKEN .`).",
    cis: Some("4.10"),
};

pub(crate) const DOCKERFILE_SECRET_FILE: Rule = Rule {
    id: "dockerfile-secret-file",
    severity: High,
    title: "Private key or credentials file copied into the image",
    help: "COPY or ADD of a private key (`id_rsa`, `*.key`, `*.p12`), a `.env` file or a credentials file (`.netrc`, `.npmrc`, `.pypirc`, `.git-credentials`, `.aws/credentials`) puts it in a layer: deleting it later does not remove it from the image. Fix: pass it at build time with a secret mount (`RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci`) and at run time with a Docker secret or a bind mount; keep such files out of the context with .dockerignore.",
    cis: Some("4.10"),
};

pub(crate) const DOCKERFILE_CURL_PIPE_SHELL: Rule = Rule {
    id: "dockerfile-curl-pipe-shell",
    severity: Medium,
    title: "Downloaded script run without verification",
    help: "`curl … | sh` (or wget, or `sh -c \"$(curl …)\"`) runs whatever the server sends at build time, unverified and unreproducible. Fix: download to a file, check it against a pinned checksum, then run it: `curl -fsSL <url> -o /tmp/install.sh && echo '<sha256>  /tmp/install.sh' | sha256sum -c - && sh /tmp/install.sh`.",
    cis: None,
};

pub(crate) const DOCKERFILE_VERIFY_OFF: Rule = Rule {
    id: "dockerfile-verify-off",
    severity: High,
    title: "TLS or package signature verification switched off",
    help: "`curl -k`, `wget --no-check-certificate`, `pip --trusted-host`, `npm config set strict-ssl false`, `git -c http.sslVerify=false`, `GIT_SSL_NO_VERIFY`, `NODE_TLS_REJECT_UNAUTHORIZED=0`, `PYTHONHTTPSVERIFY=0`, apt's `--allow-unauthenticated` or `Verify-Peer=false`, `[trusted=yes]` sources, `apk --allow-untrusted`, `--nogpgcheck`: each lets anyone on the network path replace what the build downloads. Fix: remove the option and install the CA the server needs (`COPY corp-ca.crt /usr/local/share/ca-certificates/ && update-ca-certificates`).",
    cis: None,
};

pub(crate) const DOCKERFILE_WORLD_WRITABLE: Rule = Rule {
    id: "dockerfile-world-writable",
    severity: Medium,
    title: "World-writable path in the image",
    help: "`chmod 777` (or `666`, `o+w`, `a+w`, `COPY --chmod=777`) lets any user in the container, and any process sharing the volume, change the file: a program or script made writable this way can be replaced by whoever gets a foothold. Directories with the sticky bit (`1777`, like /tmp) are not reported. Fix: give the file to the user that needs it (`COPY --chown=10001:10001`, `chown`) and keep others read-only (`chmod 755` / `644`).",
    cis: None,
};

pub(crate) const DOCKERFILE_PACKAGE_CACHE: Rule = Rule {
    id: "dockerfile-package-cache",
    severity: Low,
    title: "Package manager cache left in the image",
    help: "`apt-get install` without removing /var/lib/apt/lists in the same RUN, or `apk add` without `--no-cache`, leaves the package index in a layer: a larger image, and stale package metadata for scanners to misread. Fix: `apt-get update && apt-get install -y --no-install-recommends <pkgs> && rm -rf /var/lib/apt/lists/*`, `apk add --no-cache <pkgs>`, or a cache mount (`RUN --mount=type=cache,target=/var/cache/apt …`).",
    cis: None,
};

pub(crate) const DOCKERFILE_WRITABLE_PROGRAM: Rule = Rule {
    id: "dockerfile-writable-program",
    severity: Low,
    title: "The program is owned by the user that runs it",
    help: "The final stage copies its ENTRYPOINT (or CMD) program with `--chown` to the same user it then runs as: a compromised process can overwrite its own binary, and the change outlives a restart of the container. Fix: copy programs owned by root (no `--chown`, `--chmod=755`) and give the user only the directories it writes.",
    cis: None,
};

pub(crate) const DOCKERFILE_SSH_PORT: Rule = Rule {
    id: "dockerfile-ssh-port",
    severity: Medium,
    title: "SSH port 22 exposed",
    help: "Exposing 22 suggests an SSH daemon runs in the container, which adds credentials to manage and an attack surface; `docker exec` gives the same access without it. Fix: remove `EXPOSE 22` and the sshd it serves.",
    cis: None,
};

pub(crate) const DOCKERFILE_SUDO: Rule = Rule {
    id: "dockerfile-sudo",
    severity: Medium,
    title: "sudo used in RUN",
    help: "RUN steps already run as the current USER; sudo in a build hides which steps need root, and leaves sudo configured in the image for a later process to abuse. Fix: switch users around the privileged steps instead (`USER root`, `RUN <command>`, `USER app`). Installing the sudo package is not reported; invoking it is.",
    cis: None,
};

pub(crate) const DOCKERFILE_UNPINNED_IMAGE: Rule = Rule {
    id: "dockerfile-unpinned-image",
    severity: Low,
    title: "Base image not pinned",
    help: "FROM without a tag, or with `:latest`, builds on whatever the registry serves that day: builds are not reproducible and a compromised tag flows straight in. Fix: pin a version tag and, better, its digest: `FROM debian:12.5@sha256:<digest>`.",
    cis: None,
};

pub(crate) const COMPOSE_DANGEROUS_CAPABILITY: Rule = Rule {
    id: "compose-dangerous-capability",
    severity: High,
    title: "Dangerous capability added",
    help: "SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE, DAC_READ_SEARCH or ALL each give a container a known path to the host (mounts, kernel modules, reading host files by handle, tracing other processes, rewriting the network). Fix: remove the entry from `cap_add`, and start from `cap_drop: [ALL]` adding back only what the service needs.",
    cis: Some("5.4"),
};

pub(crate) const COMPOSE_DEVICE: Rule = Rule {
    id: "compose-device",
    severity: Medium,
    title: "Host device passed into the container",
    help: "A device in `devices:` gives the container direct access to host hardware, bypassing the kernel's usual isolation. Fix: remove the `devices:` entry, or narrow it to the one device the service needs with the least permission (`/dev/ttyUSB0:/dev/ttyUSB0:r`).",
    cis: Some("5.18"),
};

pub(crate) const COMPOSE_DOCKER_SOCKET: Rule = Rule {
    id: "compose-docker-socket",
    severity: Critical,
    title: "Docker socket mounted into the container",
    help: "Whoever reaches docker.sock controls the daemon and so is root on the host. Fix: remove the volume; if the service needs the Docker API, put a filtering proxy in front of the socket (`dockward proxy`, or tecnativa/docker-socket-proxy) and point DOCKER_HOST at it.",
    cis: Some("5.32"),
};

pub(crate) const COMPOSE_ENV_FILE_SECRET: Rule = Rule {
    id: "compose-env-file-secret",
    severity: Medium,
    title: "Secret in an env_file others can read",
    help: "An `env_file:` holds a variable whose name says secret, with a value, and the file is readable by its group or by every user of the host: whoever has an account there reads it. Fix: `chmod 600 <file>`, owned by the user who runs `docker compose`; keep it out of version control.",
    cis: None,
};

pub(crate) const COMPOSE_SECRET_FILE: Rule = Rule {
    id: "compose-secret-file",
    severity: Medium,
    title: "Compose secret file readable by others",
    help: "A top-level `secrets:` entry reads its value from a `file:` that its group or every user of the host can read: the secret is kept from the image and the environment, and handed to every account instead. Fix: `chmod 600 <file>`.",
    cis: None,
};

pub(crate) const COMPOSE_HOST_NAMESPACE: Rule = Rule {
    id: "compose-host-namespace",
    severity: High,
    title: "Host namespace shared",
    help: "`pid: host` lets the container see and signal every host process, `ipc: host` share host shared memory, `uts: host` change the host name, `userns_mode: host` opt out of user-namespace remapping. Fix: remove the key.",
    cis: Some("5.16, 5.17, 5.21, 5.31"),
};

pub(crate) const COMPOSE_HOST_NETWORK: Rule = Rule {
    id: "compose-host-network",
    severity: High,
    title: "Host network namespace shared",
    help: "`network_mode: host` puts the container on the host's interfaces: every port it listens on is open on the host, no firewall rule of Docker's applies, and it can reach services bound to the host's loopback. Fix: remove `network_mode: host` and publish only the ports needed, bound to an address (`ports: [\"127.0.0.1:8080:80\"]`).",
    cis: Some("5.10"),
};

pub(crate) const COMPOSE_PORT_ALL_INTERFACES: Rule = Rule {
    id: "compose-port-all-interfaces",
    severity: Medium,
    title: "Port published on all interfaces",
    help: "A port published without a host address (`\"8080:80\"`, `\"80\"`) or on 0.0.0.0/:: is open to every network the host is on, and Docker's DNAT rules run before ufw or firewalld see the packet. Fix: bind it to the address that should reach it, `\"127.0.0.1:8080:80\"` (long syntax: `host_ip: 127.0.0.1`), or put `dockward firewall` in front.",
    cis: Some("5.14"),
};

pub(crate) const COMPOSE_PRIVILEGED: Rule = Rule {
    id: "compose-privileged",
    severity: Critical,
    title: "Privileged container",
    help: "`privileged: true` gives the container every capability, every device and no seccomp or AppArmor profile: it is root on the host. Fix: remove `privileged: true` and grant the specific capability or device the service needs (`cap_add: [NET_BIND_SERVICE]`).",
    cis: Some("5.5"),
};

pub(crate) const COMPOSE_ROOT_USER: Rule = Rule {
    id: "compose-root-user",
    severity: Medium,
    title: "Service runs as root",
    help: "`user:` is root (`root`, `0`, `0:0`, `root:root`). A process escaping the container is then root on the host unless user namespaces are remapped. Fix: run as an unprivileged uid, `user: \"10001:10001\"`. A service without `user:` runs as its image's USER, which this rule cannot see; `dockerfile-root-user` and `container-root-user` cover it.",
    cis: Some("4.1"),
};

pub(crate) const COMPOSE_SECRET: Rule = Rule {
    id: "compose-secret",
    severity: High,
    title: "Secret written literally in the environment",
    help: "A literal password, token or key in a compose file ends up in version control and in `docker inspect`. Fix: reference it instead (`DB_PASSWORD: ${DB_PASSWORD}` with the value in an untracked .env file), or use compose secrets (`secrets: [db_password]` and `DB_PASSWORD_FILE: /run/secrets/db_password`).",
    cis: None,
};

pub(crate) const COMPOSE_SENSITIVE_MOUNT: Rule = Rule {
    id: "compose-sensitive-mount",
    severity: High,
    title: "Sensitive host path mounted",
    help: "Bind-mounting /, /etc, /proc, /sys, /dev, /boot, /root, /usr, /lib or /var/lib/docker lets the container read host secrets or change the host, often without any further privilege. Fix: mount only the specific file or directory the service needs, read-only (`./config/app.conf:/etc/app.conf:ro`), or use a named volume.",
    cis: Some("5.6"),
};

pub(crate) const COMPOSE_UNCONFINED: Rule = Rule {
    id: "compose-unconfined",
    severity: High,
    title: "Security profile disabled",
    help: "`seccomp:unconfined`, `apparmor:unconfined`, `label:disable` or `systempaths=unconfined` switch off a layer of the kernel's confinement, re-opening system calls and paths that container escapes use. Fix: remove the `security_opt` entry; if a call is genuinely needed, write a custom seccomp profile allowing just that call (`seccomp=./seccomp.json`).",
    cis: Some("5.2, 5.3, 5.22"),
};

pub(crate) const COMPOSE_UNPINNED_IMAGE: Rule = Rule {
    id: "compose-unpinned-image",
    severity: Low,
    title: "Image not pinned",
    help: "An image without a tag, or with `:latest`, changes under the service whenever the registry moves the tag. Fix: pin a version and, better, its digest: `image: nginx:1.27.0@sha256:<digest>`.",
    cis: None,
};

pub(crate) static RULES: &[Rule] = &[
    DOCKERFILE_ADD_LOCAL,
    DOCKERFILE_ADD_REMOTE,
    DOCKERFILE_CURL_PIPE_SHELL,
    DOCKERFILE_PACKAGE_CACHE,
    DOCKERFILE_ROOT_USER,
    DOCKERFILE_SECRET,
    DOCKERFILE_SECRET_ARG,
    DOCKERFILE_SECRET_FILE,
    DOCKERFILE_SSH_PORT,
    DOCKERFILE_SUDO,
    DOCKERFILE_UNPINNED_IMAGE,
    DOCKERFILE_VERIFY_OFF,
    DOCKERFILE_WORLD_WRITABLE,
    DOCKERFILE_WRITABLE_PROGRAM,
    COMPOSE_DANGEROUS_CAPABILITY,
    COMPOSE_DEVICE,
    COMPOSE_DOCKER_SOCKET,
    COMPOSE_ENV_FILE_SECRET,
    COMPOSE_HOST_NAMESPACE,
    COMPOSE_HOST_NETWORK,
    COMPOSE_PORT_ALL_INTERFACES,
    COMPOSE_PRIVILEGED,
    COMPOSE_ROOT_USER,
    COMPOSE_SECRET,
    COMPOSE_SECRET_FILE,
    COMPOSE_SENSITIVE_MOUNT,
    COMPOSE_UNCONFINED,
    COMPOSE_UNPINNED_IMAGE,
];
