//! conntrack's text output, parsed into plain data.
//!
//! `conntrack -L` prints one flow per line: the protocol, then the original
//! tuple (`src= dst= sport= dport=`), then the reply tuple. Only the
//! original tuple is kept: it names the remote client and is what `-D`
//! matches on.

use serde::Serialize;

/// One tracked connection, by its original direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conn {
    pub proto: String,
    pub src: String,
    pub dst: String,
    pub sport: u16,
    pub dport: u16,
}

/// Parse `conntrack -L` output; lines that are not flows are skipped.
pub fn parse_entries(text: &str) -> Vec<Conn> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Conn> {
    let mut words = line.split_whitespace();
    let proto = words.next()?.to_string();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp" | "udplite" | "dccp") {
        return None;
    }
    let (mut src, mut dst, mut sport, mut dport) = (None, None, None, None);
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
            _ => {}
        }
    }
    Some(Conn {
        proto,
        src: src?,
        dst: dst?,
        sport: sport?,
        dport: dport?,
    })
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
                dport: 32768
            }
        );
        assert_eq!(e[1].proto, "udp");
        assert_eq!(e[1].sport, 5353);
    }
}
