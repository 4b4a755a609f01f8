//! The body checks against the classes of host power (docs/proxy.md, the
//! threat model), each a body dockerd would act on, and the ordinary bodies that must keep passing.

use super::binds::fake::{FakeFs, Fixture};
use super::*;
use crate::gojson::parse;

fn fs() -> FakeFs {
    FakeFs {
        dirs: [
            "/srv",
            "/srv/data",
            "/etc",
            "/etc/cron.d",
            "/tmp",
            "/run",
            "/usr",
            "/usr/bin",
        ]
        .map(String::from)
        .to_vec(),
        links: [("/srv/data/evil".to_string(), "/etc".to_string())].into(),
        denied: vec![],
    }
}

fn run(action: Action, body: &str) -> (Vec<Check>, Vec<String>) {
    let fx = Fixture::new(fs());
    let env = fx.env();
    let v = parse(body.as_bytes()).unwrap();
    let o = check(action, Some(&v), &env);
    let mut c: Vec<Check> = o.refusals.iter().map(|r| r.check).collect();
    c.sort_unstable();
    c.dedup();
    (c, o.refs.iter().map(|r| r.container.clone()).collect())
}

fn ids(action: Action, body: &str) -> Vec<Check> {
    run(action, body).0
}

fn create(hc: &str) -> Vec<Check> {
    ids(
        Action::ContainersCreate,
        &format!(r#"{{"Image":"x","HostConfig":{hc}}}"#),
    )
}

#[test]
fn ordinary_work_passes() {
    // What the docker CLI 28 sends for `docker run -d --name web -p 80 -v data:/d img`.
    assert_eq!(
        ids(
            Action::ContainersCreate,
            r#"{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"ExposedPorts":{"80/tcp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["sh"],"Image":"img","Volumes":{},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{},"HostConfig":{"Binds":["data:/d","/srv/data/app:/app:ro"],"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"bridge","PortBindings":{"80/tcp":[{"HostIp":"","HostPort":""}]},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":["NET_BIND_SERVICE","chown"],"CapDrop":["ALL"],"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":["no-new-privileges"],"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":null,"OomKillDisable":null,"PidsLimit":null,"Ulimits":[],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"Mounts":[{"Type":"volume","Source":"v2","Target":"/v2"},{"Type":"tmpfs","Target":"/t"}],"Sysctls":{"net.ipv4.ip_unprivileged_port_start":"0"}},"NetworkingConfig":{"EndpointsConfig":{"bridge":{"Aliases":["web"]}}}}"#
        ),
        []
    );
    assert_eq!(
        ids(
            Action::ExecCreate,
            r#"{"Cmd":["ls"],"AttachStdout":true,"User":"0"}"#
        ),
        []
    );
    assert_eq!(
        ids(
            Action::VolumesCreate,
            r#"{"Name":"v","Driver":"local","DriverOpts":{},"Labels":{}}"#
        ),
        []
    );
    assert_eq!(
        ids(
            Action::VolumesCreate,
            r#"{"Name":"v","DriverOpts":{"type":"tmpfs","device":"tmpfs","o":"size=10m,uid=1000"}}"#
        ),
        []
    );
    assert_eq!(
        ids(
            Action::VolumesCreate,
            r#"{"Name":"v","DriverOpts":{"type":"none","o":"bind","device":"/srv/data/v"}}"#
        ),
        []
    );
    assert_eq!(
        ids(
            Action::NetworksCreate,
            r#"{"Name":"n","Driver":"bridge","Internal":false,"Attachable":false,"Ingress":false,"IPAM":{"Driver":"default","Config":[{"Subnet":"10.9.0.0/24"}]},"Options":{"com.docker.network.bridge.enable_icc":"false"},"Labels":{}}"#
        ),
        []
    );
    assert_eq!(
        ids(
            Action::ContainersUpdate,
            r#"{"Memory":1048576,"RestartPolicy":{"Name":"always"}}"#
        ),
        []
    );
}

#[test]
fn bind_sources() {
    for b in [
        "/:/h",
        "/.:/h",
        "/tmp/..:/h",
        "/etc/.:/h",
        "/etc/cron.d:/c",
        "/usr/bin:/b",
        "/srv/data/evil:/e",
        "/srv/data/../../etc:/e",
        "/srv:/s",
    ] {
        assert_eq!(
            create(&format!(r#"{{"Binds":["{b}"]}}"#)),
            [Check::Bind],
            "{b}"
        );
    }
    for b in [
        "/run/../run:/r",
        "/var/run/docker.sock:/s",
        "/run/containerd/containerd.sock:/s",
    ] {
        assert_eq!(
            create(&format!(r#"{{"Binds":["{b}"]}}"#)),
            [Check::Socket],
            "{b}"
        );
    }
    assert_eq!(
        create(r#"{"Mounts":[{"Type":"bind","Source":"/etc/.","Target":"/e"}]}"#),
        [Check::Bind]
    );
    // Legacy top level (dockerd ≤ 26 applies it).
    assert_eq!(
        ids(
            Action::ContainersCreate,
            r#"{"Image":"x","Binds":["/etc:/e"]}"#
        ),
        [Check::Bind]
    );
}

#[test]
fn volumes_that_mount_anything() {
    for opts in [
        r#"{"type":"ext4","device":"/dev/vda"}"#,
        r#"{"type":"proc","device":"proc"}"#,
        r#"{"type":"overlay","device":"overlay","o":"lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w"}"#,
        r#"{"type":"nfs","o":"addr=127.0.0.1","device":":/"}"#,
        r#"{"type":"none","o":"bind,remount","device":"/srv/data"}"#,
        r#"{"type":"tmpfs","device":"/dev/vda"}"#,
        r#"{"nosuch":"1"}"#,
    ] {
        assert_eq!(
            create(&format!(
                r#"{{"Mounts":[{{"Type":"volume","Target":"/v","VolumeOptions":{{"DriverConfig":{{"Name":"local","Options":{opts}}}}}}}]}}"#
            )),
            [Check::Volume],
            "{opts}"
        );
        assert_eq!(
            ids(
                Action::VolumesCreate,
                &format!(r#"{{"Name":"v","DriverOpts":{opts}}}"#)
            ),
            [Check::Volume],
            "{opts}"
        );
    }
    assert_eq!(
        ids(
            Action::VolumesCreate,
            r#"{"Name":"v","DriverOpts":{"type":"none","o":"bind","device":"/etc"}}"#
        ),
        [Check::Bind]
    );
    assert_eq!(
        ids(
            Action::VolumesCreate,
            r#"{"Name":"v","Driver":"someplugin"}"#
        ),
        [Check::Volume]
    );
    assert_eq!(create(r#"{"VolumeDriver":"someplugin"}"#), [Check::Volume]);
    assert_eq!(
        create(r#"{"Mounts":[{"Type":"npipe","Source":"x","Target":"/v"}]}"#),
        [Check::Volume]
    );
}

#[test]
fn confinement() {
    for o in [
        "seccomp=unconfined",
        "seccomp={\\\"defaultAction\\\":\\\"SCMP_ACT_ALLOW\\\"}",
        "apparmor=unconfined",
        "apparmor=docker-custom",
        "label=disable",
        "label=type:spc_t",
        "systempaths=unconfined",
        "no-new-privileges=false",
        "writable-cgroups=true",
    ] {
        assert_eq!(
            create(&format!(r#"{{"SecurityOpt":["{o}"]}}"#)),
            [Check::Unconfined],
            "{o}"
        );
    }
    assert_eq!(create(r#"{"MaskedPaths":[]}"#), [Check::Unconfined]);
    assert_eq!(create(r#"{"ReadonlyPaths":[]}"#), [Check::Unconfined]);
    assert_eq!(
        create(r#"{"Annotations":{"run.oci.x":"y"}}"#),
        [Check::Runtime]
    );
    assert_eq!(create(r#"{"Runtime":"other"}"#), [Check::Runtime]);
    for ty in ["syslog", "fluentd", "gelf", "splunk", "someplugin"] {
        assert_eq!(
            create(&format!(
                r#"{{"LogConfig":{{"Type":"{ty}","Config":{{"syslog-address":"unix:///var/run/docker.sock"}}}}}}"#
            )),
            [Check::LogDriver],
            "{ty}"
        );
    }
    assert_eq!(
        create(r#"{"LogConfig":{"Type":"json-file","Config":{"max-size":"1m"}}}"#),
        []
    );
    // One part is an anonymous volume's target, not a host path.
    assert_eq!(create(r#"{"Binds":["/data"]}"#), []);
}

#[test]
fn capabilities() {
    for c in [
        "\u{017F}ys_admin",
        "net_adm\u{0131}n",
        "SYS_TIME",
        "MAC_ADMIN",
        "SYSLOG",
        "ALL",
        "cap_sys_module",
        "BPF",
        "PERFMON",
    ] {
        assert_eq!(
            create(&format!(r#"{{"CapAdd":["{c}"]}}"#)),
            [Check::Capability],
            "{c}"
        );
    }
    assert_eq!(
        create(r#"{"Capabilities":["CAP_SYS_ADMIN"]}"#),
        [Check::Capability]
    );
}

#[test]
fn namespaces_devices_and_others() {
    assert_eq!(create(r#"{"NetworkMode":"host"}"#), [Check::HostNetwork]);
    assert_eq!(create(r#"{"NetworkMode":"HOST"}"#), [Check::HostNetwork]);
    for (k, v) in [
        ("PidMode", "host"),
        ("IpcMode", "host"),
        ("UTSMode", "host"),
        ("UsernsMode", "host"),
        ("CgroupnsMode", "host"),
        ("Cgroup", "container:x"),
        ("UTSMode", "container:x"),
    ] {
        assert_eq!(
            create(&format!(r#"{{"{k}":"{v}"}}"#)),
            [Check::HostNamespace],
            "{k}"
        );
    }
    assert_eq!(
        create(r#"{"PidMode":["host"]}"#),
        [Check::HostNamespace],
        "a non-string"
    );
    assert_eq!(create(r#"{"Privileged":"true"}"#), [Check::Privileged]);
    assert_eq!(
        create(r#"{"DeviceRequests":[{"Count":-1}]}"#),
        [Check::Device]
    );
    assert_eq!(
        create(r#"{"Sysctls":{"kernel.core_pattern":"|/x"}}"#),
        [Check::Sysctl]
    );
    assert_eq!(create(r#"{"SomeFutureField":true}"#), [Check::UnknownField]);
    assert_eq!(
        ids(
            Action::ContainersCreate,
            r#"{"Image":"x","NetworkingConfig":{"EndpointsConfig":{"host":{}}}}"#
        ),
        [Check::HostNetwork]
    );
    assert_eq!(
        ids(
            Action::ContainersUpdate,
            r#"{"Devices":[{"PathOnHost":"/dev/mem"}]}"#
        ),
        [Check::Device]
    );
    assert_eq!(
        ids(Action::ContainersStart, r#"{"Binds":["/:/h"]}"#),
        [Check::StartBody]
    );
    assert_eq!(
        ids(Action::ExecCreate, r#"{"Cmd":["sh"],"privileged":true}"#),
        [Check::ExecPrivileged]
    );
    assert_eq!(
        ids(Action::ExecCreate, r#"{"Cmd":["sh"],"Future":1}"#),
        [Check::UnknownField]
    );
}

#[test]
fn other_containers_are_references() {
    let (c, refs) = run(
        Action::ContainersCreate,
        r#"{"Image":"x","HostConfig":{"NetworkMode":"container:a","PidMode":"container:b","IpcMode":"container:c","VolumesFrom":["d:ro"],"Links":["/e:alias"]},"NetworkingConfig":{"EndpointsConfig":{"n":{"Links":["f:g"]}}}}"#,
    );
    assert_eq!(c, []);
    assert_eq!(refs, ["a", "b", "c", "d", "e", "f"]);
    let (_, refs) = run(Action::NetworksConnect, r#"{"Container":"h"}"#);
    assert_eq!(refs, ["h"]);
    // The full ids put in place of the names.
    let mut v =
        parse(br#"{"HostConfig":{"NetworkMode":"container:a","VolumesFrom":["d:ro","d"]}}"#)
            .unwrap();
    let ids: std::collections::HashMap<String, String> = [
        ("a".to_string(), "1111".to_string()),
        ("d".to_string(), "2222".to_string()),
    ]
    .into();
    fields::pin(Action::ContainersCreate, &mut v, &ids);
    assert_eq!(
        String::from_utf8(v.to_bytes()).unwrap(),
        r#"{"HostConfig":{"NetworkMode":"container:1111","VolumesFrom":["2222:ro","2222"]}}"#
    );
}

#[test]
fn networks() {
    for b in [
        r#"{"Name":"n","Driver":"macvlan","Options":{"parent":"eth0"}}"#,
        r#"{"Name":"n","Driver":"ipvlan"}"#,
        r#"{"Name":"n","Options":{"com.docker.network.bridge.name":"br0"}}"#,
        r#"{"Name":"n","Options":{"com.docker.network.bridge.gateway_mode_ipv4":"nat-unprotected"}}"#,
        r#"{"Name":"n","Ingress":true}"#,
        r#"{"Name":"n","IPAM":{"Driver":"plugin"}}"#,
    ] {
        assert_eq!(ids(Action::NetworksCreate, b), [Check::Network], "{b}");
    }
}

#[test]
fn services() {
    assert_eq!(
        ids(
            Action::ServicesCreate,
            r#"{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"x","Mounts":[{"Type":"bind","Source":"/etc","Target":"/e"}],"CapabilityAdd":["SYS_TIME"],"Sysctls":{"kernel.core_pattern":"x"},"Privileges":{"Seccomp":{"Mode":"unconfined"}}}}}"#
        ),
        [
            Check::Capability,
            Check::Unconfined,
            Check::Bind,
            Check::Sysctl
        ]
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
    assert_eq!(
        ids(
            Action::ServicesCreate,
            r#"{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"x"},"Networks":[{"Target":"host"}]}}"#
        ),
        [Check::HostNetwork]
    );
    assert_eq!(
        ids(
            Action::ServicesCreate,
            r#"{"Name":"s","TaskTemplate":{"PluginSpec":{"Name":"p"},"Runtime":"plugin"}}"#
        ),
        [Check::Plugin]
    );
    assert_eq!(
        ids(
            Action::ServicesUpdate,
            r#"{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"x","Privileges":{"Seccomp":{"Mode":"default"},"AppArmor":{"Mode":"default"}},"Mounts":[{"Type":"volume","Source":"v","Target":"/v"}]}}}"#
        ),
        []
    );
}

#[test]
fn swarm_join_tokens_are_blanked() {
    let body = br#"{"ID":"abc","JoinTokens":{"Worker":"SWMTKN-1-w","Manager":"SWMTKN-1-m"},"Spec":{"Name":"default"}}"#;
    let out = String::from_utf8(blank_join_tokens(body).unwrap()).unwrap();
    assert!(!out.contains("SWMTKN"), "{out}");
    assert!(
        out.contains(r#""Worker":"""#) && out.contains(r#""Name":"default""#),
        "{out}"
    );
    assert_eq!(
        blank_join_tokens(br#"{"message":"This node is not a swarm manager."}"#),
        None
    );
    assert!(swarm_secret_path(&["swarm".into(), "unlockkey".into()]));
    assert!(!swarm_secret_path(&["swarm".into()]));
}

#[test]
fn firewall_labels() {
    for labels in [
        r#"{"dockward.expose":"public"}"#,
        r#"{"dockward.expose.80/tcp":"0.0.0.0/0"}"#,
        r#"{"DOCKWARD.allow-from":"web"}"#,
        r#"{"dockward\u002eexpose":"public"}"#,
        r#"{"app":"x","Dockward.Expose":"public"}"#,
    ] {
        assert_eq!(
            ids(
                Action::ContainersCreate,
                &format!(r#"{{"Image":"x","Labels":{labels}}}"#)
            ),
            [Check::FirewallLabel],
            "{labels}"
        );
    }
    assert_eq!(
        ids(
            Action::NetworksCreate,
            r#"{"Name":"n","Labels":{"dockward.isolate":"false"}}"#
        ),
        [Check::FirewallLabel]
    );
    assert_eq!(
        ids(
            Action::ServicesCreate,
            r#"{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"x","Labels":{"dockward.expose":"public"}}}}"#
        ),
        [Check::FirewallLabel]
    );
    // Everyone else's labels, compose's included, pass.
    assert!(ids(
        Action::ContainersCreate,
        r#"{"Image":"x","Labels":{"com.docker.compose.project":"p","dockwardish":"1","traefik.enable":"true"}}"#
    )
    .is_empty());
    assert_eq!(
        ids(
            Action::ContainersCreate,
            r#"{"Image":"x","Labels":["dockward.expose"]}"#
        ),
        [Check::UnknownField]
    );
}
