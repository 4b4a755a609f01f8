//! `dockward proxy`: the edge around `dockward-apiguard`'s decisions.
//!
//! HTTP is parsed by hyper on both sides and every request is rebuilt, so
//! nothing the client sent reaches dockerd as raw bytes: a request that
//! hyper and dockerd would frame differently cannot be smuggled through a
//! kept-alive connection. On top of hyper's own framing checks, a guard
//! reads the same raw bytes (`framing`) and refuses with 400 what RFC 9112
//! lets a server refuse and hyper would settle by itself (Content-Length
//! with Transfer-Encoding, repeated Content-Length, a transfer coding other
//! than chunked).
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
pub mod run;
pub mod serve;
pub mod setup;
pub mod stream;
pub mod tls;
pub mod upstream;

pub use listen::{Listen, ListenSpec};
pub use serve::{serve, Options};
pub use upstream::Upstream;
