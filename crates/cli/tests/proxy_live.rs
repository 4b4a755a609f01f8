//! `dockward proxy` in front of the real dockerd, with real clients: the
//! docker CLI 28 and Debian's 20.10, docker-compose and the Python docker
//! SDK; and a bypass suite of raw requests, each checked against what
//! happened in dockerd, not only against the status code.

use dockward_testbench::{docker, docker_output, require_engine, unique, PrivateDaemon, IMAGE};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "proxy_live/power.rs"]
mod power;

/// A `dockward proxy` child on a unix socket of its own; killed on drop.
struct Proxy {
    child: Child,
    sock: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
    /// The policy file given with `--config`, when `with_policy` wrote it.
    _policy: Option<tempfile::TempDir>,
}

impl Proxy {
    fn start(env: &[(&str, &str)]) -> Self {
        Self::start_with(env, &[])
    }

    /// A proxy run with this policy file (`--config`) and no environment.
    fn with_policy(toml: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("dwt-pol")
            .tempdir_in("/tmp")
            .unwrap();
        let file = dir.path().join("proxy.toml");
        std::fs::write(&file, toml).unwrap();
        let mut p = Self::start_with(&[], &["--config", file.to_str().unwrap()]);
        p._policy = Some(dir);
        p
    }

    fn start_with(env: &[(&str, &str)], args: &[&str]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("dwt-p")
            .tempdir_in("/tmp")
            .unwrap();
        let sock = dir.path().join("p.sock");
        let log = dir.path().join("audit.log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dockward"));
        cmd.arg("proxy")
            .arg("--listen")
            .arg(format!("unix://{}", sock.display()))
            .arg("--audit-log")
            .arg(&log)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !sock.exists() {
            assert!(Instant::now() < deadline, "proxy did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            sock,
            log,
            _dir: dir,
            _policy: None,
        }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.sock.display())
    }

    /// `docker -H <proxy> ARGS` with the given CLI binary and stdin.
    fn cli(&self, bin: &str, args: &[&str], stdin: Option<&str>) -> std::process::Output {
        let mut c = Command::new(bin)
            .arg("-H")
            .arg(self.host())
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(s) = stdin {
            let mut i = c.stdin.take().unwrap();
            i.write_all(s.as_bytes()).unwrap();
        }
        c.wait_with_output().unwrap()
    }

    /// Raw bytes on one connection; everything dockerd/the proxy sends back
    /// until the connection closes or 5 s pass.
    fn raw(&self, bytes: &[u8]) -> String {
        let mut s = UnixStream::connect(&self.sock).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        // The proxy may answer (413) and close before reading everything.
        let _ = s.write_all(bytes);
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    fn audit_lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .output();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ok(o: &std::process::Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const CLIS: [&str; 2] = ["docker", "/usr/bin/docker"];

/// Removes a container (by name) when dropped.
struct Rm(String);

impl Drop for Rm {
    fn drop(&mut self) {
        let _ = docker_output(&["rm", "-f", "-v", &self.0]);
    }
}

fn exists(name: &str) -> bool {
    docker_output(&["inspect", "--type", "container", name])
        .status
        .success()
}

#[test]
fn docker_cli_28_and_20_10_work_through_the_proxy() {
    require_engine!();
    let p = Proxy::start(&[
        ("CONTAINERS", "1"),
        ("POST", "1"),
        ("EXEC", "1"),
        ("IMAGES", "1"),
        ("INFO", "1"),
    ]);
    for cli in CLIS {
        let name = unique("pxcli");
        let _rm = Rm(name.clone());
        let out = ok(
            &p.cli(
                cli,
                &[
                    "run",
                    "-d",
                    "--name",
                    &name,
                    IMAGE,
                    "sh",
                    "-c",
                    "echo started; sleep 600",
                ],
                None,
            ),
            "run -d",
        );
        assert_eq!(out.trim().len(), 64, "{cli}: a container id");
        assert!(
            ok(&p.cli(cli, &["ps", "--format", "{{.Names}}"], None), "ps")
                .lines()
                .any(|l| l == name),
            "{cli} ps"
        );
        let user = ok(
            &p.cli(cli, &["inspect", "-f", "{{.Config.Image}}", &name], None),
            "inspect",
        );
        assert_eq!(user.trim(), IMAGE);
        assert_eq!(
            ok(&p.cli(cli, &["exec", &name, "echo", "hello"], None), "exec").trim(),
            "hello"
        );
        assert_eq!(
            ok(
                &p.cli(cli, &["exec", "-i", &name, "cat"], Some("from stdin\n")),
                "exec -i"
            )
            .trim(),
            "from stdin"
        );
        assert_eq!(
            ok(
                &p.cli(cli, &["run", "--rm", "-i", IMAGE, "cat"], Some("run -i\n")),
                "run -i"
            )
            .trim(),
            "run -i"
        );
        assert_eq!(
            ok(&p.cli(cli, &["logs", &name], None), "logs").trim(),
            "started"
        );
        assert!(ok(
            &p.cli(cli, &["info", "--format", "{{.ServerVersion}}"], None),
            "info"
        )
        .starts_with("20.10"));
        ok(&p.cli(cli, &["rm", "-f", &name], None), "rm");
        assert!(!exists(&name));
    }
    // Every request left an audit line with the client's credentials.
    let lines = p.audit_lines();
    assert!(lines.iter().any(|l| l["action"] == "exec.start"
        && l["decision"] == "allow"
        && l["client"]["uid"] == 0));
    assert!(lines
        .iter()
        .all(|l| l["status"].as_u64().is_some() && l["duration_ms"].as_f64().is_some()));
}

#[test]
fn logs_follow_and_events_stay_open_then_deliver() {
    require_engine!();
    let p = Proxy::start(&[("CONTAINERS", "1"), ("POST", "1")]);
    let name = unique("pxev");
    let _rm = Rm(name.clone());
    // A subscription's head comes back at once, before any event: clients
    // wait for it to know the stream is open.
    let mut s = UnixStream::connect(&p.sock).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.write_all(b"GET /v1.41/events HTTP/1.1\r\nHost: d\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 1024];
    let n = s.read(&mut head).expect("the /events head within 3 s");
    let head = String::from_utf8_lossy(&head[..n]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("Transfer-Encoding: chunked"), "{head}");
    drop(s);
    // `docker events` through the proxy, idle for over two minutes.
    let mut events = Command::new("docker")
        .args([
            "-H",
            &p.host(),
            "events",
            "--format",
            "{{.Action}} {{.Actor.Attributes.name}}",
            "--filter",
            &format!("container={name}"),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let ev_out = events.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for l in std::io::BufReader::new(ev_out)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(l);
        }
    });
    std::thread::sleep(Duration::from_secs(130));
    docker(&[
        "run",
        "-d",
        "--name",
        &name,
        IMAGE,
        "sh",
        "-c",
        "while true; do echo tick; sleep 1; done",
    ]);
    let got = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("an event after 130 s idle");
    assert!(got.contains(&name), "{got}");
    let _ = events.kill();
    let _ = events.wait();
    // logs -f keeps streaming.
    let mut logs = Command::new("docker")
        .args(["-H", &p.host(), "logs", "-f", &name])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = logs.stdout.take().unwrap();
    std::thread::sleep(Duration::from_secs(4));
    let _ = logs.kill();
    let _ = logs.wait();
    let mut s = String::new();
    let _ = out.read_to_string(&mut s);
    assert!(s.matches("tick").count() >= 3, "{s}");
}

#[test]
fn denied_calls_name_the_rule_and_change_nothing() {
    require_engine!();
    let p = Proxy::start(&[("CONTAINERS", "1")]);
    let name = unique("pxro");
    let o = p.cli("docker", &["run", "--name", &name, IMAGE, "true"], None);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("denied by POST=0") && err.contains("set POST=1"),
        "{err}"
    );
    assert!(!exists(&name));
    let o = p.cli("/usr/bin/docker", &["info"], None);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("denied by section INFO")
            || String::from_utf8_lossy(&o.stdout).contains("denied by section INFO")
    );
    // The attach websocket writes to stdin: refused with POST=0.
    let target = Rm(unique("pxws"));
    docker(&["run", "-d", "--name", &target.0, IMAGE, "sleep", "600"]);
    let r = p.raw(format!("GET /v1.41/containers/{}/attach/ws?stdin=1&stream=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", target.0).as_bytes());
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    assert!(r.contains("attach websocket"), "{r}");
}

#[test]
fn python_sdk_and_docker_compose_work_through_the_proxy() {
    require_engine!();
    let p = Proxy::start(&[
        ("CONTAINERS", "1"),
        ("POST", "1"),
        ("EXEC", "1"),
        ("IMAGES", "1"),
        ("NETWORKS", "1"),
        ("VOLUMES", "1"),
        ("INFO", "1"),
    ]);
    let name = unique("pxpy");
    let _rm = Rm(name.clone());
    let script = format!(
        r#"
import docker
c = docker.DockerClient(base_url="{host}")
ct = c.containers.run("{IMAGE}", ["sleep", "600"], name="{name}", detach=True)
assert any(x.name == "{name}" for x in c.containers.list())
code, out = ct.exec_run(["echo", "py-exec"])
assert code == 0 and out.strip() == b"py-exec", out
try:
    c.containers.run("{IMAGE}", ["true"], privileged=True, remove=True)
    raise SystemExit("privileged run was allowed")
except docker.errors.APIError as e:
    assert e.status_code == 403 and "host-power check privileged" in str(e), e
ct.remove(force=True)
print("sdk-ok")
"#,
        host = p.host()
    );
    let o = Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("sdk-ok"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let project = unique("pxc").replace('-', "");
    std::fs::write(
        dir.path().join("docker-compose.yml"),
        format!("version: '2.4'\nservices:\n  web:\n    image: {IMAGE}\n    command: [\"sleep\", \"600\"]\n    volumes: [\"data:/data\"]\nvolumes:\n  data: {{}}\n"),
    )
    .unwrap();
    let compose = |args: &[&str]| {
        Command::new("docker-compose")
            .current_dir(dir.path())
            .env("DOCKER_HOST", p.host())
            .args(["-p", &project])
            .args(args)
            .output()
            .unwrap()
    };
    let up = compose(&["up", "-d"]);
    let down_guard = Compose(dir.path().to_path_buf(), project.clone());
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert!(docker(&[
        "ps",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--format",
        "{{.Names}}"
    ])
    .contains("web"));
    let down = compose(&["down", "-v"]);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    assert!(docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "-q"
    ])
    .trim()
    .is_empty());
    drop(down_guard);
}

/// `docker-compose down -v` on the real socket, whatever happened.
struct Compose(PathBuf, String);

impl Drop for Compose {
    fn drop(&mut self) {
        let _ = Command::new("docker-compose")
            .current_dir(&self.0)
            .args(["-p", &self.1, "down", "-v"])
            .output();
    }
}

fn status(r: &str) -> u16 {
    r.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn post(path: &str, body: &str) -> String {
    format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
}

/// ANCHORS §1, one case per category, checked against dockerd's state.
#[test]
fn bypass_suite() {
    require_engine!();
    let p = Proxy::start(&[
        ("CONTAINERS", "1"),
        ("POST", "1"),
        ("VOLUMES", "1"),
        ("ALLOW_BIND_MOUNTS", "/srv"),
    ]);
    let create = |name: &str, body: &str| {
        let r = p.raw(post(&format!("/v1.41/containers/create?name={name}"), body).as_bytes());
        (status(&r), r)
    };
    let img = IMAGE;
    let cases: Vec<(&str, String, u16)> = vec![
        (
            "lower-case key",
            format!(r#"{{"Image":"{img}","HostConfig":{{"privileged":true}}}}"#),
            403,
        ),
        (
            "escaped key",
            format!(r#"{{"Image":"{img}","HostConfig":{{"Privil\u0065ged":true}}}}"#),
            403,
        ),
        (
            "folded key (U+017F)",
            format!("{{\"Image\":\"{img}\",\"HostConfig\":{{\"Bind\u{017F}\":[\"/:/host\"]}}}}"),
            403,
        ),
        (
            "duplicate, last wins",
            format!(r#"{{"Image":"{img}","HostConfig":{{"Privileged":false,"Privileged":true}}}}"#),
            400,
        ),
        (
            "case-variant duplicate",
            format!(r#"{{"Image":"{img}","HostConfig":{{"Privileged":false,"PRIVILEGED":true}}}}"#),
            400,
        ),
        (
            "trailing second value",
            format!(r#"{{"Image":"{img}"}}{{"HostConfig":{{"Privileged":true}}}}"#),
            400,
        ),
        (
            "legacy top-level HostConfig fields",
            format!(r#"{{"Image":"{img}","Privileged":true}}"#),
            403,
        ),
        (
            "legacy with null HostConfig",
            format!(r#"{{"Image":"{img}","HostConfig":null,"Binds":["/etc:/e"]}}"#),
            403,
        ),
        (
            "socket bind",
            format!(r#"{{"Image":"{img}","HostConfig":{{"Binds":["/var/run/docker.sock:/s"]}}}}"#),
            403,
        ),
        (
            "Mounts bind of /",
            format!(
                r#"{{"Image":"{img}","HostConfig":{{"Mounts":[{{"Type":"bind","Source":"/","Target":"/h"}}]}}}}"#
            ),
            403,
        ),
        (
            "local volume o=bind in Mounts",
            format!(
                r#"{{"Image":"{img}","HostConfig":{{"Mounts":[{{"Type":"volume","Target":"/h","VolumeOptions":{{"DriverConfig":{{"Name":"local","Options":{{"type":"none","o":"bind","device":"/etc"}}}}}}}}]}}}}"#
            ),
            403,
        ),
        (
            "capability spelling",
            format!(r#"{{"Image":"{img}","HostConfig":{{"CapAdd":["cap_sys_admin"]}}}}"#),
            403,
        ),
        (
            "host pid",
            format!(r#"{{"Image":"{img}","HostConfig":{{"PidMode":"host"}}}}"#),
            403,
        ),
        (
            "seccomp unconfined",
            format!(r#"{{"Image":"{img}","HostConfig":{{"SecurityOpt":["seccomp=unconfined"]}}}}"#),
            403,
        ),
        (
            "device",
            format!(
                r#"{{"Image":"{img}","HostConfig":{{"Devices":[{{"PathOnHost":"/dev/mem","PathInContainer":"/dev/mem","CgroupPermissions":"rwm"}}]}}}}"#
            ),
            403,
        ),
    ];
    for (what, body, want) in &cases {
        let name = unique("pxby");
        let _rm = Rm(name.clone());
        let (st, r) = create(&name, body);
        assert_eq!(st, *want, "{what}: {r}");
        assert!(!exists(&name), "{what}: dockerd created it");
    }
    // The same body that is allowed is forwarded canonical and works.
    let name = unique("pxok");
    let _rm = Rm(name.clone());
    let (st, r) = create(
        &name,
        &format!(r#"{{"Image":"{img}","Cmd":["true"],"HostConfig":{{"Binds":["/srv:/srv:ro"]}}}}"#),
    );
    assert_eq!(st, 201, "{r}");
    assert!(exists(&name));

    // Chunked body with a privileged create: buffered and checked.
    let name = unique("pxch");
    let _rm = Rm(name.clone());
    let body = format!(r#"{{"Image":"{img}","HostConfig":{{"Privileged":true}}}}"#);
    let (a, b) = body.split_at(10);
    let r = p.raw(format!("POST /v1.41/containers/create?name={name} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; charset=UTF-8\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n", a.len(), b.len()).as_bytes());
    assert_eq!(status(&r), 403, "{r}");
    assert!(!exists(&name));
    // Ambiguous framing (RFC 9112 §6.1, §6.3): 400 naming the reason, one
    // answer, then the connection closes; neither the request nor one
    // smuggled after it reaches dockerd. (hyper would read CL + TE as
    // chunked and merge equal Content-Lengths; the proxy's one parse
    // refuses both.)
    let smuggled = unique("pxsm");
    let _rm2 = Rm(smuggled.clone());
    let second = post(
        &format!("/v1.41/containers/create?name={smuggled}"),
        &format!(r#"{{"Image":"{img}"}}"#),
    );
    let body = format!(r#"{{"Image":"{img}"}}"#);
    let n = body.len();
    let chunked = format!("{n:x}\r\n{body}\r\n0\r\n\r\n");
    for (framing, payload, why) in [
        (
            format!(
                "Content-Length: {}\r\nTransfer-Encoding: chunked",
                chunked.len()
            ),
            &chunked,
            "Content-Length together with Transfer-Encoding",
        ),
        (
            format!(
                "Transfer-Encoding: chunked\r\nContent-Length: {}",
                chunked.len()
            ),
            &chunked,
            "Content-Length together with Transfer-Encoding",
        ),
        (
            format!("Content-Length: {n}\r\nContent-Length: {n}"),
            &body,
            "more than one Content-Length",
        ),
        (
            format!("Content-Length: {n}, {n}"),
            &body,
            "more than one Content-Length",
        ),
        (
            "Transfer-Encoding: gzip, chunked".to_string(),
            &chunked,
            "a transfer coding other than chunked",
        ),
    ] {
        let r = p.raw(format!("POST /v1.41/containers/create?name={name} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{framing}\r\n\r\n{payload}{second}").as_bytes());
        assert_eq!(status(&r), 400, "{framing}: {r}");
        assert!(
            r.contains(why) && r.contains("HTTP framing"),
            "{framing}: {r}"
        );
        assert_eq!(
            r.matches("HTTP/1.1 ").count(),
            1,
            "{framing}: one answer: {r}"
        );
        assert!(!exists(&smuggled) && !exists(&name), "{framing}");
    }
    // The same create, framed once, is fine on a kept-alive connection.
    let r = p.raw(format!("POST /v1.41/containers/create?name={name} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{chunked}GET /v1.41/containers/{name}/json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes());
    assert_eq!(
        r.matches("HTTP/1.1 201").count() + r.matches("HTTP/1.1 200").count(),
        2,
        "{r}"
    );
    assert!(exists(&name));
    docker(&["rm", "-f", &name]);
    // obs-fold (a header continued on the next line): 400.
    let r = p.raw(b"GET /v1.41/containers/json HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n");
    assert_eq!(status(&r), 400, "{r}");
    // Over the cap: 413.
    let big = format!(
        r#"{{"Image":"{img}","Labels":{{"x":"{}"}}}}"#,
        "a".repeat(5 << 20)
    );
    let r = p.raw(post("/v1.41/containers/create", &big).as_bytes());
    assert_eq!(status(&r), 413, "{}", &r[..r.len().min(300)]);

    // Old API versions, where a start body re-configures the container.
    let target = Rm(unique("pxold"));
    docker(&["create", "--name", &target.0, IMAGE, "sleep", "600"]);
    let r = p.raw(
        post(
            &format!("/v1.23/containers/{}/start", target.0),
            r#"{"Binds":["/:/host"]}"#,
        )
        .as_bytes(),
    );
    assert_eq!(status(&r), 403, "{r}");
    let r = p.raw(
        post(
            &format!("/v1.41/containers/{}/start", target.0),
            r#"{"Binds":["/:/host"]}"#,
        )
        .as_bytes(),
    );
    assert_eq!(status(&r), 403, "{r}");
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.Running}}", &target.0]).trim(),
        "false"
    );
    // Exec creation is EXEC's, not CONTAINERS'.
    let r = p.raw(
        post(
            &format!("/v1.41/containers/{}/exec", target.0),
            r#"{"Cmd":["id"]}"#,
        )
        .as_bytes(),
    );
    assert_eq!(status(&r), 403, "{r}");

    // Paths: dot segments, encoded ones, empty segments, encoded slashes,
    // absolute form into a closed section, case.
    for t in [
        "/v1.41/containers/../info",
        "/v1.41/containers/%2e%2e/info",
        "/v1.41//info",
        "/v1.41/containers/x%2Fexec",
    ] {
        let r =
            p.raw(format!("GET {t} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes());
        assert_eq!(status(&r), 400, "{t}: {r}");
    }
    for t in [
        "http://docker/v1.41/info",
        "/V1.41/INFO",
        "/v1.41/Containers/json",
    ] {
        let r =
            p.raw(format!("GET {t} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes());
        assert_eq!(status(&r), 403, "{t}: {r}");
    }
    // A refused HEAD gets its head alone, and the connection goes on.
    let r = p.raw(b"HEAD /v1.41/info HTTP/1.1\r\nHost: x\r\n\r\nGET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    assert_eq!(r.matches("HTTP/1.1 ").count(), 2, "{r}");
    assert!(!r.contains("message") && r.ends_with("OK"), "{r}");
    // An allowed absolute-form target is served as the path it was judged by.
    let r = p.raw(
        b"GET http://docker/v1.41/containers/json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status(&r), 200, "{r}");
    // A volume that is a bind of /etc in disguise.
    let vol = unique("pxvol");
    let r = p.raw(post("/v1.41/volumes/create", &format!(r#"{{"Name":"{vol}","Driver":"local","DriverOpts":{{"type":"none","o":"bind","device":"/etc"}}}}"#)).as_bytes());
    assert_eq!(status(&r), 403, "{r}");
    assert!(!docker_output(&["volume", "inspect", &vol]).status.success());

    // Connection naming Content-Length (a hop-by-hop header must be
    // dropped, RFC 9110 §7.6.1): the proxy still frames the body for
    // dockerd, so a body that is itself a request is never read as one.
    let name = unique("pxhop");
    let _rm = Rm(name.clone());
    let inner = post(
        &format!("/v1.41/containers/create?name={name}"),
        &format!(r#"{{"Image":"{img}","HostConfig":{{"Privileged":true}}}}"#),
    );
    for method in [
        "GET /v1.41/containers/json",
        "POST /v1.41/containers/create",
    ] {
        let r = p.raw(
            format!(
                "{method} HTTP/1.1\r\nHost: x\r\nConnection: Content-Length\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{inner}GET /v1.41/_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                inner.len()
            )
            .as_bytes(),
        );
        assert!(
            !exists(&name),
            "{method}: the body was read as a request: {r}"
        );
        assert_eq!(
            r.matches("HTTP/1.1 ").count(),
            2,
            "{method}: two answers: {r}"
        );
    }

    // Pipelining: a refused upgrade does not turn the connection into a
    // tunnel, and the next request on it is checked.
    let name = unique("pxpipe");
    let _rm = Rm(name.clone());
    let body = format!(r#"{{"Image":"{img}","HostConfig":{{"Privileged":true}}}}"#);
    let r = p.raw(
        format!(
            "GET /v1.41/containers/json HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nPOST /v1.41/containers/create?name={name} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(
        r.contains("HTTP/1.1 403"),
        "the second request was checked: {r}"
    );
    assert!(!exists(&name));
}

#[test]
fn upstream_down_is_502_and_recovers_and_missing_at_start_is_exit_3() {
    require_engine!();
    let out = Command::new(env!("CARGO_BIN_EXE_dockward"))
        .args([
            "proxy",
            "--listen",
            "unix:///tmp/dwt-never.sock",
            "--upstream",
            "unix:///nonexistent/dwt.sock",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("dockerd is not reachable at unix:///nonexistent/dwt.sock"),
        "{err}"
    );
    assert!(!std::path::Path::new("/tmp/dwt-never.sock").exists());

    let mut d = PrivateDaemon::start();
    let p = Proxy::start_with(
        &[("INFO", "1"), ("NETWORKS", "1"), ("POST", "1")],
        &["--upstream", &d.host()],
    );
    assert!(p
        .raw(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .starts_with("HTTP/1.1 200"));
    // A client connection kept across dockerd's restart: its upstream
    // connection died with dockerd, and a POST (never sent twice) must
    // find that out before it is sent, not fail on it.
    let mut kept = UnixStream::connect(&p.sock).unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    kept.write_all(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = Vec::new();
    let mut buf = [0u8; 4096];
    while !first.ends_with(b"OK") {
        let n = kept.read(&mut buf).unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&first));
        first.extend_from_slice(&buf[..n]);
    }
    d.stop();
    let r = p.raw(b"GET /v1.41/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status(&r), 502, "{r}");
    assert!(r.contains("dockerd is not reachable"), "{r}");
    d.restart();
    let r = p.raw(b"GET /v1.41/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status(&r), 200, "recovered by itself: {r}");
    kept.write_all(b"POST /v1.41/networks/prune HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut r = String::new();
    let _ = kept.read_to_string(&mut r);
    assert_eq!(
        status(&r),
        200,
        "a POST on a kept connection after the restart: {r}"
    );
}

#[test]
fn tcp_allowlist_reload_and_metrics() {
    require_engine!();
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("proxy.env");
    std::fs::write(&env_file, "CONTAINERS=1\n").unwrap();
    let port = 24000 + (std::process::id() % 1000) as u16;
    let mport = port + 1000;
    let p = Proxy::start_with(
        &[("DOCKWARD_ENV_FILE", env_file.to_str().unwrap())],
        &[
            "--listen",
            &format!("tcp://127.0.0.1:{port}"),
            "--allow-from",
            "10.0.0.0/8",
            "--metrics",
            &format!("tcp://127.0.0.1:{mport}"),
        ],
    );
    // TCP from 127.0.0.1 is outside the allowlist: closed without answer.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let _ = s.write_all(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(buf.is_empty(), "{}", String::from_utf8_lossy(&buf));
    // The unix listener is open to us.
    let ps = |p: &Proxy| {
        status(
            &p.raw(b"GET /v1.41/containers/json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        )
    };
    assert_eq!(ps(&p), 200);
    // SIGHUP with CONTAINERS=0: refused from now on.
    std::fs::write(&env_file, "CONTAINERS=0\n").unwrap();
    Command::new("kill")
        .args(["-HUP", &p.child.id().to_string()])
        .output()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while ps(&p) != 403 {
        assert!(Instant::now() < deadline, "reload not applied");
        std::thread::sleep(Duration::from_millis(50));
    }
    // An invalid file: the running policy stays.
    std::fs::write(&env_file, "CONTAINERS=maybe\n").unwrap();
    Command::new("kill")
        .args(["-HUP", &p.child.id().to_string()])
        .output()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(ps(&p), 403);
    // Metrics and health on their own listener.
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", mport)).unwrap();
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    };
    let m = get("/metrics");
    assert!(
        m.contains("dockward_proxy_requests_total{decision=\"deny\",action=\"containers.list\"}")
            || m.contains("dockward_proxy_requests_total"),
        "{m}"
    );
    assert!(get("/healthz").starts_with("HTTP/1.1 200"));
}

/// Removes an image tag when dropped.
struct RmImage(String);

impl Drop for RmImage {
    fn drop(&mut self) {
        let _ = docker_output(&["rmi", "-f", &self.0]);
    }
}

/// The FROM-scratch image serves as nobody with only the socket's group
/// (dropped to from root when run as tecnativa's is), and the example
/// compose file's proxy serves a client on its network.
#[test]
fn image_runs_as_non_root_with_the_socket_group_and_the_compose_example_works() {
    require_engine!();
    let tag = format!("dockward/proxy:{}", unique("t"));
    let _img = RmImage(tag.clone());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let b = Command::new(root.join("scripts/build-proxy-image.sh"))
        .arg(&tag)
        .env("DOCKWARD_BIN", env!("CARGO_BIN_EXE_dockward"))
        .output()
        .unwrap();
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let gid = std::fs::metadata("/var/run/docker.sock")
        .map(|m| std::os::unix::fs::MetadataExt::gid(&m))
        .unwrap()
        .to_string();

    // Run as tecnativa's image is run (no user, no group): it starts as
    // root, binds, and serves as nobody with the socket's group only.
    let plain = unique("pxroot");
    let _rm_plain = Rm(plain.clone());
    docker(&[
        "run",
        "-d",
        "--name",
        &plain,
        "-v",
        "/var/run/docker.sock:/var/run/docker.sock:ro",
        "-e",
        "CONTAINERS=1",
        &tag,
    ]);
    let pid = docker(&["inspect", "-f", "{{.State.Pid}}", &plain]);
    let status = (0..50)
        .find_map(|_| {
            let st = std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).ok()?;
            let uid = st.lines().find(|l| l.starts_with("Uid:"))?.to_string();
            if uid.split_whitespace().nth(1) == Some("0") {
                std::thread::sleep(Duration::from_millis(100));
                return None;
            }
            Some(st)
        })
        .expect("the proxy never left root");
    let field = |k: &str| {
        status
            .lines()
            .find(|l| l.starts_with(k))
            .unwrap()
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
    };
    assert_eq!(field("Uid:"), ["65534"; 4], "{status}");
    assert_eq!(field("Gid:"), ["65534"; 4], "{status}");
    assert_eq!(field("Groups:"), [gid.as_str()], "{status}");
    assert_eq!(field("CapEff:"), ["0000000000000000"], "{status}");

    // Run as nobody from the start without the socket's group: exit 3
    // and a message that says which fix.
    let name = unique("pximg");
    let _rm = Rm(name.clone());
    let o = docker_output(&[
        "run",
        "--name",
        &name,
        "--user",
        "65534:65534",
        "-v",
        "/var/run/docker.sock:/var/run/docker.sock:ro",
        &tag,
    ]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("--group-add"));

    // The compose example, with the image under test.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root.join("contrib/proxy-image/compose.yml"))
        .unwrap()
        .replace("dockward/proxy:dev", &tag);
    std::fs::write(dir.path().join("docker-compose.yml"), text).unwrap();
    let project = unique("pxex").replace('-', "");
    let _down = Compose(dir.path().to_path_buf(), project.clone());
    let up = Command::new("docker-compose")
        .current_dir(dir.path())
        .env("DOCKER_GID", &gid)
        .args(["-p", &project, "up", "-d", "dockerproxy"])
        .output()
        .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let net = format!("{project}_dockerapi");
    let ask = |req: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let o = docker_output(&[
                "run",
                "--rm",
                "--network",
                &net,
                IMAGE,
                "sh",
                "-c",
                &format!("(printf '{req}'; sleep 1) | nc dockerproxy 2375"),
            ]);
            let out = String::from_utf8_lossy(&o.stdout).into_owned();
            if out.starts_with("HTTP/1.1") || Instant::now() > deadline {
                return out;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    let r =
        ask("GET /v1.41/containers/json HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n");
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    let r = ask("POST /v1.41/containers/create HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\n{}");
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    let ps = docker(&[
        "ps",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--format",
        "{{.Names}} {{.Status}}",
    ]);
    assert!(ps.contains("dockerproxy") && ps.contains("Up"), "{ps}");
}

/// A policy file: a read-only policy on one listener, a uid-scoped
/// manager policy on another, sub-resource rules; then learning mode,
/// whose written policy lets the same client do the same again and no more.
#[test]
fn policy_file_per_listener_and_uid_and_learning_mode() {
    require_engine!();
    let dir = tempfile::Builder::new()
        .prefix("dwt-pf")
        .tempdir_in("/tmp")
        .unwrap();
    let ro = dir.path().join("ro.sock");
    let mgr = dir.path().join("mgr.sock");
    let file = dir.path().join("proxy.toml");
    std::fs::write(
        &file,
        format!(
            "[[policy]]\nname = \"traefik\"\nlisteners = [\"unix://{}\"]\npreset = \"read-only\"\n\n[[policy]]\nname = \"ops\"\nlisteners = [\"unix://{}\"]\nuids = [1234]\npreset = \"manager\"\ndeny = [\"containers.logs\"]\n",
            ro.display(),
            mgr.display()
        ),
    )
    .unwrap();
    let p = Proxy::start_with(
        &[],
        &[
            "--config",
            file.to_str().unwrap(),
            "--listen",
            &format!("unix://{}", ro.display()),
            "--listen",
            &format!("unix://{}", mgr.display()),
            "--socket-mode",
            "666",
        ],
    );
    let target = Rm(unique("pxpf"));
    docker(&[
        "run",
        "-d",
        "--name",
        &target.0,
        IMAGE,
        "sh",
        "-c",
        "echo secret-log; sleep 600",
    ]);
    let as_uid = |uid: &str, sock: &PathBuf, args: &[&str]| {
        Command::new("setpriv")
            .args([
                "--reuid",
                uid,
                "--regid",
                uid,
                "--clear-groups",
                "docker",
                "-H",
                &format!("unix://{}", sock.display()),
            ])
            .args(args)
            .output()
            .unwrap()
    };
    // Read-only listener: inspect yes, logs and create no.
    assert!(as_uid("0", &ro, &["inspect", &target.0]).status.success());
    let o = as_uid("0", &ro, &["logs", &target.0]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("denied by policy traefik"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let name = unique("pxpfc");
    let _rm = Rm(name.clone());
    assert!(!as_uid("0", &ro, &["create", "--name", &name, IMAGE])
        .status
        .success());
    assert!(!exists(&name));
    // Manager listener, uid 1234: create yes, logs denied by rule.
    assert!(as_uid("1234", &mgr, &["create", "--name", &name, IMAGE])
        .status
        .success());
    assert!(exists(&name));
    let o = as_uid("1234", &mgr, &["logs", &target.0]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("deny containers.logs"));
    // Another uid on the manager listener: no policy matches.
    let o = as_uid("4321", &mgr, &["ps"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no policy for this client"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The audit log names the client by its peer credentials.
    assert!(p
        .audit_lines()
        .iter()
        .any(|l| l["client"]["uid"] == 1234 && l["decision"] == "allow"));
    drop(p);

    // Learning mode: record, write on SIGTERM, then enforce what was learned.
    let learned = dir.path().join("learned.toml");
    let l = Proxy::start_with(&[], &["--learn", learned.to_str().unwrap()]);
    assert!(l.cli("docker", &["ps"], None).status.success());
    assert!(l
        .cli("docker", &["inspect", &target.0], None)
        .status
        .success());
    drop(l);
    let text = std::fs::read_to_string(&learned).unwrap();
    assert!(
        text.contains("\"containers.list\"")
            && text.contains("\"containers.inspect\"")
            && !text.contains("containers.create"),
        "{text}"
    );
    let p = Proxy::start_with(&[], &["--config", learned.to_str().unwrap()]);
    // The learned policy is scoped to the learning listener's path; this
    // proxy listens elsewhere, so the scope is widened for the check.
    drop(p);
    let widened: String = text
        .lines()
        .filter(|l| !l.starts_with("listeners"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&learned, widened).unwrap();
    let p = Proxy::start_with(&[], &["--config", learned.to_str().unwrap()]);
    assert!(p.cli("docker", &["ps"], None).status.success());
    let o = p.cli("docker", &["create", IMAGE], None);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is not allowed; add \"containers.create\""),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Visibility: a client sees only containers with the selected label, in
/// lists, inspect, logs and /events; others do not exist for it. Env
/// values are redacted in inspect.
#[test]
fn visibility_hides_containers_and_env_values() {
    require_engine!();
    let p = Proxy::with_policy(
        "[[policy]]\nname = \"homepage\"\npreset = \"read-only\"\nallow = [\"containers.logs\"]\nvisible_labels = [\"dwt.visible=yes\"]\nscrub_env = true\n",
    );
    let shown = Rm(unique("pxshown"));
    let hidden = Rm(unique("pxhidden"));
    // Visible, created before the subscriptions: known from the list the
    // proxy takes when a subscription starts.
    let early = Rm(unique("pxearly"));
    docker(&[
        "create",
        "--name",
        &early.0,
        "-l",
        "dwt.visible=yes",
        IMAGE,
        "sleep",
        "600",
    ]);
    // Network events name containers by id only.
    let mut net_events = Command::new("docker")
        .args([
            "-H",
            &p.host(),
            "events",
            "--format",
            "{{.Action}} {{.Actor.Attributes.container}}",
            "--filter",
            "type=network",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut events = Command::new("docker")
        .args([
            "-H",
            &p.host(),
            "events",
            "--format",
            "{{.Actor.Attributes.name}}",
            "--filter",
            "type=container",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    docker(&[
        "run",
        "-d",
        "--name",
        &hidden.0,
        "-e",
        "SECRET=hunter2",
        IMAGE,
        "sh",
        "-c",
        "echo hidden-log; sleep 600",
    ]);
    docker(&[
        "run",
        "-d",
        "--name",
        &shown.0,
        "-l",
        "dwt.visible=yes",
        "-e",
        "SECRET=hunter2",
        IMAGE,
        "sh",
        "-c",
        "echo shown-log; sleep 600",
    ]);
    let ps = ok(
        &p.cli("docker", &["ps", "-a", "--format", "{{.Names}}"], None),
        "ps",
    );
    assert!(
        ps.lines().any(|l| l == shown.0) && !ps.contains(&hidden.0),
        "{ps}"
    );
    let o = p.cli("docker", &["container", "inspect", &hidden.0], None);
    assert!(
        !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("No such"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = p.cli("docker", &["logs", &hidden.0], None);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("No such container"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        ok(&p.cli("docker", &["logs", &shown.0], None), "logs").trim(),
        "shown-log"
    );
    let env = ok(
        &p.cli(
            "docker",
            &["inspect", "-f", "{{json .Config.Env}}", &shown.0],
            None,
        ),
        "inspect",
    );
    assert!(
        env.contains("SECRET=<redacted>") && !env.contains("hunter2"),
        "{env}"
    );
    docker(&["start", &early.0]);
    std::thread::sleep(Duration::from_millis(500));
    let _ = events.kill();
    let mut out = String::new();
    let _ = events.stdout.take().unwrap().read_to_string(&mut out);
    let _ = events.wait();
    assert!(out.lines().any(|l| l == shown.0), "{out}");
    assert!(!out.contains(&hidden.0), "{out}");
    let _ = net_events.kill();
    let mut net = String::new();
    let _ = net_events.stdout.take().unwrap().read_to_string(&mut net);
    let _ = net_events.wait();
    let id = |n: &str| docker(&["inspect", "-f", "{{.Id}}", n]).trim().to_string();
    for seen in [&shown.0, &early.0] {
        assert!(
            net.contains(&format!("connect {}", id(seen))),
            "{seen}: {net}"
        );
    }
    assert!(
        !net.contains(&id(&hidden.0)),
        "a hidden container's id leaked: {net}"
    );
}

/// TLS with client certificates on a TCP listener: the docker CLI's own
/// --tlsverify setup works, a client without a certificate gets nothing,
/// and the audit log names the client by its certificate.
#[test]
fn tls_listener_requires_a_client_certificate() {
    require_engine!();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    dockward_testbench::tls::ca(d, "dwt-ca");
    dockward_testbench::tls::signed(
        d,
        "server",
        "dwt-server",
        "subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n",
    );
    dockward_testbench::tls::signed(d, "client", "dwt-client", "extendedKeyUsage = clientAuth\n");
    let port = 25000 + (std::process::id() % 1000) as u16;
    let p = Proxy::start_with(
        &[("CONTAINERS", "1")],
        &[
            "--listen",
            &format!("tcp://127.0.0.1:{port}"),
            "--tls-cert",
            d.join("server.pem").to_str().unwrap(),
            "--tls-key",
            d.join("server-key.pem").to_str().unwrap(),
            "--tls-client-ca",
            d.join("ca.pem").to_str().unwrap(),
        ],
    );
    let host = format!("tcp://127.0.0.1:{port}");
    let path = |f: &str| d.join(f).to_string_lossy().into_owned();
    let o = Command::new("docker")
        .args([
            "--tlsverify",
            "--tlscacert",
            &path("ca.pem"),
            "--tlscert",
            &path("client.pem"),
            "--tlskey",
            &path("client-key.pem"),
            "-H",
            &host,
            "ps",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // No client certificate: the handshake fails, nothing is served.
    let o = Command::new("docker")
        .args(["--tls", "--tlscacert", &path("ca.pem"), "-H", &host, "ps"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    // Plain HTTP on the TLS port: no answer either.
    let o = Command::new("docker")
        .args(["-H", &host, "ps"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let lines = p.audit_lines();
    assert!(
        lines.iter().any(|l| l["client"]["client_cert"]
            .as_str()
            .is_some_and(|c| c.len() == 64)),
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|l| l["client"]["client_cert"].is_string()),
        "only certified clients were served"
    );
}

/// BuildKit through the proxy: Debian's docker 20.10 CLI with
/// `DOCKER_BUILDKIT=1` opens `POST /session`, which dockerd upgrades to h2c;
/// the proxy tunnels it only after dockerd's 101. Without `SESSION=1` the
/// upgrade is refused (403) and nothing is built.
#[test]
fn buildkit_session_is_tunnelled_as_h2c() {
    require_engine!();
    let dir = tempfile::Builder::new()
        .prefix("dwt-bk")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM scratch\nCOPY hello.txt /hello.txt\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hi\n").unwrap();
    let tag = format!("dwt-bk:{}", unique("b"));
    let _img = RmImage(tag.clone());
    let build = |p: &Proxy| {
        Command::new("/usr/bin/docker")
            .env("DOCKER_BUILDKIT", "1")
            .args(["-H", &p.host(), "build", "-t", &tag])
            .arg(dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let built = || docker_output(&["image", "inspect", &tag]).status.success();

    let p = Proxy::start(&[("BUILD", "1"), ("POST", "1")]);
    let o = build(&p);
    assert!(!o.status.success(), "a build without SESSION must fail");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("403"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!built(), "nothing is built without the session");
    assert!(p
        .audit_lines()
        .iter()
        .any(|l| l["target"] == "/session" && l["status"] == 403));
    drop(p);

    let p = Proxy::start(&[("BUILD", "1"), ("SESSION", "1"), ("POST", "1")]);
    let o = build(&p);
    ok(&o, "BuildKit build through the proxy");
    assert!(built(), "the image exists");
    // The tunnel's audit line is written when the tunnel ends.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines = p.audit_lines();
        if lines.iter().any(|l| {
            l["target"] == "/session" && l["action"] == "session.start" && l["status"] == 101
        }) {
            break;
        }
        assert!(Instant::now() < deadline, "no 101 for /session: {lines:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
