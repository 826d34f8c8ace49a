//! Graceful shutdown: one broadcast that the listener and every connection watch.
//! SIGINT, SIGTERM and the `SHUTDOWN` command all trigger it; the listener stops accepting,
//! connections finish the request in hand and close, then the process flushes and exits 0.

use tokio::sync::watch;

pub struct Shutdown {
    tx: watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            tx: watch::channel(false).0,
        }
    }
}

impl Shutdown {
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.tx.subscribe()
    }
}
