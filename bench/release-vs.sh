#!/usr/bin/env bash
# Side by side in one hyperfine run: an earlier release's binary (the first
# argument, e.g. built from `git worktree add /tmp/old <commit>` with its
# own CARGO_TARGET_DIR) against this checkout's release build, on
#   1. `status --format json` on a live host with 200 containers (half
#      publishing a port on 127.0.0.1),
#   2. `firewall apply` live with 100 containers publishing a port,
#   3. `firewall apply` of recorded 100- and 1,000-container inventories.
# Creates its containers with label dockward.bench=1 and removes them, and
# removes dockward's rules at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD="${1:?usage: bench/release-vs.sh /path/to/earlier/dockward}"
NEW=target/release/dockward
IMAGE=dockward-test/busybox:1
docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "run scripts/test.sh once to build $IMAGE" >&2; exit 1; }
[ -x "$NEW" ] || cargo build --release -q -p dockward
tmp=$(mktemp -d)
clean() { docker ps -aq --filter label=dockward.bench=1 | xargs -r docker rm -f >/dev/null; }
trap 'clean; "$NEW" firewall remove >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
run() {
  hyperfine -N --warmup 3 --export-markdown "$tmp/$1.md" --export-json "$tmp/$1.json" "${@:2}"
  cat "$tmp/$1.md"
  python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("median %.1f ms: %s" % (r["median"] * 1000, r["command"]))' "$tmp/$1.json"
}
seq 0 199 | xargs -P 4 -I{} sh -c '
  if [ $(({} % 2)) -eq 0 ]; then p="-p 127.0.0.1::80"; else p=""; fi
  docker run -d --label dockward.bench=1 --name dwb-{} $p '"$IMAGE"' sleep 3600 >/dev/null'
run status --runs 20 -n "earlier: status --format json" "$OLD status --format json" \
  -n "this: status --format json" "$NEW status --format json"
clean
seq 0 99 | xargs -P 4 -I{} sh -c 'docker run -d --label dockward.bench=1 --name dwb-{} -p 80 '"$IMAGE"' httpd -f -p 80 >/dev/null'
run live --runs 20 -n "earlier: firewall apply (live, 100 published)" "$OLD firewall apply" \
  -n "this: firewall apply (live, 100 published)" "$NEW firewall apply"
clean
for n in 100 1000; do python3 bench/gen-inventory.py "$n" > "$tmp/inv$n.json"; done
run recorded --runs 30 \
  -n "earlier: apply, 100" "$OLD firewall apply --inventory $tmp/inv100.json" \
  -n "this: apply, 100" "$NEW firewall apply --inventory $tmp/inv100.json" \
  -n "earlier: apply, 1000" "$OLD firewall apply --inventory $tmp/inv1000.json" \
  -n "this: apply, 1000" "$NEW firewall apply --inventory $tmp/inv1000.json"
