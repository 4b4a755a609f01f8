//! The verdict vocabulary: the default stance, the verdict of one port,
//! how two verdicts compare and meet, and the words labels and the file
//! write them in.

use dockward_model::Protocol;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The default stance for published ports without an explicit verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stance {
    /// Reachable from this host and from Docker networks only.
    #[default]
    Local,
    /// Closed to everything that crosses the firewall.
    Deny,
    /// Open, as Docker leaves it.
    Public,
}

/// The verdict for one published container port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "from")]
pub enum Expose {
    Public,
    Local,
    Deny,
    /// Local, plus these sources.
    From(Vec<IpNet>),
}

impl Expose {
    pub fn describe(&self) -> dockward_model::Reach {
        use dockward_model::Reach;
        match self {
            Self::Public => Reach::Public,
            Self::Local => Reach::LocalOnly,
            Self::Deny => Reach::Blocked,
            Self::From(n) => Reach::From(n.iter().map(|n| n.to_string()).collect()),
        }
    }

    /// One word for summaries: `public`, `local`, `from-list`, `blocked`.
    pub fn describe_kind(&self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Local => "local",
            Self::Deny => "blocked",
            Self::From(_) => "from-list",
        }
    }

    /// The narrowest verdict that allows nothing either of the two
    /// refuses: what holds when it is unknown which of them applies.
    pub fn meet(&self, other: &Self) -> Self {
        match (self, other) {
            (Self::Deny, _) | (_, Self::Deny) => Self::Deny,
            (Self::Public, x) | (x, Self::Public) => x.clone(),
            (Self::Local, _) | (_, Self::Local) => Self::Local,
            (Self::From(a), Self::From(b)) => {
                // Two CIDRs either nest or are disjoint: the intersection
                // of two lists is each net of one inside a net of the other.
                let inside = |n: &IpNet, of: &[IpNet]| of.iter().any(|m| m.contains(n));
                let mut both: Vec<IpNet> = a
                    .iter()
                    .filter(|n| inside(n, b))
                    .chain(b.iter().filter(|n| inside(n, a)))
                    .copied()
                    .collect();
                both.sort();
                both.dedup();
                if both.is_empty() {
                    Self::Local
                } else {
                    Self::From(both)
                }
            }
        }
    }

    /// Does the new verdict allow less than the old one? (Then established
    /// connections must be cut.)
    pub fn narrows(old: &Self, new: &Self) -> bool {
        match (old, new) {
            (_, Self::Public) => false,
            (Self::Public, _) => true,
            (_, Self::Deny) => !matches!(old, Self::Deny),
            (Self::Deny, _) => false,
            (Self::Local, _) => false,
            (Self::From(a), Self::From(b)) => a.iter().any(|n| !b.contains(n)),
            (Self::From(_), Self::Local) => true,
        }
    }
}

impl From<Stance> for Expose {
    fn from(s: Stance) -> Self {
        match s {
            Stance::Local => Self::Local,
            Stance::Deny => Self::Deny,
            Stance::Public => Self::Public,
        }
    }
}

/// `public` | `local` | `deny` | `a,b,c` (addresses or CIDRs).
pub fn parse_expose(s: &str) -> Result<Expose, String> {
    match s.trim() {
        "public" => Ok(Expose::Public),
        "local" => Ok(Expose::Local),
        "deny" => Ok(Expose::Deny),
        "" => Err("empty value".into()),
        // A word that is no address: a verdict misspelt, most likely.
        word if !word.contains([',', '.', ':', '/']) => Err(
            match super::vocabulary::nearest(word, super::vocabulary::VERDICTS) {
                Some(w) => format!("`{word}` is not a verdict: did you mean {w}?"),
                None => format!("`{word}` is not a verdict nor an address"),
            },
        ),
        list => parse_cidrs(list.split(',')),
    }
}

pub(crate) fn parse_cidrs<'a>(items: impl Iterator<Item = &'a str>) -> Result<Expose, String> {
    let mut nets = Vec::new();
    for item in items {
        let item = item.trim();
        if item.is_empty() {
            return Err("empty entry in the address list".into());
        }
        let net = match item.parse::<IpNet>() {
            Ok(n) => n.trunc(),
            Err(_) => match item.parse::<IpAddr>() {
                Ok(a) => IpNet::from(a),
                Err(_) => return Err(format!("`{item}` is not an IP address or CIDR")),
            },
        };
        if !nets.contains(&net) {
            nets.push(net);
        }
    }
    if nets.is_empty() {
        return Err("empty address list".into());
    }
    nets.sort();
    Ok(Expose::From(nets))
}

/// `80` or `80/tcp` → (80, Some(tcp)).
pub(crate) fn parse_port_key(s: &str) -> Result<(u16, Option<Protocol>), String> {
    let (p, proto) = match s.split_once('/') {
        Some((p, proto)) => (
            p,
            Some(
                Protocol::parse(proto)
                    .ok_or_else(|| format!("unknown protocol `{proto}` (use tcp, udp or sctp)"))?,
            ),
        ),
        None => (s, None),
    };
    let port: u16 = p
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("`{p}` is not a port number (1-65535)"))?;
    Ok((port, proto))
}
