#!/usr/bin/env bash
# The Swarm benchmark (docs/BENCHMARKS.md §8): three nodes, 100 services,
# `firewall apply` on a manager and a worker, and a new public service's
# time to open on every node. Run as root after scripts/bench-up.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOCKWARD_REQUIRE_LIVE=1
cargo test --release --quiet -p dockward --test swarm_bench -- --ignored --nocapture 2>&1 \
  | grep -E '^(apply|new public|a joining)'
