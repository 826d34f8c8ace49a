//! ferrokv: a Redis-compatible in-memory key-value server.
//!
//! # Layout
//! - [`config`]: every setting, with Redis's names; command line and `redis.conf` parsing.
//! - [`num`]: integer and float parsing/formatting as Redis does it (a leaf).
//! - [`resp`]: the protocol — request parser (multibulk and inline), RESP2/RESP3 reply writer.
//! - [`store`]: the sharded keyspace, values, expiry, memory accounting; usable on its own.
//! - [`command`]: the command table, dispatch, and one module per command family.
//! - [`server`]: listener, connections, client registry, shutdown, in-process [`server::Session`].
//! - [`aof`]: the append-only file — format, writer and fsync policies, replay, rewrite.
//! - [`metrics`]: Prometheus/OpenMetrics exposition.

pub mod aof;
pub mod command;
pub mod config;
pub mod metrics;
pub mod num;
pub mod resp;
pub mod server;
pub mod store;

/// The Redis version we are compatible with, reported where clients look for it
/// (`HELLO`, `INFO server`): clients gate features on it.
pub const REDIS_VERSION: &str = "7.0.15";
