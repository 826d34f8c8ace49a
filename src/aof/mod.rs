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
//! Records are appended to an in-memory buffer by the engine while the shards they touch are
//! locked, so the records of any one key are in the order its changes happened. A writer thread moves the buffer
//! to the file: with `appendfsync always` it fsyncs before the clients whose records were in the
//! batch get their replies (group commit: one fsync covers every command that arrived
//! meanwhile); with `everysec` it fsyncs once a second; with `no` it leaves that to the kernel.
//!
//! # Loading
//! At startup the file is replayed through the engine's batch runner in loading mode: time
//! stands still (nothing expires), nothing is evicted and no statistics are counted. A
//! `MULTI … EXEC` block is applied all or nothing, as one atomic unit. A last record cut short
//! (the process died mid-write), or a `MULTI` block without its `EXEC` at the end of the file,
//! is dropped and the file truncated to the last whole record (or the block's start), with a
//! warning naming the offset and the bytes dropped. Anything else that does not parse, or a
//! record that fails, stops the start with an error naming the offset.

pub mod replay;
pub mod rewrite;
pub mod writer;

pub use replay::{load, LoadError, LoadReport};
pub use writer::{Aof, Fsync};

use crate::engine::{Engine, Persistence, PersistenceInfo};
use parking_lot::Mutex;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Where the AOF lives: `dir/appendfilename`.
pub fn path_of(engine: &Engine) -> std::path::PathBuf {
    let c = engine.config.read();
    std::path::Path::new(c.get("dir")).join(c.get("appendfilename"))
}

/// The AOF of a running server, as the engine sees it: the sink while it is on, and the
/// persistence controls (`BGREWRITEAOF`, `CONFIG SET appendonly|appendfsync`, `INFO`).
#[derive(Default)]
pub struct AofControl {
    aof: Mutex<Option<Arc<Aof>>>,
}

impl AofControl {
    /// Install the controls into `engine`, with `aof` (already open, after a load) attached as
    /// its sink.
    pub fn install(engine: &Engine, aof: Option<Arc<Aof>>) -> Arc<AofControl> {
        let ctl = Arc::new(AofControl {
            aof: Mutex::new(aof.clone()),
        });
        engine.set_sink(aof.map(|a| a as Arc<dyn crate::engine::Sink>));
        engine.set_persistence(Some(ctl.clone()));
        ctl
    }

    /// The open AOF, while it is on.
    pub fn aof(&self) -> Option<Arc<Aof>> {
        self.aof.lock().clone()
    }

    /// Switch the AOF on at runtime (`CONFIG SET appendonly yes`): the current data is written
    /// to a temporary file as a snapshot, which then atomically replaces the AOF, and logging
    /// continues from there. Write commands wait meanwhile (reads go on).
    pub fn enable(&self, engine: &Arc<Engine>) -> std::io::Result<()> {
        if self.aof().is_some() {
            return Ok(());
        }
        let path = path_of(engine);
        let tmp = path.with_extension("aof.enable-tmp");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&tmp)?;
        let policy = Fsync::parse(engine.config.read().get("appendfsync"));
        let aof = Aof::with_file(&path, file, policy)?;
        // Attach with the gate held: every write from now on waits for the snapshot and is
        // logged after it.
        let gate = engine.gate.write();
        engine.set_sink(Some(aof.clone()));
        let result = (|| {
            let snap = rewrite::snapshot(engine);
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
            engine.set_sink(None);
            aof.stop();
            let _ = std::fs::remove_file(&tmp);
        } else {
            *self.aof.lock() = Some(aof);
        }
        drop(gate);
        result
    }

    /// Switch the AOF off (`CONFIG SET appendonly no`): flush what is buffered and stop logging.
    pub fn disable(&self, engine: &Engine) -> std::io::Result<()> {
        let Some(aof) = self.aof() else {
            return Ok(());
        };
        let _gate = engine.gate.write();
        engine.set_sink(None);
        *self.aof.lock() = None;
        let r = aof.flush_now();
        aof.stop();
        r
    }
}

impl Persistence for AofControl {
    fn set_enabled(&self, engine: &Arc<Engine>, on: bool) -> Result<(), String> {
        let r = if on {
            self.enable(engine)
        } else {
            self.disable(engine)
        };
        r.map_err(|e| e.to_string())
    }

    fn set_policy(&self, _engine: &Engine, policy: &str) {
        if let Some(aof) = self.aof() {
            aof.set_policy(Fsync::parse(policy));
        }
    }

    fn rewrite(&self, engine: &Arc<Engine>) -> Result<(), String> {
        let Some(aof) = self.aof() else {
            return Err("ERR Background append only file rewriting is not possible while the AOF is disabled".into());
        };
        if !rewrite::start(engine.clone(), aof) {
            return Err("ERR Background append only file rewriting already in progress".into());
        }
        Ok(())
    }

    /// Start a background rewrite when the AOF has grown past the `auto-aof-rewrite-*`
    /// thresholds.
    fn maybe_auto_rewrite(&self, engine: &Arc<Engine>) {
        let Some(aof) = self.aof() else { return };
        let (pct, min) = {
            let c = engine.config.read();
            (
                c.get_u64("auto-aof-rewrite-percentage"),
                c.get_u64("auto-aof-rewrite-min-size"),
            )
        };
        let size = aof.size.load(Ordering::Relaxed);
        let base = aof.base_size.load(Ordering::Relaxed).max(1);
        let growth = size.saturating_sub(base) * 100 / base;
        if pct > 0
            && size >= min
            && growth >= pct
            && !aof.rewrite_in_progress.load(Ordering::Relaxed)
        {
            tracing::info!("Starting automatic rewriting of AOF on {growth}% growth");
            rewrite::start(engine.clone(), aof);
        }
    }

    fn info(&self, _engine: &Engine) -> PersistenceInfo {
        match self.aof() {
            None => PersistenceInfo {
                last_rewrite_ok: true,
                last_write_ok: true,
                ..Default::default()
            },
            Some(a) => PersistenceInfo {
                enabled: true,
                rewrite_in_progress: a.rewrite_in_progress.load(Ordering::Relaxed),
                last_rewrite_ok: a.last_rewrite_ok.load(Ordering::Relaxed),
                rewrites: a.rewrites.load(Ordering::Relaxed),
                last_write_ok: a.error.lock().is_none(),
                current_size: a.size.load(Ordering::Relaxed),
                base_size: a.base_size.load(Ordering::Relaxed),
                writes: a.writes.load(Ordering::Relaxed),
                write_errors: a.write_errors.load(Ordering::Relaxed),
            },
        }
    }
}
