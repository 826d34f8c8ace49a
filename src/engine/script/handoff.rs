//! A busy script lets its io thread's other connections go.
//!
//! On the multi-threaded runtime a script runs on the io thread of the connection that sent
//! it: a trip to another thread and back would cost more than most scripts do. Until the
//! script turns busy (past `busy-reply-threshold`) the thread's other clients wait for it, as
//! Redis's do. From then on they must be answered `-BUSY` and be able to send `SCRIPT KILL`,
//! so the script's hook calls [`busy`]: the thread hands its share of the runtime to another
//! thread (tokio's `block_in_place`) and runs the rest of the script outside the runtime.
//! (The single-threaded runtime cannot hand off: there, scripts run on the script thread of
//! `server::offload`.)

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the script waits for another thread to take the runtime over before it runs on
/// (and tries again at its next hook).
const TAKEOVER_WAIT: Duration = Duration::from_millis(50);

thread_local! {
    /// The busy deadline of the script this thread has already handed off for.
    static HANDED_OFF: Cell<u64> = const { Cell::new(0) };
}

/// The running script (whose busy deadline is `deadline`) is busy: make sure the runtime's
/// other tasks run elsewhere.
pub(super) fn busy(deadline: u64) {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if HANDED_OFF.get() == deadline {
        return;
    }
    let Ok(handle) = Handle::try_current() else {
        return;
    };
    if handle.runtime_flavor() != RuntimeFlavor::MultiThread {
        return;
    }
    // A task spawned here runs once another thread drives this thread's queue: then the
    // hand-off has happened (`block_in_place` takes the runtime back if it returns sooner).
    let moved = Arc::new(AtomicBool::new(false));
    let flag = moved.clone();
    handle.spawn(async move { flag.store(true, Ordering::Release) });
    tokio::task::block_in_place(|| {
        let start = Instant::now();
        while !moved.load(Ordering::Acquire) && start.elapsed() < TAKEOVER_WAIT {
            std::thread::sleep(Duration::from_micros(100));
        }
    });
    if moved.load(Ordering::Acquire) {
        HANDED_OFF.set(deadline);
    }
}
