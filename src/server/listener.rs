//! Accept connections until shutdown, then wait for them to finish.

use super::connection;
use crate::engine::expire::ExpiryTask;
use crate::engine::sink::Listen;
use crate::engine::{ClientInfo, Engine};
use parking_lot::Mutex;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// How long shutdown waits for connections to finish what they are doing.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Bind a listener on every address of `bind` (space-separated, Redis's `-` prefix for
/// optional addresses accepted) at `port`.
pub fn bind_all(bind: &str, port: u16) -> Result<Vec<TcpListener>, String> {
    let mut out = Vec::new();
    for addr in bind.split_whitespace().map(|b| b.trim_start_matches('-')) {
        let host = if addr.contains(':') {
            format!("[{addr}]")
        } else {
            addr.to_string()
        };
        let l = std::net::TcpListener::bind(format!("{host}:{port}"))
            .and_then(|l| l.set_nonblocking(true).map(|_| l))
            .and_then(TcpListener::from_std)
            .map_err(|e| format!("{addr}:{port}: {e}"))?;
        out.push(l);
    }
    Ok(out)
}

/// The accept loops, restartable on other addresses (`CONFIG SET port|bind`): each loop
/// belongs to a generation and ends when a newer one starts.
struct Listeners {
    me: std::sync::Weak<Listeners>,
    engine: std::sync::Weak<Engine>,
    generation: watch::Sender<u64>,
    /// Handed to every connection; taken at shutdown so the wait for connections can end.
    done: Mutex<Option<mpsc::Sender<()>>>,
}

impl Listeners {
    fn start(&self, listeners: Vec<TcpListener>) {
        let (Some(engine), Some(done)) = (self.engine.upgrade(), self.done.lock().clone()) else {
            return;
        };
        if let Some(a) = listeners.first().and_then(|l| l.local_addr().ok()) {
            engine.port.store(a.port() as u64, Ordering::Relaxed);
        }
        let mut gen = 0;
        self.generation.send_modify(|g| {
            *g += 1;
            gen = *g;
        });
        for l in listeners {
            let rx = self.generation.subscribe();
            tokio::spawn(accept_loop(engine.clone(), l, done.clone(), gen, rx));
        }
    }
}

impl Listen for Listeners {
    fn rebind(&self, bind: &str, port: u16) -> Result<(), String> {
        let Some(engine) = self.engine.upgrade() else {
            return Ok(());
        };
        let old_port = engine.port.load(Ordering::Relaxed) as u16;
        if port != old_port || port == 0 {
            // A new port is bound before the old one is let go: a failure changes nothing.
            let ls =
                bind_all(bind, port).map_err(|e| format!("Unable to listen on this port: {e}"))?;
            self.start(ls);
            return Ok(());
        }
        // Same port, other addresses: the old sockets must close first, which their loops do
        // asynchronously; the new ones are bound once they have (a failure is logged).
        self.generation.send_modify(|g| *g += 1);
        let me = self.me.clone();
        let bind = bind.to_string();
        tokio::spawn(async move {
            for _ in 0..50 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                if let Ok(ls) = bind_all(&bind, port) {
                    if let Some(me) = me.upgrade() {
                        me.start(ls);
                    }
                    return;
                }
            }
            tracing::error!("Failed to bind to specified addresses: {bind} port {port}");
        });
        Ok(())
    }
}

/// Serve on `listeners` until `shared.shutdown` is triggered.
pub async fn run(shared: Arc<Engine>, listeners: Vec<TcpListener>) {
    let expiry = ExpiryTask::spawn(shared.clone());
    // Every connection task holds a sender; when all are dropped, all connections are done.
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let l = Arc::new_cyclic(|me| Listeners {
        me: me.clone(),
        engine: Arc::downgrade(&shared),
        generation: watch::channel(0).0,
        done: Mutex::new(Some(done_tx)),
    });
    l.start(listeners);
    shared.set_listen(Some(l.clone()));
    let mut shutdown = shared.shutdown.subscribe();
    while !*shutdown.borrow_and_update() {
        if shutdown.changed().await.is_err() {
            break;
        }
    }
    shared.set_listen(None);
    l.done.lock().take();
    drop(l);
    // A busy script (only SHUTDOWN NOSAVE ends one) would not finish: do not wait for it.
    let grace = if shared.scripts.busy().is_some() {
        Duration::ZERO
    } else {
        SHUTDOWN_GRACE
    };
    let _ = tokio::time::timeout(grace, done_rx.recv()).await;
    if shared.scripts.busy().is_some() {
        expiry.detach();
    }
}

async fn accept_loop(
    shared: Arc<Engine>,
    listener: TcpListener,
    done: mpsc::Sender<()>,
    gen: u64,
    mut generation: watch::Receiver<u64>,
) {
    let mut shutdown = shared.shutdown.subscribe();
    let laddr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    loop {
        if *generation.borrow_and_update() != gen {
            return;
        }
        let (mut socket, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
            _ = generation.changed() => continue,
        };
        let _ = socket.set_nodelay(true);
        shared
            .stats
            .connections_received
            .fetch_add(1, Ordering::Relaxed);
        let max = shared.hot.maxclients.load(Ordering::Relaxed) as usize;
        if shared.clients.lock().len() >= max {
            shared
                .stats
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let _ = socket
                    .write_all(b"-ERR max number of clients reached\r\n")
                    .await;
            });
            continue;
        }
        let id = shared.next_client_id();
        let fd = {
            use std::os::fd::AsRawFd;
            socket.as_raw_fd() as i64
        };
        let info = Arc::new(
            ClientInfo::new(id, addr.to_string(), laddr.clone(), shared.store.now()).with_fd(fd),
        );
        shared.clients.lock().insert(id, info.clone());
        let shared = shared.clone();
        let done = done.clone();
        tokio::spawn(async move {
            connection::handle(shared.clone(), socket, info).await;
            shared.clients.lock().remove(&id);
            drop(done);
        });
    }
}
