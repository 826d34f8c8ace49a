//! The query buffer's size over time, as Redis's client cron keeps it: a buffer much larger
//! than the client's recent requests is trimmed to them, and an idle client's empty buffer
//! is released (16 KB per connection adds up over thousands of idle connections).

use bytes::BytesMut;
use std::time::Duration;

/// A buffer is trimmed only above this (Redis's `PROTO_RESIZE_THRESHOLD`).
pub const RESIZE_THRESHOLD: usize = 32 * 1024;
/// Nor unless this much of it is unused.
const MIN_WASTE: usize = 4 * 1024;
/// How often an active connection reconsiders its buffer.
const CHECK_EVERY_MS: u64 = 100;
/// An empty buffer is released after the client was idle this long.
pub const IDLE_RELEASE: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct Sizing {
    /// The most the buffer held since the last check.
    peak: usize,
    checked_ms: u64,
    /// The buffer was released for idleness, and nothing was read since.
    pub released: bool,
}

impl Sizing {
    /// Note what the buffer holds after a read.
    pub fn seen(&mut self, held: usize) {
        self.peak = self.peak.max(held);
        self.released = false;
    }

    /// Between batches: trim a buffer at least twice as large as the recent peak down to
    /// what it must keep.
    pub fn trim(&mut self, buf: &mut BytesMut, now_ms: u64) {
        if now_ms.saturating_sub(self.checked_ms) < CHECK_EVERY_MS {
            return;
        }
        self.checked_ms = now_ms;
        let cap = buf.capacity();
        if cap - buf.len() > MIN_WASTE && cap > RESIZE_THRESHOLD && cap / 2 > self.peak {
            let mut kept = BytesMut::with_capacity(buf.len().max(self.peak));
            kept.extend_from_slice(buf);
            *buf = kept;
        }
        self.peak = buf.len();
    }

    /// The idle timer fired, the client having been idle `idle_ms`: release the buffer if
    /// that is long enough; when to look again.
    pub fn idle(&mut self, buf: &mut BytesMut, idle_ms: u64) -> Duration {
        let wait = IDLE_RELEASE.as_millis() as u64;
        if idle_ms >= wait {
            self.release(buf);
        }
        Duration::from_millis(wait.saturating_sub(idle_ms.min(wait)).max(CHECK_EVERY_MS))
    }

    /// The client has been idle: an empty buffer goes (the next read starts a new one).
    fn release(&mut self, buf: &mut BytesMut) {
        if buf.is_empty() {
            *buf = BytesMut::new();
            self.peak = 0;
            self.released = true;
        }
    }
}
