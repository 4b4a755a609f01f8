#!/usr/bin/env bash
# Benchmark: `dockward audit --image` of a ~100 MB image (one 64 MB layer
# of incompressible data, one of 4,000 small files, the test busybox
# below), beside the floor: `docker save` of the same image read to the
# end (no tool can judge the layers without reading them). trivy, the
# anchor for image config scans, cannot be installed from the registries
# this machine reaches; ANCHORS.md has no figure for it here.
# Removes the image it builds.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/dockward
[ -x "$bin" ] || cargo build --release -q
base=dockward-test/busybox:1
docker image inspect "$base" >/dev/null 2>&1 || { echo "build the test image first: cargo test -p dockward-testbench" >&2; exit 1; }
image="dwb-image-$$:1"
ctx=$(mktemp -d)
cleanup() { docker rmi -f "$image" >/dev/null 2>&1 || true; rm -rf "$ctx"; }
trap cleanup EXIT
head -c $((64 * 1024 * 1024)) /dev/urandom > "$ctx/blob"
mkdir -p "$ctx/many"
for i in $(seq 1 4000); do head -c 8192 /dev/urandom > "$ctx/many/f$i"; done
cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM $base
COPY blob /data/blob
COPY many /data/many
USER 10001
DOCKERFILE
DOCKER_BUILDKIT=0 docker build -q -t "$image" "$ctx" >/dev/null
size=$(docker image inspect --format '{{.Size}}' "$image")
echo "image: $image, $((size / 1024 / 1024)) MiB" >&2
hyperfine --warmup 2 --runs "${RUNS:-10}" \
  -n "dockward audit --image" "$bin audit --image $image --format json > /dev/null || true" \
  -n "floor: docker save | wc -c" "docker save $image | wc -c > /dev/null" \
  ${EXPORT:+--export-markdown "$EXPORT"}
