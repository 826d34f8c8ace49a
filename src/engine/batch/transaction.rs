//! `MULTI` queueing and `EXEC`: a queued command is checked when it arrives; EXEC runs the
//! queue as one atomic unit (`State::run_atomic`) unless the transaction was aborted or a
//! watched key changed.

use super::State;
use crate::engine::ctx::{CmdError, ErrKind};
use crate::engine::errors as crate_error;
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
        } else if engine.registry.cmds[idx].flags & flags::WRITE != 0
            && engine.hot.no_good_replicas.load(Ordering::Relaxed)
        {
            Some(crate_error::NOREPLICAS)
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
        // Checked again once the keys are locked (another thread may be changing one now).
        if watching.as_ref().is_some_and(|w| w.is_dirty()) {
            self.out.null_array();
            self.account(engine, idx, args, true);
            return;
        }
        self.run_atomic_watched(engine, &queued, false, Some(watching.as_ref()));
        self.account(engine, idx, args, true);
    }
}
