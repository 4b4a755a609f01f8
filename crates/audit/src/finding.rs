//! What every check produces. Serialised as-is in the JSON output, so field
//! names are a public contract (docs/audit-json.md).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// GitHub code scanning's `security-severity` (CVSS-like, 0.0–10.0).
    pub fn security_severity(self) -> &'static str {
        match self {
            Self::Low => "2.0",
            Self::Medium => "5.0",
            Self::High => "8.0",
            Self::Critical => "9.5",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            "critical" => Some(Self::Critical),
            _ => None,
        }
    }
}

/// Where a finding is. Files carry 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Location {
    File {
        path: String,
        line: u32,
        column: u32,
    },
    Container {
        name: String,
        id: String,
    },
    /// The daemon; `source` says where the setting was read (`daemon.json`,
    /// `dockerd command line`, `/etc/default/docker`, `Engine API`).
    Daemon {
        source: String,
    },
    /// The swarm this node is in, as the node at `node` (its address)
    /// sees it.
    Swarm {
        node: String,
    },
    /// A Swarm service.
    Service {
        name: String,
        id: String,
    },
    /// A file or directory of the host (`/etc/docker/daemon.json`).
    Host {
        path: String,
    },
    /// An image; `layer` is the layer's digest (`sha256:…`) when the
    /// finding is in one.
    Image {
        name: String,
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        layer: Option<String>,
    },
}

impl Location {
    pub fn file(path: impl Into<String>, line: u32, column: u32) -> Self {
        Self::File {
            path: path.into(),
            line,
            column,
        }
    }

    /// The target a finding is grouped under in text output.
    pub fn target(&self) -> String {
        match self {
            Self::File { path, .. } => path.clone(),
            Self::Container { name, .. } => format!("container {name}"),
            Self::Daemon { source } => format!("daemon (read from {source})"),
            Self::Swarm { node } => format!("swarm (seen from {node})"),
            Self::Service { name, .. } => format!("service {name}"),
            Self::Image { name, .. } => format!("image {name}"),
            Self::Host { path } => format!("host file {path}"),
        }
    }
}

/// Why a finding does not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// `inline` (a `# dockward-ignore:` comment) or `ignore-file`.
    pub kind: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id, e.g. `dockerfile-root-user`.
    pub rule: String,
    pub severity: Severity,
    pub title: String,
    pub location: Location,
    /// What was seen. Never a secret's value: secrets are named, not shown.
    pub evidence: String,
    /// The exact fix: a command, a daemon.json, Dockerfile or compose snippet.
    pub remediation: String,
    /// CIS Docker Benchmark id, where one exists.
    pub cis: Option<String>,
    pub suppressed: Option<Suppression>,
}

/// A file that could not be audited (malformed YAML, an unterminated
/// heredoc, invalid JSON). Reported beside the findings, never as a panic.
/// The message never quotes the file's content, so it cannot leak a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub path: String,
    /// 1-based; 0 when the parser gave no position.
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl Diagnostic {
    pub fn new(
        path: impl Into<String>,
        line: u32,
        column: u32,
        message: impl Into<String>,
    ) -> Self {
        Self {
            path: path.into(),
            line,
            column,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )
    }
}

/// 1-based line and column (in characters) of a byte offset into `text`.
/// Offsets past the end or inside a character clamp to a valid position.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = text.get(..end).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (to_u32(line), to_u32(column))
}

pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
