#!/usr/bin/env bash
# Fails when a live test left something behind (containers, networks,
# namespaces or links with the test prefix). Removes nothing itself.
set -euo pipefail
left=""
c=$(docker ps -aq --filter label=dockward.test=1 | wc -l)
[ "$c" -eq 0 ] || left+="$c test container(s); "
n=$(docker network ls -q --filter label=dockward.test=1 | wc -l)
[ "$n" -eq 0 ] || left+="$n test network(s); "
ns=$(ip netns list | grep -c '^dwt-' || true)
[ "$ns" -eq 0 ] || left+="$ns test namespace(s); "
links=$(ip -o link show | grep -cE ': (dwh|dwp|dwtb)[0-9a-f]+[@:]' || true)
[ "$links" -eq 0 ] || left+="$links test link(s); "
t=$(nft list tables 2>/dev/null | grep -cE 'inet (dockward|dwt_|dockward_check)' || true)
[ "$t" -eq 0 ] || left+="$t nftables table(s) of dockward's tests (the firewall tests remove theirs); "
c=$( (iptables -S 2>/dev/null; ip6tables -S 2>/dev/null) | grep -c '^-N DOCKWARD-' || true)
[ "$c" -eq 0 ] || left+="$c iptables chain(s) of dockward's iptables backend; "
if [ -n "$left" ]; then
  echo "check-clean: live tests left behind: $left" >&2
  exit 1
fi
echo "check-clean: nothing left behind" >&2
