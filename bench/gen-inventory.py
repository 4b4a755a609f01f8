#!/usr/bin/env python3
"""A synthetic inventory of N running containers with published ports, in
dockward's model JSON, for `dockward firewall apply --inventory`: a third
public, a third allowed from one of four CIDR lists, a third unlabeled."""
import json, sys

n = int(sys.argv[1])
containers = []
for i in range(n):
    labels = {}
    if i % 3 == 0:
        labels["dockward.expose"] = "public"
    elif i % 3 == 1:
        labels["dockward.expose"] = f"198.51.100.{i % 4}/32,2001:db8:{i % 4}::/48"
    hp = 20000 + i
    containers.append({
        "id": f"{i:064x}", "name": f"bench-{i}", "image": "img", "image_id": "", "labels": labels,
        "compose": None, "state": "running", "user": "", "privileged": False, "network_mode": "bridge",
        "mounts": [],
        "ports": [
            {"host_ip": "0.0.0.0", "host_port": hp, "host_port_end": None, "container_port": 80, "protocol": "tcp"},
            {"host_ip": "::", "host_port": hp, "host_port_end": None, "container_port": 80, "protocol": "tcp"},
        ],
        "networks": [{"network": "bridge", "network_id": "bridge-id", "ipv4": f"172.17.{2 + i // 250}.{2 + i % 250}",
                      "ipv6": None, "aliases": []}],
    })
inv = {
    "daemon": {"version": "20.10.24", "api_version": "1.41", "min_api_version": None, "os": "linux",
               "kernel_version": "", "hostname": "", "security_options": [], "userns_remap": False,
               "rootless": False, "live_restore": False, "firewall_backend": None, "default_bridge": None},
    "networks": [{"id": "bridge-id", "name": "bridge", "driver": "bridge", "scope": "local", "bridge": "docker0",
                  "subnets": [{"cidr": "172.17.0.0/16", "gateway": "172.17.0.1"}], "ipv6": False, "icc": True,
                  "internal": False, "host_binding_ipv4": None, "labels": {}, "options": {}}],
    "containers": containers,
}
json.dump(inv, sys.stdout)
