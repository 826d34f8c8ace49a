//! One task per client connection: read, parse, run, write.
//!
//! Every complete request in the read buffer is run (through the engine's batch runner)
//! before the replies go out in one write, so a pipeline costs one syscall per batch and never
//! waits on delayed ACKs. A wake-up runs at most [`MAX_COMMANDS_PER_WAKE`] commands before
//! yielding to other tasks, so one client pipelining heavily cannot starve the rest.

use crate::engine::blocking::Unblock;
use crate::engine::monitor::MONITOR_KIND;
use crate::engine::pubsub::{Mailbox, Message};
use crate::engine::tracking;
use crate::engine::{Batch, ClientInfo, ClientState, Engine};
use crate::resp::RequestParser;
use bytes::BytesMut;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedReceiver;

/// Commands executed per wake-up before the task yields.
pub const MAX_COMMANDS_PER_WAKE: usize = 1024;
/// Replies buffered before they are written even if more requests are pending (bounds
/// memory for a client that pipelines requests with large replies).
pub const MAX_PENDING_OUTPUT: usize = 1024 * 1024;
/// Buffers grown beyond this are released once empty.
const BUFFER_KEEP: usize = 256 * 1024;
const READ_CHUNK: usize = 16 * 1024;

/// Whether `args` runs a Lua script (`flags::SCRIPT`); a byte test first keeps the
/// registry lookup off other commands' path.
fn runs_script(engine: &Engine, args: &[bytes::Bytes]) -> bool {
    if !matches!(
        args.first().and_then(|a| a.first()),
        Some(b'e' | b'E' | b'f' | b'F')
    ) {
        return false;
    }
    let reg = engine.registry;
    reg.resolve(args)
        .is_ok_and(|i| reg.cmds[i].flags & crate::engine::flags::SCRIPT != 0)
}

pub async fn handle(engine: Arc<Engine>, mut socket: TcpStream, info: Arc<ClientInfo>) {
    // What ends the connection from outside: the server shutting down, or CLIENT KILL.
    let gone = std::future::poll_fn(|cx| info.poll_gone(&engine.shutdown, cx));
    tokio::pin!(gone);
    let needs_auth = engine.acl.auth_required();
    let client = ClientState::new(info.clone(), !needs_auth);
    let mut batch = Batch::new(engine.clone(), client);
    let mut parser = RequestParser::new();
    parser.unauthenticated = needs_auth;
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut sizing = super::querybuf::Sizing::default();
    // Fires now and then to release an idle client's buffer (re-armed, never re-created).
    let idle = tokio::time::sleep(super::querybuf::IDLE_RELEASE);
    tokio::pin!(idle);
    let stats = &engine.stats;
    // Pub/sub messages for this client, once it subscribes.
    let mut inbox: Option<UnboundedReceiver<Message>> = None;
    // Lines for this client once it runs MONITOR.
    let mut monitor_inbox: Option<UnboundedReceiver<Message>> = None;
    // A request parsed while gathering scripts that is not one: it runs next.
    let mut pending = None;
    // A lone script runs here when the runtime can hand this thread's other tasks off should
    // it turn busy (see `engine::script::handoff`): a trip to the script thread costs more
    // than a short script. A pipeline of scripts still goes there, to run beside this thread.
    let inline_script = tokio::runtime::Handle::current().runtime_flavor()
        == tokio::runtime::RuntimeFlavor::MultiThread;
    'conn: loop {
        let mut ran = 0;
        let mut close = false;
        let mut blocked = None;
        batch.begin();
        // As Redis's `qbuf`: the whole buffer read while its requests run.
        info.qbuf.store(buf.len(), Ordering::Relaxed);
        loop {
            let next = match pending.take() {
                Some(p) => p,
                None => parser.parse(&mut buf),
            };
            match next {
                Ok(Some(args)) => {
                    if runs_script(&engine, &args) {
                        // Off this thread (see `offload`), with the client's whole state,
                        // together with the scripts pipelined right after it: one trip
                        // to the script thread for the lot.
                        let mut scripts = vec![args];
                        while ran + scripts.len() < MAX_COMMANDS_PER_WAKE {
                            match parser.parse(&mut buf) {
                                Ok(Some(a)) if runs_script(&engine, &a) => scripts.push(a),
                                Ok(None) => break,
                                other => {
                                    pending = Some(other);
                                    break;
                                }
                            }
                        }
                        if inline_script && scripts.len() == 1 {
                            batch.execute(&scripts[0]);
                        } else {
                            let mut moved = batch;
                            match super::offload::run(move || {
                                let mut done = 0;
                                for args in &scripts {
                                    moved.execute(args);
                                    done += 1;
                                    if moved.client().close {
                                        break;
                                    }
                                }
                                (moved, done)
                            })
                            .await
                            {
                                Some((b, done)) => {
                                    batch = b;
                                    ran += done - 1;
                                }
                                None => return,
                            }
                        }
                    } else {
                        batch.execute(&args);
                    }
                    ran += 1;
                    // The next request in the same read is parsed with the limits of what this
                    // one did: an AUTH pipelined before a long command (twemproxy's
                    // `redis_auth` does that on every new connection) lifts them, as in Redis.
                    parser.unauthenticated = !batch.client().authenticated;
                    if let Some(b) = batch.take_blocked() {
                        // Later requests wait until this one is served, as in Redis.
                        blocked = Some(b);
                        break;
                    }
                    if batch.client().close {
                        close = true;
                        break;
                    }
                    if ran >= MAX_COMMANDS_PER_WAKE || batch.out().buf.len() >= MAX_PENDING_OUTPUT {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(client = info.id, "protocol error: {e}");
                    batch.out().error(&format!("ERR {e}"));
                    close = true;
                    break;
                }
            }
        }
        info.qbuf.store(buf.len(), Ordering::Relaxed);
        if let Some((sink, seq)) = batch.end() {
            sink.wait_durable(seq).await;
        }
        if ran > 0 {
            info.last_interaction_ms
                .store(batch.now(), Ordering::Relaxed);
        }
        if ran > 1 {
            // Let the other connections that have requests run them first, so the replies go
            // out together, as Redis writes its replies at the end of an event-loop pass. A
            // write that wakes a sleeping client costs the kernel several times one that
            // finds it running, and a pipelining client is woken once per burst instead of
            // once per connection (measured with -P 16: LPUSH 1.21 -> 1.09 µs CPU, SETBIT
            // 1.75 -> 1.41). One request alone is answered at once: no burst to join.
            tokio::task::yield_now().await;
        }
        if !flush(&mut batch, &mut socket, stats).await {
            break;
        }
        if close || info.must_close(&engine.shutdown) {
            break;
        }
        if let Some(b) = blocked {
            match wait_blocked(
                &engine,
                &mut batch,
                &mut socket,
                &mut buf,
                &info,
                gone.as_mut(),
                b,
            )
            .await
            {
                Waited::Served => {}
                Waited::Gone => break 'conn,
            }
            if !flush(&mut batch, &mut socket, stats).await {
                break;
            }
            continue;
        }
        if ran >= MAX_COMMANDS_PER_WAKE || batch.out().buf.len() >= MAX_PENDING_OUTPUT {
            tokio::task::yield_now().await;
            continue;
        }
        sizing.trim(&mut buf, batch.now());
        // A released buffer stays so until data comes. Otherwise the buffer holds a read's
        // worth: what parsing consumed is reclaimed (once the requests' own references are
        // gone this moves nothing), or a new chunk is taken.
        if !sizing.released {
            if buf.capacity() < READ_CHUNK {
                buf.reserve(READ_CHUNK - buf.len());
            } else if buf.capacity() - buf.len() < READ_CHUNK / 2 {
                buf.reserve(READ_CHUNK);
            }
        }
        info.qbuf_cap.store(buf.capacity(), Ordering::Relaxed);
        if let Some(rx) = batch.client().sub.as_mut().and_then(|s| s.rx.take()) {
            inbox = Some(rx);
        }
        if let Some(rx) = batch.client().monitor.as_mut().and_then(|m| m.rx.take()) {
            monitor_inbox = Some(rx);
        }
        // A connection with nothing but requests to wait for polls them first, without
        // tokio's random start: what ends it and the idle timer are polled only when there is
        // nothing to read (the loop checks for a kill or a shutdown after every batch). With
        // messages to deliver too, the random start keeps either from starving the other.
        let event = if inbox.is_none() && monitor_inbox.is_none() {
            tokio::select! {
                biased;
                r = socket.read_buf(&mut buf) => Event::Read(r),
                _ = &mut gone => Event::Gone,
                _ = &mut idle, if !sizing.released => Event::Idle,
            }
        } else {
            tokio::select! {
                m = async { inbox.as_mut().expect("guarded").recv().await }, if inbox.is_some() => Event::Inbox(m),
                m = async { monitor_inbox.as_mut().expect("guarded").recv().await }, if monitor_inbox.is_some() => Event::Monitor(m),
                r = socket.read_buf(&mut buf) => Event::Read(r),
                _ = &mut gone => Event::Gone,
                _ = &mut idle, if !sizing.released => Event::Idle,
            }
        };
        match event {
            Event::Inbox(Some(m)) => {
                let mb = batch.client().sub.as_ref().map(|s| s.mailbox.clone());
                deliver(&mut batch, m, inbox.as_mut().expect("guarded"), mb)
            }
            Event::Inbox(None) => inbox = None,
            Event::Monitor(Some(m)) => {
                let mb = batch.client().monitor.as_ref().map(|s| s.mailbox.clone());
                deliver(&mut batch, m, monitor_inbox.as_mut().expect("guarded"), mb)
            }
            Event::Monitor(None) => monitor_inbox = None,
            Event::Read(Ok(0) | Err(_)) | Event::Gone => break 'conn,
            Event::Read(Ok(n)) => {
                stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                stats.reads_processed.fetch_add(1, Ordering::Relaxed);
                sizing.seen(buf.len());
                let limit = engine.hot.query_buffer_limit.load(Ordering::Relaxed);
                if buf.len() as u64 > limit {
                    tracing::warn!(
                        client = info.id,
                        "closing client that reached max query buffer length"
                    );
                    break 'conn;
                }
            }
            Event::Idle => {
                let last = info.last_interaction_ms.load(Ordering::Relaxed);
                let next = sizing.idle(&mut buf, engine.store.now().saturating_sub(last));
                info.qbuf_cap.store(buf.capacity(), Ordering::Relaxed);
                idle.as_mut().reset(tokio::time::Instant::now() + next);
            }
        }
    }
    // The client's state goes first (subscriptions, watches, MONITOR), so once the peer sees
    // the connection closed nothing of it is left (as Redis frees a client, then closes).
    drop(batch);
    let _ = socket.shutdown().await;
}

/// What woke a connection waiting between batches.
enum Event {
    Inbox(Option<Message>),
    Monitor(Option<Message>),
    Read(std::io::Result<usize>),
    Gone,
    Idle,
}

/// Write the replies gathered so far (counting them), releasing a grown buffer; false when
/// the socket is gone.
async fn flush(
    batch: &mut Batch,
    socket: &mut TcpStream,
    stats: &crate::engine::stats::Stats,
) -> bool {
    let out = batch.out();
    if out.buf.is_empty() {
        return true;
    }
    stats
        .net_output_bytes
        .fetch_add(out.buf.len() as u64, Ordering::Relaxed);
    if socket.write_all(&out.buf).await.is_err() {
        return false;
    }
    stats.writes_processed.fetch_add(1, Ordering::Relaxed);
    out.buf.clear();
    if out.buf.capacity() > BUFFER_KEEP {
        out.buf = BytesMut::with_capacity(READ_CHUNK);
    }
    true
}

/// Write `first` and whatever else is queued (up to a bound) as pushes in the client's
/// protocol; the replies go out with the next write.
fn deliver(
    batch: &mut Batch,
    first: Message,
    rx: &mut UnboundedReceiver<Message>,
    mailbox: Option<Arc<Mailbox>>,
) {
    let proto = batch.client().proto;
    let subscribed = batch.client().subscribed();
    let out = batch.out();
    out.proto = proto;
    let mut next = Some(first);
    let mut n = 0;
    while let Some(m) = next {
        if m.kind == MONITOR_KIND {
            // Monitor lines are ASCII (arguments are escaped).
            out.simple(std::str::from_utf8(&m.payload).unwrap_or_default());
        } else if m.kind == tracking::INVALIDATE_KIND || m.kind == tracking::REDIR_BROKEN_KIND {
            tracking::write(out, &m, proto, subscribed);
        } else {
            out.push(if m.pattern.is_some() { 4 } else { 3 });
            out.bulk(m.kind.as_bytes());
            if let Some(p) = &m.pattern {
                out.bulk(p);
            }
            out.bulk(&m.channel);
            out.bulk(&m.payload);
        }
        if let Some(mb) = &mailbox {
            mb.taken(&m);
        }
        n += 1;
        next = if n < MAX_COMMANDS_PER_WAKE && out.buf.len() < MAX_PENDING_OUTPUT {
            rx.try_recv().ok()
        } else {
            None
        };
    }
}

enum Waited {
    /// The command got its reply (served, timed out or unblocked).
    Served,
    /// The client went away, was killed, or the server is shutting down.
    Gone,
}

/// Park the client on the keys its command waits for until it is served, its time is up,
/// `CLIENT UNBLOCK` ends the wait, or it goes away. Sleeping here costs no CPU.
async fn wait_blocked(
    engine: &Arc<Engine>,
    batch: &mut Batch,
    socket: &mut TcpStream,
    buf: &mut BytesMut,
    info: &Arc<ClientInfo>,
    mut gone: std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
    mut b: crate::engine::batch::Blocked,
) -> Waited {
    let blocking = &engine.blocking;
    let exists = |db: usize, key: &[u8]| engine.key_exists(db, key);
    let mut waiter = blocking.block(info.id, &b.args[0], b.keys.clone(), b.paused);
    batch
        .client()
        .set_flag(crate::engine::client::flag::BLOCKED, true);
    let result = loop {
        let sleep = async {
            match b.deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = waiter.notify.notified() => {}
            _ = engine.pause.changed_or_over(&engine.store), if b.paused => {}
            _ = sleep => {
                batch.time_out(&b);
                break Waited::Served;
            }
            r = socket.read_buf(buf) => match r {
                // Requests sent meanwhile wait in the buffer; a closed socket ends the wait.
                Ok(0) | Err(_) => break Waited::Gone,
                Ok(_) => continue,
            },
            _ = &mut gone => break Waited::Gone,
        }
        if let Some(how) = waiter.unblocked.lock().take() {
            match how {
                Unblock::Timeout => batch.time_out(&b),
                Unblock::Error => batch
                    .out()
                    .error("UNBLOCKED client unblocked via CLIENT UNBLOCK"),
            }
            break Waited::Served;
        }
        batch.begin();
        if b.paused {
            batch.execute(&b.args);
        } else {
            batch.retry(&b.args);
        }
        let again = batch.take_blocked();
        if let Some((sink, seq)) = batch.end() {
            sink.wait_durable(seq).await;
        }
        match again {
            // Still waiting, for the same reason.
            Some(next) if next.paused == b.paused => {
                b.keys = next.keys;
                blocking.rearm(&waiter);
            }
            // A postponed command now waits for keys (or the other way round).
            Some(next) => {
                blocking.finish(&waiter, exists);
                waiter = blocking.block(info.id, &next.args[0], next.keys.clone(), next.paused);
                b = next;
            }
            None => break Waited::Served,
        }
    };
    blocking.finish(&waiter, exists);
    batch
        .client()
        .set_flag(crate::engine::client::flag::BLOCKED, false);
    result
}
