//! Alerts out of dockward: what happened, to a command or a webhook.
//!
//! Delivery is the edge; deciding what deserves an alert is pure and lives
//! with what it watches (`dockward_fwctl::alert`). A command gets the
//! alert as JSON on stdin and in `DOCKWARD_ALERT_*` variables, so any
//! notifier (mail, a pager, `curl` with a token) can be plugged in. A
//! webhook gets one POST: `json` carries the message under `text` (Slack,
//! Mattermost), `content` (Discord) and `message`, with the alert itself
//! under `alert`; `ntfy` is ntfy's own plain-text publish with a `Title`
//! header. Written on hyper's client connection rather than an HTTP client
//! crate: one POST per alert needs nothing more, and hyper, rustls and
//! tokio-rustls are already what the proxy is built on.

#![forbid(unsafe_code)]

mod webhook;

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A published port became reachable from anywhere.
    PortPublic,
    /// A container with the Docker socket mounted appeared.
    SocketMount,
    /// A privileged container appeared.
    Privileged,
    /// dockward's firewall rules were changed or flushed by someone else
    /// (and put back).
    FirewallTampered,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PortPublic => "port-public",
            Self::SocketMount => "socket-mount",
            Self::Privileged => "privileged",
            Self::FirewallTampered => "firewall-tampered",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub kind: Kind,
    /// The host it happened on.
    pub host: String,
    pub container: Option<String>,
    /// One sentence.
    pub message: String,
    /// Seconds since the Unix epoch.
    pub at: u64,
}

/// The body of a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Json,
    Ntfy,
}

/// Where alerts go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// `sh -c CMD`, the alert on stdin.
    Command(String),
    Webhook {
        url: String,
        format: Format,
    },
}

/// How long one delivery may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

impl Sink {
    /// The sink for a `--notify-url` value: http or https, with a host.
    pub fn webhook(url: &str, format: Format) -> Result<Self, String> {
        webhook::Target::parse(url)?;
        Ok(Self::Webhook {
            url: url.to_string(),
            format,
        })
    }

    /// Delivers one alert; the error says what failed.
    pub async fn send(&self, alert: &Alert) -> Result<(), String> {
        let work = async {
            match self {
                Self::Command(cmd) => command(cmd, alert).await,
                Self::Webhook { url, format } => webhook::post(url, *format, alert).await,
            }
        };
        tokio::time::timeout(TIMEOUT, work)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} s", TIMEOUT.as_secs())))
    }

    /// The sink as logs name it (a URL without its query, which may hold a
    /// token).
    pub fn shown(&self) -> String {
        match self {
            Self::Command(c) => format!("command {c:?}"),
            Self::Webhook { url, .. } => {
                format!("webhook {}", url.split(['?', '#']).next().unwrap_or(url))
            }
        }
    }
}

async fn command(cmd: &str, alert: &Alert) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    let json = serde_json::to_string(alert).map_err(|e| e.to_string())?;
    let mut child = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .env("DOCKWARD_ALERT_KIND", alert.kind.as_str())
        .env("DOCKWARD_ALERT_MESSAGE", &alert.message)
        .env(
            "DOCKWARD_ALERT_CONTAINER",
            alert.container.as_deref().unwrap_or(""),
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run it ({e})"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read stdin closes it: not a failure.
        let _ = stdin.write_all(json.as_bytes()).await;
        let _ = stdin.write_all(b"\n").await;
    }
    let status = child.wait().await.map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("it exited with {status}"))
    }
}

/// The JSON webhook body (see the module doc).
pub fn json_body(alert: &Alert) -> serde_json::Value {
    let text = format!("dockward on {}: {}", alert.host, alert.message);
    serde_json::json!({
        "text": text,
        "content": text,
        "message": text,
        "alert": alert,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> Alert {
        Alert {
            kind: Kind::PortPublic,
            host: "h1".into(),
            container: Some("web".into()),
            message: "web 80/tcp is public".into(),
            at: 1,
        }
    }

    #[test]
    fn the_json_body_speaks_slack_discord_and_plain() {
        let b = json_body(&alert());
        assert_eq!(b["text"], "dockward on h1: web 80/tcp is public");
        assert_eq!(b["content"], b["text"]);
        assert_eq!(b["alert"]["kind"], "port-public");
    }

    #[test]
    fn only_http_and_https_urls_with_a_host() {
        assert!(Sink::webhook("https://ntfy.sh/topic", Format::Ntfy).is_ok());
        assert!(Sink::webhook("http://127.0.0.1:8080/hook?x=1", Format::Json).is_ok());
        for bad in ["ftp://x/y", "ntfy.sh/topic", "https:///x", "http://", ""] {
            assert!(Sink::webhook(bad, Format::Json).is_err(), "{bad}");
        }
        let s = Sink::webhook("https://hooks.example/a?token=s3cr3t", Format::Json).unwrap();
        assert!(!s.shown().contains("s3cr3t"));
    }

    #[tokio::test]
    async fn a_command_gets_the_alert_on_stdin_and_in_its_environment() {
        let dir = std::env::temp_dir().join(format!("dwt-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("got");
        let cmd = format!(
            "cat > {0}; echo \"$DOCKWARD_ALERT_KIND\" >> {0}",
            out.display()
        );
        Sink::Command(cmd).send(&alert()).await.unwrap();
        let got = std::fs::read_to_string(&out).unwrap();
        assert!(
            got.contains("\"kind\":\"port-public\"") && got.ends_with("port-public\n"),
            "{got}"
        );
        let e = Sink::Command("exit 3".into())
            .send(&alert())
            .await
            .unwrap_err();
        assert!(e.contains("exit status: 3"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
