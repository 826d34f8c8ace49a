//! Accept connections until shutdown, then wait for them to finish.

use super::connection;
use crate::engine::expire::ExpiryTask;
use crate::engine::{ClientInfo, Engine};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// How long shutdown waits for connections to finish what they are doing.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serve on `listeners` until `shared.shutdown` is triggered.
pub async fn run(shared: Arc<Engine>, listeners: Vec<TcpListener>) {
    let _expiry = ExpiryTask::spawn(shared.clone());
    // Every connection task holds a sender; when all are dropped, all connections are done.
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let mut tasks = Vec::new();
    for listener in listeners {
        let shared = shared.clone();
        let done_tx = done_tx.clone();
        tasks.push(tokio::spawn(accept_loop(shared, listener, done_tx)));
    }
    drop(done_tx);
    for t in tasks {
        let _ = t.await;
    }
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, done_rx.recv()).await;
}

async fn accept_loop(shared: Arc<Engine>, listener: TcpListener, done: mpsc::Sender<()>) {
    let mut shutdown = shared.shutdown.subscribe();
    let laddr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    loop {
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
