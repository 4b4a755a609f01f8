//! A private dockerd for tests that must stop and restart the engine.
//!
//! Restarting the shared engine would break every other live test running
//! at the same time, so restart tests get their own daemon: own socket, data
//! root, exec root and containerd, its own bridge interface and no iptables
//! rules, and an empty config file so that a daemon.json on the host does not
//! leak in. It is our child process; we stop it and only it.
//!
//! Never `--bridge none`: moby then *deletes* `docker0` ("removing default
//! bridge interface"), breaking the shared engine. The private daemon gets a
//! bridge we create and remove ourselves.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub struct PrivateDaemon {
    dir: tempfile::TempDir,
    child: Option<Child>,
    bridge: String,
    extra: Vec<String>,
}

impl PrivateDaemon {
    /// Start a private daemon and wait until it answers.
    pub fn start() -> Self {
        Self::start_with("{}", &[])
    }

    /// Start a private daemon with this daemon.json (given with
    /// `--config-file`) and extra dockerd arguments.
    pub fn start_with(daemon_json: &str, extra: &[&str]) -> Self {
        // Short path: containerd's socket lives under the exec root and unix
        // socket paths are limited to 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("dwt-d")
            .tempdir_in("/tmp")
            .expect("temp dir");
        std::fs::write(dir.path().join("daemon.json"), daemon_json).expect("write daemon.json");
        static N: AtomicU32 = AtomicU32::new(0);
        let n = (std::process::id() + N.fetch_add(1, Ordering::Relaxed)) % 4000;
        let bridge = format!("dwtb{n}");
        // 10.99.250.0/23 .. 10.99.255.0/24 hold private daemons' bridges.
        let bip = format!("10.99.{}.{}/28", 250 + n / 1000 % 6, (n % 16) * 16 + 1);
        crate::sh("ip", &["link", "add", &bridge, "type", "bridge"]);
        // `-b` and `--bip` exclude each other: the bridge carries the address.
        crate::sh("ip", &["addr", "add", &bip, "dev", &bridge]);
        crate::sh("ip", &["link", "set", &bridge, "up"]);
        let mut me = Self {
            dir,
            child: None,
            bridge,
            extra: extra.iter().map(|a| a.to_string()).collect(),
        };
        me.launch();
        me
    }

    /// `unix://…` URL of this daemon's socket.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// The dockerd process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The daemon.json it was started with.
    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join("daemon.json")
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("d.sock")
    }

    fn launch(&mut self) {
        let d = self.dir.path();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("dockerd.log"))
            .expect("log file");
        let child = Command::new("dockerd")
            .args(own_files(&self.host(), d))
            .args(["--bridge", &self.bridge])
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--ip-masq=false",
                "--ip-forward=false",
            ])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start dockerd");
        self.child = Some(child);
        wait_answers(&self.host(), &d.join("dockerd.log"), "private dockerd");
    }

    /// Stop the daemon (SIGTERM, then SIGKILL after 20 s) and wait for it.
    pub fn stop(&mut self) {
        stop(&mut self.child);
    }

    /// Stop, then start again on the same socket and data root.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// `docker -H <this daemon> ARGS…`, panicking on failure.
    pub fn docker(&self, args: &[&str]) -> String {
        let host = self.host();
        let mut all = vec!["-H", host.as_str()];
        all.extend_from_slice(args);
        crate::docker(&all)
    }
}

impl Drop for PrivateDaemon {
    fn drop(&mut self) {
        // Networks first: their bridges live in the host's kernel, not in
        // the data root, and outlive the daemon. Left there, each one holds
        // a range of Docker's default pools until none is left (30 had
        // piled up on the test machine before this was found).
        if self.child.is_some() {
            let _ = crate::docker_cli()
                .args(["-H", &self.host(), "network", "prune", "-f"])
                .output();
        }
        release(&mut self.child, self.dir.path());
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .output();
    }
}

/// Stop a daemon we started and unmount its data root: dockerd
/// bind-mounts it onto itself, and a daemon that died early leaves that
/// mount behind. Only our own directory is touched.
pub(crate) fn release(child: &mut Option<Child>, dir: &std::path::Path) {
    stop(child);
    let _ = Command::new("umount")
        .arg("-R")
        .arg(dir.join("data"))
        .output();
    // The namespaces dockerd made for its sandboxes (a swarm node's load
    // balancer and overlays) are bind-mounted under its exec root; a
    // daemon stopped in a hurry leaves them, and the directory with them.
    if let Ok(entries) = std::fs::read_dir(dir.join("x").join("netns")) {
        for e in entries.flatten() {
            let _ = Command::new("umount").arg("-l").arg(e.path()).output();
        }
    }
}

/// The flags that give a dockerd its own socket (`host`), config file,
/// data root, exec root and pidfile, all under `dir`.
pub(crate) fn own_files(host: &str, dir: &std::path::Path) -> Vec<std::ffi::OsString> {
    let mut v: Vec<std::ffi::OsString> = vec!["--host".into(), host.into()];
    for (flag, name) in [
        ("--config-file", "daemon.json"),
        ("--data-root", "data"),
        ("--exec-root", "x"),
        ("--pidfile", "pid"),
    ] {
        v.push(flag.into());
        v.push(dir.join(name).into());
    }
    v
}

/// Wait until the dockerd at `host` answers, for at most 60 s; then fail
/// with its log.
pub(crate) fn wait_answers(host: &str, log: &std::path::Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ok = crate::docker_cli()
            .args(["-H", host, "version"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not answer in 60 s: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Stop a daemon we started (SIGTERM, then SIGKILL after 20 s) and wait
/// for it.
pub(crate) fn stop(child: &mut Option<Child>) {
    let Some(mut child) = child.take() else {
        return;
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .output();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
