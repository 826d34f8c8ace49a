//! Where the engine sends what changed, and how commands reach persistence.
//!
//! A [`Sink`] receives the canonical records of every command that changed data, and the
//! `DEL`s of keys that expired or were evicted, in the order the data changed: records are
//! appended while the shards they touch are still locked, so two records about one key can
//! never be reordered. The AOF is the sink today; a replica link could be another.
//!
//! [`Persistence`] is the control side (`BGREWRITEAOF`, `CONFIG SET appendonly|appendfsync`,
//! `INFO persistence`), implemented by the `aof` layer above the engine and installed at
//! startup, so the engine and the commands never import it.

use std::sync::Arc;

/// A receiver of propagated records.
pub trait Sink: Send + Sync {
    /// Append one record (`args`) for database `db`; returns its sequence number, which a
    /// client can later wait on (see `wait_durable`).
    fn append(&self, db: usize, args: &[&[u8]]) -> u64;
    /// Why writes are failing (the AOF cannot be written), if they are: write commands are
    /// refused with `-MISCONF` meanwhile.
    fn error(&self) -> Option<String>;
    /// Called once at the end of each batch that appended records (write out or wake the
    /// writer).
    fn batch_done(&self);
    /// True when a client must wait for `wait_durable` before its replies go out.
    fn sync_replies(&self) -> bool;
    /// Wait until record `seq` is as durable as the policy promises.
    fn wait_durable(
        &self,
        seq: u64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>>;
}

/// What `INFO persistence` and the metrics show of the AOF.
#[derive(Debug, Default, Clone)]
pub struct PersistenceInfo {
    pub enabled: bool,
    pub rewrite_in_progress: bool,
    pub last_rewrite_ok: bool,
    pub rewrites: u64,
    pub last_write_ok: bool,
    pub current_size: u64,
    pub base_size: u64,
    pub writes: u64,
    pub write_errors: u64,
}

/// The listening sockets, implemented by the `server` layer: `CONFIG SET port|bind`.
pub trait Listen: Send + Sync {
    /// Listen on `bind` (space-separated addresses) and `port` instead. On error the old
    /// sockets stay and the reason is returned.
    fn rebind(&self, bind: &str, port: u16) -> Result<(), String>;
}

/// Persistence controls, implemented by the `aof` layer.
pub trait Persistence: Send + Sync {
    /// Switch the AOF on (snapshot the data into a new file, then log) or off.
    fn set_enabled(&self, engine: &Arc<super::Engine>, on: bool) -> Result<(), String>;
    /// Apply `appendfsync` after a `CONFIG SET`.
    fn set_policy(&self, engine: &super::Engine, policy: &str);
    /// Start a background rewrite. Err carries Redis's error text.
    fn rewrite(&self, engine: &Arc<super::Engine>) -> Result<(), String>;
    /// Start a rewrite if the file grew past the `auto-aof-rewrite-*` thresholds.
    fn maybe_auto_rewrite(&self, engine: &Arc<super::Engine>);
    fn info(&self, engine: &super::Engine) -> PersistenceInfo;
}
