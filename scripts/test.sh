#!/usr/bin/env bash
# Every test dockward has: formatting, lints, unit tests, and live tests
# against a real dockerd with real packets. Run as root on Debian 12.
# A missing Docker engine fails the run; nothing is skipped silently.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bench-up.sh
export DOCKWARD_REQUIRE_LIVE=1
# The bridges there before the run: check-clean reports new ones left behind.
export DOCKWARD_BRIDGES_BEFORE=/tmp/dockward-bridges-before
ip -o link show type bridge | awk -F': ' '{print $2}' > "$DOCKWARD_BRIDGES_BEFORE"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== cargo fmt --check" >&2
cargo fmt --all --check
echo "== cargo clippy --all-targets -- -D warnings" >&2
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test" >&2
cargo test --workspace --all-targets --no-fail-fast 2>&1 | tee /tmp/dockward-test.log
echo "== packages: scripts/package.sh, then each artifact installed and run" >&2
scripts/package-check.sh
echo "== fuzz (every untrusted-input parser, 10 s each)" >&2
scripts/fuzz.sh 10
echo "== leftovers check" >&2
scripts/check-clean.sh
