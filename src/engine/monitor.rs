//! `MONITOR`: clients that see every command the server runs, as Redis prints them:
//! `+<unix seconds>.<microseconds> [<db> <client addr>] "arg" "arg" …`.
//!
//! A command is fed once it ran (succeeded or not; refused ones are not), as Redis's `call`
//! does: the commands of a transaction between its `multi` and `exec`, with the `exec`
//! after them. Administrative commands are not shown, and `AUTH`/`HELLO … AUTH` passwords
//! are redacted. Each monitor has a pub/sub [`Mailbox`], so a slow monitor is bounded by the
//! same output limits as a subscriber.

use super::pubsub::{Mailbox, Message};
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Default)]
pub struct Monitors {
    list: Mutex<BTreeMap<u64, Arc<Mailbox>>>,
    count: AtomicUsize,
}

/// A monitoring client's registration; dropping it (disconnect, RESET) ends it.
pub struct Monitoring {
    pub registry: Arc<Monitors>,
    pub mailbox: Arc<Mailbox>,
    /// The queue's receiving end, until the connection takes it.
    pub rx: Option<tokio::sync::mpsc::UnboundedReceiver<Message>>,
}

impl Drop for Monitoring {
    fn drop(&mut self) {
        self.registry.remove(self.mailbox.client_id);
    }
}

impl Monitors {
    /// Whether any client monitors (one relaxed load on every command).
    #[inline]
    pub fn any(&self) -> bool {
        self.count.load(Ordering::Relaxed) > 0
    }

    pub fn add(&self, mb: Arc<Mailbox>) {
        let mut l = self.list.lock();
        l.insert(mb.client_id, mb);
        self.count.store(l.len(), Ordering::Relaxed);
    }

    fn remove(&self, id: u64) {
        let mut l = self.list.lock();
        l.remove(&id);
        self.count.store(l.len(), Ordering::Relaxed);
    }

    /// Show a command run by the client at `addr` in database `db` to every monitor.
    pub fn feed(&self, db: usize, addr: &str, args: &[Bytes]) {
        let line = Bytes::from(line(db, addr, args));
        for mb in self.list.lock().values() {
            mb.deliver(Message {
                kind: MONITOR_KIND,
                pattern: None,
                channel: Bytes::new(),
                payload: line.clone(),
            });
        }
    }
}

/// The `kind` of a monitor line in a mailbox (written as a status reply, not a push).
pub const MONITOR_KIND: &str = "monitor";

/// One monitor line (without the `+` and CRLF the status reply adds).
pub fn line(db: usize, addr: &str, args: &[Bytes]) -> Vec<u8> {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut out = format!("{}.{:06} [{db} {addr}]", t.as_secs(), t.subsec_micros()).into_bytes();
    for (i, a) in args.iter().enumerate() {
        out.push(b' ');
        if super::redact::is_redacted(args, i) {
            out.extend_from_slice(b"\"(redacted)\"");
        } else {
            repr(&mut out, a);
        }
    }
    out
}

/// Redis's `sdscatrepr`: a double-quoted string with C escapes.
pub fn repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c),
            c => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_quote_like_redis_and_hide_passwords() {
        let args: Vec<Bytes> = ["set", "k\"1", "a\nb\x01"]
            .iter()
            .map(|s| Bytes::from(s.as_bytes().to_vec()))
            .collect();
        let l = String::from_utf8(line(3, "1.2.3.4:5", &args)).unwrap();
        assert!(
            l.ends_with(r#" [3 1.2.3.4:5] "set" "k\"1" "a\nb\x01""#),
            "{l}"
        );
        let auth: Vec<Bytes> = ["AUTH", "u", "p"].iter().map(|s| Bytes::from(*s)).collect();
        let l = String::from_utf8(line(0, "a", &auth)).unwrap();
        assert!(l.ends_with(r#""AUTH" "(redacted)" "(redacted)""#), "{l}");
    }
}
