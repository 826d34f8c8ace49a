//! Compacting the AOF (`BGREWRITEAOF` and automatic rewrite).
//!
//! 1. Holding the engine's gate (so no write is half-propagated, while reads go on), the
//!    buffered records are flushed to the current file, which marks the point in the stream
//!    the snapshot matches, and every database is serialised, shard by shard, into memory as
//!    the commands that rebuild it.
//! 2. Writes resume (still appended to the current file). A background thread writes the
//!    snapshot to a temporary file in the same directory and fsyncs it.
//! 3. Briefly holding the writer: everything appended to the current file since the mark is
//!    copied to the temporary file, which is fsynced and atomically renamed over the AOF; the
//!    directory is fsynced and the writer continues on the new file.
//!
//! A crash at any moment leaves either the old file or the new one, each complete with every
//! acknowledged write. Step 1 pauses writes for the time serialisation takes (reads continue).

use super::writer::{encode, Aof};
use crate::engine::Engine;
use crate::store::{Entry, Value};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Elements per command when a collection is written out (as Redis does), so no record is huge.
pub const ITEMS_PER_COMMAND: usize = 64;

/// Serialise one key as the commands that recreate it.
pub fn write_entry(buf: &mut Vec<u8>, key: &[u8], e: &Entry) {
    match &e.value {
        Value::Str { data, .. } => {
            if e.expire_at != 0 {
                let at = e.expire_at.to_string();
                encode(buf, &[b"SET", key, data, b"PXAT", at.as_bytes()]);
            } else {
                encode(buf, &[b"SET", key, data]);
            }
            return;
        }
        Value::List(l) => {
            let items: Vec<&[u8]> = l.iter().collect();
            chunks(buf, b"RPUSH", key, &items);
        }
        Value::Set(s) => {
            let owned: Vec<std::borrow::Cow<[u8]>> = s.iter().collect();
            let items: Vec<&[u8]> = owned.iter().map(|v| &v[..]).collect();
            chunks(buf, b"SADD", key, &items);
        }
        Value::Hash(h) => {
            let items: Vec<&[u8]> = h.iter().flat_map(|(k, v)| [k, v]).collect();
            for c in items.chunks(ITEMS_PER_COMMAND * 2) {
                let mut args: Vec<&[u8]> = vec![b"HSET", key];
                args.extend_from_slice(c);
                encode(buf, &args);
            }
        }
        Value::ZSet(z) => {
            let scores: Vec<String> = z.iter().map(|(s, _)| crate::num::fmt_double(s)).collect();
            let items: Vec<&[u8]> = z
                .iter()
                .zip(&scores)
                .flat_map(|((_, m), s)| [s.as_bytes(), m])
                .collect();
            for c in items.chunks(ITEMS_PER_COMMAND * 2) {
                let mut args: Vec<&[u8]> = vec![b"ZADD", key];
                args.extend_from_slice(c);
                encode(buf, &args);
            }
        }
        Value::Stream(x) => write_stream(buf, key, x),
    }
    if e.expire_at != 0 {
        let at = e.expire_at.to_string();
        encode(buf, &[b"PEXPIREAT", key, at.as_bytes()]);
    }
}

/// A stream as Redis's `rewriteStreamObject` writes it: an `XADD` per entry (or `XADD key
/// MAXLEN 0 0-1 x y` for an empty stream, which leaves it empty), `XSETID` with the counters,
/// then per group `XGROUP CREATE … ENTRIESREAD`, and per consumer either its pending entries
/// as `XCLAIM … TIME RETRYCOUNT JUSTID FORCE` or `XGROUP CREATECONSUMER`.
fn write_stream(buf: &mut Vec<u8>, key: &[u8], x: &crate::store::stream::Stream) {
    let log = &x.log;
    let ids = crate::store::stream::StreamId::MIN;
    if log.length > 0 {
        for e in log.range(ids, crate::store::stream::StreamId::MAX, false) {
            let id = e.id.to_bytes();
            let mut args: Vec<&[u8]> = vec![b"XADD", key, &id];
            for (f, v) in e.pairs() {
                args.push(f);
                args.push(v);
            }
            encode(buf, &args);
        }
    } else {
        encode(buf, &[b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]);
    }
    let added = log.entries_added.to_string();
    encode(
        buf,
        &[
            b"XSETID",
            key,
            &log.last_id.to_bytes(),
            b"ENTRIESADDED",
            added.as_bytes(),
            b"MAXDELETEDID",
            &log.max_deleted.to_bytes(),
        ],
    );
    for (name, g) in &x.groups {
        let read = g.entries_read.to_string();
        encode(
            buf,
            &[
                b"XGROUP",
                b"CREATE",
                key,
                name,
                &g.last_id.to_bytes(),
                b"ENTRIESREAD",
                read.as_bytes(),
            ],
        );
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                encode(buf, &[b"XGROUP", b"CREATECONSUMER", key, name, cname]);
                continue;
            }
            for id in &c.pel {
                let Some(n) = g.pel.get(id) else { continue };
                let (time, count) = (n.delivery_time.to_string(), n.delivery_count.to_string());
                encode(
                    buf,
                    &[
                        b"XCLAIM",
                        key,
                        name,
                        cname,
                        b"0",
                        &id.to_bytes(),
                        b"TIME",
                        time.as_bytes(),
                        b"RETRYCOUNT",
                        count.as_bytes(),
                        b"JUSTID",
                        b"FORCE",
                    ],
                );
            }
        }
    }
}

fn chunks(buf: &mut Vec<u8>, cmd: &[u8], key: &[u8], items: &[&[u8]]) {
    for c in items.chunks(ITEMS_PER_COMMAND) {
        let mut args: Vec<&[u8]> = vec![cmd, key];
        args.extend_from_slice(c);
        encode(buf, &args);
    }
}

/// Serialise every database (the caller holds the engine's gate exclusively).
pub fn snapshot(engine: &Engine) -> Vec<u8> {
    let store = &engine.store;
    let now = store.now();
    let mut buf = Vec::new();
    // Function libraries first (as Redis's AOF preamble has them), so a replay keeps them.
    {
        let vm = engine.scripts.vm.lock();
        for lib in vm.libraries.libs.values() {
            encode(&mut buf, &[b"FUNCTION", b"LOAD", b"REPLACE", &lib.code]);
        }
    }
    for db in 0..store.databases() {
        let d = store.db(db);
        let mut selected = false;
        for i in 0..d.shard_count() {
            crate::engine::LockSet::one(engine, db, i)
                .shard_at(db, i)
                .for_each_live(now, |k, e| {
                    if !selected {
                        encode(&mut buf, &[b"SELECT", db.to_string().as_bytes()]);
                        selected = true;
                    }
                    write_entry(&mut buf, k, e);
                });
        }
    }
    buf
}

/// Fsync the directory holding `path`, so a rename into it survives a crash.
pub fn sync_dir(path: &std::path::Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Start a rewrite in the background; false when one is already running.
pub fn start(engine: Arc<Engine>, aof: Arc<Aof>) -> bool {
    if aof.rewrite_in_progress.swap(true, Ordering::SeqCst) {
        return false;
    }
    let started = std::time::Instant::now();
    let prepared = {
        let _gate = engine.gate.write();
        aof.flush_now().map(|_| {
            let mark = aof.file.lock().metadata().map(|m| m.len()).unwrap_or(0);
            (mark, aof.current_db(), snapshot(&engine))
        })
    };
    let spawned = std::thread::Builder::new()
        .name("aof-rewrite".into())
        .spawn(move || {
            let result = prepared.and_then(|(mark, db, snap)| finish(&aof, mark, db, &snap));
            match &result {
                Ok(size) => {
                    aof.rewrites.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        "Background AOF rewrite finished successfully in {:?} ({size} bytes)",
                        started.elapsed()
                    );
                }
                Err(e) => tracing::warn!("Background AOF rewrite failed: {e}"),
            }
            aof.last_rewrite_ok.store(result.is_ok(), Ordering::Relaxed);
            aof.rewrite_in_progress.store(false, Ordering::SeqCst);
        });
    spawned.is_ok()
}

fn finish(aof: &Aof, mark: u64, db_at_mark: Option<usize>, snap: &[u8]) -> std::io::Result<u64> {
    let tmp = aof.path.with_extension("aof.rewrite-tmp");
    let mut out = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&tmp)?;
    out.write_all(snap)?;
    out.sync_data()?;
    // Hand-over: hold the writer's file so nothing is appended while the tail is copied.
    aof.flush_now()?;
    let mut file = aof.file.lock();
    if let Some(db) = db_at_mark {
        let mut sel = Vec::new();
        encode(&mut sel, &[b"SELECT", db.to_string().as_bytes()]);
        out.write_all(&sel)?;
    }
    let mut old = File::open(&aof.path)?;
    old.seek(SeekFrom::Start(mark))?;
    let mut tail = Vec::new();
    old.read_to_end(&mut tail)?;
    out.write_all(&tail)?;
    out.sync_all()?;
    std::fs::rename(&tmp, &aof.path)?;
    sync_dir(&aof.path)?;
    let size = out.metadata()?.len();
    *file = OpenOptions::new().append(true).open(&aof.path)?;
    // Set the sizes while the writer is still held, so no append is lost from the count.
    aof.base_size.store(size, Ordering::Relaxed);
    aof.size.store(size, Ordering::Relaxed);
    Ok(size)
}
