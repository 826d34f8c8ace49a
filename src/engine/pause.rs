//! `CLIENT PAUSE timeout [WRITE|ALL]` and `CLIENT UNPAUSE`.
//!
//! While a pause is on, the dispatcher postpones the commands it covers (every command for
//! ALL; for WRITE, those that may change the keyspace or be propagated: write commands,
//! `may_replicate` ones such as PUBLISH, and an EXEC whose queue holds one) by parking their
//! client, which runs the command again once the pause ends. A pause that starts inside a
//! transaction takes effect when the transaction ends, since the check is made only when a
//! command is dispatched from the network.
//!
//! As in Redis, the dataset is held constant while paused: expired keys read as missing but
//! are neither deleted by lookups nor by the active cycle, and nothing is evicted (the store's
//! `expiry_held` flag); they go once the pause is over.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PauseKind {
    Off = 0,
    Write = 1,
    All = 2,
}

pub struct Pause {
    kind: AtomicU8,
    /// When the pause ends (Unix ms).
    end_ms: AtomicU64,
    /// Bumped whenever the pause changes, so parked clients look again.
    changed: tokio::sync::watch::Sender<u64>,
}

impl Default for Pause {
    fn default() -> Pause {
        Pause {
            kind: AtomicU8::new(0),
            end_ms: AtomicU64::new(0),
            changed: tokio::sync::watch::channel(0).0,
        }
    }
}

fn kind_of(v: u8) -> PauseKind {
    match v {
        0 => PauseKind::Off,
        1 => PauseKind::Write,
        _ => PauseKind::All,
    }
}

impl Pause {
    /// Start (or extend) a pause: as in Redis, the stronger kind and the later end win.
    pub fn pause(&self, kind: PauseKind, end_ms: u64, store: &crate::store::Store) {
        // A pause whose time is up no longer counts.
        let cur = self.current(store.now(), store);
        self.kind.store(cur.max(kind) as u8, Ordering::Release);
        self.end_ms.fetch_max(end_ms, Ordering::AcqRel);
        store.counters().expiry_held.store(true, Ordering::Release);
        self.changed.send_modify(|g| *g += 1);
    }

    /// End the pause now.
    pub fn unpause(&self, store: &crate::store::Store) {
        self.kind.store(0, Ordering::Release);
        self.end_ms.store(0, Ordering::Release);
        store.counters().expiry_held.store(false, Ordering::Release);
        self.changed.send_modify(|g| *g += 1);
    }

    /// Whether a pause may be on (one relaxed load; `current` tells for sure).
    #[inline]
    pub fn maybe_on(&self) -> bool {
        self.kind.load(Ordering::Relaxed) != 0
    }

    /// The pause in effect at `now_ms` (one relaxed load when there is none); a pause whose
    /// time is up is ended here.
    pub fn current(&self, now_ms: u64, store: &crate::store::Store) -> PauseKind {
        let k = kind_of(self.kind.load(Ordering::Relaxed));
        if k == PauseKind::Off {
            return k;
        }
        if self.end_ms.load(Ordering::Acquire) < now_ms {
            self.unpause(store);
            return PauseKind::Off;
        }
        k
    }

    /// Resolves once no pause covers a client that waits for `kind` to be lifted: the
    /// pause ended (by time or `CLIENT UNPAUSE`) or changed (the caller checks again).
    pub async fn changed_or_over(&self, store: &crate::store::Store) {
        let mut rx = self.changed.subscribe();
        if self.current(store.now(), store) == PauseKind::Off {
            return;
        }
        let wait_ms = self
            .end_ms
            .load(Ordering::Acquire)
            .saturating_sub(store.now())
            .saturating_add(1);
        tokio::select! {
            _ = rx.changed() => {}
            _ = tokio::time::sleep(std::time::Duration::from_millis(wait_ms)) => {}
        }
    }
}
