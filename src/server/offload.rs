//! The script thread: where a connection runs a pipeline of commands that execute Lua
//! (`flags::SCRIPT`), or any such command on the single-threaded runtime.
//!
//! A lone script runs on its connection's thread, which the multi-threaded runtime can give
//! up should the script turn busy (`engine::script::handoff`). A pipeline of scripts comes
//! here, with the client's whole state, and the connection awaits it back: its thread parses
//! and answers everyone else meanwhile, so the two threads share the work (measured, EVALSHA of
//! one INCR at -P 16: 0.85x Redis's throughput this way, 0.61x run in place). A
//! single-threaded runtime cannot give its thread up, so there every script comes here, or a
//! loop would keep other clients from being told `-BUSY` or sending `SCRIPT KILL`.
//!
//! Results come back through one collector task on the runtime rather than by waking each
//! connection from this thread: waking a task from outside the runtime costs a write to the
//! runtime's eventfd every time, while the collector is woken once for all the results that
//! finished before it ran, and wakes their connections from inside the runtime for free.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::OnceLock;
use tokio::sync::Notify;

/// A script command to run; it returns the delivery of its result, run on the runtime.
type Job = Box<dyn FnOnce() -> Done + Send>;
type Done = Box<dyn FnOnce() + Send>;

/// Results waiting for the collector.
#[derive(Default)]
struct Finished {
    done: Mutex<Vec<Done>>,
    ready: Notify,
}

fn finished() -> &'static Finished {
    static F: OnceLock<Finished> = OnceLock::new();
    F.get_or_init(Finished::default)
}

/// Whether a collector task is alive (its runtime may have been dropped: then the next
/// script starts another).
static COLLECTING: AtomicBool = AtomicBool::new(false);

fn sender() -> &'static Sender<Job> {
    static TX: OnceLock<Sender<Job>> = OnceLock::new();
    TX.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        std::thread::Builder::new()
            .name("scripts".into())
            .spawn(move || {
                for job in rx {
                    // A job that panics drops its reply channel: its connection closes and
                    // the thread goes on serving the others.
                    if let Ok(done) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)) {
                        let f = finished();
                        f.done.lock().push(done);
                        // Wakes the collector only if it waits; otherwise it already has a
                        // wake-up coming and will take this result with the others.
                        f.ready.notify_one();
                    }
                }
            })
            .expect("spawn the script thread");
        tx
    })
}

async fn collect() {
    struct Alive;
    impl Drop for Alive {
        fn drop(&mut self) {
            COLLECTING.store(false, Ordering::Release);
        }
    }
    let _alive = Alive;
    let f = finished();
    loop {
        // Drained before waiting too: a collector started after another's runtime went
        // picks up what that one left.
        let batch = std::mem::take(&mut *f.done.lock());
        for deliver in batch {
            deliver();
        }
        f.ready.notified().await;
    }
}

/// Run `f` on the script thread; None if it panicked.
pub async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    if !COLLECTING.swap(true, Ordering::AcqRel) {
        tokio::spawn(collect());
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let r = f();
        Box::new(move || {
            let _ = tx.send(r);
        })
    });
    sender().send(job).ok()?;
    rx.await.ok()
}
