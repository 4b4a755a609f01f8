#!/usr/bin/env bash
# Prepare this machine for dockward and its live tests (Debian 12, as root):
# install what is missing from Debian's packages and start dockerd when no
# daemon answers. Idempotent: run it as often as you like.
set -euo pipefail

need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
have dockerd    || need_pkgs+=(docker.io)
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need_pkgs+=(busybox-static)
have nft        || need_pkgs+=(nftables)
have iptables   || need_pkgs+=(iptables)
have ip         || need_pkgs+=(iproute2)
have conntrack  || need_pkgs+=(conntrack)
have python3    || need_pkgs+=(python3)
have curl       || need_pkgs+=(curl)
have setpriv    || need_pkgs+=(util-linux)
have gcc        || need_pkgs+=(gcc)
have hyperfine  || need_pkgs+=(hyperfine)
have ufw        || need_pkgs+=(ufw)
have docker-compose || need_pkgs+=(docker-compose)
have haproxy    || need_pkgs+=(haproxy)
have debootstrap || need_pkgs+=(debootstrap)
have dpkg-deb   || need_pkgs+=(dpkg)
have systemd-analyze || need_pkgs+=(systemd)

if [ "${#need_pkgs[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench-up: missing ${need_pkgs[*]}; run as root (apt-get install ${need_pkgs[*]})" >&2
    exit 1
  fi
  echo "bench-up: installing ${need_pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# The Python docker SDK, a real client for the proxy tests.
python3 -c 'import docker' 2>/dev/null || python3 -m pip install -q docker

# Microsoft's SARIF validator, from the npm registry, for the audit tests.
SARIF_DIR=/opt/dockward-bench/sarif-multitool
if [ ! -x "$SARIF_DIR/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool" ]; then
  have npm || { echo "bench-up: npm not found (apt-get install npm)" >&2; exit 1; }
  echo "bench-up: installing @microsoft/sarif-multitool into $SARIF_DIR" >&2
  mkdir -p "$SARIF_DIR"
  npm install --prefix "$SARIF_DIR" --no-audit --no-fund --silent @microsoft/sarif-multitool@5 >/dev/null
  # Its postinstall (a chmod) is not run by npm's install-script policy.
  chmod u+x "$SARIF_DIR/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
fi

# Live tests need IPv6 on the veths they create, and dockerd starts
# docker-proxy's [::] listeners only when IPv6 is on when it starts.
sysctl -qw net.ipv6.conf.all.disable_ipv6=0 2>/dev/null || true

# A dockerd that scripts/docker-up.sh (the main job's set-up) started while
# IPv6 was off has no [::] listeners: restart that one, ours, and only it.
marker=/run/dockward-bench/dockerd-ipv6-off
if [ "$(cat "$marker" 2>/dev/null)" = 1 ] && [ -s /run/dockward-bench/dockerd.pid ]; then
  pid=$(cat /run/dockward-bench/dockerd.pid)
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
    echo "bench-up: restarting the dockerd docker-up started without IPv6 (pid $pid)" >&2
    kill "$pid"
    for _ in $(seq 1 120); do [ -e "/proc/$pid" ] || break; sleep 0.5; done
  fi
  rm -f "$marker"
fi

scripts_dir=$(dirname "$0")
"$scripts_dir/docker-up.sh"
