//! Outside hosts: a network namespace joined to this host by a veth pair.
//!
//! Packets from the namespace arrive on the host's veth end like packets from
//! a neighbour on the LAN: they pass `nat PREROUTING` (so published ports are
//! DNATed) and `filter FORWARD`, never the host's loopback shortcuts. That is
//! the path every firewall claim must be proven on.
//!
//! Addresses come from 10.99.0.0/16 (a /30 per host) and fd99::/16, which the
//! test bench reserves for itself.

use crate::sh;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// What a connection attempt from an outside host saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// Connected (and, for a request probe, got an answer starting with these bytes).
    Open(String),
    /// Actively refused (RST or ICMP unreachable).
    Refused,
    /// No answer before the timeout: dropped.
    Timeout,
    /// Any other failure (errno text).
    Error(String),
}

impl Probe {
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Open(_))
    }
}

pub struct OutsideHost {
    /// The namespace's name.
    pub ns: String,
    /// The host-side interface.
    pub host_if: String,
    /// The namespace-side interface.
    pub peer_if: String,
    /// The host's address on the link (the outside host's gateway).
    pub host_addr: String,
    /// The outside host's own address.
    pub addr: String,
    pub host_addr6: String,
    pub addr6: String,
}

const PROBE_PY: &str = r#"
import socket, sys
host, port, timeout, payload = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.settimeout(timeout)
try:
    s.connect((host, port))
    if payload:
        s.sendall(payload.encode().decode('unicode_escape').encode('latin-1'))
        data = s.recv(64)
        if not data:
            print("error closed-without-answer")
            sys.exit(0)
        print("open " + data.decode('latin-1').split('\n')[0].strip())
    else:
        print("open ")
except ConnectionRefusedError:
    print("refused")
except (socket.timeout, TimeoutError):
    print("timeout")
except OSError as e:
    print("error " + str(e.errno))
"#;

/// One TCP SYN in a hand-made Ethernet frame, to any IPv4 destination: a
/// neighbour's kernel would not route 127.0.0.1 out of its link, an
/// attacker's frame does (moby#45610, CVE-2020-8558).
const SYN_PY: &str = r#"
import socket, struct, sys
ifname, dmac, src, dst, dport = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
tcp = struct.pack('!HHIIBBHHH', 40000, dport, 1, 0, 5 << 4, 0x02, 64240, 0, 0)
pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(tcp))
tcp = tcp[:16] + struct.pack('!H', csum(pseudo + tcp)) + tcp[18:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
eth = bytes.fromhex(dmac.replace(':', '')) + s.getsockname()[4] + b'\x08\x00'
for _ in range(3): s.send(eth + ip + tcp)
"#;

/// One TCP segment with the given flags in a hand-made frame, then a
/// wait for a reset from the destination: "answered" or "silent".
const SEGMENT_PY: &str = r#"
import socket, struct, sys, time
ifname, dmac, src, dst, dport, flags = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
r.settimeout(0.2)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
tcp = struct.pack('!HHIIBBHHH', 40001, dport, 1000, 1, 5 << 4, flags, 64240, 0, 0)
pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(tcp))
tcp = tcp[:16] + struct.pack('!H', csum(pseudo + tcp)) + tcp[18:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
eth = bytes.fromhex(dmac.replace(':', '')) + s.getsockname()[4] + b'\x08\x00'
s.send(eth + ip + tcp)
end = time.time() + 1.5
while time.time() < end:
    try:
        d = r.recv(65535)
    except socket.timeout:
        continue
    ihl = (d[0] & 15) * 4
    if d[12:16] == socket.inet_aton(dst) and struct.unpack('!H', d[ihl:ihl + 2])[0] == dport and d[ihl + 13] & 4:
        print("answered"); sys.exit(0)
print("silent")
"#;

impl OutsideHost {
    /// Send one TCP segment with `flags` (0x12 SYN-ACK, 0x11 FIN-ACK…) from
    /// this host's address to `dst:port`, outside any connection; true when
    /// `dst` answers with a reset (it received the segment).
    pub fn raw_segment_answered(&self, dst: &str, port: u16, flags: u8) -> bool {
        self.raw_frame(SEGMENT_PY, dst, port, &[&flags.to_string()])
            .trim()
            == "answered"
    }

    /// Send three TCP SYNs (source port 40000) to `dst:port` in raw frames
    /// addressed to the host's side of the link, whatever `dst` is.
    pub fn raw_syn(&self, dst: &str, port: u16) {
        self.raw_frame(SYN_PY, dst, port, &[]);
    }

    /// Runs a raw-frame script in the namespace: it gets the interface,
    /// the host side's MAC, this host's address, `dst`, `port`, then
    /// `extra`; its output.
    fn raw_frame(&self, script: &str, dst: &str, port: u16, extra: &[&str]) -> String {
        let mac = std::fs::read_to_string(format!("/sys/class/net/{}/address", self.host_if))
            .expect("the host side's MAC");
        let port = port.to_string();
        let mut args = vec![
            "netns",
            "exec",
            &self.ns,
            "python3",
            "-c",
            script,
            &self.peer_if,
            mac.trim(),
            &self.addr,
            dst,
            &port,
        ];
        args.extend_from_slice(extra);
        sh("ip", &args)
    }

    /// Create a namespace with a veth pair and a default route via the host.
    pub fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let existing = sh("ip", &["-o", "addr", "show"]);
        let mut idx = (std::process::id() * 37 + N.fetch_add(1, Ordering::Relaxed) * 7919) % 16000;
        let (a, b) = loop {
            let (a, b) = (idx / 64, (idx % 64) * 4);
            if !existing.contains(&format!("10.99.{a}.{} ", b + 1))
                && !existing.contains(&format!("10.99.{a}.{}/", b + 1))
            {
                break (a, b);
            }
            idx = (idx + 1) % 16000;
        };
        let ns = format!("{}-{}-{idx}", crate::PREFIX, std::process::id());
        let host_if = format!("dwh{idx:x}");
        let peer_if = format!("dwp{idx:x}");
        let host_addr = format!("10.99.{a}.{}", b + 1);
        let addr = format!("10.99.{a}.{}", b + 2);
        let host_addr6 = format!("fd99:0:{a:x}:{b:x}::1");
        let addr6 = format!("fd99:0:{a:x}:{b:x}::2");
        sh("ip", &["netns", "add", &ns]);
        let me = Self {
            ns,
            host_if,
            peer_if: peer_if.clone(),
            host_addr,
            addr,
            host_addr6,
            addr6,
        };
        sh(
            "ip",
            &[
                "link",
                "add",
                &me.host_if,
                "type",
                "veth",
                "peer",
                "name",
                &peer_if,
            ],
        );
        sh("ip", &["link", "set", &peer_if, "netns", &me.ns]);
        let _ = Command::new("sysctl")
            .args([
                "-qw",
                &format!("net.ipv6.conf.{}.disable_ipv6=0", me.host_if),
            ])
            .output();
        sh(
            "ip",
            &[
                "addr",
                "add",
                &format!("{}/30", me.host_addr),
                "dev",
                &me.host_if,
            ],
        );
        sh(
            "ip",
            &[
                "-6",
                "addr",
                "add",
                &format!("{}/64", me.host_addr6),
                "dev",
                &me.host_if,
                "nodad",
            ],
        );
        sh("ip", &["link", "set", &me.host_if, "up"]);
        me.ip(&["link", "set", "lo", "up"]);
        me.ip(&["link", "set", &peer_if, "up"]);
        me.ip(&["addr", "add", &format!("{}/30", me.addr), "dev", &peer_if]);
        me.ip(&[
            "-6",
            "addr",
            "add",
            &format!("{}/64", me.addr6),
            "dev",
            &peer_if,
            "nodad",
        ]);
        me.ip(&["route", "add", "default", "via", &me.host_addr]);
        me.ip(&["-6", "route", "add", "default", "via", &me.host_addr6]);
        me
    }

    /// Run `ip ARGS` inside the namespace.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["netns", "exec", &self.ns, "ip"];
        all.extend_from_slice(args);
        sh("ip", &all)
    }

    /// Route a prefix (e.g. a Docker bridge subnet) via the host, as a
    /// neighbour that wants to reach containers directly would.
    pub fn route_via_host(&self, cidr: &str) {
        self.ip(&["route", "replace", cidr, "via", &self.host_addr]);
    }

    /// Try a TCP connection from this host to `addr:port`.
    pub fn tcp(&self, addr: &str, port: u16) -> Probe {
        self.probe(addr, port, "")
    }

    /// Send an HTTP/1.0 GET and return the status line: proves the packets
    /// reached a server, not only a relay that accepted the connection.
    pub fn http(&self, addr: &str, port: u16) -> Probe {
        self.probe(addr, port, "GET / HTTP/1.0\\r\\n\\r\\n")
    }

    fn probe(&self, addr: &str, port: u16, payload: &str) -> Probe {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns,
                "python3",
                "-c",
                PROBE_PY,
                addr,
                &port.to_string(),
                "2",
                payload,
            ])
            .output()
            .expect("run python3 in the namespace");
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        match text
            .split_once(' ')
            .map(|(a, b)| (a, b.to_string()))
            .unwrap_or((text.as_str(), String::new()))
        {
            ("open", rest) => Probe::Open(rest),
            ("refused", _) => Probe::Refused,
            ("timeout", _) => Probe::Timeout,
            (_, rest) => Probe::Error(format!(
                "{rest} {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )),
        }
    }
}

impl Default for OutsideHost {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for OutsideHost {
    fn drop(&mut self) {
        // Deleting the namespace destroys its veth end, and with it the pair.
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .output();
    }
}
