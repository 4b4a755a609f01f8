#!/usr/bin/env bash
# Benchmark: build the inventory of a host with N containers (default 200).
#
# Side by side in one run, with hyperfine:
#   dockward   `dockward status --format json` (connect, negotiate, 4 list
#              calls + N inspects, report, render)
#   per-call   one `docker inspect` CLI call per container, the way shell
#              auditors such as docker-bench-security gather data (it makes
#              ~40 such calls per container; this is a lower bound for it)
#   batched    one `docker inspect` CLI call with every id
#
# Creates N running busybox containers labelled dockward.bench=1 (half of
# them publishing a port) and removes them at the end. Needs the test image
# (built by the live tests) and hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-200}"
IMAGE=dockward-test/busybox:1
docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "run scripts/test.sh once to build $IMAGE" >&2; exit 1; }
cargo build --release --quiet
trap 'docker ps -aq --filter label=dockward.bench=1 | xargs -r docker rm -f >/dev/null' EXIT
have=$(docker ps -aq --filter label=dockward.bench=1 | wc -l)
echo "creating $((N - have)) containers…" >&2
seq "$have" $((N - 1)) | xargs -r -P 4 -I{} sh -c '
  if [ $(({} % 2)) -eq 0 ]; then p="-p 127.0.0.1::80"; else p=""; fi
  docker run -d --label dockward.bench=1 --name dwb-{} $p '"$IMAGE"' sleep 3600 >/dev/null'
total=$(docker ps -aq | wc -l)
echo "host has $total containers" >&2
hyperfine --warmup 3 --runs "${RUNS:-20}" --export-markdown "${OUT:-/tmp/bench-inventory.md}" \
  -n dockward "target/release/dockward status --format json > /dev/null" \
  -n per-call "docker ps -aq | xargs -n1 docker inspect > /dev/null" \
  -n batched  "docker ps -aq | xargs docker inspect > /dev/null"
