//! `MULTI` queueing and `EXEC`: a queued command is checked when it arrives; EXEC runs the
//! queue as one atomic unit (`State::run_atomic`) unless the transaction was aborted or a
//! watched key changed.

use super::State;
use crate::engine::ctx::{CmdError, ErrKind};
use crate::engine::errors as crate_error;
use crate::engine::locks::{slot, LockSet, Slots};
use crate::engine::{flags, Engine};
use bytes::Bytes;
use std::sync::atomic::Ordering;

impl State {
    /// Inside MULTI: queue a checked command (Redis refuses `no-multi` commands, and any
    /// command over `maxmemory`, here; a refusal fails the transaction).
    pub(super) fn queue(&mut self, engine: &Engine, idx: usize, args: &[Bytes]) {
        let refuse = if engine.registry.cmds[idx].flags & flags::NO_MULTI != 0 {
            Some(CmdError::owned(
                ErrKind::Err,
                "ERR Command not allowed inside a transaction".into(),
            ))
        } else if crate::engine::evict::over_maxmemory(engine)
            && !crate::engine::evict::make_room(engine, self.now)
        {
            Some(crate_error::OOM)
        } else {
            None
        };
        if let Some(e) = refuse {
            self.client.multi_aborted = true;
            return self.reject(Some(idx), &e);
        }
        // The queue is bounded as a query buffer is: past `client-query-buffer-limit` bytes
        // the client is disconnected (Redis would have cut it off on its buffer).
        let size: usize = args.iter().map(|a| a.len() + 16).sum::<usize>() + 32;
        let limit = engine.hot.query_buffer_limit.load(Ordering::Relaxed) as usize;
        let queued = self
            .client
            .info
            .multi_mem
            .fetch_add(size, Ordering::Relaxed)
            + size;
        if queued > limit {
            tracing::warn!(
                client = self.client.info.id,
                "closing client whose MULTI queue reached client-query-buffer-limit"
            );
            self.client.multi = None;
            self.client.publish_state();
            self.client.close = true;
            return;
        }
        if let Some(q) = self.client.multi.as_mut() {
            q.push(args.to_vec());
        }
        self.client.publish_state();
        self.out.simple("QUEUED");
    }

    /// `EXEC`: run the queued commands as one atomic unit, unless one was refused while
    /// queueing (`EXECABORT`) or a watched key changed or expired (a null reply). Either
    /// way the transaction and the watches end.
    pub(super) fn exec(&mut self, engine: &Engine, idx: usize, args: &[Bytes]) {
        let queued = self.client.multi.take().unwrap_or_default();
        let watching = self.client.watching.take();
        self.client.publish_state();
        if std::mem::take(&mut self.client.multi_aborted) {
            let e = CmdError::owned(
                ErrKind::ExecAbort,
                "EXECABORT Transaction discarded because of previous errors.".into(),
            );
            // EXEC itself ran (and failed): monitors see it, as in Redis.
            self.feed_monitors(engine, idx, args);
            return self.reject(Some(idx), &e);
        }
        if let Some(w) = &watching {
            if w.is_dirty() || self.watched_expired(engine, w) {
                self.out.null_array();
                self.account(engine, idx, args, true);
                return;
            }
        }
        drop(watching);
        self.out.array(queued.len());
        self.run_atomic(engine, &queued, false);
        self.account(engine, idx, args, true);
    }

    /// A watched key that was live when watched has passed its TTL (Redis fails the EXEC
    /// even before the key is removed).
    pub(super) fn watched_expired(
        &mut self,
        engine: &Engine,
        w: &crate::engine::watch::Watching,
    ) -> bool {
        let mut slots = Slots::new();
        for (db, k) in w.live_when_watched() {
            slots.push(slot(db, k));
        }
        if slots.is_empty() {
            return false;
        }
        let now = engine.store.now();
        let mut locks = LockSet::new(engine, &mut slots);
        w.live_when_watched()
            .any(|(db, k)| locks.shard(db, k).peek_expired(k, now))
    }
}
