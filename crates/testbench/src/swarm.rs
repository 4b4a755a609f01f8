//! A Swarm of several nodes on this one machine.
//!
//! Each node is a dockerd of its own (socket, data root, exec root,
//! containerd, pidfile) in a network namespace of its own, joined to the
//! others by a veth on a bridge of the bench's (10.99.240.0/24, which the
//! bench reserves for this). What it takes, found by trying:
//! - dockerd is started with `nsenter --net=…`: `ip netns exec` remounts
//!   `/sys`, and dockerd then fails ("Devices cgroup isn't mounted");
//! - the node namespaces get **no default route**, only the bench subnet,
//!   so dockerd's registry lookups fail at once and never leave the
//!   machine; services are created with `--no-resolve-image`;
//! - the host's FORWARD policy is DROP once Docker runs and
//!   `br_netfilter` sends bridged frames through it: one ACCEPT rule for
//!   the bench's bridge, tagged with the bench's name, removed with it;
//! - a node's image store starts empty: the test image is moved with
//!   `docker save | docker load`.
//!
//! The kernel here has VXLAN (overlay networks carry traffic) but no IPVS
//! (the routing mesh answers nothing) and no IPsec ESP (no encrypted
//! overlays). Everything is ours and removed on drop: the nodes leave the
//! swarm, their daemons stop, and the namespaces, links and rule go.

use crate::{docker_cli, sh, unique, IMAGE};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One node: its daemon, namespace and address.
pub struct Node {
    pub name: String,
    pub ns: String,
    pub addr: String,
    host_if: String,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Node {
    /// `unix://…` URL of this node's socket.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("d.sock")
    }

    /// `docker -H <this node> ARGS…`, panicking on failure.
    pub fn docker(&self, args: &[&str]) -> String {
        let host = self.host();
        let mut all = vec!["-H", host.as_str()];
        all.extend_from_slice(args);
        crate::docker(&all)
    }

    /// `docker -H <this node> ARGS…`, success or not.
    pub fn docker_output(&self, args: &[&str]) -> std::process::Output {
        docker_cli()
            .arg("-H")
            .arg(self.host())
            .args(args)
            .output()
            .expect("run docker")
    }

    /// Run a command inside this node's network namespace.
    pub fn exec(&self, cmd: &[&str]) -> std::process::Output {
        Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .args(cmd)
            .output()
            .expect("run ip netns exec")
    }

    fn launch(&mut self) {
        let d = self.dir.path();
        std::fs::write(d.join("daemon.json"), "{}").expect("daemon.json");
        let log = std::fs::File::create(d.join("dockerd.log")).expect("log file");
        let child = Command::new("nsenter")
            .arg(format!("--net=/run/netns/{}", self.ns))
            .arg("dockerd")
            .args(crate::daemon::own_files(&self.host(), d))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start dockerd in the node's namespace");
        self.child = Some(child);
        crate::daemon::wait_answers(&self.host(), &d.join("dockerd.log"), &self.name);
    }

    /// Stop the daemon (SIGTERM, then SIGKILL after 20 s).
    pub fn stop(&mut self) {
        crate::daemon::stop(&mut self.child);
    }
}

/// Several Swarm nodes: the first is the manager, the rest workers.
pub struct SwarmBench {
    pub nodes: Vec<Node>,
    bridge: String,
    rule: String,
}

/// The bench subnet's gateway (the host's side).
pub const GATEWAY: &str = "10.99.240.1";

impl SwarmBench {
    /// Start `n` nodes (n ≥ 1), make the first a manager and join the
    /// others as workers, each with the test image loaded.
    pub fn start(n: usize) -> Self {
        assert!(crate::engine_available(), "no engine for the swarm bench");
        let tag = unique("sw");
        let hex = format!("{:x}", std::process::id() % 0xfffff);
        let bridge = format!("dwtbe{hex}");
        sh("ip", &["link", "add", &bridge, "type", "bridge"]);
        let mut me = Self {
            nodes: Vec::new(),
            bridge: bridge.clone(),
            rule: tag.clone(),
        };
        sh(
            "ip",
            &["addr", "add", &format!("{GATEWAY}/24"), "dev", &bridge],
        );
        sh("ip", &["link", "set", &bridge, "up"]);
        sh(
            "iptables",
            &[
                "-I",
                "FORWARD",
                "-i",
                &bridge,
                "-o",
                &bridge,
                "-m",
                "comment",
                "--comment",
                &tag,
                "-j",
                "ACCEPT",
            ],
        );
        for i in 0..n {
            let ns = format!("{tag}-n{i}");
            let host_if = format!("dwh{hex}{i:x}");
            let addr = format!("10.99.240.{}", 10 + i);
            sh("ip", &["netns", "add", &ns]);
            sh(
                "ip",
                &[
                    "link", "add", &host_if, "type", "veth", "peer", "name", "eth0", "netns", &ns,
                ],
            );
            sh("ip", &["link", "set", &host_if, "master", &bridge, "up"]);
            let inside = |args: &[&str]| {
                let mut all = vec!["netns", "exec", ns.as_str(), "ip"];
                all.extend_from_slice(args);
                sh("ip", &all);
            };
            inside(&["addr", "add", &format!("{addr}/24"), "dev", "eth0"]);
            inside(&["link", "set", "eth0", "up"]);
            inside(&["link", "set", "lo", "up"]);
            let dir = tempfile::Builder::new()
                .prefix("dwt-s")
                .tempdir_in("/tmp")
                .expect("temp dir");
            me.nodes.push(Node {
                name: format!("node{i}"),
                ns,
                addr,
                host_if,
                dir,
                child: None,
            });
        }
        // Start the daemons one after the other (containerd per node; two
        // cores), then move the image in and form the swarm.
        for node in &mut me.nodes {
            node.launch();
        }
        let image = Command::new("sh")
            .arg("-c")
            .arg(format!("docker save {IMAGE} > image.tar"))
            .current_dir(me.nodes[0].dir.path())
            .output()
            .expect("docker save");
        assert!(image.status.success(), "docker save {IMAGE}");
        let tar = me.nodes[0].dir.path().join("image.tar");
        for node in &me.nodes {
            node.docker(&["load", "-q", "-i", &tar.display().to_string()]);
        }
        let manager = &me.nodes[0];
        manager.docker(&[
            "swarm",
            "init",
            "--advertise-addr",
            &manager.addr,
            "--listen-addr",
            &format!("{}:2377", manager.addr),
        ]);
        let token = manager.docker(&["swarm", "join-token", "-q", "worker"]);
        let join = format!("{}:2377", manager.addr);
        for node in me.nodes.iter().skip(1) {
            node.docker(&[
                "swarm",
                "join",
                "--token",
                &token,
                "--advertise-addr",
                &node.addr,
                &join,
            ]);
        }
        me.wait_nodes_ready(n);
        me
    }

    /// The manager.
    pub fn manager(&self) -> &Node {
        &self.nodes[0]
    }

    /// Wait until the manager sees `n` nodes ready.
    pub fn wait_nodes_ready(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = self
                .manager()
                .docker_output(&["node", "ls", "--format", "{{.Status}}"]);
            let ready = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.trim() == "Ready")
                .count();
            if ready >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{ready} of {n} nodes ready after 60 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Wait until `service` has `n` running tasks.
    pub fn wait_running(&self, service: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let out = self.manager().docker_output(&[
                "service",
                "ps",
                service,
                "--filter",
                "desired-state=running",
                "--format",
                "{{.CurrentState}}",
            ]);
            let running = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.starts_with("Running"))
                .count();
            if running >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{service}: {running} of {n} tasks running after 90 s: {}",
                String::from_utf8_lossy(&out.stdout)
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for SwarmBench {
    fn drop(&mut self) {
        for node in self.nodes.iter().rev() {
            let _ = node.docker_output(&["swarm", "leave", "--force"]);
        }
        for node in &mut self.nodes {
            node.stop();
            let _ = Command::new("umount")
                .arg("-R")
                .arg(node.dir.path().join("data"))
                .output();
            let _ = Command::new("ip")
                .args(["link", "del", &node.host_if])
                .output();
            let _ = Command::new("ip").args(["netns", "del", &node.ns]).output();
        }
        let _ = Command::new("iptables")
            .args([
                "-D",
                "FORWARD",
                "-i",
                &self.bridge,
                "-o",
                &self.bridge,
                "-m",
                "comment",
                "--comment",
                &self.rule,
                "-j",
                "ACCEPT",
            ])
            .output();
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .output();
    }
}
