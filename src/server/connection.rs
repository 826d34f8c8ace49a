//! One task per client connection: read, parse, execute, write.
//!
//! Every complete request in the read buffer is executed before the replies go out in one
//! write, so a pipeline costs one syscall per batch and never waits on delayed ACKs. A wake-up
//! runs at most [`MAX_COMMANDS_PER_WAKE`] commands before yielding to other tasks, so one
//! client pipelining heavily cannot starve the rest.

use super::client::{ClientInfo, ClientState};
use super::Shared;
use crate::command;
use crate::resp::{Protocol, ReplyBuf, RequestParser};
use bytes::BytesMut;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Commands executed per wake-up before the task yields.
pub const MAX_COMMANDS_PER_WAKE: usize = 1024;
/// Replies buffered before they are written even if more requests are pending (bounds
/// memory for a client that pipelines requests with large replies).
pub const MAX_PENDING_OUTPUT: usize = 1024 * 1024;
/// Buffers grown beyond this are released once empty.
const BUFFER_KEEP: usize = 256 * 1024;
const READ_CHUNK: usize = 16 * 1024;

pub async fn handle(shared: Arc<Shared>, mut socket: TcpStream, info: Arc<ClientInfo>) {
    let mut shutdown = shared.shutdown.subscribe();
    let needs_auth = shared.hot.requirepass.read().is_some();
    let mut client = ClientState::new(info.clone(), !needs_auth);
    let mut parser = RequestParser::new();
    parser.unauthenticated = needs_auth;
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut out = ReplyBuf::new(Protocol::Resp2);
    let stats = &shared.stats;
    let mut local = command::LocalStats::default();
    'conn: loop {
        let mut ran = 0;
        let mut close = false;
        let now = shared.store.now();
        local.begin();
        loop {
            match parser.parse(&mut buf) {
                Ok(Some(args)) => {
                    command::execute(&shared, &mut client, &mut out, &args, now, &mut local);
                    ran += 1;
                    if client.close {
                        close = true;
                        break;
                    }
                    if ran >= MAX_COMMANDS_PER_WAKE || out.buf.len() >= MAX_PENDING_OUTPUT {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(client = info.id, "protocol error: {e}");
                    out.error(&format!("ERR {e}"));
                    close = true;
                    break;
                }
            }
        }
        if ran > 0 {
            local.flush(&shared);
            info.last_interaction_ms.store(now, Ordering::Relaxed);
        }
        // Expirations seen by reads are logged now, not only before the next write.
        if ran > 0 && !shared.store.counters().expired_log.lock().is_empty() {
            if let Some(aof) = shared.aof() {
                let _order = aof.order.lock();
                command::log_expired(&shared, &aof);
            }
        }
        if local.aof_seq > 0 {
            if let Some(aof) = shared.aof() {
                aof.write_inline();
                if aof.policy() == crate::aof::Fsync::Always {
                    aof.wait_durable(local.aof_seq).await;
                }
                shared.maybe_auto_rewrite();
            }
            local.aof_seq = 0;
        }
        parser.unauthenticated = !client.authenticated;
        if !out.buf.is_empty() {
            stats
                .net_output_bytes
                .fetch_add(out.buf.len() as u64, Ordering::Relaxed);
            if socket.write_all(&out.buf).await.is_err() {
                break;
            }
            out.buf.clear();
            if out.buf.capacity() > BUFFER_KEEP {
                out.buf = BytesMut::with_capacity(READ_CHUNK);
            }
        }
        if close || info.killed.load(Ordering::Relaxed) {
            break;
        }
        if ran >= MAX_COMMANDS_PER_WAKE || out.buf.len() >= MAX_PENDING_OUTPUT {
            tokio::task::yield_now().await;
            continue;
        }
        if buf.is_empty() && buf.capacity() > BUFFER_KEEP {
            buf = BytesMut::with_capacity(READ_CHUNK);
        }
        if buf.capacity() - buf.len() < READ_CHUNK / 2 {
            buf.reserve(READ_CHUNK);
        }
        tokio::select! {
            r = socket.read_buf(&mut buf) => match r {
                Ok(0) | Err(_) => break 'conn,
                Ok(n) => {
                    stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                    let limit = shared.config.read().get_u64("client-query-buffer-limit");
                    if buf.len() as u64 > limit {
                        tracing::warn!(client = info.id, "closing client that reached max query buffer length");
                        break 'conn;
                    }
                }
            },
            _ = shutdown.changed() => break 'conn,
            _ = info.kill_notify.notified() => break 'conn,
        }
    }
    let _ = socket.shutdown().await;
}
