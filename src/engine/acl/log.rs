//! `ACL LOG`: the latest denials (commands, keys, channels refused, failed logins), newest
//! first, at most `acllog-max-len`. A denial like one of the ten newest entries (same reason,
//! context, object and user, within a minute) counts on that entry instead, as in Redis.

use parking_lot::Mutex;
use std::collections::VecDeque;

/// How close in time two denials must be to share an entry (Redis's
/// `ACL_LOG_GROUPING_MAX_TIME_DELTA`).
const GROUPING_MS: u64 = 60_000;
/// How many of the newest entries a denial is compared with.
const SCAN: usize = 10;

#[derive(Clone)]
pub struct Entry {
    pub count: u64,
    /// `command`, `key`, `channel` or `auth`.
    pub reason: &'static str,
    /// `toplevel`, `multi` or `lua`.
    pub context: &'static str,
    /// The command, key or channel refused (the command's name for a failed login).
    pub object: String,
    pub username: String,
    /// When it last happened (Unix ms).
    pub ctime: u64,
    /// `CLIENT LIST`'s line for the client it last happened to.
    pub client_info: String,
}

#[derive(Default)]
pub struct Log {
    entries: Mutex<VecDeque<Entry>>,
}

impl Log {
    /// Record `e` (its count is ignored), keeping at most `max` entries.
    pub fn add(&self, e: Entry, max: usize) {
        let mut entries = self.entries.lock();
        let same = entries.iter().take(SCAN).position(|x| {
            x.reason == e.reason
                && x.context == e.context
                && x.ctime.abs_diff(e.ctime) <= GROUPING_MS
                && x.object == e.object
                && x.username == e.username
        });
        match same.and_then(|i| entries.remove(i)) {
            Some(mut x) => {
                x.count += 1;
                x.ctime = e.ctime;
                x.client_info = e.client_info;
                entries.push_front(x);
            }
            None => {
                entries.push_front(Entry { count: 1, ..e });
                entries.truncate(max);
            }
        }
    }

    /// The newest `n` entries.
    pub fn latest(&self, n: usize) -> Vec<Entry> {
        self.entries.lock().iter().take(n).cloned().collect()
    }

    pub fn reset(&self) {
        self.entries.lock().clear();
    }
}
