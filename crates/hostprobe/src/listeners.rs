//! The ports a process listens on, found by the sockets it holds: how
//! dockerd's own listeners (its API, Swarm's 2377 and 7946, a metrics
//! address) are told apart from docker-proxy's, which share its cgroup.
//! By the owning process, never by port number: a container may publish
//! 2377 on a host that is not a Swarm manager.
//!
//! `/proc/<pid>/fd/*` links read `socket:[<inode>]`; `/proc/<pid>/net/tcp`,
//! `tcp6`, `udp`, `udp6` list every socket of the process's network
//! namespace with its inode (the format of `net/ipv4/tcp_ipv4.c`,
//! `get_tcp4_sock`, and its udp and IPv6 siblings).

use crate::System;
use dockward_model::Protocol;
use std::collections::HashSet;
use std::path::Path;

/// The local ports of the sockets in `text` (a `/proc/net/{tcp,udp}[6]`
/// table) whose inode is in `inodes`; TCP sockets only when listening
/// (state `0A`).
pub fn socket_ports(text: &str, tcp: bool, inodes: &HashSet<u64>) -> Vec<u16> {
    socket_binds(text, tcp, inodes)
        .into_iter()
        .map(|(p, _)| p)
        .collect()
}

/// As [`socket_ports`], with whether each is bound to every address
/// (`0.0.0.0` or `::`: the local address all zeros).
pub fn socket_binds(text: &str, tcp: bool, inodes: &HashSet<u64>) -> Vec<(u16, bool)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (local, state, inode) = (f.get(1)?, f.get(3)?, f.get(9)?);
            if tcp && *state != "0A" {
                return None;
            }
            if !inodes.contains(&inode.parse::<u64>().ok()?) {
                return None;
            }
            let (addr, port) = local.rsplit_once(':')?;
            let any = addr.chars().all(|c| c == '0');
            Some((u16::from_str_radix(port, 16).ok()?, any))
        })
        .collect()
}

/// The ports process `pid` listens on (TCP) or has bound (UDP). Empty when
/// anything cannot be read.
pub fn listening(sys: &dyn System, pid: u32) -> Vec<(Protocol, u16)> {
    let mut out: Vec<(Protocol, u16)> = listening_on(sys, pid)
        .into_iter()
        .map(|(proto, port, _)| (proto, port))
        .collect();
    out.dedup();
    out
}

/// As [`listening`], with whether each is bound to every address.
pub fn listening_on(sys: &dyn System, pid: u32) -> Vec<(Protocol, u16, bool)> {
    let dir = Path::new("/proc").join(pid.to_string());
    let Ok(fds) = sys.read_dir(&dir.join("fd")) else {
        return Vec::new();
    };
    let inodes: HashSet<u64> = fds
        .iter()
        .filter_map(|fd| {
            let link = sys.read_link(&dir.join("fd").join(fd)).ok()?;
            link.to_str()?
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect();
    let mut out = Vec::new();
    for (file, proto) in [
        ("tcp", Protocol::Tcp),
        ("tcp6", Protocol::Tcp),
        ("udp", Protocol::Udp),
        ("udp6", Protocol::Udp),
    ] {
        let text = sys
            .read_text(&dir.join("net").join(file))
            .unwrap_or_default();
        out.extend(
            socket_binds(&text, proto == Protocol::Tcp, &inodes)
                .into_iter()
                .map(|(p, any)| (proto, p, any)),
        );
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::Fake;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0949 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1060 1 000000002ec15a52 100 0 0 10 0
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2000 1 000000002ec15a52 100 0 0 10 0
   2: 0100007F:0949 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 1061 1 000000002ec15a52 100 0 0 10 0
";

    #[test]
    fn only_the_process_own_listening_sockets() {
        let mine: HashSet<u64> = [1060, 1061].into();
        // 2377 (0x0949) listening is ours; the established socket on the
        // same port is not a listener; 8080 belongs to someone else.
        assert_eq!(socket_ports(TCP, true, &mine), vec![2377]);
        // UDP has no listening state: a bound socket counts.
        assert_eq!(socket_ports(TCP, false, &mine), vec![2377, 2377]);
        assert!(socket_ports("garbage\n\n: : :", true, &mine).is_empty());
    }

    #[test]
    fn by_the_process_fds() {
        let f = Fake::default()
            .link("/proc/5/fd/3", "socket:[1060]")
            .link("/proc/5/fd/4", "/dev/null")
            .file("/proc/5/net/tcp", TCP)
            .file("/proc/5/net/udp", TCP.replace("1060", "3000"));
        assert_eq!(listening(&f, 5), vec![(Protocol::Tcp, 2377)]);
        assert_eq!(listening_on(&f, 5), vec![(Protocol::Tcp, 2377, true)]);
        assert!(listening(&f, 6).is_empty());
    }

    #[test]
    fn reads_this_process() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(listening(&crate::Real, std::process::id()).contains(&(Protocol::Tcp, port)));
    }
}
