#!/usr/bin/env bash
# The test command's check of scripts/package.sh's artifacts: each one
# installs and runs as the README says. Cleans up what it makes (the
# images included: a test run leaves no dockward-* image behind).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
deb="dist/dockward_${version}_amd64.deb"
static="dist/dockward-$version-x86_64-linux"
fail() { echo "package-check: FAIL: $*" >&2; exit 1; }
say() { echo "package-check: $*" >&2; }
tmp=$(mktemp -d /tmp/dwt-pkg-XXXXXX)
containers=()
cleanup() {
  for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
  for img in "dockward-proxy:$version" "dockward-firewall:$version"; do
    docker rmi "$img" >/dev/null 2>&1 || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

scripts/package.sh

# 1. The package lists what the README promises.
listing=$(dpkg -c "$deb")
for f in ./usr/bin/dockward ./lib/systemd/system/dockward-firewall.service \
         ./lib/systemd/system/dockward-proxy.service ./lib/systemd/system/dockward-audit.timer \
         ./usr/share/man/man1/dockward.1.gz ./usr/share/man/man1/dockward-firewall-allow.1.gz \
         ./usr/share/bash-completion/completions/dockward ./usr/share/zsh/vendor-completions/_dockward \
         ./usr/share/fish/vendor_completions.d/dockward.fish ./usr/share/doc/dockward/README.md \
         ./usr/share/doc/dockward/firewall.md ./usr/share/doc/dockward/examples/firewall.toml; do
  grep -q " $f\$" <<<"$listing" || fail "$deb lacks $f"
done
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "control Version"
say "dpkg -c: every promised file is there"

# 2. Installed into a root of its own, it runs; its units verify; its
# postinst enables nothing.
mkdir -p "$tmp/root/var/lib/dpkg/updates" "$tmp/root/var/lib/dpkg/info"
touch "$tmp/root/var/lib/dpkg/status"
dpkg --root="$tmp/root" --force-depends --force-script-chrootless -i "$deb" >/dev/null 2>"$tmp/dpkg.err" \
  || { cat "$tmp/dpkg.err" >&2; fail "dpkg -i"; }
out=$("$tmp/root/usr/bin/dockward" --version)
grep -q "dockward $version (git " <<<"$out" || fail "--version says: $out"
"$tmp/root/usr/bin/dockward" audit --list-rules | grep -q container-privileged || fail "audit --list-rules"
units=()
for u in "$tmp"/root/lib/systemd/system/*; do
  sed "s|/usr/bin/dockward|$tmp/root/usr/bin/dockward|g" "$u" > "$tmp/$(basename "$u")"
  units+=("$tmp/$(basename "$u")")
done
systemd-analyze verify "${units[@]}" || fail "systemd-analyze verify"
grep -q "^Before=docker.service" "$tmp/root/lib/systemd/system/dockward-firewall.service" || fail "firewall unit not before docker.service"
[ ! -e "$tmp/root/etc/systemd/system/multi-user.target.wants/dockward-firewall.service" ] || fail "postinst enabled the firewall"
say "installed with dpkg --root: --version, audit --list-rules, units verify, nothing enabled"

# 3. The static binary runs in an empty root with nothing but itself.
mkdir -p "$tmp/empty"
cp "$static" "$tmp/empty/dockward"
out=$(chroot "$tmp/empty" /dockward --version)
grep -q "dockward $version" <<<"$out" || fail "static --version: $out"
chroot "$tmp/empty" /dockward audit --list-rules | grep -q daemon-icc || fail "static audit --list-rules"
[ "$(ls -A "$tmp/empty")" = dockward ] || fail "the empty root gained files"
say "static binary: runs in an empty root"

# 4. The images.
for kind in proxy firewall; do
  docker image inspect "dockward-$kind:$version" >/dev/null || fail "no image dockward-$kind:$version"
done
gid=$(stat -c %g /var/run/docker.sock)
name="dwt-pkg-proxy-$$"
port=$((24000 + $$ % 1000))
# Run as tecnativa's image is: no user, no group.
docker run -d --name "$name" -v /var/run/docker.sock:/var/run/docker.sock:ro \
  -e CONTAINERS=1 -p "127.0.0.1:$port:2375" "dockward-proxy:$version" >/dev/null
containers+=("$name")
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/_ping" >/dev/null && break; sleep 0.1; done
pid=$(docker inspect -f '{{.State.Pid}}' "$name")
grep -q "^Uid:[[:space:]]*65534[[:space:]]" "/proc/$pid/status" || fail "the proxy image serves as $(grep ^Uid: "/proc/$pid/status")"
grep -q "^Groups:[[:space:]]*$gid[[:space:]]*$" "/proc/$pid/status" || fail "the proxy image's groups: $(grep ^Groups: "/proc/$pid/status")"
[ "$(curl -s "http://127.0.0.1:$port/_ping")" = OK ] || fail "the proxy image does not answer /_ping"
curl -sf "http://127.0.0.1:$port/containers/json" >/dev/null || fail "CONTAINERS=1 refused a list"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/containers/create" -H 'Content-Type: application/json' -d '{"Image":"x"}')
[ "$code" = 403 ] || fail "a create through the proxy image answered $code"
say "dockward-proxy image: started as tecnativa's is, serves as nobody with the socket's group, reads containers, refuses a create"
# The firewall image applies the host's rules with NET_ADMIN only.
docker run --rm --network host --pid host --cap-drop ALL --cap-add NET_ADMIN \
  -v /var/run/docker.sock:/var/run/docker.sock:ro -v /run/dockward:/run/dockward \
  --entrypoint /usr/bin/dockward "dockward-firewall:$version" firewall apply --backend nft >/dev/null \
  || fail "the firewall image could not apply"
nft list table inet dockward >/dev/null || fail "no dockward table after the image's apply"
target/debug/dockward firewall remove >/dev/null 2>&1 || "$static" firewall remove >/dev/null
say "dockward-firewall image: applies the host's rules with NET_ADMIN alone"
# The Swarm stack as shipped, deployed by Swarm on a three-node bench with
# these images (crates/cli/tests/swarm_stack.rs).
cargo test --quiet -p dockward --test swarm_stack -- --ignored >"$tmp/stack.log" 2>&1 \
  || { cat "$tmp/stack.log" >&2; fail "contrib/swarm/stack.yml on a three-node swarm"; }
say "contrib/swarm/stack.yml: deployed by Swarm, enforcing on every node of a three-node bench"
# 5. The compose examples, exactly as shipped, with a locally built
# client in the place of Traefik's and Portainer's images (no registry
# here): it calls the proxy as they do, and a write must be refused.
projects=()
cleanup_compose() {
  for ex in "${projects[@]}"; do
    DOCKER_GID="$gid" docker-compose -p "dwt-pkg-$ex" -f "contrib/compose/$ex/compose.yml" down -v >/dev/null 2>&1 || true
  done
}
trap 'cleanup_compose; cleanup' EXIT
client='
ask() { { printf "$1"; sleep 1; } | nc dockerproxy 2375 | head -1; }
sleep 1
echo "list: $(ask "GET /containers/json HTTP/1.0\r\n\r\n")"
echo "events: $(ask "GET /events?since=0&until=1 HTTP/1.0\r\n\r\n")"
echo "write: $(ask "POST /containers/create HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 46\r\n\r\n{\"Image\":\"x\",\"HostConfig\":{\"Privileged\":true}}")"
echo done
sleep 600'
for ex in traefik portainer; do
  proj="dwt-pkg-$ex"
  projects+=("$ex")
  over="$tmp/$ex-override.yml"
  python3 - "$over" "$ex" "$client" <<'PY'
import json, sys
path, svc, script = sys.argv[1:]
doc = {"version": "2.4", "services": {svc: {"image": "dockward-test/busybox:1", "user": "65534:65534",
       "entrypoint": ["sh", "-c", script.replace("$", "$$")], "command": [], "volumes": []}}}
open(path, "w").write(json.dumps(doc))
PY
  DOCKER_GID="$gid" docker-compose -p "$proj" -f "contrib/compose/$ex/compose.yml" -f "$over" up -d >/dev/null 2>"$tmp/up.err" \
    || { cat "$tmp/up.err" >&2; fail "docker-compose up ($ex)"; }
  logs=""
  for _ in $(seq 1 100); do
    logs=$(docker logs "${proj}_${ex}_1" 2>&1 || true)
    grep -q '^done' <<<"$logs" && break
    sleep 0.2
  done
  grep -q '^list: HTTP/1.[01] 200' <<<"$logs" || fail "$ex: the list was not answered: $logs"
  grep -q '^events: HTTP/1.[01] 200' <<<"$logs" || fail "$ex: /events was not answered: $logs"
  grep -q '^write: HTTP/1.[01] 403' <<<"$logs" || fail "$ex: a privileged create was not refused: $logs"
  DOCKER_GID="$gid" docker-compose -p "$proj" -f "contrib/compose/$ex/compose.yml" -f "$over" down -v >/dev/null 2>&1
  say "contrib/compose/$ex: the proxy answers the client as it would Traefik/Portainer, and refuses the write"
done
projects=()

# 6. Installed with dpkg into a clean Debian 12 made by debootstrap from
# Debian's packages (cached: a few seconds instead of half a minute).
cache=/var/cache/dockward-bench/bookworm-nft.tar
if [ ! -s "$cache" ]; then
  say "debootstrap bookworm (once; cached in $cache)"
  mkdir -p "$(dirname "$cache")" "$tmp/dbs"
  debootstrap --variant=minbase --include=nftables,conntrack bookworm "$tmp/dbs" http://deb.debian.org/debian \
    >"$tmp/dbs.log" 2>&1 || { tail -5 "$tmp/dbs.log" >&2; fail "debootstrap"; }
  tar -C "$tmp/dbs" -cf "$cache.tmp" . && mv "$cache.tmp" "$cache"
  rm -rf "$tmp/dbs"
fi
mkdir -p "$tmp/deb12"
tar -C "$tmp/deb12" -xf "$cache"
cp "$deb" "$tmp/deb12/tmp/"
chroot "$tmp/deb12" dpkg -i "/tmp/$(basename "$deb")" >"$tmp/deb12.log" 2>&1 || { cat "$tmp/deb12.log" >&2; fail "dpkg -i in a clean Debian 12"; }
out=$(chroot "$tmp/deb12" dockward --version)
grep -q "dockward $version" <<<"$out" || fail "--version in Debian 12: $out"
chroot "$tmp/deb12" dockward audit --list-rules | grep -q container-privileged || fail "audit --list-rules in Debian 12"
[ -e "$tmp/deb12/usr/share/man/man1/dockward-audit.1.gz" ] || fail "no man page in Debian 12"
[ ! -e "$tmp/deb12/etc/systemd/system/multi-user.target.wants/dockward-firewall.service" ] || fail "enabled at install"
rm -rf "$tmp/deb12"
say "dpkg -i into a clean Debian 12 (debootstrap): --version, audit --list-rules, man pages, nothing enabled"
say "ok"
