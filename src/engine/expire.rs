//! Active expiry: removing expired keys nobody reads.
//!
//! Lazy expiry (every lookup) alone would leave keys that are never touched again holding
//! memory. So, like Redis's active expire cycle, a background thread wakes `HZ` times a second
//! and, for each database and shard in turn, tests `SAMPLES` random keys that have a TTL,
//! removing the expired ones. While more than `ACCEPTABLE_STALE_PERCENT` of a sample was
//! expired, the shard is probably full of expired keys and it samples again. The whole cycle
//! stops at `CYCLE_BUDGET`, resuming where it left off next time, and each lock is held for one
//! sample only (tens of microseconds), so a million keys expiring at once cannot stall clients.

//!
//! Each sample runs under a lock set of its one shard, so the expired keys become keyspace
//! events (AOF `DEL`s) before the shard is unlocked, as for any other change.

use super::{Engine, LockSet};
use crate::store::SHARDS;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Cycles per second.
pub const HZ: u64 = 10;
/// Keys tested per shard per round.
pub const SAMPLES: usize = 20;
/// Keep sampling a shard while more than this share of a sample was expired.
pub const ACCEPTABLE_STALE_PERCENT: usize = 10;
/// Pause between cycles while many keys are expiring (the previous cycle ran out of time).
pub const BUSY_PAUSE: Duration = Duration::from_millis(5);
/// Time one cycle may take: a quarter of the period, as in Redis.
pub const CYCLE_BUDGET: Duration = Duration::from_millis(1000 / HZ / 4);

/// Where the last cycle stopped, so the next one continues fairly.
#[derive(Default, Debug)]
pub struct Cursor {
    db: usize,
    shard: usize,
}

/// Run one time-boxed cycle; returns the keys removed.
pub fn cycle(engine: &Engine, at: &mut Cursor, budget: Duration) -> usize {
    let store = &engine.store;
    if engine.pause.current(store.now(), store) != super::pause::PauseKind::Off {
        return 0;
    }
    let start = Instant::now();
    let total_shards = store.databases() * SHARDS;
    let mut removed = 0;
    for _ in 0..total_shards {
        if at.db >= store.databases() {
            at.db = 0;
        }
        loop {
            let now = store.now();
            let (sampled, expired) = LockSet::one(engine, at.db, at.shard)
                .shard_at(at.db, at.shard)
                .expire_sample(SAMPLES, now);
            removed += expired;
            if sampled == 0 || expired * 100 <= sampled * ACCEPTABLE_STALE_PERCENT {
                break;
            }
            if start.elapsed() >= budget {
                return removed;
            }
        }
        at.shard += 1;
        if at.shard == SHARDS {
            at.shard = 0;
            at.db += 1;
        }
        if start.elapsed() >= budget {
            break;
        }
    }
    removed
}

/// A background thread running `cycle` `HZ` times a second until the returned guard is
/// dropped.
pub struct ExpiryTask {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl ExpiryTask {
    pub fn spawn(engine: Arc<Engine>) -> ExpiryTask {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("active-expire".into())
            .spawn(move || {
                let mut at = Cursor::default();
                while !flag.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    cycle(&engine, &mut at, CYCLE_BUDGET);
                    engine
                        .latency
                        .sample("expire-cycle", started.elapsed().as_millis() as u64);
                    engine.store.sample_peak();
                    engine.stats.sample_rates();
                    engine.tracking_broadcast();
                    engine.tracking_limit();
                    // A cycle that used its whole budget stopped with stale keys left: come
                    // back soon (this thread is not the one serving clients, and locks are
                    // held per sample only), else at the normal rate.
                    let pause = if started.elapsed() >= CYCLE_BUDGET {
                        BUSY_PAUSE
                    } else {
                        Duration::from_millis(1000 / HZ)
                    };
                    std::thread::park_timeout(pause);
                }
            })
            .expect("spawn expiry thread");
        ExpiryTask {
            stop,
            handle: Some(handle),
        }
    }
}

impl ExpiryTask {
    /// Stop without waiting: a busy script holds the shards the thread may be waiting for,
    /// and the process is about to exit (`SHUTDOWN NOSAVE` during a busy script).
    pub fn detach(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take();
    }
}

impl Drop for ExpiryTask {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            h.thread().unpark();
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ManualClock, Store, Value};

    #[test]
    fn active_cycle_removes_untouched_expired_keys_and_keeps_live_ones() {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let store = Arc::new(Store::with_clock(2, clock.clone()));
        let engine = Engine::with_store(
            crate::config::Config::default(),
            store.clone(),
            Box::leak(Box::new(crate::engine::Registry::build(&[]))),
        );
        let events = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = events.clone();
        engine.set_tap(Some(Box::new(move |ev| {
            assert_eq!(ev.kind, crate::engine::events::EventKind::Expired);
            seen.fetch_add(1, Ordering::Relaxed);
        })));
        let now = store.now();
        for i in 0..5000u32 {
            let k = format!("k{i}");
            let exp = if i % 2 == 0 { now + 10 } else { 0 };
            store.db(1).lock(k.as_bytes()).set(
                k.as_bytes(),
                Value::string(b"v".to_vec()),
                exp,
                now,
            );
        }
        clock.advance(100);
        let mut at = Cursor::default();
        let mut removed = 0;
        for _ in 0..200 {
            removed += cycle(&engine, &mut at, Duration::from_secs(1));
        }
        assert_eq!(removed, 2500);
        assert_eq!(
            events.load(Ordering::Relaxed),
            2500,
            "one event per expired key"
        );
        assert_eq!(store.dbsize(1), 2500);
        assert_eq!(store.db(1).expires_len(), 0);
    }
}
