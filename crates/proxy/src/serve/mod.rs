//! The request path, one idea per file: [`accept`] takes connections
//! (TLS first); [`conn`] reads each request head once (`framing`) and
//! keeps the connection alive; [`forward`] makes the head and body
//! decisions and sends dockerd the bytes that were checked, then relays
//! its answer; [`judge`] looks up the containers a decision rests on;
//! [`counted`] writes the audit line when an answer the proxy makes itself
//! ends; [`ctx`] is what one client connection carries between its
//! requests.

mod accept;
mod conn;
mod counted;
mod ctx;
mod forward;
mod judge;

pub use accept::serve;

use crate::log::Sink;
use crate::metrics::Metrics;
use crate::upstream::Upstream;
use dockward_apiguard::{Action, Active};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub struct Options {
    /// Swapped whole on SIGHUP; requests take a snapshot.
    pub policy: RwLock<Arc<Active>>,
    /// Learning mode: the actions each client used, by client.
    pub learned: Option<std::sync::Mutex<BTreeMap<Learner, BTreeSet<Action>>>>,
    pub upstream: Upstream,
    pub sink: Arc<Sink>,
    pub metrics: Arc<Metrics>,
    /// Time allowed to send a request head.
    pub header_timeout: Duration,
    /// Largest request head, in bytes.
    pub max_header: usize,
    /// Longest pause between the frames of a body being checked.
    pub body_timeout: Duration,
    /// Bytes of request bodies held at once, across all connections.
    pub budget: Arc<crate::body::Budget>,
    /// Inspects the decisions needed, kept right by dockerd's `/events`.
    pub lookups: Arc<crate::lookup::Cache>,
}

/// A client as learning mode tells clients apart: the listener, and the
/// uid on unix sockets or the source address on TCP.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Learner {
    pub listener: String,
    pub uid: Option<u32>,
    pub addr: Option<String>,
}
