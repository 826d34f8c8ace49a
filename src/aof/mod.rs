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

use crate::server::Shared;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Where the AOF lives: `dir/appendfilename`.
pub fn path_of(shared: &Shared) -> std::path::PathBuf {
    let c = shared.config.read();
    std::path::Path::new(c.get("dir")).join(c.get("appendfilename"))
}

/// Switch the AOF on at runtime (`CONFIG SET appendonly yes`): the current data is written
/// to a temporary file as a snapshot, which then atomically replaces the AOF, and logging
/// continues from there. Write commands wait meanwhile (reads go on).
pub fn enable(shared: &Arc<Shared>) -> std::io::Result<()> {
    if shared.aof().is_some() {
        return Ok(());
    }
    let path = path_of(shared);
    let tmp = path.with_extension("aof.enable-tmp");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&tmp)?;
    let policy = Fsync::parse(shared.config.read().get("appendfsync"));
    let aof = Aof::with_file(&path, file, policy)?;
    // Attach with the ordering lock held: every write from now on waits for the snapshot
    // and is logged after it.
    let order = aof.order.lock();
    shared.set_aof(Some(aof.clone()));
    let result = (|| {
        let snap = rewrite::snapshot(shared);
        let mut f = aof.file.lock();
        f.write_all(&snap)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        rewrite::sync_dir(&path)?;
        aof.size.store(snap.len() as u64, Ordering::Relaxed);
        aof.base_size.store(snap.len() as u64, Ordering::Relaxed);
        Ok(())
    })();
    if result.is_err() {
        shared.set_aof(None);
        aof.stop();
        let _ = std::fs::remove_file(&tmp);
    }
    drop(order);
    result
}

/// Switch the AOF off (`CONFIG SET appendonly no`): flush what is buffered and stop logging.
pub fn disable(shared: &Shared) -> std::io::Result<()> {
    let Some(aof) = shared.aof() else {
        return Ok(());
    };
    let _order = aof.order.lock();
    shared.set_aof(None);
    let r = aof.flush_now();
    aof.stop();
    r
}
