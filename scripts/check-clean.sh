#!/usr/bin/env bash
# Fails when a live test left something behind (containers, images, networks,
# namespaces or links with the test prefix). Removes nothing itself.
set -euo pipefail
left=""
c=$(docker ps -aq --filter label=dockward.test=1 | wc -l)
[ "$c" -eq 0 ] || left+="$c test container(s); "
i=$(docker image ls -q --filter label=dockward.test=1 --filter reference='dockward-test/dwt-*' | wc -l)
[ "$i" -eq 0 ] || left+="$i test image(s); "
n=$(docker network ls -q --filter label=dockward.test=1 | wc -l)
[ "$n" -eq 0 ] || left+="$n test network(s); "
ns=$(ip netns list | grep -c '^dwt-' || true)
[ "$ns" -eq 0 ] || left+="$ns test namespace(s); "
links=$(ip -o link show | grep -cE ': (dwh|dwp|dwtb)[0-9a-f]+[@:]' || true)
[ "$links" -eq 0 ] || left+="$links test link(s); "
m=$(grep -c ' /tmp/dwt-' /proc/self/mountinfo || true)
[ "$m" -eq 0 ] || left+="$m mount(s) under a private or swarm-node daemon's directory; "
d=$(find /tmp -maxdepth 1 -name 'dwt-[ds]*' 2>/dev/null | wc -l)
[ "$d" -eq 0 ] || left+="$d private or swarm-node daemon director(ies) in /tmp; "
t=$(nft list tables 2>/dev/null | grep -cE '(inet|bridge) (dockward|dwt_|dockward_check)' || true)
[ "$t" -eq 0 ] || left+="$t nftables table(s) of dockward's tests (the firewall tests remove theirs); "
c=$( (iptables -S 2>/dev/null; ip6tables -S 2>/dev/null) | grep -c '^-N DOCKWARD-' || true)
[ "$c" -eq 0 ] || left+="$c iptables chain(s) of dockward's iptables backend; "
# Bridges Docker made for networks no daemon knows any more (a private
# test daemon stopped with its networks in place): new since the run began.
if [ -n "${DOCKWARD_BRIDGES_BEFORE:-}" ] && [ -f "$DOCKWARD_BRIDGES_BEFORE" ]; then
  known=$(docker network ls -q --no-trunc | cut -c1-12)
  b=0
  for br in $(ip -o link show type bridge | awk -F': ' '{print $2}' | grep '^br-' || true); do
    grep -qx "$br" "$DOCKWARD_BRIDGES_BEFORE" && continue
    echo "$known" | grep -qx "${br#br-}" && continue
    b=$((b+1))
  done
  [ "$b" -eq 0 ] || left+="$b bridge(s) of networks no daemon knows (a private daemon's); "
fi
if [ -n "$left" ]; then
  echo "check-clean: live tests left behind: $left" >&2
  exit 1
fi
echo "check-clean: nothing left behind" >&2
