//! Rules for the daemon and for containers on a live host.
//!
//! CIS ids follow the CIS Docker Benchmark v1.6.0 as numbered by
//! docker-bench-security. The `container-*` rules carry metadata only so far:
//! the inventory checks that emit them are not written yet.

use super::rule::Rule;
use crate::Severity::{Critical, High, Low, Medium};

pub(crate) const DAEMON_DEFAULT_BIND_ALL: Rule = Rule {
    id: "daemon-default-bind-all",
    severity: Medium,
    title: "Published ports default to all interfaces",
    help: "Without `ip` (dockerd `--ip`), `-p 8080:80` binds 0.0.0.0 and the port is open to every network the host is on, ahead of the host firewall. Fix: in /etc/docker/daemon.json set `\"ip\": \"127.0.0.1\"`, then publish public ports explicitly (`-p 0.0.0.0:443:443`).",
    cis: None,
};

pub(crate) const DAEMON_ICC: Rule = Rule {
    id: "daemon-icc",
    severity: Medium,
    title: "Inter-container traffic allowed on the default bridge",
    help: "With icc on (the default), every container on the default bridge reaches every port of every other one. Fix: in /etc/docker/daemon.json set `\"icc\": false` and connect containers that must talk through user-defined networks.",
    cis: Some("2.2"),
};

pub(crate) const DAEMON_INSECURE_REGISTRY: Rule = Rule {
    id: "daemon-insecure-registry",
    severity: Medium,
    title: "Insecure registry configured",
    help: "Images from an insecure registry are pulled over plain HTTP or unverified TLS, so anyone on the path can replace them. Fix: remove `insecure-registries` (dockerd `--insecure-registry`) and give the registry a certificate (`/etc/docker/certs.d/<registry>/ca.crt`).",
    cis: Some("2.5"),
};

pub(crate) const DAEMON_IPTABLES_DISABLED: Rule = Rule {
    id: "daemon-iptables-disabled",
    severity: High,
    title: "Docker may not manage the firewall",
    help: "With `iptables: false` Docker adds no isolation or NAT rules, so published ports and container isolation depend on rules written by hand, which usually end up too open. Fix: remove `\"iptables\": false` from /etc/docker/daemon.json (and `--iptables=false` from the command line).",
    cis: Some("2.4"),
};

pub(crate) const DAEMON_LIVE_RESTORE: Rule = Rule {
    id: "daemon-live-restore",
    severity: Low,
    title: "Live restore disabled",
    help: "Without live-restore every container stops when dockerd stops or is upgraded, which discourages applying daemon security updates. Fix: in /etc/docker/daemon.json set `\"live-restore\": true` (not available in swarm mode).",
    cis: Some("2.15"),
};

pub(crate) const DAEMON_NO_NEW_PRIVILEGES: Rule = Rule {
    id: "daemon-no-new-privileges",
    severity: Medium,
    title: "Containers may gain new privileges",
    help: "Without no-new-privileges a process in a container can gain privileges through setuid binaries. Fix: in /etc/docker/daemon.json set `\"no-new-privileges\": true`.",
    cis: Some("2.14"),
};

pub(crate) const DAEMON_TCP_WITHOUT_TLS: Rule = Rule {
    id: "daemon-tcp-without-tls",
    severity: Critical,
    title: "Docker API on TCP without TLS verification",
    help: "A `tcp://` host without `tlsverify` lets anyone who reaches the port run containers as root on the host. Fix: listen only on the unix socket, or set `\"tlsverify\": true` with `tlscacert`, `tlscert` and `tlskey` in /etc/docker/daemon.json and use port 2376.",
    cis: Some("2.7"),
};

pub(crate) const DAEMON_USERNS_REMAP: Rule = Rule {
    id: "daemon-userns-remap",
    severity: Medium,
    title: "User-namespace remapping off",
    help: "Without userns-remap, root in a container is root on the host. Fix: in /etc/docker/daemon.json set `\"userns-remap\": \"default\"` (existing images and volumes are then owned by the remapped range; plan the migration).",
    cis: Some("2.9"),
};

pub(crate) const CONTAINER_DANGEROUS_CAPABILITY: Rule = Rule {
    id: "container-dangerous-capability",
    severity: High,
    title: "Container has a dangerous capability",
    help: "SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE, DAC_READ_SEARCH or ALL each give a known path to the host. Fix: recreate the container without `--cap-add` for it, starting from `--cap-drop ALL`.",
    cis: Some("5.4"),
};

pub(crate) const CONTAINER_DEVICE: Rule = Rule {
    id: "container-device",
    severity: Medium,
    title: "Container has a host device",
    help: "A device passed with `--device` gives direct access to host hardware. Fix: recreate the container without it, or with the one device needed and the least permission (`--device /dev/ttyUSB0:/dev/ttyUSB0:r`).",
    cis: Some("5.18"),
};

pub(crate) const CONTAINER_DOCKER_SOCKET: Rule = Rule {
    id: "container-docker-socket",
    severity: Critical,
    title: "Container has the Docker socket",
    help: "Whoever reaches docker.sock is root on the host. Fix: recreate the container without the socket mount, and give it a filtering proxy (`dockward proxy`) if it needs the API.",
    cis: Some("5.32"),
};

pub(crate) const CONTAINER_HOST_NAMESPACE: Rule = Rule {
    id: "container-host-namespace",
    severity: High,
    title: "Container shares a host namespace",
    help: "`--pid host`, `--ipc host`, `--uts host` or `--userns host` remove a layer of isolation from the host. Fix: recreate the container without the flag.",
    cis: Some("5.16, 5.17, 5.21, 5.31"),
};

pub(crate) const CONTAINER_HOST_NETWORK: Rule = Rule {
    id: "container-host-network",
    severity: High,
    title: "Container uses the host network",
    help: "`--network host` puts the container on the host's interfaces, outside any firewall rule of Docker's. Fix: recreate it on a bridge network, publishing only the ports needed bound to an address (`-p 127.0.0.1:8080:80`).",
    cis: Some("5.10"),
};

pub(crate) const CONTAINER_PORT_ALL_INTERFACES: Rule = Rule {
    id: "container-port-all-interfaces",
    severity: Medium,
    title: "Container port published on all interfaces",
    help: "A port bound to 0.0.0.0 or :: is open to every network the host is on, ahead of ufw or firewalld. Fix: recreate with an address (`-p 127.0.0.1:8080:80`), or let `dockward firewall` close it.",
    cis: Some("5.14"),
};

pub(crate) const CONTAINER_PRIVILEGED: Rule = Rule {
    id: "container-privileged",
    severity: Critical,
    title: "Privileged container",
    help: "A privileged container has every capability and device and no confinement: it is root on the host. Fix: recreate it without `--privileged`, granting the specific capability or device it needs.",
    cis: Some("5.5"),
};

pub(crate) const CONTAINER_ROOT_USER: Rule = Rule {
    id: "container-root-user",
    severity: Medium,
    title: "Container runs as root",
    help: "The container's user is root (none configured, `root`, `0`, `0:0` or `root:root`). Fix: recreate it with `--user 10001:10001`, or set a non-root USER in its image.",
    cis: Some("4.1"),
};

pub(crate) const CONTAINER_SENSITIVE_MOUNT: Rule = Rule {
    id: "container-sensitive-mount",
    severity: High,
    title: "Container mounts a sensitive host path",
    help: "A bind mount of /, /etc, /proc, /sys, /dev, /boot, /root, /usr, /lib or /var/lib/docker exposes host secrets or lets the container change the host. Fix: recreate with only the path needed, read-only.",
    cis: Some("5.6"),
};

pub(crate) const CONTAINER_UNCONFINED: Rule = Rule {
    id: "container-unconfined",
    severity: High,
    title: "Container runs without a security profile",
    help: "seccomp or AppArmor unconfined, or SELinux labels disabled, switch off kernel confinement that container escapes run into. Fix: recreate without the `--security-opt` entry, or with a custom profile that allows only what is needed.",
    cis: Some("5.2, 5.3, 5.22"),
};

pub(crate) const DAEMON_LOG_LEVEL: Rule = Rule {
    id: "daemon-log-level",
    severity: Low,
    title: "Daemon log level is not info",
    help: "`debug` logs request bodies and secrets passed to the API; `warn` and above drop the events an investigation needs (CIS 2.3). Fix: `\"log-level\": \"info\"` in /etc/docker/daemon.json, or no `--log-level`.",
    cis: Some("2.3"),
};

pub(crate) const DAEMON_AUFS: Rule = Rule {
    id: "daemon-aufs",
    severity: Medium,
    title: "aufs storage driver in use",
    help: "aufs is unmaintained, out of the mainline kernel, and has had container-escape bugs (CIS 2.6). Fix: `\"storage-driver\": \"overlay2\"`; images and containers are re-created under the new driver.",
    cis: Some("2.6"),
};

pub(crate) const DAEMON_CGROUP_PARENT: Rule = Rule {
    id: "daemon-cgroup-parent",
    severity: Low,
    title: "Daemon-wide cgroup parent changed",
    help: "`cgroup-parent` puts every container under another cgroup, whose limits then apply instead of Docker's (CIS 2.10). Fix: confirm that cgroup's limits, else remove the setting.",
    cis: Some("2.10"),
};

pub(crate) const DAEMON_BASE_DEVICE_SIZE: Rule = Rule {
    id: "daemon-base-device-size",
    severity: Low,
    title: "Base device size changed",
    help: "`dm.basesize` grows every container's base device, letting one fill the host's storage (CIS 2.11). Fix: remove it from `storage-opts` unless the images need it.",
    cis: Some("2.11"),
};

pub(crate) const DAEMON_AUTHORIZATION: Rule = Rule {
    id: "daemon-authorization",
    severity: Low,
    title: "No authorization for Docker API clients",
    help: "Without an authorization plugin, whoever reaches the socket may do anything, including start a privileged container: root on the host (CIS 2.12). Fix: give clients that need the API a filtering proxy instead of the socket (`dockward proxy`), or configure an authorization plugin.",
    cis: Some("2.12"),
};

pub(crate) const DAEMON_REMOTE_LOGGING: Rule = Rule {
    id: "daemon-remote-logging",
    severity: Low,
    title: "Container logs are kept only on the host",
    help: "With the `json-file` (default), `local` or `none` log driver, container logs stay on the host, where an intruder can erase them (CIS 2.13). Fix: a remote log driver (`syslog` with `syslog-address`, `journald` forwarded, `fluentd`, `gelf`).",
    cis: Some("2.13"),
};

pub(crate) const DAEMON_USERLAND_PROXY: Rule = Rule {
    id: "daemon-userland-proxy",
    severity: Low,
    title: "Userland proxy enabled",
    help: "With the userland proxy (the default), a `docker-proxy` process per published port listens on the host, reachable over IPv6 even for an IPv4-only container, and hides the client's address (CIS 2.16). Fix: `\"userland-proxy\": false` and a dockerd restart; hairpin NAT then carries traffic from the host to its published ports.",
    cis: Some("2.16"),
};

pub(crate) const DAEMON_EXPERIMENTAL: Rule = Rule {
    id: "daemon-experimental",
    severity: Medium,
    title: "Experimental features on",
    help: "Experimental features are unsupported and change without notice; they do not belong on a production daemon (CIS 2.18). Fix: remove `\"experimental\": true` (and `--experimental`).",
    cis: Some("2.18"),
};

pub(crate) const HOST_DATA_ROOT_PARTITION: Rule = Rule {
    id: "host-data-root-partition",
    severity: Low,
    title: "Docker's data root is not on a partition of its own",
    help: "Images, containers and their logs live under dockerd's data root; on the root filesystem, one container writing without bound fills / and stops the host (CIS 1.1.1). Fix: mount a filesystem of its own at the data root (`/var/lib/docker`).",
    cis: Some("1.1.1"),
};

pub(crate) const HOST_DOCKER_GROUP: Rule = Rule {
    id: "host-docker-group",
    severity: Low,
    title: "Users in the docker group",
    help: "Every member of group docker can reach the socket, and so is root on the host (CIS 1.1.2). Which of them should be is the operator's call: the finding lists them. Fix: `gpasswd -d <user> docker` for each who must not be root; accept the rest in .dockward.toml.",
    cis: Some("1.1.2"),
};

pub(crate) const HOST_AUDIT_RULES: Rule = Rule {
    id: "host-audit-rules",
    severity: Low,
    title: "Docker's files are not audited",
    help: "Without audit rules on dockerd, containerd, runc, their sockets, units and configuration, a change to them leaves no trace (CIS 1.1.3–1.1.18). Rules are read from /etc/audit/audit.rules and /etc/audit/rules.d, and matched by exact path. Fix: `-w <path> -k docker` for each path named, in /etc/audit/rules.d/docker.rules, then `augenrules --load`.",
    cis: Some("1.1.3, 1.1.4, 1.1.5, 1.1.6, 1.1.7, 1.1.8, 1.1.9, 1.1.10, 1.1.11, 1.1.12, 1.1.13, 1.1.14, 1.1.15, 1.1.16, 1.1.17, 1.1.18"),
};

pub(crate) const HOST_IMAGE_SPRAWL: Rule = Rule {
    id: "host-image-sprawl",
    severity: Low,
    title: "Most local images are not used",
    help: "More than half of the local images are used by no container: old images keep old vulnerabilities one `docker run` away, and fill the disk (CIS 6.1). Fix: `docker image prune -a` after checking the list.",
    cis: Some("6.1"),
};

pub(crate) const HOST_CONTAINER_SPRAWL: Rule = Rule {
    id: "host-container-sprawl",
    severity: Low,
    title: "Many stopped containers",
    help: "More than 25 stopped containers: each keeps its writable layer, its settings (privileges, mounts) and a `docker start` away from running again (CIS 6.2). Fix: `docker container prune` after checking them.",
    cis: Some("6.2"),
};

pub(crate) const HOST_FILE_OWNER: Rule = Rule {
    id: "host-file-owner",
    severity: Medium,
    title: "Docker file not owned by root",
    help: "A Docker unit file, /etc/docker, a registry or TLS certificate or key, daemon.json, /etc/default/docker, /etc/sysconfig/docker or the containerd socket owned by another user or group lets that user change how dockerd runs, or read its keys; the Docker socket may belong to group docker (CIS 3.1, 3.3, 3.5, 3.7, 3.9, 3.11, 3.13, 3.15, 3.17, 3.19, 3.22, 3.23). Fix: `chown root:root <path>` (`root:docker` for docker.sock).",
    cis: Some("3.1, 3.3, 3.5, 3.7, 3.9, 3.11, 3.13, 3.15, 3.17, 3.19, 3.22, 3.23"),
};

pub(crate) const HOST_FILE_MODE: Rule = Rule {
    id: "host-file-mode",
    severity: Medium,
    title: "Docker file more open than allowed",
    help: "Modes are compared as permission bits: unit files, daemon.json, /etc/default/docker and /etc/sysconfig/docker at most 644, /etc/docker 755, certificates 444, the TLS key 400, docker.sock and the containerd socket 660 (CIS 3.2, 3.4, 3.6, 3.8, 3.10, 3.12, 3.14, 3.16, 3.18, 3.20, 3.21, 3.24). docker-bench-security compares them as decimal numbers and passes a world-writable 606. Fix: `chmod <limit> <path>`.",
    cis: Some("3.2, 3.4, 3.6, 3.8, 3.10, 3.12, 3.14, 3.16, 3.18, 3.20, 3.21, 3.24"),
};

pub(crate) const CONTAINER_PRIVILEGED_PORT: Rule = Rule {
    id: "container-privileged-port",
    severity: Low,
    title: "Container published on a privileged host port",
    help: "A host port below 1024 is one only root may bind: publishing a container there gives it a port users trust to be the host's own service (CIS 5.8). A reverse proxy on 80/443 is the usual exception, and may be accepted in .dockward.toml. Fix: publish on a port of 1024 or above (`-p 8080:80`), behind the reverse proxy.",
    cis: Some("5.8"),
};

pub(crate) const CONTAINER_NO_MEMORY_LIMIT: Rule = Rule {
    id: "container-no-memory-limit",
    severity: Low,
    title: "Container has no memory limit",
    help: "Without `--memory`, one container can take all of the host's memory and get other services killed by the OOM killer (CIS 5.11). Fix: recreate with `--memory <size>` (e.g. `512m`), sized to the service.",
    cis: Some("5.11"),
};

pub(crate) const CONTAINER_NO_CPU_LIMIT: Rule = Rule {
    id: "container-no-cpu-limit",
    severity: Low,
    title: "Container has no CPU limit or weight",
    help: "Without `--cpus`, `--cpu-quota` or a `--cpu-shares` weight, a busy container competes equally with everything else on the host (CIS 5.12). Fix: recreate with `--cpus <n>` (e.g. `1.5`) or a lower `--cpu-shares` for background work.",
    cis: Some("5.12"),
};

pub(crate) const CONTAINER_WRITABLE_ROOTFS: Rule = Rule {
    id: "container-writable-rootfs",
    severity: Low,
    title: "Container root filesystem is writable",
    help: "A writable root filesystem lets a compromised process change the container's own programs and persist there (CIS 5.13). Fix: recreate with `--read-only`, giving the paths it writes a volume or `--tmpfs /run --tmpfs /tmp`.",
    cis: Some("5.13"),
};

pub(crate) const CONTAINER_RESTART_POLICY: Rule = Rule {
    id: "container-restart-policy",
    severity: Low,
    title: "Container restarts without bound",
    help: "`--restart always` or `unless-stopped`, or `on-failure` without a small maximum, restarts a crashing container forever: a crash loop an attacker can drive, and a denial of service for the host (CIS 5.15). Fix: recreate with `--restart on-failure:5`. `no` is not reported.",
    cis: Some("5.15"),
};

pub(crate) const CONTAINER_ULIMIT: Rule = Rule {
    id: "container-ulimit",
    severity: Low,
    title: "Container overrides the daemon's ulimits",
    help: "`--ulimit` replaces the daemon's default limits for this container; CIS 5.19 asks that this be done only where needed. Fix: confirm each one is needed, else recreate without it (the daemon's `default-ulimits` apply).",
    cis: Some("5.19"),
};

pub(crate) const CONTAINER_MOUNT_PROPAGATION: Rule = Rule {
    id: "container-mount-propagation",
    severity: Medium,
    title: "Bind mount propagation is shared",
    help: "A bind mount with `shared` or `rshared` propagation passes mounts made inside the container back to the host, and the host's into the container (CIS 5.20). Fix: recreate with the default (private) propagation: drop `:shared`/`:rshared` (or `bind-propagation=`) from the mount.",
    cis: Some("5.20"),
};

pub(crate) const CONTAINER_CGROUP_PARENT: Rule = Rule {
    id: "container-cgroup-parent",
    severity: Low,
    title: "Container runs under a custom cgroup parent",
    help: "`--cgroup-parent` moves the container out of Docker's cgroup, where the limits set for containers may not apply (CIS 5.25). Fix: confirm the parent cgroup has the limits intended, else recreate without `--cgroup-parent`.",
    cis: Some("5.25"),
};

pub(crate) const CONTAINER_NEW_PRIVILEGES: Rule = Rule {
    id: "container-new-privileges",
    severity: Low,
    title: "Container processes may gain privileges",
    help: "Without `no-new-privileges`, a process in the container can gain privileges through setuid or setgid binaries (CIS 5.26). Not reported when the daemon sets it for every container (`\"no-new-privileges\": true`). Fix: recreate with `--security-opt no-new-privileges`, or set it daemon-wide.",
    cis: Some("5.26"),
};

pub(crate) const CONTAINER_HEALTH: Rule = Rule {
    id: "container-health",
    severity: Low,
    title: "Container health is not checked, or it is unhealthy",
    help: "A container with no health check cannot be told hung from working; an `unhealthy` one is failing its own check now (medium) (CIS 5.27). Fix: recreate with `--health-cmd '<a command that fails when the service does>'` (or add HEALTHCHECK to the image); look at an unhealthy one with `docker inspect --format '{{json .State.Health}}' <name>`.",
    cis: Some("5.27"),
};

pub(crate) const CONTAINER_NO_PIDS_LIMIT: Rule = Rule {
    id: "container-no-pids-limit",
    severity: Low,
    title: "Container has no PIDs limit",
    help: "Without `--pids-limit`, a fork bomb in one container exhausts the host's process table (CIS 5.29). Fix: recreate with `--pids-limit <n>` (e.g. `256`).",
    cis: Some("5.29"),
};

pub(crate) const CONTAINER_DEFAULT_BRIDGE: Rule = Rule {
    id: "container-default-bridge",
    severity: Low,
    title: "Container on the default bridge",
    help: "On the default bridge (docker0) every container can reach every other's ports, with no name resolution between them and no way to separate them (CIS 5.30). Fix: create a network per application (`docker network create app`) and recreate the container on it; `dockward firewall` also isolates containers on one bridge.",
    cis: Some("5.30"),
};

pub(crate) const LABEL_INVALID: Rule = Rule {
    id: "label-invalid",
    severity: Medium,
    title: "A dockward label cannot be used as written",
    help: "A `dockward.*` label with a bad value closes its container's ports until it is fixed; a mistyped key (`dockward.exposed`) is ignored, so the policy it meant is not in force. Fix: correct the label as the finding says (docs/firewall.md lists them), and recreate the container (labels cannot be changed in place).",
    cis: None,
};

pub(crate) static RULES: &[Rule] = &[
    DAEMON_AUFS,
    DAEMON_AUTHORIZATION,
    DAEMON_BASE_DEVICE_SIZE,
    DAEMON_CGROUP_PARENT,
    DAEMON_EXPERIMENTAL,
    DAEMON_LOG_LEVEL,
    DAEMON_REMOTE_LOGGING,
    DAEMON_USERLAND_PROXY,
    HOST_AUDIT_RULES,
    HOST_CONTAINER_SPRAWL,
    HOST_DATA_ROOT_PARTITION,
    HOST_DOCKER_GROUP,
    HOST_FILE_MODE,
    HOST_FILE_OWNER,
    HOST_IMAGE_SPRAWL,
    DAEMON_DEFAULT_BIND_ALL,
    DAEMON_ICC,
    DAEMON_INSECURE_REGISTRY,
    DAEMON_IPTABLES_DISABLED,
    DAEMON_LIVE_RESTORE,
    DAEMON_NO_NEW_PRIVILEGES,
    DAEMON_TCP_WITHOUT_TLS,
    DAEMON_USERNS_REMAP,
    CONTAINER_DANGEROUS_CAPABILITY,
    CONTAINER_DEVICE,
    CONTAINER_DOCKER_SOCKET,
    CONTAINER_HOST_NAMESPACE,
    CONTAINER_HOST_NETWORK,
    CONTAINER_PORT_ALL_INTERFACES,
    CONTAINER_PRIVILEGED,
    CONTAINER_ROOT_USER,
    CONTAINER_SENSITIVE_MOUNT,
    CONTAINER_UNCONFINED,
    CONTAINER_CGROUP_PARENT,
    CONTAINER_DEFAULT_BRIDGE,
    CONTAINER_HEALTH,
    CONTAINER_MOUNT_PROPAGATION,
    CONTAINER_NEW_PRIVILEGES,
    CONTAINER_NO_CPU_LIMIT,
    CONTAINER_NO_MEMORY_LIMIT,
    CONTAINER_NO_PIDS_LIMIT,
    CONTAINER_PRIVILEGED_PORT,
    CONTAINER_RESTART_POLICY,
    CONTAINER_ULIMIT,
    CONTAINER_WRITABLE_ROOTFS,
    LABEL_INVALID,
];
