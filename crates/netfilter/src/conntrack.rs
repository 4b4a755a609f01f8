//! conntrack's text output, parsed into plain data.
//!
//! `conntrack -L` prints one flow per line: the protocol, then the original
//! tuple (`src= dst= sport= dport=`), then the reply tuple. The original
//! tuple names the remote client and is what `-D` matches on; the reply's
//! source says where the flow really went (a DNATed flow's container).

use serde::Serialize;

/// One tracked connection, by its original direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conn {
    pub proto: String,
    pub src: String,
    pub dst: String,
    pub sport: u16,
    pub dport: u16,
    /// Source of the reply tuple: the container of a DNATed flow, else
    /// the original destination.
    pub reply_src: String,
    /// Source port of the reply: the container port of a DNATed flow.
    pub reply_sport: u16,
}

/// Parse `conntrack -L` output; lines that are not flows are skipped.
pub fn parse_entries(text: &str) -> Vec<Conn> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Conn> {
    let mut words = line.split_whitespace().peekable();
    // /proc/net/nf_conntrack starts each line with the family and its
    // number (`ipv4     2 tcp …`); `conntrack -L` starts with the protocol.
    if matches!(words.peek(), Some(&("ipv4" | "ipv6"))) {
        words.next();
        words.next();
    }
    let proto = words.next()?.to_string();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp" | "udplite" | "dccp") {
        return None;
    }
    let (mut src, mut dst, mut sport, mut dport) = (None, None, None, None);
    let (mut rsrc, mut rsport) = (None, None);
    for w in words {
        let Some((k, v)) = w.split_once('=') else {
            continue;
        };
        // The first of each key is the original direction.
        match k {
            "src" if src.is_none() => src = Some(v.to_string()),
            "dst" if dst.is_none() => dst = Some(v.to_string()),
            "sport" if sport.is_none() => sport = v.parse().ok(),
            "dport" if dport.is_none() => dport = v.parse().ok(),
            "src" if rsrc.is_none() => rsrc = Some(v.to_string()),
            "sport" if rsport.is_none() => rsport = v.parse().ok(),
            _ => {}
        }
    }
    Some(Conn {
        proto,
        src: src?,
        dst: dst?,
        sport: sport?,
        dport: dport?,
        reply_src: rsrc?,
        reply_sport: rsport?,
    })
}

/// This host's own IPv4 addresses in `/proc/net/fib_trie` (each leaf
/// followed by a `/32 host LOCAL` line) and IPv6 addresses in
/// `/proc/net/if_inet6` (32 hex digits first on each line).
pub fn proc_addresses(fib_trie: &str, if_inet6: &str) -> Vec<std::net::IpAddr> {
    let mut v: Vec<std::net::IpAddr> = Vec::new();
    let mut leaf = None;
    for line in fib_trie.lines() {
        let t = line.trim_start();
        if let Some(a) = t.strip_prefix("|-- ") {
            leaf = a.trim().parse::<std::net::Ipv4Addr>().ok();
        } else if t.starts_with("/32 host LOCAL") {
            if let Some(a) = leaf {
                v.push(a.into());
            }
        }
    }
    for line in if_inet6.lines() {
        let Some(hex) = line.split_whitespace().next() else {
            continue;
        };
        if let Ok(n) = u128::from_str_radix(hex, 16) {
            if hex.len() == 32 {
                v.push(std::net::Ipv6Addr::from(n).into());
            }
        }
    }
    v.sort();
    v.dedup();
    v
}

/// The `local` addresses of `ip -j address show`.
pub fn addresses(v: &serde_json::Value) -> Vec<std::net::IpAddr> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l.get("addr_info")?.as_array())
        .flatten()
        .filter_map(|a| a.get("local")?.as_str()?.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tcp_and_udp_and_skips_noise() {
        let text = "tcp      6 431999 ESTABLISHED src=10.99.0.2 dst=10.99.0.1 sport=40512 dport=32768 src=172.17.0.2 dst=10.99.0.2 sport=80 dport=40512 [ASSURED] mark=0 use=1\n\
udp      17 29 src=10.99.0.2 dst=10.99.0.1 sport=5353 dport=5353 [UNREPLIED] src=172.17.0.3 dst=10.99.0.2 sport=53 dport=5353 mark=0 use=1\n\
conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.\n\
tcp 6 garbage\n";
        let e = parse_entries(text);
        assert_eq!(e.len(), 2);
        assert_eq!(
            e[0],
            Conn {
                proto: "tcp".into(),
                src: "10.99.0.2".into(),
                dst: "10.99.0.1".into(),
                sport: 40512,
                dport: 32768,
                reply_src: "172.17.0.2".into(),
                reply_sport: 80,
            }
        );
        assert_eq!(e[1].proto, "udp");
        assert_eq!(e[1].reply_src, "172.17.0.3");
        assert_eq!(e[1].reply_sport, 53);
        assert_eq!(e[1].sport, 5353);
    }
}

#[cfg(test)]
mod address_tests {
    #[test]
    fn reads_proc_conntrack_and_addresses() {
        let ct = "ipv4     2 tcp      6 431999 ESTABLISHED src=10.99.0.2 dst=10.99.0.1 sport=40512 dport=32768 src=172.17.0.2 dst=10.99.0.2 sport=80 dport=40512 [ASSURED] mark=0 zone=0 use=2\n\
ipv4     2 unknown  2 433 src=172.19.0.1 dst=224.0.0.22 [UNREPLIED] src=224.0.0.22 dst=172.19.0.1 mark=0 zone=0 use=2\n\
ipv6     10 udp      17 29 src=fd99:0000:0000:0000:0000:0000:0000:0002 dst=fd99::1 sport=5353 dport=53 src=fd00::3 dst=fd99::2 sport=53 dport=5353 mark=0 zone=0 use=2\n";
        let e = super::parse_entries(ct);
        assert_eq!(e.len(), 2);
        assert_eq!(
            (
                e[0].proto.as_str(),
                e[0].reply_src.as_str(),
                e[0].reply_sport
            ),
            ("tcp", "172.17.0.2", 80)
        );
        assert_eq!(
            e[1].src.parse::<std::net::IpAddr>().unwrap(),
            "fd99::2".parse::<std::net::IpAddr>().unwrap()
        );
        let fib = "Main:\n  +-- 0.0.0.0/0 3 0 4\n     |-- 0.0.0.0\n        /0 universe UNICAST\n           |-- 127.0.0.1\n              /32 host LOCAL\n           |-- 172.17.0.0\n              /16 link UNICAST\n           |-- 172.17.0.1\n              /32 host LOCAL\n        |-- 172.17.255.255\n           /32 link BROADCAST\nLocal:\n           |-- 172.17.0.1\n              /32 host LOCAL\n";
        let v6 = "fe80000000000000004223fffe8cdb4e 05 40 20 80  docker0\n00000000000000000000000000000001 01 80 10 80       lo\n";
        let a: Vec<String> = super::proc_addresses(fib, v6)
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(
            a,
            ["127.0.0.1", "172.17.0.1", "::1", "fe80::42:23ff:fe8c:db4e"]
        );
    }

    #[test]
    fn reads_local_addresses_of_ip_json() {
        let v = serde_json::json!([
            {"ifname": "lo", "addr_info": [{"family": "inet", "local": "127.0.0.1"}, {"family": "inet6", "local": "::1"}]},
            {"ifname": "eth0", "addr_info": [{"family": "inet", "local": "10.0.0.5"}, {"family": "inet6", "local": "fe80::1"}]},
            {"ifname": "down"}
        ]);
        let a = super::addresses(&v);
        assert_eq!(a.len(), 4);
        assert!(a.contains(&"10.0.0.5".parse().unwrap()));
    }
}
