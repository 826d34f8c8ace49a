//! Graceful shutdown: one broadcast that the listener and every connection watch.
//! SIGINT, SIGTERM and the `SHUTDOWN` command all trigger it; the listener stops accepting,
//! connections finish the request in hand and close, then the process flushes and exits 0.
//! Connections do not hold a watch receiver (polling one on every pass of their loop cost a
//! lock): they read the flag and are woken through their own waker (`Engine::shut_down`).

use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::watch;

pub struct Shutdown {
    tx: watch::Sender<bool>,
    triggered: AtomicBool,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            tx: watch::channel(false).0,
            triggered: AtomicBool::new(false),
        }
    }
}

impl Shutdown {
    /// Set the flag and tell the watchers; `Engine::shut_down` also wakes the connections.
    pub(super) fn trigger(&self) {
        self.triggered.store(true, Ordering::SeqCst);
        self.tx.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        self.triggered.load(Ordering::SeqCst)
    }

    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.tx.subscribe()
    }
}
