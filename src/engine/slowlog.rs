//! The slow log: the most recent commands slower than `slowlog-log-slower-than`.

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

/// Arguments kept per slow log entry, and bytes kept per argument (as in Redis).
pub const SLOWLOG_MAX_ARGC: usize = 32;
pub const SLOWLOG_MAX_ARGLEN: usize = 128;

pub struct SlowEntry {
    pub id: u64,
    pub time: u64,
    pub micros: u64,
    pub args: Vec<Vec<u8>>,
    pub addr: String,
    pub name: Vec<u8>,
}

/// The slow log: the most recent commands slower than `slowlog-log-slower-than`.
#[derive(Default)]
pub struct SlowLog {
    pub entries: Mutex<VecDeque<SlowEntry>>,
    next_id: AtomicU64,
}

impl SlowLog {
    /// Record a command that took `micros`; `max` is `slowlog-max-len`.
    pub fn record(
        &self,
        args: &[Bytes],
        micros: u64,
        now_ms: u64,
        addr: &str,
        name: &[u8],
        max: usize,
    ) {
        let mut kept: Vec<Vec<u8>> = Vec::new();
        let shown = args.len().min(SLOWLOG_MAX_ARGC);
        for (i, a) in args[..shown].iter().enumerate() {
            if i == SLOWLOG_MAX_ARGC - 1 && args.len() > SLOWLOG_MAX_ARGC {
                kept.push(
                    format!("... ({} more arguments)", args.len() - SLOWLOG_MAX_ARGC + 1)
                        .into_bytes(),
                );
                break;
            }
            if super::redact::is_redacted(args, i) {
                kept.push(b"(redacted)".to_vec());
            } else if a.len() > SLOWLOG_MAX_ARGLEN {
                let mut v = a[..SLOWLOG_MAX_ARGLEN].to_vec();
                v.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - SLOWLOG_MAX_ARGLEN).as_bytes(),
                );
                kept.push(v);
            } else {
                kept.push(a.to_vec());
            }
        }
        let entry = SlowEntry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            time: now_ms / 1000,
            micros,
            args: kept,
            addr: addr.to_string(),
            name: name.to_vec(),
        };
        let mut e = self.entries.lock();
        e.push_front(entry);
        e.truncate(max);
    }
}
