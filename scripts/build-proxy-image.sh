#!/usr/bin/env bash
# Build the dockward proxy image FROM scratch: the release binary plus the
# shared libraries ldd lists, nothing pulled. Usage: build-proxy-image.sh [TAG]
# DOCKWARD_BIN=path uses that binary instead of a release build (tests).
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-dockward/proxy:dev}"
bin="${DOCKWARD_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release -q -p dockward
  bin=target/release/dockward
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/rootfs/usr/bin" "$ctx/rootfs/tmp"
cp "$bin" "$ctx/rootfs/usr/bin/dockward"
strip "$ctx/rootfs/usr/bin/dockward" 2>/dev/null || true
for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
  mkdir -p "$ctx/rootfs$(dirname "$lib")"
  cp -L "$lib" "$ctx/rootfs$lib"
done
cp contrib/proxy-image/Dockerfile "$ctx/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >/dev/null
echo "$tag"
