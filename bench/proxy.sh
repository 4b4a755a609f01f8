#!/usr/bin/env bash
# Benchmark: dockward proxy beside the direct socket and an HAProxy section
# filter (Debian's haproxy, keep-alive on both sides and connection reuse:
# its best case), all driven by the same client (crates/loadgen) in one run.
#   1. GET /_ping at concurrency 16 and 1 (throughput, added median latency)
#   2. a 512 MiB archive stream (GET /containers/{id}/archive)
#   3. `docker exec BOX true` end to end (create, hijacked start, inspect;
#      through dockward each decision looks up the container)
#   4. 1,000 idle /events streams: the proxy's resident memory
# A fourth target, `relay` (dockward-loadgen relay), relays bytes with no
# HTTP at all: the floor any proxy in the path has on this machine.
# Leaves nothing behind. ROUNDS=3 alternations by default.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p dockward -p dockward-loadgen
bin=target/release/dockward
lg=target/release/dockward-loadgen
image=dockward-test/busybox:1
tmp=$(mktemp -d /tmp/dwb-proxy.XXXXXX)
direct=/var/run/docker.sock
pids=()
box="dwb-archive-$$"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  docker rm -f "$box" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

cat > "$tmp/haproxy.cfg" <<CFG
global
    maxconn 4000
defaults
    mode http
    timeout connect 5s
    timeout client 10m
    timeout server 10m
    option http-keep-alive
    http-reuse always
frontend api
    bind unix@$tmp/haproxy.sock
    acl ping path,url_dec -m reg -i ^(/v[\d\.]+)?/_ping
    acl containers path,url_dec -m reg -i ^(/v[\d\.]+)?/containers
    acl events path,url_dec -m reg -i ^(/v[\d\.]+)?/events
    acl exec path,url_dec -m reg -i ^(/v[\d\.]+)?/(containers/[^/]+/exec|exec/)
    http-request deny unless METH_GET or exec
    http-request allow if ping or containers or events or exec
    http-request deny
    default_backend dockerd
backend dockerd
    server dockerd unix@$direct
CFG
haproxy -f "$tmp/haproxy.cfg" -db >/dev/null 2>&1 &
haproxy_pid=$!
pids+=($!)
$lg relay "$tmp/relay.sock" "$direct" &
relay_pid=$!
pids+=($!)
CONTAINERS=1 ALLOW_ARCHIVE=1 EXEC=1 POST=1 "$bin" proxy --listen "unix://$tmp/dockward.sock" --audit-log "$tmp/audit.log" 2>/dev/null &
dockward_pid=$!
pids+=($!)
# CPU time a process has used, in clock ticks (user, system).
ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
for _ in $(seq 1 100); do [ -S "$tmp/haproxy.sock" ] && [ -S "$tmp/dockward.sock" ] && [ -S "$tmp/relay.sock" ] && break; sleep 0.1; done

echo "## /_ping (loadgen rps, 10 s per run, ${ROUNDS:-3} alternating rounds)"
for round in $(seq 1 "${ROUNDS:-3}"); do
  for c in 16 1; do
    for target in direct dockward haproxy relay; do
      case $target in
        direct) s=$direct pid= ;;
        dockward) s=$tmp/dockward.sock pid=$dockward_pid ;;
        haproxy) s=$tmp/haproxy.sock pid=$haproxy_pid ;;
        relay) s=$tmp/relay.sock pid=$relay_pid ;;
      esac
      before=$([ -n "$pid" ] && ticks "$pid" || echo "0 0")
      out=$($lg rps "$s" /_ping "$c" 10)
      after=$([ -n "$pid" ] && ticks "$pid" || echo "0 0")
      # CPU per request of the proxy in the path (µs, user+system and user).
      cpu=$(python3 -c "
import json,sys
b=[int(x) for x in '$before'.split()]; a=[int(x) for x in '$after'.split()]
n=json.loads('$out')['requests']
u=(a[0]-b[0])*1e6/$hz/n; s=(a[1]-b[1])*1e6/$hz/n
print(f'cpu_us_per_req={u+s:.1f} user_us_per_req={u:.1f}' if '$pid' else '')")
      echo "round=$round concurrency=$c target=$target $out $cpu"
    done
  done
done

echo "## 512 MiB archive stream"
docker run -d --name "$box" "$image" sh -c 'dd if=/dev/zero of=/big bs=1M count=512 2>/dev/null; sleep 3600' >/dev/null
for _ in $(seq 1 120); do docker exec "$box" sh -c 'test -f /big && [ $(stat -c %s /big) -eq 536870912 ]' 2>/dev/null && break; sleep 0.5; done
archive_cmd() { echo "curl -sf --unix-socket $1 -o /dev/null http://d/v1.41/containers/$box/archive?path=/big"; }
hyperfine -N --warmup 1 --runs "${ARCHIVE_RUNS:-5}" --export-markdown "$tmp/archive.md" \
  -n direct "$(archive_cmd "$direct")" -n dockward "$(archive_cmd "$tmp/dockward.sock")" \
  -n haproxy "$(archive_cmd "$tmp/haproxy.sock")" -n relay "$(archive_cmd "$tmp/relay.sock")" >/dev/null
cat "$tmp/archive.md"

echo "## docker exec end to end (Debian's docker 20.10 CLI: CLI 28's exec hijack gets 200, not 101, through this HAProxy config)"
exec_cmd() { echo "/usr/bin/docker -H unix://$1 exec $box true"; }
hyperfine -N --warmup 3 --runs "${EXEC_RUNS:-30}" --export-markdown "$tmp/exec.md" \
  -n direct "$(exec_cmd "$direct")" -n dockward "$(exec_cmd "$tmp/dockward.sock")" \
  -n haproxy "$(exec_cmd "$tmp/haproxy.sock")" -n relay "$(exec_cmd "$tmp/relay.sock")" >/dev/null
cat "$tmp/exec.md"

echo "## 1,000 idle /events streams"
CONTAINERS=1 "$bin" proxy --listen "unix://$tmp/events.sock" --audit-log "$tmp/audit-events.log" 2>/dev/null &
ev=$!
pids+=($ev)
for _ in $(seq 1 100); do [ -S "$tmp/events.sock" ] && break; sleep 0.1; done
echo "idle proxy: $(grep VmRSS /proc/$ev/status)"
$lg events "$tmp/events.sock" 1000 15 > "$tmp/events.out" &
lgp=$!
for _ in $(seq 1 300); do grep -q streams "$tmp/events.out" 2>/dev/null && break; sleep 0.1; done
sleep 2
echo "with $(cat "$tmp/events.out"): $(grep VmRSS /proc/$ev/status)"
wait $lgp
