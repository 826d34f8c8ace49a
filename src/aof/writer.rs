//! The AOF writer: an append buffer shared by connections and a thread that writes it out.

use bytes::BufMut;
use parking_lot::{Condvar, Mutex};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// `appendfsync` policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    Always = 0,
    Everysec = 1,
    No = 2,
}

impl Fsync {
    pub fn parse(s: &str) -> Fsync {
        match s {
            "always" => Fsync::Always,
            "no" => Fsync::No,
            _ => Fsync::Everysec,
        }
    }
    fn from_u8(v: u8) -> Fsync {
        match v {
            0 => Fsync::Always,
            2 => Fsync::No,
            _ => Fsync::Everysec,
        }
    }
}

/// How long the writer waits before retrying after a failed write or fsync.
pub const RETRY_AFTER_ERROR: Duration = Duration::from_millis(100);

/// Test hook: while a file exists at the path in this environment variable, every AOF write
/// fails as if the disk were full. Lets tests exercise `-MISCONF` and recovery without root.
pub const FAULT_ENV: &str = "FERROKV_AOF_FAULT_FILE";

struct Pending {
    buf: Vec<u8>,
    /// Sequence number of the last record appended.
    seq: u64,
    /// Database the file is positioned in (the last SELECT written to the buffer).
    db: Option<usize>,
}

/// The append-only file of a running server.
pub struct Aof {
    pub path: PathBuf,
    policy: AtomicU8,
    pending: Mutex<Pending>,
    wake: Condvar,
    /// Highest sequence number that is on disk as the policy promises (fsynced for
    /// `always`, written otherwise).
    durable: watch::Sender<u64>,
    /// The last write or fsync error, while writes are failing.
    pub error: Mutex<Option<String>>,
    /// `error` is set (checked by every write command, so without taking the lock).
    failing: AtomicBool,
    pub writes: AtomicU64,
    pub write_errors: AtomicU64,
    pub size: AtomicU64,
    pub base_size: AtomicU64,
    pub rewrites: AtomicU64,
    pub rewrite_in_progress: AtomicBool,
    pub last_rewrite_ok: AtomicBool,
    /// The writer thread holds the file; rewrite swaps it under this lock.
    pub(crate) file: Mutex<File>,
    stop: AtomicBool,
    /// The writer is waiting for records (see `kick`).
    idle: AtomicBool,
    /// Data was written inline and still needs the periodic fsync.
    unsynced: AtomicBool,
}

impl Aof {
    /// Open (creating if needed) the AOF at `path` for appending and start the writer thread.
    pub fn open(path: &Path, policy: Fsync) -> std::io::Result<Arc<Aof>> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Aof::with_file(path, file, policy)
    }

    /// Start on an already open file, which will be known as `path`.
    pub fn with_file(path: &Path, file: File, policy: Fsync) -> std::io::Result<Arc<Aof>> {
        let size = file.metadata()?.len();
        let aof = Arc::new(Aof {
            path: path.to_path_buf(),
            policy: AtomicU8::new(policy as u8),
            pending: Mutex::new(Pending {
                buf: Vec::with_capacity(64 * 1024),
                seq: 0,
                db: None,
            }),
            wake: Condvar::new(),
            durable: watch::channel(0).0,
            error: Mutex::new(None),
            failing: AtomicBool::new(false),
            writes: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
            size: AtomicU64::new(size),
            base_size: AtomicU64::new(size),
            rewrites: AtomicU64::new(0),
            rewrite_in_progress: AtomicBool::new(false),
            last_rewrite_ok: AtomicBool::new(true),
            file: Mutex::new(file),
            stop: AtomicBool::new(false),
            idle: AtomicBool::new(false),
            unsynced: AtomicBool::new(false),
        });
        let writer = aof.clone();
        std::thread::Builder::new()
            .name("aof-writer".into())
            .spawn(move || writer.run())?;
        Ok(aof)
    }

    pub fn policy(&self) -> Fsync {
        Fsync::from_u8(self.policy.load(Ordering::Relaxed))
    }

    pub fn set_policy(&self, p: Fsync) {
        self.policy.store(p as u8, Ordering::Relaxed);
    }

    /// Append one record (`args`) for database `db`; returns its sequence number.
    pub fn append(&self, db: usize, args: &[&[u8]]) -> u64 {
        let mut p = self.pending.lock();
        if p.db != Some(db) {
            let n = db.to_string();
            encode(&mut p.buf, &[b"SELECT", n.as_bytes()]);
            p.db = Some(db);
        }
        encode(&mut p.buf, args);
        p.seq += 1;
        let seq = p.seq;
        drop(p);
        seq
    }

    /// Wake the writer if it sleeps; connections call this once per batch of requests, not
    /// per record, so a busy server pays for one wake-up per writer cycle.
    pub fn kick(&self) {
        if self.idle.swap(false, Ordering::AcqRel) {
            // Take the lock so the wake-up cannot slip in between the writer's check of the
            // buffer and its wait.
            let _p = self.pending.lock();
            self.wake.notify_one();
        }
    }

    /// Under `everysec` and `no`, write what is buffered right away from the caller's thread
    /// (a connection at the end of its batch), as Redis writes before replying: no hand-off to
    /// the writer thread, which then only fsyncs once a second. Failures are left to the
    /// writer thread, which retries and reports them.
    pub fn write_inline(&self) {
        if self.policy() == Fsync::Always || self.failing.load(Ordering::Acquire) {
            return self.kick();
        }
        let Some(mut f) = self.file.try_lock() else {
            return self.kick();
        };
        let (data, seq) = {
            let mut p = self.pending.lock();
            (std::mem::take(&mut p.buf), p.seq)
        };
        match write_with_fault(&mut f, &data) {
            Ok(()) => {
                drop(f);
                self.size.fetch_add(data.len() as u64, Ordering::Relaxed);
                self.unsynced.store(true, Ordering::Release);
                self.durable.send_replace(seq);
            }
            Err(_) => {
                let mut p = self.pending.lock();
                let rest = std::mem::take(&mut p.buf);
                p.buf = data;
                p.buf.extend_from_slice(&rest);
                drop(p);
                drop(f);
                self.kick();
            }
        }
    }

    /// Wait until record `seq` is as durable as the policy promises.
    pub async fn wait_durable(&self, seq: u64) {
        let mut rx = self.durable.subscribe();
        let _ = rx.wait_for(|d| *d >= seq).await;
    }

    /// The database the record stream is positioned in.
    pub(crate) fn current_db(&self) -> Option<usize> {
        self.pending.lock().db
    }

    /// Write out everything buffered and fsync it (shutdown, rewrite hand-over).
    pub fn flush_now(&self) -> std::io::Result<()> {
        let mut f = self.file.lock();
        let mut p = self.pending.lock();
        let data = std::mem::take(&mut p.buf);
        let seq = p.seq;
        if let Err(e) = write_with_fault(&mut f, &data).and_then(|_| f.sync_data()) {
            p.buf = [data, std::mem::take(&mut p.buf)].concat();
            return Err(e);
        }
        drop(p);
        self.size.fetch_add(data.len() as u64, Ordering::Relaxed);
        self.durable.send_replace(seq);
        Ok(())
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    fn run(self: Arc<Self>) {
        let mut last_fsync = Instant::now();
        let mut unsynced = false;
        loop {
            {
                let mut p = self.pending.lock();
                while p.buf.is_empty() && !self.stop.load(Ordering::SeqCst) {
                    self.idle.store(true, Ordering::Release);
                    let timeout = self
                        .wake
                        .wait_for(&mut p, Duration::from_millis(100))
                        .timed_out();
                    if timeout && (unsynced || self.unsynced.load(Ordering::Acquire)) {
                        break;
                    }
                }
                self.idle.store(false, Ordering::Release);
                if p.buf.is_empty() && self.stop.load(Ordering::SeqCst) {
                    drop(p);
                    let _ = self.file.lock().sync_data();
                    return;
                }
            }
            // Lock order: file, then pending (as in `flush_now`), so batches reach the file in
            // the order they were taken.
            let mut f = self.file.lock();
            let (data, seq) = {
                let mut p = self.pending.lock();
                (std::mem::take(&mut p.buf), p.seq)
            };
            let policy = self.policy();
            let mut result = write_with_fault(&mut f, &data);
            if self.unsynced.swap(false, Ordering::AcqRel) {
                unsynced = true;
            }
            if result.is_ok() && !data.is_empty() {
                unsynced = true;
                self.size.fetch_add(data.len() as u64, Ordering::Relaxed);
            }
            let fsync_due = policy == Fsync::Always
                || (policy == Fsync::Everysec && last_fsync.elapsed() >= Duration::from_secs(1));
            if result.is_ok() && unsynced && fsync_due {
                result = f.sync_data();
                if result.is_ok() {
                    unsynced = false;
                    last_fsync = Instant::now();
                }
            }
            drop(f);
            match result {
                Ok(()) => {
                    if !data.is_empty() {
                        self.writes.fetch_add(1, Ordering::Relaxed);
                    }
                    if self.error.lock().take().is_some() {
                        self.failing.store(false, Ordering::Release);
                        tracing::warn!("AOF write error is solved, the AOF is being written again");
                    }
                    self.durable.send_replace(seq);
                }
                Err(e) => {
                    self.write_errors.fetch_add(1, Ordering::Relaxed);
                    let msg = e.to_string();
                    let first = self.error.lock().replace(msg.clone()).is_none();
                    self.failing.store(true, Ordering::Release);
                    if first {
                        tracing::warn!("Error writing to the AOF file: {msg}");
                    }
                    // Put the data back in front of anything appended meanwhile; a short
                    // write may have left part of it in the file, so drop that part first.
                    let mut p = self.pending.lock();
                    let rest = std::mem::take(&mut p.buf);
                    p.buf = data;
                    p.buf.extend_from_slice(&rest);
                    drop(p);
                    std::thread::sleep(RETRY_AFTER_ERROR);
                }
            }
        }
    }
}

impl crate::engine::Sink for Aof {
    fn append(&self, db: usize, args: &[&[u8]]) -> u64 {
        Aof::append(self, db, args)
    }

    fn error(&self) -> Option<String> {
        if !self.failing.load(Ordering::Acquire) {
            return None;
        }
        self.error.lock().clone()
    }

    fn batch_done(&self) {
        self.write_inline();
    }

    fn sync_replies(&self) -> bool {
        self.policy() == Fsync::Always
    }

    fn wait_durable(
        &self,
        seq: u64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(Aof::wait_durable(self, seq))
    }
}

/// Write all of `data`; on failure the file is cut back to where it was, so a retry never
/// leaves half a record behind.
fn write_with_fault(f: &mut File, data: &[u8]) -> std::io::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    if let Ok(p) = std::env::var(FAULT_ENV) {
        if Path::new(&p).exists() {
            return Err(std::io::Error::from_raw_os_error(28)); // ENOSPC
        }
    }
    let start = f.metadata()?.len();
    if let Err(e) = f.write_all(data) {
        let _ = f.set_len(start);
        return Err(e);
    }
    Ok(())
}

/// Encode one request as a RESP multibulk array.
pub fn encode(buf: &mut Vec<u8>, args: &[&[u8]]) {
    let mut tmp = [0u8; 24];
    buf.put_u8(b'*');
    buf.put_slice(crate::resp::write::fmt_i64(args.len() as i64, &mut tmp));
    buf.put_slice(b"\r\n");
    for a in args {
        buf.put_u8(b'$');
        buf.put_slice(crate::resp::write::fmt_i64(a.len() as i64, &mut tmp));
        buf.put_slice(b"\r\n");
        buf.put_slice(a);
        buf.put_slice(b"\r\n");
    }
}
