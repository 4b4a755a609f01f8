//! The field tables: every field of every body dockerd reads from a
//! client that dockward lets through, and what it may hold.
//!
//! The names are moby's JSON names (api/types/container `Config`,
//! `HostConfig` with its embedded `Resources`, `network.NetworkingConfig`
//! and `EndpointSettings`, `mount.Mount`, `UpdateConfig`, `ExecOptions`,
//! `volume.CreateOptions`, `network.CreateRequest`, swarm `ServiceSpec`
//! and `ContainerSpec`), matched the way Go's decoder matches them
//! ([`fold`]). A field missing from these tables is refused as
//! `unknown-field`: dockward cannot say it is harmless, and a newer
//! dockerd may act on it.
//!
//! A create body is moby's `CreateRequest`: the `Config` fields, then
//! `HostConfig` and `NetworkingConfig`, and — because the legacy wrapper
//! embeds a second `HostConfig` — every `HostConfig` field again at the
//! top level, which dockerd still applies when `HostConfig` is absent.

use super::{Check, Cx, RefKind};
use crate::action::Action;
use crate::gojson::{fold, Value};
use dockward_hostpower::default_capability;

/// `Config` fields: what the container runs and as whom, its labels and
/// environment. None reaches the host.
const CONFIG_FREE: &[&str] = &[
    "hostname",
    "domainname",
    "user",
    "attachstdin",
    "attachstdout",
    "attachstderr",
    "exposedports",
    "tty",
    "openstdin",
    "stdinonce",
    "env",
    "cmd",
    "healthcheck",
    "argsescaped",
    "image",
    "volumes",
    "workingdir",
    "entrypoint",
    "networkdisabled",
    "macaddress",
    "onbuild",
    "labels",
    "stopsignal",
    "stoptimeout",
    "shell",
];

/// `Resources` fields: limits and weights inside the container's own
/// cgroup. Devices are judged apart.
const RESOURCES_FREE: &[&str] = &[
    "cpushares",
    "memory",
    "nanocpus",
    "cgroupparent",
    "blkioweight",
    "blkioweightdevice",
    "blkiodevicereadbps",
    "blkiodevicewritebps",
    "blkiodevicereadiops",
    "blkiodevicewriteiops",
    "cpuperiod",
    "cpuquota",
    "cpurealtimeperiod",
    "cpurealtimeruntime",
    "cpusetcpus",
    "cpusetmems",
    "kernelmemory",
    "kernelmemorytcp",
    "memoryreservation",
    "memoryswap",
    "memoryswappiness",
    "oomkilldisable",
    "pidslimit",
    "ulimits",
    "cpucount",
    "cpupercent",
    "iomaximumiops",
    "iomaximumbandwidth",
];

/// The rest of `HostConfig` that stays inside the container: logging,
/// ports (the firewall's business), restart policy, DNS, tmpfs, sizes.
const HOST_CONFIG_FREE: &[&str] = &[
    "containeridfile",
    "portbindings",
    "restartpolicy",
    "autoremove",
    "consolesize",
    "capdrop",
    "dns",
    "dnsoptions",
    "dnssearch",
    "extrahosts",
    "groupadd",
    "oomscoreadj",
    "publishallports",
    "readonlyrootfs",
    "storageopt",
    "tmpfs",
    "shmsize",
    "init",
    "isolation",
];

/// Capabilities dockerd reads in `CapAdd` (and API 1.40's `Capabilities`).
fn capabilities(v: &Value, cx: &mut Cx, at: &str) {
    for c in strings(v) {
        if !default_capability(&c) {
            cx.refuse(
                Check::Capability,
                format!("{at} {c:?} (only Docker's default capabilities may be added)"),
            );
        }
    }
}

/// The strings of a list; a non-string item is shown as JSON.
fn strings(v: &Value) -> Vec<String> {
    v.items()
        .iter()
        .map(|x| {
            x.as_str().map_or_else(
                || String::from_utf8_lossy(&x.to_bytes()).into_owned(),
                str::to_string,
            )
        })
        .collect()
}

fn json(v: &Value) -> String {
    String::from_utf8_lossy(&v.to_bytes()).into_owned()
}

/// Anything but `false`, `null` or absent: a string `"true"` is not what
/// dockerd decodes into a bool, so it is ambiguous at best.
fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Null | Value::Bool(false))
}

/// An empty value: null, `[]`, `{}`, `""`.
fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// The string of a mode field; `None` for null, `Some("\u{0}…")` marks a
/// non-string so that no mode matches it.
fn mode(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(format!("\u{0}{}", json(other))),
    }
}

/// A string field whose value is null or one of `ok` (the defaults and
/// the harmless choices).
fn one_of(v: &Value, ok: &[&str]) -> bool {
    v.is_null() || v.as_str().is_some_and(|s| ok.contains(&s))
}

/// `container:<name>` → the name.
fn joined(s: &str) -> Option<&str> {
    s.strip_prefix("container:")
}

/// One `HostConfig` field (also at the top level of a create body).
/// `false` when `key` (folded) is no `HostConfig` field.
fn host_config_field(key: &str, k: &str, v: &Value, cx: &mut Cx, at: &str) -> bool {
    let here = format!("{at}{k}");
    match key {
        "binds" => {
            for b in strings(v) {
                // moby's linux parser splits the spec on ':'; with one part
                // it is only a target (an anonymous volume); with more, an
                // absolute first part is a host path, anything else a
                // volume name.
                let mut parts = b.split(':');
                let src = parts.next().unwrap_or("");
                if parts.next().is_some() && src.starts_with('/') {
                    cx.bind(src, &here);
                }
            }
        }
        "logconfig" => {
            let ty = v.get("Type").and_then(Value::as_str).unwrap_or("");
            // Drivers that write on this host; the others connect to
            // addresses (syslog, fluentd, gelf… may name a unix socket on
            // the host, the Docker socket included) or are plugins.
            if !matches!(ty, "" | "json-file" | "local" | "journald" | "none") {
                cx.refuse(
                    Check::LogDriver,
                    format!("{here}.Type {ty:?} (json-file, local, journald and none pass; others send the container's output to addresses it names)"),
                );
            }
        }
        "mounts" => {
            for m in v.items() {
                mount(m, cx, &here);
            }
        }
        "volumedriver" => {
            if !one_of(v, &["", "local"]) {
                cx.refuse(
                    Check::Volume,
                    format!("{here} {} (a volume plugin mounts what it likes)", json(v)),
                );
            }
        }
        "volumesfrom" => {
            for s in strings(v) {
                let name = s.split(':').next().unwrap_or("");
                cx.reference(name, RefKind::VolumesFrom, &here);
            }
        }
        "links" => links(v, cx, &here),
        "networkmode" => match mode(v).as_deref() {
            None | Some("" | "default" | "bridge" | "none") => {}
            Some(m) if m.eq_ignore_ascii_case("host") => {
                cx.refuse(Check::HostNetwork, format!("{here} host"));
            }
            Some(m) => match joined(m) {
                Some(c) => cx.reference(c, RefKind::Join, &here),
                None if m.starts_with('\u{0}') => {
                    cx.refuse(Check::UnknownField, format!("{here} is not a string"));
                }
                // A user-defined network by name or id.
                None => {}
            },
        },
        "pidmode" | "ipcmode" | "utsmode" | "usernsmode" | "cgroupnsmode" | "cgroup" => {
            let ok: &[&str] = match key {
                "ipcmode" => &["", "none", "private", "shareable"],
                "cgroupnsmode" => &["", "private"],
                _ => &[""],
            };
            match mode(v).as_deref() {
                None => {}
                Some(m) if ok.contains(&m) => {}
                Some(m) => match joined(m) {
                    Some(c) if matches!(key, "pidmode" | "ipcmode") => {
                        cx.reference(c, RefKind::Join, &here);
                    }
                    _ => cx.refuse(
                        Check::HostNamespace,
                        format!("{here} {m:?} (only a private namespace, or another container's, passes)"),
                    ),
                },
            }
        }
        "privileged" => {
            if truthy(v) {
                cx.refuse(Check::Privileged, here);
            }
        }
        "capadd" | "capabilities" => capabilities(v, cx, &here),
        "securityopt" => {
            for o in strings(v) {
                if !matches!(
                    o.as_str(),
                    "no-new-privileges" | "no-new-privileges=true" | "no-new-privileges:true"
                ) {
                    cx.refuse(
                        Check::Unconfined,
                        format!(
                            "{here} {:?} (only no-new-privileges keeps or tightens the defaults)",
                            short(&o)
                        ),
                    );
                }
            }
        }
        "maskedpaths" | "readonlypaths" => {
            if !v.is_null() {
                cx.refuse(
                    Check::Unconfined,
                    format!(
                        "{here} {} (replaces Docker's masked and read-only /proc and /sys paths)",
                        short(&json(v))
                    ),
                );
            }
        }
        "devices" | "devicecgrouprules" | "devicerequests" => {
            if !empty(v) {
                cx.refuse(Check::Device, here);
            }
        }
        "sysctls" => sysctls(v, cx, &here),
        "runtime" => {
            if !one_of(v, &["", "runc", "io.containerd.runc.v2"]) {
                cx.refuse(
                    Check::Runtime,
                    format!("{here} {} (only the default runc runtime passes)", json(v)),
                );
            }
        }
        "annotations" => {
            if !empty(v) {
                cx.refuse(
                    Check::Runtime,
                    format!("{here} (OCI annotations are read by the runtime)"),
                );
            }
        }
        k if RESOURCES_FREE.contains(&k) || HOST_CONFIG_FREE.contains(&k) => {}
        _ => return false,
    }
    true
}

/// Long values (an inline seccomp profile) shortened for messages.
fn short(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

fn links(v: &Value, cx: &mut Cx, at: &str) {
    for l in strings(v) {
        let name = l.split(':').next().unwrap_or("").trim_start_matches('/');
        cx.reference(name, RefKind::Link, at);
    }
}

/// Namespaced sysctls dockerd accepts for a container (moby
/// `opts.ValidateSysctl`): they act on the container's own namespaces.
fn sysctls(v: &Value, cx: &mut Cx, at: &str) {
    let Value::Object(m) = v else {
        if !v.is_null() {
            cx.refuse(Check::Sysctl, format!("{at} is not an object"));
        }
        return;
    };
    for (k, _) in m {
        let ok = k.starts_with("net.")
            || k.starts_with("kernel.shm")
            || k.starts_with("kernel.msg")
            || k == "kernel.sem"
            || k.starts_with("fs.mqueue.");
        if !ok {
            cx.refuse(Check::Sysctl, format!("{at} {k} (not a namespaced sysctl)"));
        }
    }
}

/// The members of an object, or a refusal when it is not one.
fn members<'v>(v: &'v Value, cx: &mut Cx, at: &str) -> &'v [(String, Value)] {
    match v {
        Value::Object(m) => m,
        Value::Null => &[],
        _ => {
            cx.refuse(Check::UnknownField, format!("{at} is not an object"));
            &[]
        }
    }
}

/// Labels: free, except dockward's own. `dockward.expose=public` on a
/// container opens its published ports to the world past the operator's
/// firewall policy, and `dockward.allow-from` or `dockward.isolate` change
/// who reaches whom: a client that may create containers or networks does
/// not thereby get to write the host firewall. Matched on the key with
/// ASCII case folded (the firewall reads the exact key; refusing more is
/// the closed side); a repeated key was refused when the body was parsed.
fn labels(v: &Value, cx: &mut Cx, at: &str) {
    for (k, _) in members(v, cx, at) {
        if k.get(..9)
            .is_some_and(|p| p.eq_ignore_ascii_case("dockward."))
        {
            cx.refuse(Check::FirewallLabel, format!("{at}.{k}"));
        }
    }
}

fn unknown(cx: &mut Cx, at: &str, k: &str) {
    cx.refuse(
        Check::UnknownField,
        format!("{at}{k} (a field dockward does not know; it cannot tell it is harmless)"),
    );
}

/// A `HostConfig` object.
fn host_config(h: &Value, cx: &mut Cx, at: &str) {
    for (k, v) in members(h, cx, at) {
        if !host_config_field(&fold(k), k, v, cx, at) {
            unknown(cx, at, k);
        }
    }
}

/// `NetworkingConfig`: the networks joined at create, each with its
/// endpoint settings.
fn networking(n: &Value, cx: &mut Cx, at: &str) {
    for (k, v) in members(n, cx, at) {
        if fold(k) != "endpointsconfig" {
            unknown(cx, at, k);
            continue;
        }
        let here = format!("{at}{k}.");
        for (net, ep) in members(v, cx, &here) {
            if net.eq_ignore_ascii_case("host") {
                cx.refuse(Check::HostNetwork, format!("{here}{net}"));
            }
            endpoint(ep, cx, &format!("{here}{net}."));
        }
    }
}

/// `EndpointSettings`: addresses, aliases, links, driver options inside
/// the container's own network namespace.
fn endpoint(ep: &Value, cx: &mut Cx, at: &str) {
    for (k, v) in members(ep, cx, at) {
        match fold(k).as_str() {
            "links" => links(v, cx, &format!("{at}{k}")),
            "ipamconfig"
            | "aliases"
            | "macaddress"
            | "driveropts"
            | "networkid"
            | "endpointid"
            | "gateway"
            | "ipaddress"
            | "ipprefixlen"
            | "ipv6gateway"
            | "globalipv6address"
            | "globalipv6prefixlen"
            | "dnsnames"
            | "gwpriority" => {}
            _ => unknown(cx, at, k),
        }
    }
}

/// A `Mounts[]` entry (containers and services share the shape).
fn mount(m: &Value, cx: &mut Cx, at: &str) {
    let ty = m.get("Type").and_then(Value::as_str).unwrap_or("");
    let src = m.get("Source").and_then(Value::as_str).unwrap_or("");
    for (k, v) in members(m, cx, at) {
        match fold(k).as_str() {
            "type" | "source" | "target" | "readonly" | "consistency" | "bindoptions"
            | "tmpfsoptions" | "imageoptions" => {}
            "volumeoptions" => {
                for (vk, vv) in members(v, cx, at) {
                    match fold(vk).as_str() {
                        "nocopy" | "labels" | "subpath" => {}
                        "driverconfig" => {
                            let name = vv.get("Name").and_then(Value::as_str).unwrap_or("");
                            let opts = vv.get("Options");
                            if !matches!(name, "" | "local") {
                                cx.refuse(
                                    Check::Volume,
                                    format!("{at} volume driver {name:?} (a volume plugin mounts what it likes)"),
                                );
                            } else if let Some(o) = opts {
                                local_volume(o, cx, &format!("{at} volume (local driver)"));
                            }
                        }
                        _ => unknown(cx, &format!("{at}.VolumeOptions."), vk),
                    }
                }
            }
            _ => unknown(cx, &format!("{at}."), k),
        }
    }
    match ty {
        "bind" => cx.bind(src, at),
        "volume" | "tmpfs" | "image" => {}
        other => cx.refuse(
            Check::Volume,
            format!("{at} of type {other:?} (bind, volume, tmpfs and image pass)"),
        ),
    }
}

/// Local-driver volume options (moby `volume/local`: `type`, `device`,
/// `o`, `size`). The driver runs `mount -t type -o o device`: with
/// `o=bind` that is a bind of `device`; with any other type it mounts a
/// block device, `proc`, an overlay of host directories, NFS… Only binds
/// (judged by the allow-list) and plain tmpfs pass.
pub fn local_volume(opts: &Value, cx: &mut Cx, at: &str) {
    let mut ty = "";
    let mut o = "";
    let mut device = "";
    for (k, v) in members(opts, cx, at) {
        let s = v.as_str().unwrap_or("\u{0}");
        match k.as_str() {
            "type" => ty = s,
            "o" => o = s,
            "device" => device = s,
            "size" => {}
            _ => cx.refuse(
                Check::Volume,
                format!("{at} option {k:?} (the local driver reads type, device, o and size)"),
            ),
        }
    }
    if ty.is_empty() && o.is_empty() && device.is_empty() {
        return;
    }
    let flags: Vec<&str> = o.split(',').map(str::trim).collect();
    let bind = flags.iter().any(|f| matches!(*f, "bind" | "rbind"));
    let harmless = |f: &&str| {
        matches!(
            *f,
            "bind"
                | "rbind"
                | "ro"
                | "rw"
                | "nosuid"
                | "nodev"
                | "noexec"
                | "private"
                | "rprivate"
                | "slave"
                | "rslave"
                | ""
        )
    };
    if matches!(ty, "none" | "") && bind && flags.iter().all(harmless) && device.starts_with('/') {
        cx.bind(device, &format!("{at} (o={o})"));
        return;
    }
    let tmpfs_flag = |f: &&str| {
        matches!(*f, "" | "ro" | "rw" | "nosuid" | "nodev" | "noexec")
            || ["size=", "mode=", "uid=", "gid=", "nr_inodes="]
                .iter()
                .any(|p| f.starts_with(p))
    };
    if ty == "tmpfs" && matches!(device, "tmpfs" | "") && flags.iter().all(tmpfs_flag) {
        return;
    }
    cx.refuse(
        Check::Volume,
        format!("{at} mounts type={ty:?} device={device:?} o={o:?} (only o=bind of an allow-listed directory, or tmpfs, passes)"),
    );
}

/// `POST /containers/create`.
fn create(b: &Value, cx: &mut Cx) {
    for (k, v) in members(b, cx, "") {
        let key = fold(k);
        match key.as_str() {
            "hostconfig" => host_config(v, cx, "HostConfig."),
            "networkingconfig" => networking(v, cx, "NetworkingConfig."),
            "labels" => labels(v, cx, "Labels"),
            "cpuset" => {}
            key if CONFIG_FREE.contains(&key) => {}
            key => {
                if !host_config_field(key, k, v, cx, "") {
                    unknown(cx, "", k);
                }
            }
        }
    }
}

/// `POST /containers/{id}/update`: resources and the restart policy.
fn update(b: &Value, cx: &mut Cx) {
    for (k, v) in members(b, cx, "") {
        match fold(k).as_str() {
            "restartpolicy" => {}
            "devices" | "devicecgrouprules" | "devicerequests" => {
                if !empty(v) {
                    cx.refuse(Check::Device, k.clone());
                }
            }
            key if RESOURCES_FREE.contains(&key) => {}
            _ => unknown(cx, "", k),
        }
    }
}

/// `POST /containers/{id}/exec`.
fn exec(b: &Value, cx: &mut Cx) {
    for (k, v) in members(b, cx, "") {
        match fold(k).as_str() {
            "privileged" => {
                if truthy(v) {
                    cx.refuse(Check::ExecPrivileged, "Privileged exec");
                }
            }
            "attachstdin" | "attachstdout" | "attachstderr" | "consolesize" | "detach"
            | "detachkeys" | "tty" | "env" | "cmd" | "user" | "workingdir" => {}
            // The Python SDK still sends the container's id; dockerd ignores it.
            "container" => {}
            _ => unknown(cx, "", k),
        }
    }
}

/// `POST /volumes/create`.
fn volume_create(b: &Value, cx: &mut Cx) {
    let driver = b.get("Driver").and_then(Value::as_str).unwrap_or("");
    for (k, v) in members(b, cx, "") {
        match fold(k).as_str() {
            "name" | "labels" | "driver" => {}
            "driveropts" => {
                if !matches!(driver, "" | "local") {
                    if !empty(v) {
                        cx.refuse(
                            Check::Volume,
                            format!("volume driver {driver:?} with options"),
                        );
                    }
                } else {
                    local_volume(v, cx, "volume (local driver)");
                }
            }
            "clustervolumespec" => {
                if !v.is_null() {
                    cx.refuse(Check::Volume, "a cluster (CSI) volume");
                }
            }
            _ => unknown(cx, "", k),
        }
    }
    if !matches!(driver, "" | "local") {
        cx.refuse(
            Check::Volume,
            format!("volume driver {driver:?} (a volume plugin mounts what it likes)"),
        );
    }
}

/// Bridge and overlay options that change nothing outside the network's
/// own bridge: inter-container traffic, masquerading, MTU, the default
/// address for published ports, interface names, overlay encryption.
/// Everything else (an existing host bridge as `bridge.name`, gateway
/// modes that leave ports unprotected or route containers straight onto
/// the LAN, trusted host interfaces…) is refused.
const NETWORK_OPTIONS: &[&str] = &[
    "com.docker.network.bridge.enable_icc",
    "com.docker.network.bridge.enable_ip_masquerade",
    "com.docker.network.driver.mtu",
    "com.docker.network.bridge.host_binding_ipv4",
    "com.docker.network.container_iface_prefix",
    "com.docker.network.enable_ipv6",
    "encrypted",
];

/// `POST /networks/create`: bridge and overlay networks only; `macvlan`
/// and `ipvlan` put containers on the host's LAN past every firewall,
/// other drivers are plugins.
fn network_create(b: &Value, cx: &mut Cx) {
    for (k, v) in members(b, cx, "") {
        match fold(k).as_str() {
            "name" | "checkduplicate" | "scope" | "enableipv4" | "enableipv6" | "internal"
            | "attachable" | "configonly" | "configfrom" => {}
            "labels" => labels(v, cx, "Labels"),
            "driver" => {
                if !one_of(v, &["", "bridge", "overlay"]) {
                    cx.refuse(
                        Check::Network,
                        format!("Driver {} (bridge and overlay pass; macvlan and ipvlan put containers on the host's LAN)", json(v)),
                    );
                }
            }
            "ingress" => {
                if truthy(v) {
                    cx.refuse(Check::Network, "Ingress (the swarm routing mesh)");
                }
            }
            "options" => {
                for (o, _) in members(v, cx, "Options") {
                    if !NETWORK_OPTIONS.contains(&o.as_str()) {
                        cx.refuse(Check::Network, format!("Options {o:?}"));
                    }
                }
            }
            "ipam" => {
                for (ik, iv) in members(v, cx, "IPAM") {
                    match fold(ik).as_str() {
                        "config" | "options" => {}
                        "driver" => {
                            if !one_of(iv, &["", "default"]) {
                                cx.refuse(
                                    Check::Network,
                                    format!("IPAM.Driver {} (an IPAM plugin)", json(iv)),
                                );
                            }
                        }
                        _ => unknown(cx, "IPAM.", ik),
                    }
                }
            }
            _ => unknown(cx, "", k),
        }
    }
}

/// `POST /networks/{id}/connect`: the container named must be visible.
fn network_connect(b: &Value, cx: &mut Cx) {
    for (k, v) in members(b, cx, "") {
        match fold(k).as_str() {
            "container" => {
                if let Some(c) = v.as_str() {
                    cx.reference(c, RefKind::Connect, "Container");
                }
            }
            "endpointconfig" => endpoint(v, cx, "EndpointConfig."),
            _ => unknown(cx, "", k),
        }
    }
}

/// A swarm service: the task's container gets the same checks as a
/// container's create.
fn service(b: &Value, cx: &mut Cx) {
    let Some(task) = b.get("TaskTemplate") else {
        return;
    };
    if let Some(spec) = task.get("ContainerSpec") {
        container_spec(spec, cx);
    }
    if task.get("PluginSpec").is_some_and(|p| !p.is_null()) {
        cx.refuse(Check::Plugin, "TaskTemplate.PluginSpec (a plugin service)");
    }
    if let Some(rt) = task.get("Runtime").and_then(Value::as_str) {
        if !matches!(rt, "" | "container") {
            cx.refuse(Check::Plugin, format!("TaskTemplate.Runtime {rt:?}"));
        }
    }
    for nets in [task.get("Networks"), b.get("Networks")]
        .into_iter()
        .flatten()
    {
        for n in nets.items() {
            if n.get("Target")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("host"))
            {
                cx.refuse(Check::HostNetwork, "Networks Target host");
            }
        }
    }
}

fn container_spec(spec: &Value, cx: &mut Cx) {
    let at = "ContainerSpec.";
    for (k, v) in members(spec, cx, at) {
        match fold(k).as_str() {
            "mounts" => {
                for m in v.items() {
                    mount(m, cx, "ContainerSpec.Mounts");
                }
            }
            "capabilityadd" => capabilities(v, cx, "ContainerSpec.CapabilityAdd"),
            "sysctls" => sysctls(v, cx, "ContainerSpec.Sysctls"),
            "privileges" => privileges(v, cx),
            "labels" => labels(v, cx, "ContainerSpec.Labels"),
            "image" | "command" | "args" | "hostname" | "env" | "dir" | "user" | "groups"
            | "init" | "stopsignal" | "stopgraceperiod" | "tty" | "openstdin" | "readonly"
            | "healthcheck" | "hosts" | "dnsconfig" | "secrets" | "configs" | "isolation"
            | "capabilitydrop" | "ulimits" | "oomscoreadj" => {}
            _ => unknown(cx, at, k),
        }
    }
}

/// `Privileges`: only the defaults pass.
fn privileges(p: &Value, cx: &mut Cx) {
    let at = "ContainerSpec.Privileges.";
    for (k, v) in members(p, cx, at) {
        match fold(k).as_str() {
            "credentialspec" | "nonewprivileges" => {}
            "selinuxcontext" => {
                if !v.is_null() {
                    cx.refuse(Check::Unconfined, format!("{at}{k}"));
                }
            }
            "seccomp" | "apparmor" => {
                let m = v.get("Mode").and_then(Value::as_str).unwrap_or("");
                let only_mode = members(v, cx, at).iter().all(|(x, _)| fold(x) == "mode");
                if !(matches!(m, "" | "default") && only_mode) {
                    cx.refuse(Check::Unconfined, format!("{at}{k} {}", short(&json(v))));
                }
            }
            _ => unknown(cx, at, k),
        }
    }
}

/// Dispatches on the action.
pub fn body(action: Action, b: &Value, cx: &mut Cx) {
    match action {
        Action::ContainersCreate => create(b, cx),
        Action::ContainersUpdate => update(b, cx),
        Action::ContainersStart if !empty(b) => cx.refuse(
            Check::StartBody,
            "a body on container start (HostConfig at start)",
        ),
        Action::ExecCreate => exec(b, cx),
        Action::VolumesCreate => volume_create(b, cx),
        Action::NetworksCreate => network_create(b, cx),
        Action::NetworksConnect => network_connect(b, cx),
        Action::ServicesCreate | Action::ServicesUpdate => service(b, cx),
        _ => {}
    }
}

/// Puts each looked-up container's full id in place of the name the
/// client wrote, in the joins and `VolumesFrom` of a create and the
/// `Container` of a network connect, so that a container renamed between
/// the check and dockerd's reading is not the one joined.
pub fn pin(action: Action, b: &mut Value, ids: &std::collections::HashMap<String, String>) {
    fn walk(m: &mut [(String, Value)], ids: &std::collections::HashMap<String, String>) {
        for (k, v) in m.iter_mut() {
            match fold(k).as_str() {
                "networkmode" | "pidmode" | "ipcmode" => {
                    if let Value::String(s) = v {
                        if let Some(id) = joined(s).and_then(|c| ids.get(c)) {
                            *s = format!("container:{id}");
                        }
                    }
                }
                "volumesfrom" => {
                    if let Value::Array(a) = v {
                        for x in a.iter_mut() {
                            if let Value::String(s) = x {
                                let (name, mode) = match s.split_once(':') {
                                    Some((n, m)) => (n.to_string(), format!(":{m}")),
                                    None => (s.clone(), String::new()),
                                };
                                if let Some(id) = ids.get(&name) {
                                    *s = format!("{id}{mode}");
                                }
                            }
                        }
                    }
                }
                "hostconfig" => {
                    if let Value::Object(h) = v {
                        walk(h, ids);
                    }
                }
                _ => {}
            }
        }
    }
    let Value::Object(m) = b else { return };
    match action {
        Action::ContainersCreate => walk(m, ids),
        Action::NetworksConnect => {
            for (k, v) in m.iter_mut() {
                if fold(k) == "container" {
                    if let Value::String(s) = v {
                        if let Some(id) = ids.get(s.as_str()) {
                            *s = id.clone();
                        }
                    }
                }
            }
        }
        _ => {}
    }
}
