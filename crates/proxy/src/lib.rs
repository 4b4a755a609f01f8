//! `dockward proxy`: the edge around `dockward-apiguard`'s decisions.
//!
//! Each request is parsed once (`framing`): the decision is made on that
//! parse, and dockerd receives the very bytes that were parsed, minus the
//! hop-by-hop headers, with bodies framed the one way they were read. What
//! RFC 9112 lets a server refuse as ambiguous framing (Content-Length with
//! Transfer-Encoding, repeated Content-Length, a transfer coding other than
//! chunked) is refused with 400, so a request that two parsers could frame
//! differently never reaches dockerd. Answers are read and relayed by their
//! own framing (`relay`); hyper remains where it earns its place: the
//! answers the proxy composes itself and the `/events` filter.
//!
//! Connection upgrades (attach, exec with a body, BuildKit's h2c on
//! `/session` and `/grpc`) are tunnelled only after dockerd answers 101:
//! dockerd keeps a connection open after a refused upgrade and serves the
//! next request on it, so tunnelling early would let a second, unchecked
//! request through. Streams (`/events`, `logs?follow`, `stats`, `wait`,
//! tunnels) have no idle timeout; only reading a request head does.

pub mod body;
mod events;
pub mod framing;
pub mod listen;
pub mod log;
pub mod lookup;
pub mod metrics;
pub mod privdrop;
pub mod relay;
pub mod run;
pub mod serve;
pub mod setup;
pub mod stream;
pub mod tls;
pub mod upstream;

pub use listen::{Listen, ListenSpec};
pub use serve::{serve, Options};
pub use upstream::Upstream;
