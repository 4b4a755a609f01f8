//! A container's `docker run` command, rebuilt from its inspect.
//!
//! The audit's fixes for a container started with `docker run` must be a
//! command that can be pasted and keeps every other setting (a fix that
//! silently drops the restart policy, a network or a volume breaks the
//! service it meant to secure). So this is an allow-list over the
//! inspect's `Config` and `HostConfig`: every key is either turned into
//! the `docker run` option that sets it (mirroring how the CLI's
//! `runconfig/opts` fills the same fields), or known to carry nothing the
//! CLI sets, or at its empty value. Any other key holding a value makes
//! the whole spec [`Recreate::Unsupported`], naming the key, and the audit
//! falls back to saying in words what to change. A key dockerd adds that
//! this list has never seen therefore never produces a command that drops
//! it.
//!
//! Settings that dockerd fills from the image at create time (`Env`,
//! `Cmd`, `WorkingDir`, `Labels`, `StopSignal`, `Healthcheck`) are passed
//! again as they are: the same value set twice is the same container.
//! What is deliberately left to the daemon: `CgroupnsMode` and `IpcMode`
//! `private` (the daemon's defaults, which differ between cgroup v1 and
//! v2 hosts), `MaskedPaths`/`ReadonlyPaths` (filled by the daemon unless
//! `--security-opt systempaths=unconfined`, which is passed), the
//! container's own hostname and generated MAC address.
//!
//! The environment is counted, not copied: it is passed by reference
//! (`--env-file`, written from `docker inspect` when the fix runs), so no
//! secret is printed. The CLI's env-file reader splits lines, drops
//! leading whitespace and skips `#` lines, so an entry that would not
//! survive that round trip makes the spec unsupported.

use bollard::models as api;
use dockward_model::{Recreate, RunOption, RunSpec};
use serde_json::{Map, Value};

/// The `docker run` spec of an inspected container.
pub fn recreate(c: &api::ContainerInspectResponse) -> Recreate {
    match spec(c) {
        Ok(s) => Recreate::Run(s),
        Err(why) => Recreate::Unsupported(why),
    }
}

struct Builder {
    opts: Vec<RunOption>,
}

impl Builder {
    fn flag(&mut self, flag: &str) {
        self.opts.push(RunOption {
            flag: flag.into(),
            value: None,
        });
    }
    fn opt(&mut self, flag: &str, value: impl Into<String>) {
        self.opts.push(RunOption {
            flag: flag.into(),
            value: Some(value.into()),
        });
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.iter().all(is_empty),
        Value::Object(o) => o.values().all(is_empty),
    }
}

fn strings(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) => a
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| "a list".to_string())
            })
            .collect(),
        _ => Err("a list".into()),
    }
}

fn string_map(v: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// A Go duration in nanoseconds as `time.ParseDuration` reads it back.
fn duration(ns: i64) -> String {
    if ns % 1_000_000_000 == 0 {
        format!("{}s", ns / 1_000_000_000)
    } else if ns % 1_000_000 == 0 {
        format!("{}ms", ns / 1_000_000)
    } else {
        format!("{ns}ns")
    }
}

fn unsupported(section: &str, key: &str) -> String {
    format!("{section}.{key}")
}

fn spec(c: &api::ContainerInspectResponse) -> Result<RunSpec, String> {
    let config = serde_json::to_value(c.config.clone().unwrap_or_default())
        .map_err(|e| format!("Config ({e})"))?;
    let host = serde_json::to_value(c.host_config.clone().unwrap_or_default())
        .map_err(|e| format!("HostConfig ({e})"))?;
    let empty = Map::new();
    let config = config.as_object().unwrap_or(&empty);
    let host = host.as_object().unwrap_or(&empty);
    let id = c.id.clone().unwrap_or_default();
    let mut b = Builder { opts: Vec::new() };
    let network_mode = host
        .get("NetworkMode")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let shares_net = network_mode == "host" || network_mode.starts_with("container:");

    // Config, in the CLI's order of options where it matters to a reader.
    let mut env = 0;
    let mut entrypoint: Vec<String> = Vec::new();
    let mut cmd: Vec<String> = Vec::new();
    let mut image = String::new();
    let mut exposed = Vec::new();
    for (key, v) in config {
        match key.as_str() {
            // The short id is the default hostname; a container sharing
            // another's (or the host's) network has that one's.
            "Hostname" => {
                let h = v.as_str().unwrap_or_default();
                let generated = h.len() == 12 && id.starts_with(h);
                if !(h.is_empty() || shares_net || generated) {
                    b.opt("--hostname", h);
                }
            }
            "Domainname" if !is_empty(v) => b.opt("--domainname", v.as_str().unwrap_or_default()),
            "User" if !is_empty(v) => b.opt("--user", v.as_str().unwrap_or_default()),
            "Tty" if v == &Value::Bool(true) => b.flag("--tty"),
            "OpenStdin" if v == &Value::Bool(true) => b.flag("--interactive"),
            "WorkingDir" if !is_empty(v) => b.opt("--workdir", v.as_str().unwrap_or_default()),
            "StopSignal" if !is_empty(v) => {
                b.opt("--stop-signal", v.as_str().unwrap_or_default());
            }
            "StopTimeout" if !v.is_null() => b.opt("--stop-timeout", int(v).to_string()),
            "MacAddress" if !is_empty(v) => b.opt("--mac-address", v.as_str().unwrap_or_default()),
            "Labels" => {
                for (k, val) in string_map(v) {
                    b.opt("--label", format!("{k}={val}"));
                }
            }
            "Env" => {
                let list = strings(v).map_err(|_| unsupported("Config", "Env"))?;
                for e in &list {
                    env_file_safe(e)?;
                }
                env = list.len();
            }
            "Entrypoint" => {
                entrypoint = strings(v).map_err(|_| unsupported("Config", "Entrypoint"))?;
            }
            "Cmd" => cmd = strings(v).map_err(|_| unsupported("Config", "Cmd"))?,
            "Image" => image = v.as_str().unwrap_or_default().to_string(),
            "ExposedPorts" => {
                exposed = v
                    .as_object()
                    .map(|o| o.keys().cloned().collect())
                    .unwrap_or_default();
                exposed.sort();
            }
            "Healthcheck" => healthcheck(&mut b, v)?,
            // Set by the CLI for `-a`/`-d`, by the image (`VOLUME` is in
            // `Mounts`), or build-time only.
            "AttachStdin" | "AttachStdout" | "AttachStderr" | "StdinOnce" | "Volumes"
            | "OnBuild" | "Shell" | "ArgsEscaped" => {}
            _ if is_empty(v) => {}
            _ => return Err(unsupported("Config", key)),
        }
    }
    if image.is_empty() {
        return Err("Config.Image (empty)".into());
    }

    let mut bind_targets: Vec<String> = Vec::new();
    for (key, v) in host {
        match key.as_str() {
            "Binds" => {
                for bind in strings(v).map_err(|_| unsupported("HostConfig", "Binds"))? {
                    if let Some(target) = bind.split(':').nth(1) {
                        bind_targets.push(target.to_string());
                    }
                    b.opt("--volume", bind);
                }
            }
            "Mounts" => {
                for m in v.as_array().into_iter().flatten() {
                    let (spec, target) = mount(m)?;
                    bind_targets.push(target);
                    b.opt("--mount", spec);
                }
            }
            "Tmpfs" => {
                for (dst, opts) in string_map(v) {
                    bind_targets.push(dst.clone());
                    b.opt(
                        "--tmpfs",
                        if opts.is_empty() {
                            dst
                        } else {
                            format!("{dst}:{opts}")
                        },
                    );
                }
            }
            "NetworkMode" => {
                if !matches!(network_mode.as_str(), "" | "default" | "bridge") {
                    b.opt("--network", network_mode.clone());
                }
            }
            "PortBindings" => {
                let mut ports: Vec<(&String, &Value)> = v
                    .as_object()
                    .map(|o| o.iter().collect())
                    .unwrap_or_default();
                ports.sort_by_key(|(k, _)| port_order(k));
                for (port, binds) in ports {
                    for bind in binds.as_array().into_iter().flatten() {
                        let ip = bind.get("HostIp").and_then(Value::as_str).unwrap_or("");
                        let hp = bind.get("HostPort").and_then(Value::as_str).unwrap_or("");
                        b.opt("--publish", publish(ip, hp, port));
                    }
                }
            }
            "PublishAllPorts" if v == &Value::Bool(true) => {
                b.flag("--publish-all");
                for e in &exposed {
                    b.opt("--expose", e.clone());
                }
            }
            "RestartPolicy" => {
                let name = v.get("Name").and_then(Value::as_str).unwrap_or("");
                let max = v.get("MaximumRetryCount").map_or(0, int);
                match (name, max) {
                    ("" | "no", _) => {}
                    ("on-failure", n) if n > 0 => b.opt("--restart", format!("on-failure:{n}")),
                    (n, _) => b.opt("--restart", n),
                }
            }
            "LogConfig" => {
                let driver = v.get("Type").and_then(Value::as_str).unwrap_or("");
                let opts = v.get("Config").map(string_map).unwrap_or_default();
                if !(matches!(driver, "" | "json-file") && opts.is_empty()) {
                    b.opt("--log-driver", driver);
                    for (k, val) in opts {
                        b.opt("--log-opt", format!("{k}={val}"));
                    }
                }
            }
            "AutoRemove" if v == &Value::Bool(true) => b.flag("--rm"),
            "Privileged" if v == &Value::Bool(true) => b.flag("--privileged"),
            "ReadonlyRootfs" if v == &Value::Bool(true) => b.flag("--read-only"),
            "OomKillDisable" if v == &Value::Bool(true) => b.flag("--oom-kill-disable"),
            "Init" => match v.as_bool() {
                Some(true) => b.flag("--init"),
                // A bool flag takes its value only after `=`.
                Some(false) => b.flag("--init=false"),
                None => {}
            },
            "CapAdd" | "CapDrop" | "Dns" | "DnsOptions" | "DnsSearch" | "ExtraHosts"
            | "GroupAdd" | "SecurityOpt" | "VolumesFrom" | "DeviceCgroupRules" => {
                let flag = match key.as_str() {
                    "CapAdd" => "--cap-add",
                    "CapDrop" => "--cap-drop",
                    "Dns" => "--dns",
                    "DnsOptions" => "--dns-option",
                    "DnsSearch" => "--dns-search",
                    "ExtraHosts" => "--add-host",
                    "GroupAdd" => "--group-add",
                    "SecurityOpt" => "--security-opt",
                    "VolumesFrom" => "--volumes-from",
                    _ => "--device-cgroup-rule",
                };
                for s in strings(v).map_err(|_| unsupported("HostConfig", key))? {
                    b.opt(flag, s);
                }
            }
            "Sysctls" | "StorageOpt" => {
                let flag = if key == "Sysctls" {
                    "--sysctl"
                } else {
                    "--storage-opt"
                };
                for (k, val) in string_map(v) {
                    b.opt(flag, format!("{k}={val}"));
                }
            }
            "Devices" => {
                for d in v.as_array().into_iter().flatten() {
                    let on_host = d.get("PathOnHost").and_then(Value::as_str).unwrap_or("");
                    let inside = d
                        .get("PathInContainer")
                        .and_then(Value::as_str)
                        .unwrap_or(on_host);
                    let perms = d
                        .get("CgroupPermissions")
                        .and_then(Value::as_str)
                        .unwrap_or("rwm");
                    b.opt("--device", format!("{on_host}:{inside}:{perms}"));
                }
            }
            "Ulimits" => {
                for u in v.as_array().into_iter().flatten() {
                    let name = u.get("Name").and_then(Value::as_str).unwrap_or("");
                    let soft = u.get("Soft").map_or(0, int);
                    let hard = u.get("Hard").map_or(0, int);
                    b.opt("--ulimit", format!("{name}={soft}:{hard}"));
                }
            }
            "PidMode" | "UTSMode" | "UsernsMode" | "CgroupParent" | "CpusetCpus" | "CpusetMems"
            | "VolumeDriver"
                if !is_empty(v) =>
            {
                let flag = match key.as_str() {
                    "PidMode" => "--pid",
                    "UTSMode" => "--uts",
                    "UsernsMode" => "--userns",
                    "CgroupParent" => "--cgroup-parent",
                    "CpusetCpus" => "--cpuset-cpus",
                    "CpusetMems" => "--cpuset-mems",
                    _ => "--volume-driver",
                };
                b.opt(flag, v.as_str().unwrap_or_default());
            }
            "IpcMode" => {
                let m = v.as_str().unwrap_or("");
                if !matches!(m, "" | "private") {
                    b.opt("--ipc", m);
                }
            }
            "Runtime" => {
                let r = v.as_str().unwrap_or("");
                if !matches!(r, "" | "runc") {
                    b.opt("--runtime", r);
                }
            }
            "ShmSize" => {
                let n = int(v);
                if n != 0 && n != 64 * 1024 * 1024 {
                    b.opt("--shm-size", n.to_string());
                }
            }
            "PidsLimit" => {
                let n = int(v);
                if n > 0 {
                    b.opt("--pids-limit", n.to_string());
                }
            }
            "MemorySwappiness" => {
                if let Some(n) = v.as_i64().filter(|n| *n >= 0) {
                    b.opt("--memory-swappiness", n.to_string());
                }
            }
            "Memory" | "MemoryReservation" | "MemorySwap" | "CpuShares" | "CpuPeriod"
            | "CpuQuota" | "CpuRealtimePeriod" | "CpuRealtimeRuntime" | "OomScoreAdj"
            | "BlkioWeight"
                if !is_empty(v) =>
            {
                let flag = match key.as_str() {
                    "Memory" => "--memory",
                    "MemoryReservation" => "--memory-reservation",
                    "MemorySwap" => "--memory-swap",
                    "CpuShares" => "--cpu-shares",
                    "CpuPeriod" => "--cpu-period",
                    "CpuQuota" => "--cpu-quota",
                    "CpuRealtimePeriod" => "--cpu-rt-period",
                    "CpuRealtimeRuntime" => "--cpu-rt-runtime",
                    "OomScoreAdj" => "--oom-score-adj",
                    _ => "--blkio-weight",
                };
                b.opt(flag, int(v).to_string());
            }
            "NanoCpus" if int(v) > 0 => {
                let n = int(v);
                b.opt(
                    "--cpus",
                    format!("{}.{:09}", n / 1_000_000_000, n % 1_000_000_000),
                );
            }
            // Left to the daemon (see the module docs), or client-side.
            "CgroupnsMode" | "MaskedPaths" | "ReadonlyPaths" | "ConsoleSize"
            | "ContainerIDFile" => {}
            "Isolation" if matches!(v.as_str(), Some("" | "default")) => {}
            _ if is_empty(v) => {}
            _ => return Err(unsupported("HostConfig", key)),
        }
    }

    // dockerd appends `label=disable` to a privileged container's, or one
    // sharing the host's pid or ipc namespace (moby daemon/create.go,
    // `generateSecurityOpt`): it is the daemon's, and comes back with the
    // option that caused it, or goes with it.
    let is_true = |k: &str| host.get(k) == Some(&Value::Bool(true));
    let is_host = |k: &str| host.get(k).and_then(Value::as_str) == Some("host");
    if is_true("Privileged") || is_host("PidMode") || is_host("IpcMode") {
        if let Some(at) = b.opts.iter().rposition(|o| {
            o.flag == "--security-opt" && o.value.as_deref() == Some("label=disable")
        }) {
            b.opts.remove(at);
        }
    }

    // Anonymous volumes (from the image's VOLUME or `-v /path`): named
    // now, so the new container keeps their data.
    for m in c.mounts.iter().flatten() {
        let dst = m.destination.clone().unwrap_or_default();
        let is_volume = m.typ.as_deref() == Some("volume");
        if is_volume && !bind_targets.contains(&dst) {
            let name = m.name.clone().unwrap_or_default();
            if name.is_empty() {
                return Err(format!("Mounts ({dst}: a volume without a name)"));
            }
            let ro = if m.rw == Some(false) { ":ro" } else { "" };
            b.opt("--volume", format!("{name}:{dst}{ro}"));
        }
    }

    let hostname = c.config.as_ref().and_then(|c| c.hostname.as_ref());
    let connect = networks(&mut b, c, &network_mode, &id, hostname)?;

    let mut args = Vec::new();
    if let Some((first, rest)) = entrypoint.split_first() {
        b.opt("--entrypoint", first.clone());
        args.extend(rest.iter().cloned());
    }
    args.extend(cmd);
    Ok(RunSpec {
        options: b.opts,
        env,
        image,
        args,
        exposed,
        connect,
    })
}

/// An env-file line the CLI reads back as the same entry
/// (`opts.ParseEnvFile`).
fn env_file_safe(e: &str) -> Result<(), String> {
    let (key, _) = e
        .split_once('=')
        .ok_or_else(|| "Config.Env (an entry without '=')".to_string())?;
    let bad_key = key.is_empty()
        || key.starts_with('#')
        || key.chars().any(char::is_whitespace)
        || e.contains(['\n', '\r', '\0']);
    if bad_key {
        return Err("Config.Env (an entry an env file cannot hold)".into());
    }
    Ok(())
}

fn healthcheck(b: &mut Builder, v: &Value) -> Result<(), String> {
    if v.is_null() {
        return Ok(());
    }
    let test = strings(v.get("Test").unwrap_or(&Value::Null))
        .map_err(|_| "Config.Healthcheck".to_string())?;
    match test.first().map(String::as_str) {
        Some("NONE") => {
            b.flag("--no-healthcheck");
            return Ok(());
        }
        // The CLI can only set the shell form.
        Some("CMD-SHELL") if test.len() == 2 => b.opt("--health-cmd", test[1].clone()),
        None => {}
        Some(_) => return Err("Config.Healthcheck (an exec-form test)".into()),
    }
    for (key, flag) in [
        ("Interval", "--health-interval"),
        ("Timeout", "--health-timeout"),
        ("StartPeriod", "--health-start-period"),
        ("StartInterval", "--health-start-interval"),
    ] {
        let n = v.get(key).map_or(0, int);
        if n > 0 {
            b.opt(flag, duration(n));
        }
    }
    let retries = v.get("Retries").map_or(0, int);
    if retries > 0 {
        b.opt("--health-retries", retries.to_string());
    }
    Ok(())
}

/// A `HostConfig.Mounts` entry as a `--mount` value, and its target.
fn mount(m: &Value) -> Result<(String, String), String> {
    let bad = || "HostConfig.Mounts (an option --mount cannot express)".to_string();
    let o = m.as_object().ok_or_else(bad)?;
    let mut parts = Vec::new();
    let mut target = String::new();
    for (k, v) in o {
        match k.as_str() {
            "Type" => parts.insert(0, format!("type={}", v.as_str().unwrap_or(""))),
            "Source" if !is_empty(v) => parts.push(format!("source={}", v.as_str().unwrap_or(""))),
            "Target" => {
                target = v.as_str().unwrap_or("").to_string();
                parts.push(format!("target={target}"));
            }
            "ReadOnly" if v == &Value::Bool(true) => parts.push("readonly".into()),
            "BindOptions" => {
                for (bk, bv) in v.as_object().into_iter().flatten() {
                    match bk.as_str() {
                        "Propagation" if !is_empty(bv) => {
                            parts.push(format!("bind-propagation={}", bv.as_str().unwrap_or("")));
                        }
                        "NonRecursive" if bv == &Value::Bool(true) => {
                            parts.push("bind-recursive=disabled".into());
                        }
                        _ if is_empty(bv) => {}
                        _ => return Err(bad()),
                    }
                }
            }
            "VolumeOptions" => {
                for (vk, vv) in v.as_object().into_iter().flatten() {
                    match vk.as_str() {
                        "NoCopy" if vv == &Value::Bool(true) => parts.push("volume-nocopy".into()),
                        "Subpath" if !is_empty(vv) => {
                            parts.push(format!("volume-subpath={}", vv.as_str().unwrap_or("")));
                        }
                        _ if is_empty(vv) => {}
                        _ => return Err(bad()),
                    }
                }
            }
            "TmpfsOptions" => {
                for (tk, tv) in v.as_object().into_iter().flatten() {
                    match tk.as_str() {
                        "SizeBytes" if !is_empty(tv) => {
                            parts.push(format!("tmpfs-size={}", int(tv)));
                        }
                        "Mode" if !is_empty(tv) => {
                            parts.push(format!("tmpfs-mode={:o}", int(tv)));
                        }
                        _ if is_empty(tv) => {}
                        _ => return Err(bad()),
                    }
                }
            }
            _ if is_empty(v) => {}
            _ => return Err(bad()),
        }
    }
    // --mount is comma-separated, with CSV quoting: keep to values that
    // need none.
    if parts.iter().any(|p| p.contains([',', '"', '\n'])) {
        return Err(bad());
    }
    Ok((parts.join(","), target))
}

fn port_order(key: &str) -> (u16, String) {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    (port.parse().unwrap_or(0), proto.to_string())
}

/// A `--publish` value: `[ip:]hostPort:containerPort/proto`, an IPv6
/// address in brackets.
pub fn publish(ip: &str, host_port: &str, container: &str) -> String {
    let container = if container.contains('/') {
        container.to_string()
    } else {
        format!("{container}/tcp")
    };
    match ip {
        "" if host_port.is_empty() => container,
        "" => format!("{host_port}:{container}"),
        ip if ip.contains(':') => format!("[{ip}]:{host_port}:{container}"),
        ip => format!("{ip}:{host_port}:{container}"),
    }
}

/// The primary network's aliases and fixed addresses as `docker run`
/// options, and one `docker network connect` per further network.
fn networks(
    b: &mut Builder,
    c: &api::ContainerInspectResponse,
    mode: &str,
    id: &str,
    hostname: Option<&String>,
) -> Result<Vec<Vec<String>>, String> {
    let primary = match mode {
        "" | "default" => "bridge",
        m => m,
    };
    let mut nets: Vec<(String, api::EndpointSettings)> = c
        .network_settings
        .as_ref()
        .and_then(|s| s.networks.clone())
        .map(|m| m.into_iter().collect())
        .unwrap_or_default();
    nets.sort_by(|a, b| a.0.cmp(&b.0));
    let mut connect = Vec::new();
    for (name, ep) in nets {
        if ep.links.as_ref().is_some_and(|l| !l.is_empty()) {
            return Err("HostConfig.Links".into());
        }
        if ep.driver_opts.as_ref().is_some_and(|d| !d.is_empty()) {
            return Err(format!("NetworkSettings.Networks.{name}.DriverOpts"));
        }
        let mut opts = Vec::new();
        // dockerd adds the short id and the hostname as aliases itself
        // (before 25.0; moby daemon/container_operations.go).
        for a in ep.aliases.iter().flatten() {
            let own = (a.len() == 12 && id.starts_with(a.as_str())) || Some(a) == hostname;
            if !own {
                opts.push(("--alias", a.clone()));
            }
        }
        if let Some(ipam) = &ep.ipam_config {
            if let Some(ip) = ipam.ipv4_address.as_ref().filter(|s| !s.is_empty()) {
                opts.push(("--ip", ip.clone()));
            }
            if let Some(ip) = ipam.ipv6_address.as_ref().filter(|s| !s.is_empty()) {
                opts.push(("--ip6", ip.clone()));
            }
            if ipam.link_local_ips.as_ref().is_some_and(|l| !l.is_empty()) {
                return Err(format!("NetworkSettings.Networks.{name}.IPAMConfig"));
            }
        }
        if name == primary || mode == "host" || mode == "none" || mode.starts_with("container:") {
            for (flag, v) in opts {
                let flag = if flag == "--alias" {
                    "--network-alias"
                } else {
                    flag
                };
                b.opt(flag, v);
            }
        } else {
            let mut words: Vec<String> = Vec::new();
            for (flag, v) in opts {
                words.push(flag.into());
                words.push(v);
            }
            words.push(name);
            connect.push(words);
        }
    }
    Ok(connect)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspect(v: Value) -> api::ContainerInspectResponse {
        serde_json::from_value(v).expect("inspect")
    }

    fn fixture(name: &str) -> api::ContainerInspectResponse {
        let p = format!(
            "{}/tests/fixtures/dockerd-20.10/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(p).expect("fixture")).expect("json");
        let v = match v {
            Value::Array(mut a) => a.remove(0),
            v => v,
        };
        inspect(v)
    }

    fn words(s: &RunSpec) -> Vec<String> {
        s.options
            .iter()
            .flat_map(|o| std::iter::once(o.flag.clone()).chain(o.value.clone()))
            .collect()
    }

    #[test]
    fn a_plain_dockerd_20_10_container_is_its_ports_and_command() {
        let Recreate::Run(s) = recreate(&fixture("inspect-dwt-r.json")) else {
            panic!("not rebuilt");
        };
        assert_eq!(words(&s), ["--publish", "8081:80/tcp"]);
        assert_eq!(s.image, "dockward-test/busybox:1");
        assert_eq!(s.args, ["httpd", "-f", "-p", "80"]);
        assert_eq!(s.env, 1);
    }

    #[test]
    fn every_setting_becomes_its_option() {
        let c = inspect(serde_json::json!({
            "Id": "0123456789abcdef0123",
            "Config": {
                "Hostname": "web1", "User": "app", "Env": ["A=1", "B=x y"],
                "Entrypoint": ["/sbin/tini", "--"], "Cmd": ["app", "serve"],
                "Image": "shop/web:2", "Labels": {"tier": "front"},
                "Healthcheck": {"Test": ["CMD-SHELL", "nc -z 127.0.0.1 80"], "Interval": 30000000000i64, "Retries": 3}
            },
            "HostConfig": {
                "Binds": ["/srv/web:/data:ro"], "NetworkMode": "shop",
                "PortBindings": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}]},
                "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 5},
                "CapAdd": ["NET_ADMIN"], "CapDrop": ["ALL"], "Privileged": true,
                "SecurityOpt": ["label=disable"],
                "Devices": [{"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"}],
                "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}],
                "Memory": 268435456, "NanoCpus": 1500000000, "PidsLimit": 100,
                "ShmSize": 67108864, "IpcMode": "private", "CgroupnsMode": "private",
                "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m"}},
                "Tmpfs": {"/run": "rw,size=64m"}
            },
            "Mounts": [
                {"Type": "bind", "Source": "/srv/web", "Destination": "/data", "RW": false},
                {"Type": "volume", "Name": "abc123", "Destination": "/var/cache", "RW": true}
            ],
            "NetworkSettings": {"Networks": {
                "shop": {"Aliases": ["0123456789ab", "web"], "IPAMConfig": {"IPv4Address": "10.5.0.9"}},
                "backend": {"Aliases": ["db-client"]}
            }}
        }));
        let Recreate::Run(s) = recreate(&c) else {
            panic!("not rebuilt: {:?}", recreate(&c));
        };
        let w = words(&s).join(" ");
        for want in [
            "--hostname web1",
            "--user app",
            "--label tier=front",
            "--health-cmd nc -z 127.0.0.1 80 --health-interval 30s --health-retries 3",
            "--volume /srv/web:/data:ro",
            "--network shop",
            "--publish 0.0.0.0:8080:80/tcp --publish [::]:8080:80/tcp",
            "--restart on-failure:5",
            "--cap-add NET_ADMIN",
            "--cap-drop ALL",
            "--privileged",
            "--device /dev/fuse:/dev/fuse:rwm",
            "--ulimit nofile=1024:2048",
            "--memory 268435456",
            "--cpus 1.500000000",
            "--pids-limit 100",
            "--log-driver json-file --log-opt max-size=10m",
            "--tmpfs /run:rw,size=64m",
            "--volume abc123:/var/cache",
            "--network-alias web --ip 10.5.0.9",
            "--entrypoint /sbin/tini",
        ] {
            assert!(w.contains(want), "{want:?} missing from {w}");
        }
        assert!(!w.contains("--shm-size") && !w.contains("--ipc"), "{w}");
        assert!(!w.contains("0123456789ab"), "the default alias: {w}");
        assert!(!w.contains("label=disable"), "the daemon's own: {w}");
        assert_eq!(s.args, ["--", "app", "serve"]);
        assert_eq!(s.env, 2);
        assert_eq!(s.connect, [vec!["--alias", "db-client", "backend"]]);
    }

    #[test]
    fn an_unknown_setting_names_itself_instead_of_being_dropped() {
        for (section, key, value) in [
            ("HostConfig", "Links", serde_json::json!(["/db:/web/db"])),
            (
                "HostConfig",
                "BlkioDeviceReadBps",
                serde_json::json!([{"Path": "/dev/sda", "Rate": 1}]),
            ),
            (
                "HostConfig",
                "DeviceRequests",
                serde_json::json!([{"Driver": "nvidia", "Count": -1}]),
            ),
            ("HostConfig", "Annotations", serde_json::json!({"a": "b"})),
            ("Config", "NetworkDisabled", serde_json::json!(true)),
        ] {
            let mut v = serde_json::json!({
                "Id": "0123456789abcdef", "Config": {"Image": "x"}, "HostConfig": {}
            });
            v[section][key] = value;
            match recreate(&inspect(v)) {
                Recreate::Unsupported(why) => {
                    assert!(why.contains(key), "{key}: {why}");
                }
                other => panic!("{key}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_environment_an_env_file_cannot_hold_is_unsupported() {
        for env in ["A=line1\nline2", "#A=1", " A=1", "NOEQUALS"] {
            let v = serde_json::json!({
                "Id": "0123456789abcdef", "Config": {"Image": "x", "Env": [env]}
            });
            assert!(
                matches!(recreate(&inspect(v)), Recreate::Unsupported(_)),
                "{env:?}"
            );
        }
    }

    #[test]
    fn exec_form_healthchecks_cannot_be_set_by_the_cli() {
        let v = serde_json::json!({
            "Id": "0123456789abcdef",
            "Config": {"Image": "x", "Healthcheck": {"Test": ["CMD", "/bin/check"]}}
        });
        assert!(matches!(recreate(&inspect(v)), Recreate::Unsupported(_)));
    }

    #[test]
    fn publish_values_read_back_as_the_cli_parses_them() {
        assert_eq!(publish("", "8080", "80/tcp"), "8080:80/tcp");
        assert_eq!(publish("", "", "53/udp"), "53/udp");
        assert_eq!(publish("0.0.0.0", "", "53/udp"), "0.0.0.0::53/udp");
        assert_eq!(publish("::", "8080", "80/tcp"), "[::]:8080:80/tcp");
        assert_eq!(publish("127.0.0.1", "1", "2"), "127.0.0.1:1:2/tcp");
    }
}
