#!/usr/bin/env bash
# Benchmark: how soon after `docker run -d -l dockward.expose=public -p …`
# returns is the container reachable from an outside host (a network
# namespace), with `dockward firewall watch` running, beside Docker alone.
# Leaves nothing behind: its namespace, veth, containers and dockward's table
# are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${DOCKWARD_BIN:-$PWD/target/release/dockward}
[ -x "$bin" ] || cargo build --release -q
runs=${RUNS:-15}
ns=dwb-$$; hif=dwbh$$; pif=dwbp$$
watch_pid=""
cleanup() {
  [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null && wait "$watch_pid" 2>/dev/null || true
  docker ps -aq --filter label=dockward.bench=$$ | xargs -r docker rm -f >/dev/null
  "$bin" firewall remove >/dev/null 2>&1 || true
  ip link del "$hif" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns"
ip link add "$hif" type veth peer name "$pif"
ip link set "$pif" netns "$ns"
ip addr add 10.99.240.1/30 dev "$hif"; ip link set "$hif" up
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" ip link set "$pif" up
ip netns exec "$ns" ip addr add 10.99.240.2/30 dev "$pif"
ip netns exec "$ns" ip route add default via 10.99.240.1

measure() { # label
  ip netns exec "$ns" python3 - "$1" "$runs" "$$" <<'PY'
import socket, subprocess, sys, time, statistics
label, runs, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = []
for i in range(runs):
    port = 31000 + i + (500 if label.startswith("dockward") else 0)
    subprocess.run(["docker", "run", "-d", "-l", f"dockward.bench={tag}", "-l", "dockward.expose=public",
                    "-p", f"{port}:80", "dockward-test/busybox:1", "httpd", "-f", "-p", "80"],
                   check=True, stdout=subprocess.DEVNULL)
    t0 = time.perf_counter()
    while True:
        s = socket.socket(); s.settimeout(0.005)
        try:
            s.connect(("10.99.240.1", port)); s.close(); break
        except OSError:
            s.close()
            if time.perf_counter() - t0 > 5:
                print(f"{label}: never reachable"); sys.exit(1)
            time.sleep(0.001)
    out.append((time.perf_counter() - t0) * 1000)
out.sort()
print(f"| {label} | {statistics.median(out):.1f} | {out[0]:.1f} | {out[-1]:.1f} | {runs} |")
PY
}
echo "| setup | median ms | min ms | max ms | runs |"
echo "|:---|---:|---:|---:|---:|"
measure "Docker alone"
docker ps -aq --filter label=dockward.bench=$$ | xargs -r docker rm -f >/dev/null
"$bin" firewall watch 2>"${WATCH_LOG:-/dev/null}" & watch_pid=$!
for _ in $(seq 100); do nft list tables | grep -q 'inet dockward' && break; sleep 0.05; done
sleep 1
measure "dockward firewall watch"
