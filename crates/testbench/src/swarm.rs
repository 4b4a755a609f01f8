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

    /// `docker service create -d --no-resolve-image --name NAME ARGS…` on
    /// this node (no registry can be reached here).
    pub fn service(&self, name: &str, args: &[&str]) {
        let mut all = vec![
            "service",
            "create",
            "-d",
            "--no-resolve-image",
            "--name",
            name,
        ];
        all.extend_from_slice(args);
        self.docker(&all);
    }

    /// `BIN -H <this node> firewall ARGS…` inside this node's network
    /// namespace, its state under `state`.
    pub fn firewall(
        &self,
        bin: &std::path::Path,
        state: &std::path::Path,
        args: &[&str],
    ) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns])
            .arg(bin)
            .args(["-H", &self.host(), "firewall"])
            .args(args)
            .env("DOCKWARD_STATE_DIR", state);
        c
    }

    /// The managers' proxy of `contrib/swarm/`, run from `bin` in this
    /// node's namespace: services, nodes and their events only, on `port` of its
    /// address, over TLS with the node's swarm certificates.
    pub fn managers_proxy(&self, bin: &std::path::Path, port: u16) -> Child {
        let certs = self.swarm_certs();
        Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .arg(bin)
            .args(["proxy", "--upstream", &self.host(), "--listen"])
            .arg(format!("tcp://{}:{port}", self.addr))
            .arg("--tls-cert")
            .arg(certs.join("swarm-node.crt"))
            .arg("--tls-key")
            .arg(certs.join("swarm-node.key"))
            .arg("--tls-client-ca")
            .arg(certs.join("swarm-root-ca.crt"))
            .env("SERVICES", "1")
            .env("NODES", "1")
            .env("EVENTS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dockward proxy")
    }

    /// This node's swarm certificates (`swarm-node.crt`, `swarm-node.key`,
    /// `swarm-root-ca.crt`), under its data root.
    pub fn swarm_certs(&self) -> PathBuf {
        self.dir.path().join("data/swarm/certificates")
    }

    /// The routing mesh's datapath for an ingress-mode `port`/tcp, as
    /// moby programs it (libnetwork `programIngress`), where the kernel
    /// here cannot: without IPVS dockerd gives up before writing
    /// `DOCKER-INGRESS`. The node's nat table DNATs the port on any local
    /// address to the sandbox on `docker_gwbridge` (`ingress-sbox`), and
    /// its filter table accepts it, as moby's rules do; the sandbox is the
    /// real one, whose kernel answers (a refusal, with no IPVS to hand the
    /// connection on). The rules live in the node's namespace, and go
    /// with it.
    pub fn ingress_standin(&self, port: u16) {
        let sbox = self.docker(&[
            "network",
            "inspect",
            "docker_gwbridge",
            "--format",
            "{{(index .Containers \"ingress-sbox\").IPv4Address}}",
        ]);
        let sbox = sbox
            .trim()
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(
            !sbox.is_empty(),
            "{}: no ingress-sbox on docker_gwbridge",
            self.name
        );
        let ipt = |args: &str| {
            let args: Vec<&str> = args.split_whitespace().collect();
            let out = self.exec(&[&["iptables"], args.as_slice()].concat());
            assert!(
                out.status.success(),
                "iptables {args:?} in {}: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let has = |table: &str| {
            self.exec(&["iptables", "-t", table, "-n", "-L", "DOCKER-INGRESS"])
                .status
                .success()
        };
        if !has("nat") {
            ipt("-t nat -N DOCKER-INGRESS");
            ipt("-t nat -A DOCKER-INGRESS -j RETURN");
            ipt("-t nat -I PREROUTING -m addrtype --dst-type LOCAL -j DOCKER-INGRESS");
        }
        if !has("filter") {
            ipt("-N DOCKER-INGRESS");
            ipt("-A DOCKER-INGRESS -j RETURN");
            ipt("-I FORWARD 2 -j DOCKER-INGRESS");
        }
        ipt(&format!(
            "-t nat -I DOCKER-INGRESS -p tcp --dport {port} -j DNAT --to-destination {sbox}:{port}"
        ));
        ipt(&format!(
            "-I DOCKER-INGRESS -m state -p tcp --sport {port} --state ESTABLISHED,RELATED -j ACCEPT"
        ));
        ipt(&format!(
            "-I DOCKER-INGRESS -p tcp --dport {port} -j ACCEPT"
        ));
    }

    /// Cut this node off the bench (its link down) or plug it back.
    pub fn link(&self, up: bool) {
        sh(
            "ip",
            &["link", "set", &self.host_if, if up { "up" } else { "down" }],
        );
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
    /// Outsiders on the bench bridge: (namespace, host-side link).
    outsiders: Vec<(String, String)>,
}

/// A new namespace `ns` on `bridge` through a veth (`host_if` on the
/// host's side, `eth0` inside) with `addr`/24 and no route beyond it.
fn plug(bridge: &str, ns: &str, host_if: &str, addr: &str) {
    sh("ip", &["netns", "add", ns]);
    sh(
        "ip",
        &[
            "link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", ns,
        ],
    );
    sh("ip", &["link", "set", host_if, "master", bridge, "up"]);
    let cidr = format!("{addr}/24");
    for args in [
        ["addr", "add", cidr.as_str(), "dev", "eth0"].as_slice(),
        &["link", "set", "eth0", "up"],
        &["link", "set", "lo", "up"],
    ] {
        let mut all = vec!["netns", "exec", ns, "ip"];
        all.extend_from_slice(args);
        sh("ip", &all);
    }
}

/// The bench's rule in the host's FORWARD chain (`op`: `-I` or `-D`):
/// accept what crosses the bench bridge, tagged with the bench's name.
fn forward_accept<'a>(op: &'a str, bridge: &'a str, tag: &'a str) -> [&'a str; 12] {
    [
        op,
        "FORWARD",
        "-i",
        bridge,
        "-o",
        bridge,
        "-m",
        "comment",
        "--comment",
        tag,
        "-j",
        "ACCEPT",
    ]
}

/// A host on the nodes' network that is not a node.
pub struct Outsider {
    pub ns: String,
    pub addr: String,
}

/// Whether a TCP connection from namespace `ns` to `addr:port` is
/// answered within a second (open or refused: the packets got through)
/// rather than dropped.
pub fn tcp_answers(ns: &str, addr: &str, port: u16) -> bool {
    let script = "import socket,sys\ns=socket.socket()\ns.settimeout(1)\ntry:\n s.connect((sys.argv[1],int(sys.argv[2])));print('open')\nexcept ConnectionRefusedError:\n print('refused')\nexcept OSError:\n print('silent')";
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            "python3",
            "-c",
            script,
            addr,
            &port.to_string(),
        ])
        .output()
        .expect("run python3 in the namespace");
    String::from_utf8_lossy(&out.stdout).trim() != "silent"
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
            outsiders: Vec::new(),
        };
        sh(
            "ip",
            &["addr", "add", &format!("{GATEWAY}/24"), "dev", &bridge],
        );
        sh("ip", &["link", "set", &bridge, "up"]);
        sh("iptables", &forward_accept("-I", &bridge, &tag));
        let manager = me.new_node();
        let tar = manager.dir.path().join("image.tar");
        let image = Command::new("sh")
            .arg("-c")
            .arg(format!("docker save {IMAGE} > {}", tar.display()))
            .output()
            .expect("docker save");
        assert!(image.status.success(), "docker save {IMAGE}");
        manager.docker(&["load", "-q", "-i", &tar.display().to_string()]);
        manager.docker(&[
            "swarm",
            "init",
            "--advertise-addr",
            &manager.addr,
            "--listen-addr",
            &format!("{}:2377", manager.addr),
        ]);
        me.nodes.push(manager);
        // One after the other: a containerd per node, and two cores.
        for _ in 1..n {
            me.add_worker();
        }
        me.wait_nodes_ready(n);
        me
    }

    /// A new node, its daemon answering, the test image not loaded yet.
    fn new_node(&self) -> Node {
        let i = self.nodes.len();
        let hex = format!("{:x}", std::process::id() % 0xfffff);
        let ns = format!("{}-n{i}", self.rule);
        let host_if = format!("dwh{hex}{i:x}");
        let addr = format!("10.99.240.{}", 10 + i);
        let dir = tempfile::Builder::new()
            .prefix("dwt-s")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let mut node = Node {
            name: format!("node{i}"),
            ns,
            addr,
            host_if,
            dir,
            child: None,
        };
        // Removed by the node's drop if the rest fails.
        plug(&self.bridge, &node.ns, &node.host_if, &node.addr);
        node.launch();
        node
    }

    /// Start one more node (10.99.240.10 + its index), load the test image
    /// and join it as a worker; returns its index once the manager sees
    /// it ready.
    pub fn add_worker(&mut self) -> usize {
        let node = self.new_node();
        let tar = self.nodes[0].dir.path().join("image.tar");
        node.docker(&["load", "-q", "-i", &tar.display().to_string()]);
        let token = self
            .manager()
            .docker(&["swarm", "join-token", "-q", "worker"]);
        let join = format!("{}:2377", self.manager().addr);
        node.docker(&[
            "swarm",
            "join",
            "--token",
            &token,
            "--advertise-addr",
            &node.addr,
            &join,
        ]);
        self.nodes.push(node);
        self.wait_nodes_ready(self.nodes.len());
        self.nodes.len() - 1
    }

    /// Load `images` from this machine's engine into every node (there is
    /// no registry to pull from).
    pub fn load_images(&self, images: &[&str]) {
        let tar = self.nodes[0].dir.path().join("more-images.tar");
        let out = docker_cli()
            .arg("save")
            .arg("-o")
            .arg(&tar)
            .args(images)
            .output()
            .expect("docker save");
        assert!(
            out.status.success(),
            "docker save {images:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for n in &self.nodes {
            n.docker(&["load", "-q", "-i", &tar.display().to_string()]);
        }
        let _ = std::fs::remove_file(&tar);
    }

    /// The manager.
    pub fn manager(&self) -> &Node {
        &self.nodes[0]
    }

    /// A host on the nodes' subnet that is no node (10.99.240.200 + k),
    /// removed with the bench.
    pub fn outsider(&mut self) -> Outsider {
        let k = self.outsiders.len();
        let ns = format!("{}-o{k}", self.rule);
        let host_if = format!("dwh{:x}f{k:x}", std::process::id() % 0xfffff);
        let addr = format!("10.99.240.{}", 200 + k);
        self.outsiders.push((ns.clone(), host_if.clone()));
        plug(&self.bridge, &ns, &host_if, &addr);
        Outsider { ns, addr }
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

impl Drop for Node {
    fn drop(&mut self) {
        crate::daemon::release(&mut self.child, self.dir.path());
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .output();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
    }
}

impl Drop for SwarmBench {
    fn drop(&mut self) {
        for node in self.nodes.iter().rev() {
            let _ = node.docker_output(&["swarm", "leave", "--force"]);
        }
        self.nodes.clear();
        for (ns, host_if) in &self.outsiders {
            let _ = Command::new("ip").args(["link", "del", host_if]).output();
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        let _ = Command::new("iptables")
            .args(forward_accept("-D", &self.bridge, &self.rule))
            .output();
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .output();
    }
}
