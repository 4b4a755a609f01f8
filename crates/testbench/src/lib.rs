//! The live test bench: a real dockerd, a tiny image built `FROM scratch`
//! with busybox (no registry is reachable here), outside hosts in network
//! namespaces, and guards that remove what a test made.
//!
//! Rules every live test follows (DEVELOPERS.md):
//! - names start with [`PREFIX`] plus a per-process unique part, so nothing
//!   made by another test or by the operator is touched;
//! - every resource has a guard that removes it on drop, also on panic;
//! - traffic goes only to loopback, our own namespaces and our containers;
//! - with `CI=true` (or `DOCKWARD_REQUIRE_LIVE=1`) a missing engine fails the
//!   test instead of skipping it.

mod daemon;
mod netns;
mod swarm;
pub mod tls;

pub use daemon::PrivateDaemon;
pub use netns::{OutsideHost, Probe};
pub use swarm::{tcp_answers, Node as SwarmNode, Outsider, SwarmBench, GATEWAY as SWARM_GATEWAY};

use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// Every live resource's name starts with this.
pub const PREFIX: &str = "dwt";

/// The busybox test image, built locally.
pub const IMAGE: &str = "dockward-test/busybox:1";

/// A name no other test (in this or another process) uses.
pub fn unique(what: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{PREFIX}-{}-{}-{what}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether a missing engine must fail the run.
pub fn live_required() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
        || std::env::var("DOCKWARD_REQUIRE_LIVE")
            .map(|v| v == "1")
            .unwrap_or(false)
}

/// Returns true when the engine answers. Otherwise panics when live tests
/// are required, or prints why the test is skipped and returns false.
pub fn engine_available() -> bool {
    static UP: OnceLock<Result<(), String>> = OnceLock::new();
    let up = UP.get_or_init(|| {
        let out = docker_cli()
            .args(["version", "--format", "{{.Server.Version}}"])
            .output()
            .map_err(|e| format!("cannot run docker: {e}"))?;
        if out.status.success() {
            build_image()
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    });
    match up {
        Ok(()) => true,
        Err(e) if live_required() => {
            panic!("live tests are required (CI=true) but the Docker engine is not usable: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED live test: Docker engine not usable: {e}");
            false
        }
    }
}

/// Skip the calling test (return early) when no engine is there and live
/// tests are not required.
#[macro_export]
macro_rules! require_engine {
    () => {
        if !$crate::engine_available() {
            return;
        }
    };
}

/// The docker CLI under test: `DOCKWARD_TEST_DOCKER` or `docker` on PATH.
pub fn docker_cli() -> Command {
    let bin = std::env::var("DOCKWARD_TEST_DOCKER").unwrap_or_else(|_| "docker".into());
    let mut c = Command::new(bin);
    c.env_remove("DOCKER_CONTEXT");
    c
}

/// Run `docker ARGS`, panicking with its stderr on failure; returns stdout.
pub fn docker(args: &[&str]) -> String {
    let out = docker_cli().args(args).output().expect("run docker");
    check(&format!("docker {}", args.join(" ")), &out);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Run `docker ARGS` and return the raw output, success or not.
pub fn docker_output(args: &[&str]) -> Output {
    docker_cli().args(args).output().expect("run docker")
}

/// Run a host command, panicking with its stderr on failure; returns stdout.
pub fn sh(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {cmd}: {e}"));
    check(&format!("{cmd} {}", args.join(" ")), &out);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn check(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "`{what}` failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// Build [`IMAGE`] from the host's static busybox, once per process.
fn build_image() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).map_err(|e| e.to_string())?;
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .ok_or("busybox-static is not installed (apt-get install busybox-static)")?;
    std::fs::copy(busybox, bin.join("busybox")).map_err(|e| e.to_string())?;
    for applet in [
        "sh", "nc", "sleep", "cat", "echo", "ls", "id", "httpd", "true", "env",
    ] {
        std::os::unix::fs::symlink("busybox", bin.join(applet)).map_err(|e| e.to_string())?;
    }
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM scratch\nCOPY bin /bin\nENV PATH=/bin\nCMD [\"/bin/sh\"]\n",
    )
    .map_err(|e| e.to_string())?;
    let out = docker_cli()
        .args(["build", "-q", "-t", IMAGE])
        .arg(dir.path())
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cannot build {IMAGE}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A container removed (with its anonymous volumes) when dropped.
pub struct Container {
    pub name: String,
    pub id: String,
}

impl Container {
    /// `docker run -d --name <unique> ARGS…`.
    pub fn run(what: &str, args: &[&str]) -> Self {
        Self::start("run", what, &["-d"], args)
    }

    /// `docker create --name <unique> ARGS…` (never started).
    pub fn create(what: &str, args: &[&str]) -> Self {
        Self::start("create", what, &[], args)
    }

    fn start(verb: &str, what: &str, extra: &[&str], args: &[&str]) -> Self {
        let name = unique(what);
        let mut all = vec![verb];
        all.extend_from_slice(extra);
        all.extend_from_slice(&["--name", &name, "--label", "dockward.test=1"]);
        all.extend_from_slice(args);
        let out = docker_output(&all);
        if !out.status.success() {
            // `docker run` may have created the container before failing to
            // start it: remove it before reporting.
            let _ = docker_cli().args(["rm", "-f", "-v", &name]).output();
            check(&format!("docker {}", all.join(" ")), &out);
        }
        let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Self { name, id }
    }

    /// The container's address on a network.
    pub fn ip(&self, network: &str) -> String {
        self.endpoint(network, "IPAddress")
    }

    /// A field of the container's endpoint on a network (`IPAddress`,
    /// `GlobalIPv6Address`, `MacAddress`, …).
    pub fn endpoint(&self, network: &str, field: &str) -> String {
        docker(&[
            "inspect",
            "-f",
            &format!("{{{{(index .NetworkSettings.Networks \"{network}\").{field}}}}}"),
            &self.name,
        ])
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker_cli().args(["rm", "-f", "-v", &self.name]).output();
    }
}

/// An image built `FROM` [`IMAGE`] with more instructions, labelled
/// `dockward.test=1` and removed when dropped (after its containers).
pub struct Image {
    pub name: String,
}

impl Image {
    /// `docker build` of `FROM dockward-test/busybox:1` plus `instructions`.
    pub fn build(what: &str, instructions: &str) -> Self {
        assert!(engine_available(), "no engine to build an image on");
        let name = format!("dockward-test/{}:1", unique(what));
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(
            dir.path().join("Dockerfile"),
            format!("FROM {IMAGE}\nLABEL dockward.test=1\n{instructions}\n"),
        )
        .expect("write the Dockerfile");
        let out = docker_cli()
            .args(["build", "-q", "-t", &name])
            .arg(dir.path())
            .env("DOCKER_BUILDKIT", "0")
            .output()
            .expect("run docker build");
        check(&format!("docker build -t {name}"), &out);
        Self { name }
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = docker_cli().args(["rmi", &self.name]).output();
    }
}

/// A user-defined network removed when dropped (after its containers).
pub struct Network {
    pub name: String,
}

impl Network {
    pub fn create(what: &str, args: &[&str]) -> Self {
        let name = unique(what);
        let mut all = vec!["network", "create", "--label", "dockward.test=1"];
        all.extend_from_slice(args);
        all.push(&name);
        docker(&all);
        Self { name }
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let _ = docker_cli().args(["network", "rm", &self.name]).output();
    }
}
