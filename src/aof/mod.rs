//! The append-only file: every change, logged so a restart can rebuild the data.
//!
//! # Format
//! The file is Redis's own AOF format (the single-file form Redis 7 still loads): a sequence
//! of requests encoded as RESP multibulk arrays, `*<argc>\r\n` then `$<len>\r\n<bytes>\r\n` per
//! argument, exactly as a client would send them. A `SELECT <db>` record precedes the first
//! record of each run of records for one database. Only commands that changed the data are
//! logged, in a deterministic form:
//!
//! - relative expiries become absolute: `SET k v PXAT <unix-ms>`, `PEXPIREAT k <unix-ms>`
//!   (`EXPIRE`, `SETEX`, `GETEX EX`, … all end up so), and an expiry already in the past is
//!   logged as `DEL k`;
//! - commands whose effect depends on the outcome are logged as their effect: `SETNX`, `GETSET`
//!   and `SET … NX|XX|GET` become plain `SET`, `MSETNX` becomes `MSET`, `GETDEL` becomes `DEL`,
//!   `GETEX PERSIST` becomes `PERSIST`, `INCRBYFLOAT` becomes `SET k <result> KEEPTTL` (so float
//!   rounding can never differ at replay);
//! - everything else is logged as it was received.
//!
//! `redis-check-aof` accepts these files, and `redis-server` 7.0 loads them.
//!
//! # Durability
//! Records are appended to an in-memory buffer in the order commands are applied (write
//! commands run under one ordering lock while the AOF is on). A writer thread moves the buffer
//! to the file: with `appendfsync always` it fsyncs before the clients whose records were in the
//! batch get their replies (group commit: one fsync covers every command that arrived
//! meanwhile); with `everysec` it fsyncs once a second; with `no` it leaves that to the kernel.
//!
//! # Loading
//! At startup the file is replayed through the normal command path. A last record cut short
//! (the process died mid-write) is dropped and the file truncated to the last whole record,
//! with a warning naming the offset and the bytes dropped. Anything else that does not parse,
//! or a record that fails, stops the start with an error naming the offset.

pub mod replay;
pub mod rewrite;
pub mod writer;

pub use replay::{load, LoadError, LoadReport};
pub use writer::{Aof, Fsync};
