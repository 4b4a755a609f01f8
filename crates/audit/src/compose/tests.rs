use super::*;

#[test]
fn short_port_syntax() {
    assert_eq!(parse_port("80"), (None, None, "80".into()));
    assert_eq!(
        parse_port("8080:80/udp"),
        (None, Some("8080".into()), "80".into())
    );
    assert_eq!(
        parse_port("127.0.0.1:8080:80"),
        (Some("127.0.0.1".into()), Some("8080".into()), "80".into())
    );
    assert_eq!(
        parse_port("[::1]:8080:80"),
        (Some("::1".into()), Some("8080".into()), "80".into())
    );
    assert_eq!(
        parse_port("[::]::80"),
        (Some("::".into()), None, "80".into())
    );
    assert_eq!(
        parse_port("127.0.0.1::80"),
        (Some("127.0.0.1".into()), Some(String::new()), "80".into())
    );
    assert!(all_interfaces(None));
    assert!(all_interfaces(Some("0.0.0.0")));
    assert!(!all_interfaces(Some("127.0.0.1")));
}

#[test]
fn mounts() {
    assert!(matches!(
        classify("/var/run/docker.sock"),
        Some(Mount::Socket)
    ));
    assert!(matches!(
        classify("/run/user/1000/docker.sock"),
        Some(Mount::Socket)
    ));
    for p in [
        "/",
        "/etc",
        "/etc/",
        "//etc",
        "/proc",
        "/sys/fs/cgroup",
        "/var/lib/docker/volumes",
        "/root/.ssh",
        "/usr",
        "/lib",
        "/dev",
        "/boot",
    ] {
        assert!(matches!(classify(p), Some(Mount::Sensitive)), "{p}");
    }
    for p in [
        "/etc/localtime",
        "/srv/data",
        "./conf",
        "/procfs",
        "/home/app/data",
    ] {
        assert!(classify(p).is_none(), "{p}");
    }
}

#[test]
fn malformed_yaml_is_a_diagnostic() {
    let e = audit_compose("c.yaml", "services:\n  a: [\n", &ComposeEnv::new()).unwrap_err();
    assert!(e.line >= 2, "{e}");
    let e = audit_compose("c.yaml", "- a\n- b\n", &ComposeEnv::new()).unwrap_err();
    assert_eq!(e.line, 1);
    assert!(audit_compose("c.yaml", "", &ComposeEnv::new())
        .unwrap()
        .is_empty());
    // Shapes docker-compose refuses are the invalid files they are, with
    // the path of the bad key.
    let e = audit_compose(
        "c.yaml",
        "services:\n  a: 3\n  b: [1]\n",
        &ComposeEnv::new(),
    )
    .unwrap_err();
    assert!(e.message.contains("services.a: must be a mapping"), "{e}");
    assert_eq!(e.line, 2);
    for (body, key) in [
        ("ports: \"8080:80\"", "services.w.ports: must be a list"),
        ("cap_add: SYS_ADMIN", "services.w.cap_add: must be a list"),
        (
            "environment: A=1",
            "services.w.environment: must be a mapping",
        ),
        (
            "privileged: maybe",
            "services.w.privileged: must be a boolean",
        ),
        (
            "privileged: [1]",
            "services.w.privileged: must be a boolean",
        ),
    ] {
        let text = format!("services:\n  w:\n    image: x\n    {body}\n");
        let e = audit_compose("c.yaml", &text, &ComposeEnv::new()).unwrap_err();
        assert!(e.message.contains(key), "{body}: {e}");
        assert!(e.message.contains("docker-compose refuses"), "{e}");
        assert_eq!(e.line, 4, "{body}");
    }
}

#[test]
fn booleans_as_docker_compose_reads_them() {
    let privileged = |v: &str, env: &[(&str, &str)]| {
        let env: ComposeEnv = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let text = format!(
            "services:\n  w:\n    image: x@sha256:{}\n    user: \"1\"\n    privileged: {v}\n",
            "0".repeat(64)
        );
        audit_compose("c.yaml", &text, &env)
            .unwrap()
            .iter()
            .any(|f| f.rule == "compose-privileged")
    };
    for yes in [
        "yes", "Yes", "YES", "on", "On", "ON", "y", "Y", "true", "True", "\"1\"",
    ] {
        assert!(privileged(yes, &[]), "{yes}");
    }
    for no in ["no", "off", "n", "N", "false", "False", "\"0\""] {
        assert!(!privileged(no, &[]), "{no}");
    }
    assert!(privileged("${P}", &[("P", "true")]));
    assert!(privileged("${P}", &[("P", "1")]));
    assert!(!privileged("${P}", &[("P", "false")]));
}

#[test]
fn secret_value_not_in_diagnostic() {
    let e = audit_compose(
        "c.yaml",
        "services:\n  a:\n    environment:\n      PASSWORD: \"hunter2\n",
        &ComposeEnv::new(),
    )
    .unwrap_err();
    assert!(!e.message.contains("hunter2"), "{e}");
}

#[test]
fn dockward_labels_are_checked_in_both_forms_and_under_deploy() {
    let text = "services:\n  web:\n    image: x:1\n    user: app\n    labels:\n      dockward.expose: pubic\n      dockward.exposed: public\n      other: x\n  api:\n    image: x:1\n    user: app\n    labels:\n      - \"dockward.expose=local\"\n      - \"dockward.isolat=true\"\n    deploy:\n      labels:\n        dockward.expose: \"10.0.0.300/8\"\n";
    let f = audit_compose("c.yml", text, &ComposeEnv::new()).unwrap();
    let got: Vec<(u32, &str)> = f
        .iter()
        .filter(|f| f.rule == "label-invalid")
        .map(|f| match &f.location {
            Location::File { line, .. } => (*line, f.evidence.as_str()),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(got.len(), 4, "{got:#?}");
    assert!(
        got[0].0 == 6 && got[0].1.contains("did you mean public?"),
        "{got:?}"
    );
    assert!(
        got[1].0 == 7 && got[1].1.contains("did you mean dockward.expose?"),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(l, e)| *l == 14 && e.contains("dockward.isolat")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(l, e)| *l == 17 && e.contains("deploy.labels")),
        "{got:?}"
    );
}

#[test]
fn a_stack_file_is_read_as_swarm_reads_it() {
    let stack = "services:\n  agent:\n    image: dockward-firewall:0.1.0\n    user: app\n    deploy:\n      mode: global\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n    ports:\n      - target: 80\n        published: 8080\n      - target: 81\n        published: 8081\n        mode: host\n  web:\n    image: web:1\n    user: app\n    deploy:\n      labels:\n        dockward.expose: local\n    ports: [\"8082:80\"]\n";
    let f = audit_compose("stack.yml", stack, &ComposeEnv::new()).unwrap();
    let rules: Vec<(&str, bool)> = f
        .iter()
        .map(|f| (f.rule.as_str(), f.suppressed.is_some()))
        .collect();
    // dockward's own image holds the socket: accepted. The ingress port is
    // open on every node; the host-mode one on each node with a task; web's
    // ports answer to its deploy label, and no host_ip fix is offered.
    assert_eq!(
        rules,
        [
            ("compose-docker-socket", true),
            ("service-port-all-nodes", false),
            ("compose-port-all-interfaces", false),
        ],
        "{f:#?}"
    );
    assert!(
        f[1].remediation.contains("dockward.expose: local"),
        "{}",
        f[1].remediation
    );
    assert!(
        !f[1].remediation.contains("127.0.0.1"),
        "{}",
        f[1].remediation
    );
    // A compose file with deploy.resources only is no stack: its ports
    // keep the compose fix.
    let compose = "services:\n  a:\n    image: a:1\n    user: app\n    deploy:\n      resources:\n        limits: {cpus: \"1\"}\n    ports: [\"8080:80\"]\n";
    let f = audit_compose("compose.yml", compose, &ComposeEnv::new()).unwrap();
    assert_eq!(f[0].rule, "compose-port-all-interfaces");
    assert!(f[0].remediation.contains("127.0.0.1:8080:80"));
}
