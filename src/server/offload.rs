//! The script thread: where connections run the commands that execute Lua (`flags::SCRIPT`).
//!
//! The default runtime has one thread (as Redis has one), and a script that loops would
//! hold it: no other client could be told `-BUSY`, nor send `SCRIPT KILL`. So a connection
//! hands such a command, with its whole client state, to this thread and awaits it back;
//! its own thread serves everyone else meanwhile. One thread for the process suffices: a
//! script holds the whole keyspace and the one Lua VM, so scripts run one at a time anyway,
//! and a queue of them is served back to back.

use std::sync::mpsc::{channel, Sender};
use std::sync::OnceLock;

type Job = Box<dyn FnOnce() + Send>;

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
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            })
            .expect("spawn the script thread");
        tx
    })
}

/// Run `f` on the script thread; None if it panicked.
pub async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(f());
    });
    sender().send(job).ok()?;
    rx.await.ok()
}
