//! The HTTP `/metrics` endpoint (`--metrics-addr HOST:PORT`): a minimal HTTP/1.1 responder
//! for Prometheus scrapes. One request per connection; anything but `GET /metrics` is a 404.

use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The OpenMetrics content type Prometheus asks for.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// Largest request head read; scrapes send a few hundred bytes.
pub const MAX_REQUEST: usize = 8 * 1024;
/// A client that sends nothing for this long is dropped.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn serve(shared: Arc<crate::engine::Engine>, listener: TcpListener) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let socket = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(_) => continue,
            },
            _ = shutdown.changed() => return,
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(READ_TIMEOUT, respond(shared, socket)).await;
        });
    }
}

async fn respond(shared: Arc<crate::engine::Engine>, mut socket: TcpStream) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut chunk).await?;
        if n == 0 || head.len() > MAX_REQUEST {
            return Ok(());
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let line = head.split(|&b| b == b'\r').next().unwrap_or(&[]);
    let mut parts = line.split(|&b| b == b' ');
    let (method, path) = (parts.next().unwrap_or(&[]), parts.next().unwrap_or(&[]));
    let path = path.split(|&b| b == b'?').next().unwrap_or(&[]);
    let (status, ctype, body) = if (method == b"GET" || method == b"HEAD") && path == b"/metrics" {
        ("200 OK", CONTENT_TYPE, shared.metrics.render(&shared))
    } else {
        (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found; try /metrics\n".to_string(),
        )
    };
    let mut resp = format!("HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    if method != b"HEAD" {
        resp.push_str(&body);
    }
    socket.write_all(resp.as_bytes()).await?;
    socket.shutdown().await
}
