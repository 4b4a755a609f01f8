//! An image cannot open anything (docs/firewall.md, "Policy"): Docker merges an image's
//! labels into its containers' labels, so `LABEL dockward.expose=public` in
//! a pulled image would open its ports past the operator's default, and
//! `LABEL dockward.allow-from=…` would let a peer through isolation. Only a
//! label the container set itself, with a value other than the image's,
//! may open. Judged by packets from an outside host and between
//! containers, on both backends, with `apply` and with `watch` (snapshot
//! and event paths).

use super::*;
use dockward_testbench::{Image, Network};

fn http_server(what: &str, image: &str, args: &[&str]) -> Container {
    let mut all: Vec<&str> = args.to_vec();
    all.extend_from_slice(&[image, "sh", "-c", "httpd -p 81; httpd -f -p 80"]);
    Container::run(what, &all)
}

#[test]
fn an_images_labels_open_nothing() {
    require_engine!();
    let _s = Session::start();
    let a = OutsideHost::new();
    let net = Network::create("fwimgnet", &["--label", "dockward.isolate=true"]);
    let peer = Container::run(
        "fwimgpeer",
        &["--network", &net.name, IMAGE, "sleep", "600"],
    );
    let opener = Image::build(
        "fwimgopen",
        &format!(
            "LABEL dockward.expose=public dockward.expose.81=public tier=web dockward.allow-from={}",
            peer.name
        ),
    );
    let closer = Image::build("fwimgclose", "LABEL dockward.expose=deny");
    // The operator's file opens what carries `tier=web`: a label the image
    // carries is not the operator's word either.
    let policy = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        policy.path(),
        "[[container]]\nmatch = { label = \"tier=web\" }\nexpose = \"public\"\n",
    )
    .unwrap();
    let policy_path = policy.path().to_str().unwrap();
    let with_policy = |backend: &[&'static str]| {
        let mut v: Vec<&str> = backend.to_vec();
        v.extend_from_slice(&["--policy", policy_path]);
        v
    };
    let ports = ["-p", "80", "-p", "81"];
    // The image's labels alone.
    let img = http_server("fwimg", &opener.name, &ports);
    // The container says what the image says: it may be either, so it
    // counts as the image's.
    let same = http_server(
        "fwimgsame",
        &opener.name,
        &[&ports[..], &["-l", "dockward.expose=public"]].concat(),
    );
    // The container's own value, different from its image's: it holds.
    let own = http_server(
        "fwimgown",
        &closer.name,
        &[&ports[..], &["-l", "dockward.expose=public"]].concat(),
    );
    // Selected by the file through the image's label, and through its own.
    let by_image = Container::run(
        "fwimgsel",
        &["-p", "80", &opener.name, "httpd", "-f", "-p", "80"],
    );
    let by_own = httpd("fwimgselown", &["-p", "80", "-l", "tier=web"]);
    // On an isolated network: the image lets `peer` in; a container that
    // says so itself shows the same setup does let it in.
    let victim = http_server("fwimgvictim", &opener.name, &["--network", &net.name]);
    let control = http_server(
        "fwimgctl",
        IMAGE,
        &[
            "--network",
            &net.name,
            "-l",
            &format!("dockward.allow-from={}", peer.name),
        ],
    );
    // A compose service name in allow-from: `db` lets in project dwtp's
    // `api`. An image that claims to be that service (compose's labels in
    // its LABEL) is not let in; a container whose own labels say so is.
    let project = format!("dwtp{}", std::process::id());
    let claimer = Image::build(
        "fwimgclaim",
        &format!("LABEL com.docker.compose.project={project} com.docker.compose.service=api"),
    );
    let compose = |service: &str| {
        [
            format!("com.docker.compose.project={project}"),
            format!("com.docker.compose.service={service}"),
        ]
    };
    let [dbp, dbs] = compose("db");
    let db = http_server(
        "fwimgdb",
        IMAGE,
        &[
            "--network",
            &net.name,
            "-l",
            &dbp,
            "-l",
            &dbs,
            "-l",
            "dockward.allow-from=api",
        ],
    );
    let fake_api = Container::run(
        "fwimgfakeapi",
        &["--network", &net.name, &claimer.name, "sleep", "600"],
    );
    let [apip, apis] = compose("api");
    let real_api = Container::run(
        "fwimgrealapi",
        &[
            "--network",
            &net.name,
            "-l",
            &apip,
            "-l",
            &apis,
            IMAGE,
            "sleep",
            "600",
        ],
    );
    let reach_from = |src: &Container, dst: &Container| {
        docker_exec_ok(
            src,
            &format!(
                "echo 'GET / HTTP/1.0\r\n' | nc -w 2 {} 80 | head -c 12",
                dst.ip(&net.name)
            ),
        )
        .starts_with("HTTP/1.")
    };
    let reach = |dst: &Container| {
        docker_exec_ok(
            &peer,
            &format!(
                "echo 'GET / HTTP/1.0\r\n' | nc -w 2 {} 80 | head -c 12",
                dst.ip(&net.name)
            ),
        )
        .starts_with("HTTP/1.")
    };
    let port = |c: &Container, p: &str| host_port(c, p);
    let (i80, i81, s80, o80) = (
        port(&img, "80/tcp"),
        port(&img, "81/tcp"),
        port(&same, "80/tcp"),
        port(&own, "80/tcp"),
    );
    let i80v6 = host_port6(&img, "80/tcp");
    let (b80, b80own) = (port(&by_image, "80/tcp"), port(&by_own, "80/tcp"));

    // Docker merges the labels: the container carries the image's.
    let merged = docker(&[
        "inspect",
        "-f",
        "{{index .Config.Labels \"dockward.expose\"}}",
        &img.name,
    ]);
    assert_eq!(merged.trim(), "public", "Docker merged the image's label");
    assert_open(a.http(&a.host_addr, i80), "before apply");
    assert!(reach(&victim), "before apply, the peer reaches the victim");
    assert!(
        reach_from(&fake_api, &db),
        "before apply, the image claiming to be api reaches db"
    );

    let plan: serde_json::Value = serde_json::from_str(&dockward(&[
        "firewall",
        "plan",
        "--policy",
        policy_path,
        "--format",
        "json",
    ]))
    .unwrap();
    for name in [&img.name, &same.name, &by_image.name] {
        for row in plan["ports"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["container"] == name.as_str())
        {
            assert_eq!(row["verdict"], "local only", "{name}: {row}");
        }
        let said = plan["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str())
            .any(|p| p.starts_with(&format!("container {name}: ")) && p.contains("image"));
        assert!(said, "{name} is reported: {}", plan["problems"]);
    }

    let holds = |what: &str| {
        assert_closed(a.http(&a.host_addr, i80), &format!("{what}: image label"));
        assert_closed(
            a.http(&a.host_addr, i81),
            &format!("{what}: image port label"),
        );
        assert_closed(
            a.http(&a.host_addr6, i80v6),
            &format!("{what}: image label over IPv6"),
        );
        assert_closed(
            a.http(&a.host_addr, s80),
            &format!("{what}: the image's value, set again"),
        );
        assert_open(
            a.http(&a.host_addr, o80),
            &format!("{what}: the container's own value"),
        );
        assert_closed(
            a.http(&a.host_addr, b80),
            &format!("{what}: a file entry matched by the image's label"),
        );
        assert_open(
            a.http(&a.host_addr, b80own),
            &format!("{what}: a file entry matched by the container's label"),
        );
        assert!(
            !reach(&victim),
            "{what}: the image's allow-from let the peer in"
        );
        assert!(reach(&control), "{what}: the container's own allow-from");
        assert!(
            !reach_from(&fake_api, &db),
            "{what}: an image's compose labels passed for the service db lets in"
        );
        assert!(
            reach_from(&real_api, &db),
            "{what}: compose's own labels name the service db lets in"
        );
    };
    for backend in BACKENDS {
        apply_on(&with_policy(backend));
        holds(&format!("apply {backend:?}"));
    }
    for backend in BACKENDS {
        dockward(&["firewall", "remove"]);
        let w = Watcher::start(&with_policy(backend));
        holds(&format!("watch {backend:?}"));
        // Started under watch: each comes through one event and one
        // inspect. The container with its own label opens, which shows
        // the event was handled; the image's label still opens nothing.
        let late_img = http_server("fwimglate", &opener.name, &["-p", "80"]);
        let late_own = http_server(
            "fwimglateown",
            &closer.name,
            &["-p", "80", "-l", "dockward.expose=public"],
        );
        let (li, lo) = (port(&late_img, "80/tcp"), port(&late_own, "80/tcp"));
        assert!(
            poll_open(&a, lo, Duration::from_secs(10)).is_some(),
            "watch {backend:?}: a container started later with its own label opens"
        );
        assert_closed(
            a.http(&a.host_addr, li),
            &format!("watch {backend:?}: an image started later"),
        );
        drop(w);
    }
}
