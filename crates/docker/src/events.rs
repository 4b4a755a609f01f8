//! Following dockerd: a snapshot, then every container and network event,
//! and a fresh snapshot whenever the connection comes back.
//!
//! Why a resync and not just "carry on": while dockerd restarts (or the
//! socket is gone), containers come and go without any event reaching us,
//! and `--live-restore` keeps containers running across the restart. The only
//! safe assumption after a gap is that everything may have changed.
//!
//! No event is lost between the snapshot and the stream: the stream is asked
//! for events `since` a moment taken *before* the snapshot, so anything that
//! happened during it is replayed (dockerd keeps recent events in memory).
//! Consumers therefore see some events twice and must treat them as hints to
//! re-read state, never as deltas to apply blindly.

use crate::client::{Engine, InventorySource, Scope};
use crate::endpoint::Endpoint;
use crate::error::EngineError;
use bollard::query_parameters::EventsOptionsBuilder;
use dockward_model::Inventory;
use futures_util::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// What the follower tells its consumer.
#[derive(Debug, Clone)]
pub enum Update {
    /// A complete, fresh picture: replace whatever you had.
    Snapshot(Box<Inventory>),
    /// Something changed after the last snapshot.
    Event(DockerEvent),
    /// The daemon went away; a `Snapshot` follows when it is back.
    Disconnected(String),
}

/// One Engine event of type `container`, `network`, `node` or `service`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerEvent {
    /// `container` or `network`.
    pub kind: String,
    /// `create`, `start`, `die`, `destroy`, `connect`, `disconnect`, …
    pub action: String,
    /// The actor's id (container id, or network id for network events).
    pub id: String,
    /// Actor attributes: `name`, labels, and for network events `container`.
    pub attributes: BTreeMap<String, String>,
    pub time_nano: i64,
}

#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// First wait after a failure; doubled up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// What each snapshot reads.
    pub scope: Scope,
}

impl Default for FollowOptions {
    fn default() -> Self {
        Self {
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            scope: Scope::Full,
        }
    }
}

/// Follow the daemon at `endpoint` until the receiver is dropped.
pub async fn follow(endpoint: Endpoint, tx: mpsc::Sender<Update>, opts: FollowOptions) {
    let mut backoff = opts.min_backoff;
    let mut connected_once = false;
    loop {
        match session(&endpoint, &opts.scope, &tx).await {
            // The consumer is gone: stop.
            Ok(Stop::ReceiverGone) => return,
            Ok(Stop::StreamEnded(reason)) => {
                backoff = opts.min_backoff;
                connected_once = true;
                tracing::warn!(%reason, "lost the Docker event stream; reconnecting");
                if tx.send(Update::Disconnected(reason)).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "Docker daemon not reachable yet");
                if connected_once {
                    // Already reported; keep quiet while the daemon is down.
                } else if tx.send(Update::Disconnected(e.to_string())).await.is_err() {
                    return;
                }
                connected_once = true;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(opts.max_backoff);
            }
        }
        if tx.is_closed() {
            return;
        }
    }
}

enum Stop {
    ReceiverGone,
    StreamEnded(String),
}

async fn session(
    endpoint: &Endpoint,
    scope: &Scope,
    tx: &mpsc::Sender<Update>,
) -> Result<Stop, EngineError> {
    let engine = Engine::connect(endpoint.clone())
        .await?
        .with_scope(scope.clone());
    // Two seconds of margin for clock granularity (since= is in seconds).
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs().saturating_sub(2))
        .unwrap_or(0);
    let inventory = engine.snapshot().await?;
    if tx
        .send(Update::Snapshot(Box::new(inventory)))
        .await
        .is_err()
    {
        return Ok(Stop::ReceiverGone);
    }
    let mut filters = HashMap::new();
    filters.insert(
        "type".to_string(),
        vec![
            "container".to_string(),
            "network".to_string(),
            // Swarm nodes joining, leaving or changing role: on a
            // manager, the only notice of the cluster's membership.
            "node".to_string(),
            // Services created, changed or removed (on a manager): their
            // labels and ports decide the ingress ports on every node.
            "service".to_string(),
        ],
    );
    let opts = EventsOptionsBuilder::default()
        .since(&since.to_string())
        .filters(&filters)
        .build();
    let mut stream = engine.docker().events(Some(opts));
    loop {
        tokio::select! {
            item = stream.next() => match item {
                Some(Ok(msg)) => {
                    let Some(ev) = convert_event(msg) else { continue };
                    if tx.send(Update::Event(ev)).await.is_err() {
                        return Ok(Stop::ReceiverGone);
                    }
                }
                Some(Err(e)) => return Ok(Stop::StreamEnded(e.to_string())),
                None => return Ok(Stop::StreamEnded("the daemon closed the event stream".into())),
            },
            _ = tx.closed() => return Ok(Stop::ReceiverGone),
        }
    }
}

fn convert_event(msg: bollard::models::EventMessage) -> Option<DockerEvent> {
    let kind = msg.typ?.to_string();
    let actor = msg.actor.unwrap_or_default();
    Some(DockerEvent {
        kind,
        action: msg.action.unwrap_or_default(),
        id: actor.id.unwrap_or_default(),
        attributes: actor.attributes.unwrap_or_default().into_iter().collect(),
        time_nano: msg.time_nano.unwrap_or_default(),
    })
}
