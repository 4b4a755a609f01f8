#!/usr/bin/env bash
# Build dockward and run it on this host (default: `dockward status`).
# Prepares a fresh Debian 12 machine first: Docker from Debian, dockerd
# started if none answers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bench-up.sh
cargo build --release --quiet
if [ "$#" -eq 0 ]; then set -- status; fi
exec target/release/dockward "$@"
