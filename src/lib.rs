//! ferrokv: a Redis-compatible in-memory key-value server.
//!
//! # Layout (layers only look down; see ARCHITECTURE.md)
//! - [`server`]: the network only — listener, connections, the metrics HTTP endpoint.
//! - [`aof`]: the append-only file — format, writer (the engine's sink), replay, rewrite.
//! - [`command`]: the command families and their rows of the command table.
//! - [`engine`]: dispatch, key specs and locking, outcomes and effects, propagation, keyspace
//!   events, client state, statistics, slow log, metrics, the batch runner and [`engine::Session`].
//! - [`store`]: the sharded keyspace, values, expiry, eviction scoring, memory accounting.
//! - [`config`]: every setting, with Redis's names; command line and `redis.conf` parsing.
//! - [`resp`]: the protocol — request parser (multibulk and inline), RESP2/RESP3 writer.
//! - [`num`]: integer and float parsing/formatting as Redis does it (a leaf).

pub mod aof;
pub mod command;
pub mod config;
pub mod engine;
pub mod num;
pub mod resp;
pub mod server;
pub mod store;

/// The Redis version we are compatible with, reported where clients look for it
/// (`HELLO`, `INFO server`): clients gate features on it.
pub const REDIS_VERSION: &str = "7.0.15";
