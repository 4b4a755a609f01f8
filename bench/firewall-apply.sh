#!/usr/bin/env bash
# Benchmark: `dockward firewall apply` for 100 and 1,000 published containers
# (recorded synthetic inventories, so dockerd's inspect time is not counted:
# that is the inventory benchmark), beside the iptables path the anchors use
# (N rules through `iptables-restore --noflush` into a chain of our own, as
# ufw-docker/DOCKER-USER setups do). Leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/dockward
[ -x "$bin" ] || cargo build --release -q
tmp=$(mktemp -d)
cleanup() {
  "$bin" firewall remove >/dev/null 2>&1 || true
  iptables -F DWBENCH 2>/dev/null || true
  iptables -X DWBENCH 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
for n in 100 1000; do
  python3 bench/gen-inventory.py "$n" > "$tmp/inv$n.json"
  {
    echo "*filter"
    echo ":DWBENCH - [0:0]"
    echo "-F DWBENCH"
    for i in $(seq 0 $((n - 1))); do
      echo "-A DWBENCH -d 172.17.$((2 + i / 250)).$((2 + i % 250))/32 -p tcp --dport 80 -s 198.51.100.0/24 -j RETURN"
    done
    echo "COMMIT"
  } > "$tmp/ipt$n.rules"
done
hyperfine -N --warmup 3 --runs "${RUNS:-30}" --export-markdown "$tmp/result.md" \
  -n "dockward apply, 100 containers" "$bin firewall apply --inventory $tmp/inv100.json" \
  -n "dockward apply, 1000 containers" "$bin firewall apply --inventory $tmp/inv1000.json" \
  -n "iptables-restore --noflush, 100 rules" "iptables-restore --noflush $tmp/ipt100.rules" \
  -n "iptables-restore --noflush, 1000 rules" "iptables-restore --noflush $tmp/ipt1000.rules"
cat "$tmp/result.md"
