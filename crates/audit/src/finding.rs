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
            Self::Daemon { .. } => "daemon".to_string(),
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
