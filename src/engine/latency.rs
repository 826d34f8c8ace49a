//! The latency monitor (`LATENCY LATEST|HISTORY|RESET|DOCTOR|GRAPH`): events that took at
//! least `latency-monitor-threshold` milliseconds (0: off), by event class, as Redis keeps
//! them.
//!
//! Classes recorded here: `command` and `fast-command` (a command, by its `fast` flag) and
//! `expire-cycle` (an active-expiry pass). Each class keeps its last [`HISTORY_LEN`]
//! samples, one per second (the worst of that second), and its all-time worst.

use parking_lot::Mutex;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};

/// Samples kept per event class (Redis's `LATENCY_TS_LEN`).
pub const HISTORY_LEN: usize = 160;

#[derive(Clone, Debug, Default)]
pub struct Series {
    /// (Unix seconds, milliseconds), oldest first.
    pub samples: VecDeque<(u64, u64)>,
    pub max: u64,
}

#[derive(Default)]
pub struct Monitor {
    /// `latency-monitor-threshold` in milliseconds.
    pub threshold: AtomicU64,
    events: Mutex<BTreeMap<&'static str, Series>>,
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Monitor {
    /// Whether the monitor is on (a threshold is set).
    #[inline]
    pub fn on(&self) -> bool {
        self.threshold.load(Ordering::Relaxed) != 0
    }

    /// Note that `event` took `ms` milliseconds, if that reaches the threshold.
    #[inline]
    pub fn sample(&self, event: &'static str, ms: u64) {
        let threshold = self.threshold.load(Ordering::Relaxed);
        if threshold != 0 && ms >= threshold {
            self.record(event, ms);
        }
    }

    #[cold]
    fn record(&self, event: &'static str, ms: u64) {
        let now = unix_secs();
        let mut events = self.events.lock();
        let s = events.entry(event).or_default();
        s.max = s.max.max(ms);
        match s.samples.back_mut() {
            Some((t, worst)) if *t == now => *worst = (*worst).max(ms),
            _ => {
                if s.samples.len() == HISTORY_LEN {
                    s.samples.pop_front();
                }
                s.samples.push_back((now, ms));
            }
        }
    }

    /// Every class with samples.
    pub fn all(&self) -> Vec<(&'static str, Series)> {
        self.events
            .lock()
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect()
    }

    pub fn get(&self, event: &[u8]) -> Option<Series> {
        self.events
            .lock()
            .iter()
            .find(|(k, _)| k.as_bytes() == event)
            .map(|(_, v)| v.clone())
    }

    /// Forget `events` (all when empty); how many classes had samples.
    pub fn reset(&self, events: &[&[u8]]) -> usize {
        let mut all = self.events.lock();
        if events.is_empty() {
            let n = all.len();
            all.clear();
            return n;
        }
        let before = all.len();
        all.retain(|k, _| !events.contains(&k.as_bytes()));
        before - all.len()
    }
}
