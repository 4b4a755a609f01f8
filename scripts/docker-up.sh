#!/usr/bin/env bash
# What dockward's main job needs on a fresh Debian 12 machine, and nothing
# more: Docker from Debian's packages when it is missing, and dockerd
# started when no daemon answers. Changes no sysctl and installs no test
# tool (scripts/bench-up.sh does that for the test command).
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }
if ! have cargo; then
  echo "docker-up: cargo not found; install Rust with rustup (https://rustup.rs) and run again" >&2
  exit 1
fi
if ! have dockerd; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "docker-up: Docker is not installed; run as root (apt-get install docker.io)" >&2
    exit 1
  fi
  echo "docker-up: installing docker.io" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

docker_up() { docker version >/dev/null 2>&1; }
if ! docker_up; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "docker-up: no Docker daemon answers and starting one needs root" >&2
    exit 1
  fi
  if have systemctl && [ -d /run/systemd/system ]; then
    systemctl start docker
  else
    # A previous dockerd may still be shutting down: wait for its pid file.
    for _ in $(seq 1 60); do [ -e /var/run/docker.pid ] || break; sleep 0.5; done
    mkdir -p /var/log/dockward-bench /run/dockward-bench
    echo "docker-up: starting dockerd (log: /var/log/dockward-bench/dockerd.log)" >&2
    # A cgroup of its own, as systemd's docker.service gives it: dockward's
    # IPv6 guard tells docker-proxy's sockets from host services by it.
    cg_root=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") break; if ($(i+1) == "cgroup2" && $4 == "/") { print $5; exit } }' /proc/self/mountinfo)
    cg=""
    if [ -n "$cg_root" ] && mkdir -p "$cg_root/dockward-bench-dockerd" 2>/dev/null; then
      cg="$cg_root/dockward-bench-dockerd"
    fi
    # Whether IPv6 was on when it started (docker-proxy's [::] listeners
    # exist only then): bench-up restarts a dockerd of ours started without.
    cat /proc/sys/net/ipv6/conf/all/disable_ipv6 > /run/dockward-bench/dockerd-ipv6-off 2>/dev/null || echo 0 > /run/dockward-bench/dockerd-ipv6-off
    CG="$cg" setsid nohup sh -c '[ -z "$CG" ] || echo $$ > "$CG/cgroup.procs"; echo $$ > /run/dockward-bench/dockerd.pid; exec dockerd' \
      >>/var/log/dockward-bench/dockerd.log 2>&1 < /dev/null &
  fi
  for _ in $(seq 1 120); do docker_up && break; sleep 0.5; done
  docker_up || { echo "docker-up: dockerd did not come up; see /var/log/dockward-bench/dockerd.log" >&2; exit 1; }
fi
echo "docker-up: Docker $(docker version --format '{{.Server.Version}}') ready" >&2
