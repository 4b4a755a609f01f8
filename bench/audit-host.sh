#!/usr/bin/env bash
# Benchmark: `dockward audit --host` on this host with 30 containers (the
# test image; a mix of running and stopped, root and not, ports, mounts,
# capabilities), beside docker-bench-security (the anchor) on the same
# host in the same run. docker-bench-security is a shell script from
# github.com/docker/docker-bench-security; point DOCKER_BENCH at a checkout
# (default /opt/dockward-bench/docker-bench-security); without it only
# dockward is measured. BASELINE=<binary> times an older dockward beside it.
# Removes the containers it creates.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/dockward
[ -x "$bin" ] || cargo build --release -q
dbs="${DOCKER_BENCH:-/opt/dockward-bench/docker-bench-security}"
image=dockward-test/busybox:1
docker image inspect "$image" >/dev/null 2>&1 || { echo "build the test image first: cargo test -p dockward-testbench" >&2; exit 1; }
prefix="dwb-$$"
tmp=$(mktemp -d)
cleanup() {
  docker ps -aq --filter "name=^$prefix-" | xargs -r docker rm -f -v >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
flags=(
  "" "--user 1000" "--user 0:0" "-p 127.0.0.1::80" "-p 0.0.0.0::80"
  "--cap-add SYS_ADMIN" "--security-opt seccomp=unconfined" "-v /etc:/h:ro"
  "--pid host" "--read-only --user 1000"
)
for i in $(seq 0 29); do
  f="${flags[$((i % ${#flags[@]}))]}"
  if [ $((i % 5)) -eq 4 ]; then verb=create; else verb="run -d"; fi
  # shellcheck disable=SC2086
  docker $verb --name "$prefix-$i" $f "$image" sleep 3600 >/dev/null
done
echo "containers: $(docker ps -aq | wc -l) ($(docker ps -q | wc -l) running)" >&2
# BASELINE=<an older dockward binary> measures it beside, in the same run.
extra=()
if [ -n "${BASELINE:-}" ]; then
  extra=(-n "baseline audit --host (30 containers)" "$BASELINE audit $tmp --host --format json")
fi
hyperfine -N -i --warmup 2 --runs "${RUNS:-20}" --export-markdown "$tmp/dockward.md" \
  -n "dockward audit --host (30 containers)" "$bin audit $tmp --host --format json" "${extra[@]}"
cat "$tmp/dockward.md"
if [ -f "$dbs/docker-bench-security.sh" ]; then
  # One run: it takes about a minute.
  hyperfine -N -i --runs 1 --export-markdown "$tmp/dbs.md" \
    -n "docker-bench-security (30 containers)" "sh -c 'cd $dbs && sh docker-bench-security.sh -b -l $tmp/dbs.log >/dev/null 2>&1'"
  cat "$tmp/dbs.md"
else
  echo "docker-bench-security not found at $dbs: anchor not measured" >&2
fi
