//! A key's entry: its value and the metadata eviction and expiry read (TTL, LRU clock, LFU
//! counter), and the switch that turns access recording off for `CLIENT NO-TOUCH`.

use super::value::Value;
use super::Counters;
use std::sync::atomic::Ordering;

/// What a key holds, plus its metadata.
#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry in Unix milliseconds; 0 means none.
    pub expire_at: u64,
    /// Last access, in seconds of the server clock (LRU eviction, `OBJECT IDLETIME`).
    pub access: u32,
    /// Logarithmic access counter (LFU eviction, `OBJECT FREQ`), Redis's scheme: starts at
    /// `LFU_INIT`, grows with probability 1/((counter-LFU_INIT)*lfu-log-factor+1), and
    /// loses one per `lfu-decay-time` minutes without access.
    pub freq: u8,
    /// Minutes (of the server clock, mod 2^16) when `freq` was last decayed.
    pub freq_minute: u16,
    /// Bytes accounted for the value; kept with the entry so removal subtracts exactly what
    /// was added, however the value changed in between.
    pub(super) mem: usize,
}

impl Entry {
    pub fn new(value: Value, expire_at: u64) -> Entry {
        Entry {
            value,
            expire_at,
            access: 0,
            freq: LFU_INIT,
            freq_minute: 0,
            mem: 0,
        }
    }
}

/// The LFU counter of a new key, so new keys are not evicted at once.
pub const LFU_INIT: u8 = 5;

impl Entry {
    /// The LFU counter after decay for the minutes that passed since it was last decayed.
    pub fn decayed_freq(&self, now: u64, decay_minutes: u32) -> u8 {
        if decay_minutes == 0 {
            return self.freq;
        }
        let minute = ((now / 60_000) & 0xFFFF) as u16;
        let elapsed = minute.wrapping_sub(self.freq_minute) as u32;
        let periods = elapsed / decay_minutes;
        self.freq.saturating_sub(periods.min(255) as u8)
    }

    /// Record an access: the LRU clock, and the LFU counter (decayed, then maybe bumped).
    pub(super) fn touch(&mut self, now: u64, counters: &Counters, rand: u64) {
        if NO_TOUCH.get() {
            return;
        }
        self.access = (now / 1000) as u32;
        // As in Redis, the LFU counter is kept only under an LFU policy (OBJECT FREQ answers
        // only then); other policies pay for the LRU clock alone.
        if !counters.lfu.load(Ordering::Relaxed) {
            return;
        }
        let decay = counters.lfu_decay_time.load(Ordering::Relaxed);
        let mut c = self.decayed_freq(now, decay);
        if c < 255 {
            let base = c.saturating_sub(LFU_INIT) as f64;
            let factor = counters.lfu_log_factor.load(Ordering::Relaxed) as f64;
            let p = 1.0 / (base * factor + 1.0);
            let r = (rand >> 11) as f64 / (1u64 << 53) as f64;
            if r < p {
                c += 1;
            }
        }
        self.freq = c;
        self.freq_minute = ((now / 60_000) & 0xFFFF) as u16;
    }
}

thread_local! {
    /// Set while a `CLIENT NO-TOUCH` client's command runs on this thread: its lookups leave
    /// the keys' LRU clock and LFU counter alone.
    static NO_TOUCH: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` with access recording off (`CLIENT NO-TOUCH`) when `on`.
pub fn without_touch<R>(on: bool, f: impl FnOnce() -> R) -> R {
    if !on {
        return f();
    }
    NO_TOUCH.set(true);
    let r = f();
    NO_TOUCH.set(false);
    r
}
