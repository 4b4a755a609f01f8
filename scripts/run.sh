#!/usr/bin/env bash
# Build dockward and run it on this host (default: `dockward status`).
# Prepares a fresh Debian 12 machine first with only what the main job
# needs: Docker from Debian, dockerd started if none answers (no test
# tools, no sysctl: scripts/bench-up.sh is the test command's).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/docker-up.sh
cargo build --release --quiet
if [ "$#" -eq 0 ]; then set -- status; fi
exec target/release/dockward "$@"
