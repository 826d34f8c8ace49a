//! Server-wide counters behind `INFO stats`, `INFO commandstats`, `INFO errorstats` and the
//! metrics, and the per-batch [`LocalStats`] that feed them.

use super::ctx::ErrKind;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Per-command counters for `INFO commandstats` and metrics.
#[derive(Default, Debug)]
pub struct CmdStats {
    pub calls: AtomicU64,
    pub nanos: AtomicU64,
    pub rejected: AtomicU64,
    pub failed: AtomicU64,
    /// Calls by latency (`LATENCY HISTOGRAM`): bucket `i` holds those of at most 2^i µs
    /// (and more than 2^(i-1)); the last holds the rest.
    pub hist: [AtomicU64; HIST_BUCKETS],
}

/// Latency buckets per command: up to 2^30 µs (about 18 minutes), then one for the rest.
pub const HIST_BUCKETS: usize = 32;

/// The `hist` bucket of a call that took `nanos`.
pub fn hist_bucket(nanos: u64) -> usize {
    let micros = nanos.div_ceil(1000).max(1);
    (micros.next_power_of_two().trailing_zeros() as usize).min(HIST_BUCKETS - 1)
}

/// Error kinds counted for `INFO errorstats` (index = `ErrKind as usize`).
pub const ERR_KINDS: [ErrKind; 16] = [
    ErrKind::Err,
    ErrKind::WrongType,
    ErrKind::NoAuth,
    ErrKind::WrongPass,
    ErrKind::Oom,
    ErrKind::Misconf,
    ErrKind::NoProto,
    ErrKind::ExecAbort,
    ErrKind::NoScript,
    ErrKind::Busy,
    ErrKind::Loading,
    ErrKind::NoGroup,
    ErrKind::BusyGroup,
    ErrKind::Unblocked,
    ErrKind::NoReplicas,
    ErrKind::NoPerm,
];

/// Most distinct error codes outside `ERR_KINDS` that `INFO errorstats` keeps (scripts can
/// make up any number of codes); errors with further codes count only in the total.
pub const MAX_OTHER_ERROR_CODES: usize = 128;

#[derive(Debug, Default)]
pub struct Stats {
    pub connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    /// Writes since start (Redis's `dirty`-style change counter).
    pub changes: AtomicU64,
    /// The last successful `SAVE` (Unix seconds; 0: none since start) and `changes` then.
    pub last_save: AtomicU64,
    pub changes_at_save: AtomicU64,
    /// Snapshots begun by SAVE and BGSAVE (`rdb_saves`, counted at the start as Redis does).
    pub saves: AtomicU64,
    /// The last BGSAVE failed (`rdb_last_bgsave_status:err`, until a save succeeds).
    pub last_bgsave_failed: std::sync::atomic::AtomicBool,
    pub error_replies: AtomicU64,
    /// Error replies by kind (`INFO errorstats`), read from the error's kind, not its text.
    pub errors: [AtomicU64; ERR_KINDS.len()],
    /// Error replies whose code is none of `ERR_KINDS` (a script's `redis.error_reply`), by
    /// code; at most `MAX_OTHER_ERROR_CODES` codes are kept.
    pub other_errors: parking_lot::Mutex<std::collections::BTreeMap<String, u64>>,
    /// Indexed like the registry's commands.
    pub per_cmd: Vec<CmdStats>,
    pub unknown_commands: AtomicU64,
    /// Reads from and writes to client sockets (`total_reads_processed`, `..._writes_...`).
    pub reads_processed: AtomicU64,
    pub writes_processed: AtomicU64,
    /// Rates over the last seconds (`instantaneous_*` in `INFO stats`).
    pub instant: parking_lot::Mutex<Instantaneous>,
}

/// Samples kept per rate: as Redis, the rate shown is their mean (a sample every 100 ms,
/// so over the last 1.6 seconds).
const RATE_SAMPLES: usize = 16;

/// Redis's instantaneous metrics: commands, input bytes and output bytes per second,
/// sampled by the server's periodic task (`Stats::sample_rates`).
#[derive(Debug, Default)]
pub struct Instantaneous {
    last: Option<(Instant, [u64; 3])>,
    samples: [[u64; RATE_SAMPLES]; 3],
    next: usize,
}

impl Instantaneous {
    /// Mean per-second rate of metric `m` (0 ops, 1 input bytes, 2 output bytes).
    fn mean(&self, m: usize) -> u64 {
        self.samples[m].iter().sum::<u64>() / RATE_SAMPLES as u64
    }
}

impl Stats {
    pub fn new(commands: usize) -> Stats {
        Stats {
            per_cmd: (0..commands).map(|_| CmdStats::default()).collect(),
            ..Stats::default()
        }
    }

    /// Error replies so far, by code, for the codes seen.
    pub fn error_counts(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = ERR_KINDS
            .iter()
            .map(|k| {
                (
                    k.code().to_string(),
                    self.errors[*k as usize].load(Ordering::Relaxed),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        v.extend(
            self.other_errors
                .lock()
                .iter()
                .map(|(c, n)| (c.clone(), *n)),
        );
        v.sort();
        v
    }

    /// One error reply of kind `kind`, counted at once (for errors outside a batch's
    /// `LocalStats`, such as those of the commands a script runs).
    pub fn count_error(&self, kind: ErrKind) {
        self.errors[kind as usize].fetch_add(1, Ordering::Relaxed);
        self.error_replies.fetch_add(1, Ordering::Relaxed);
    }

    /// One error reply with this text (a leading `-` allowed), counted at once under its
    /// code (its first word; `ERR` when it has none).
    pub fn count_error_text(&self, text: &str) {
        let code = text.trim_start_matches('-').split(' ').next().unwrap_or("");
        self.count_error_code(if code.is_empty() { "ERR" } else { code });
    }

    /// One error reply whose code is `code`, counted at once.
    pub fn count_error_code(&self, code: &str) {
        match ERR_KINDS.iter().find(|k| k.code() == code) {
            Some(k) => self.count_error(*k),
            None => {
                let mut other = self.other_errors.lock();
                if let Some(n) = other.get_mut(code) {
                    *n += 1;
                } else if other.len() < MAX_OTHER_ERROR_CODES {
                    other.insert(code.to_string(), 1);
                }
                self.error_replies.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Take a sample of the rates (called about ten times a second).
    pub fn sample_rates(&self) {
        let now = Instant::now();
        let readings = [
            self.total_calls(),
            self.net_input_bytes.load(Ordering::Relaxed),
            self.net_output_bytes.load(Ordering::Relaxed),
        ];
        let mut ins = self.instant.lock();
        if let Some((at, before)) = ins.last {
            let ms = now.saturating_duration_since(at).as_millis() as u64;
            let i = ins.next;
            for m in 0..3 {
                // A CONFIG RESETSTAT between two samples reads as no traffic.
                let delta = readings[m].saturating_sub(before[m]);
                ins.samples[m][i] = (delta * 1000).checked_div(ms).unwrap_or(0);
            }
            ins.next = (i + 1) % RATE_SAMPLES;
        }
        ins.last = Some((now, readings));
    }

    /// `instantaneous_ops_per_sec`, and input and output in KB per second.
    pub fn rates(&self) -> (u64, f64, f64) {
        let ins = self.instant.lock();
        (
            ins.mean(0),
            ins.mean(1) as f64 / 1024.0,
            ins.mean(2) as f64 / 1024.0,
        )
    }

    pub fn reset(&self) {
        for st in &self.per_cmd {
            st.calls.store(0, Ordering::Relaxed);
            st.nanos.store(0, Ordering::Relaxed);
            st.rejected.store(0, Ordering::Relaxed);
            st.failed.store(0, Ordering::Relaxed);
            for b in &st.hist {
                b.store(0, Ordering::Relaxed);
            }
        }
        for a in [
            &self.connections_received,
            &self.rejected_connections,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.error_replies,
            &self.unknown_commands,
            &self.reads_processed,
            &self.writes_processed,
        ] {
            a.store(0, Ordering::Relaxed);
        }
        for e in &self.errors {
            e.store(0, Ordering::Relaxed);
        }
        self.other_errors.lock().clear();
    }

    pub fn total_calls(&self) -> u64 {
        self.per_cmd
            .iter()
            .map(|s| s.calls.load(Ordering::Relaxed))
            .sum()
    }
}

/// Statistics a client gathers while it runs a batch of requests, added to the shared
/// counters once per batch: with two cores pipelining into shared atomics, per-command
/// updates would make the counters' cache lines bounce between cores.
pub struct LocalStats {
    /// Per command: calls, nanoseconds, failed, rejected.
    per_cmd: Vec<[u64; 4]>,
    touched: Vec<usize>,
    pub unknown: u64,
    errors: [u64; ERR_KINDS.len()],
    any_error: bool,
    pub changes: u64,
    /// End of the previous command (or the batch start): the next command's start time, so
    /// each command costs one clock reading.
    pub mark: Instant,
    pub latency: Vec<(usize, Duration)>,
}

pub const CALLS: usize = 0;
pub const NANOS: usize = 1;
pub const FAILED: usize = 2;
pub const REJECTED: usize = 3;

impl LocalStats {
    pub fn new(commands: usize) -> LocalStats {
        LocalStats {
            per_cmd: vec![[0; 4]; commands],
            touched: Vec::new(),
            unknown: 0,
            errors: [0; ERR_KINDS.len()],
            any_error: false,
            changes: 0,
            mark: Instant::now(),
            latency: Vec::new(),
        }
    }

    /// A batch starts now (after the read that brought its requests).
    pub fn begin(&mut self) {
        self.mark = Instant::now();
    }

    /// One call done: its count and its time, in one touch of the row.
    pub fn called(&mut self, idx: usize, nanos: u64) {
        let row = &mut self.per_cmd[idx];
        if row[CALLS] == 0 && *row == [0; 4] {
            self.touched.push(idx);
        }
        row[CALLS] += 1;
        row[NANOS] += nanos;
    }

    pub fn bump(&mut self, idx: usize, field: usize, n: u64) {
        if self.per_cmd[idx] == [0; 4] {
            self.touched.push(idx);
        }
        self.per_cmd[idx][field] += n;
    }

    pub fn error(&mut self, kind: ErrKind) {
        self.errors[kind as usize] += 1;
        self.any_error = true;
    }

    /// Add everything gathered to the shared counters.
    pub fn flush(
        &mut self,
        stats: &Stats,
        metrics: &super::metrics::Metrics,
        reg: &super::Registry,
    ) {
        for &i in &self.touched {
            let [calls, nanos, failed, rejected] = std::mem::take(&mut self.per_cmd[i]);
            let st = &stats.per_cmd[i];
            if calls > 0 {
                st.calls.fetch_add(calls, Ordering::Relaxed);
                st.nanos.fetch_add(nanos, Ordering::Relaxed);
            }
            if failed > 0 {
                st.failed.fetch_add(failed, Ordering::Relaxed);
            }
            if rejected > 0 {
                st.rejected.fetch_add(rejected, Ordering::Relaxed);
            }
        }
        self.touched.clear();
        if self.unknown > 0 {
            stats
                .unknown_commands
                .fetch_add(std::mem::take(&mut self.unknown), Ordering::Relaxed);
        }
        if self.any_error {
            self.any_error = false;
            let mut total = 0;
            for (i, n) in self.errors.iter_mut().enumerate() {
                if *n > 0 {
                    stats.errors[i].fetch_add(*n, Ordering::Relaxed);
                    total += std::mem::take(n);
                }
            }
            stats.error_replies.fetch_add(total, Ordering::Relaxed);
        }
        if self.changes > 0 {
            stats
                .changes
                .fetch_add(std::mem::take(&mut self.changes), Ordering::Relaxed);
        }
        // Runs of the same command in the same bucket (a pipeline's) cost one add.
        let mut run: Option<(usize, usize, u64)> = None;
        for (idx, d) in &self.latency {
            let b = hist_bucket(d.as_nanos() as u64);
            match &mut run {
                Some((i, bb, n)) if *i == *idx && *bb == b => *n += 1,
                _ => {
                    if let Some((i, bb, n)) = run.replace((*idx, b, 1)) {
                        stats.per_cmd[i].hist[bb].fetch_add(n, Ordering::Relaxed);
                    }
                }
            }
        }
        if let Some((i, bb, n)) = run {
            stats.per_cmd[i].hist[bb].fetch_add(n, Ordering::Relaxed);
        }
        metrics.commands_done(reg, &self.latency);
        self.latency.clear();
    }

    /// Forget everything gathered (a replay counts nothing).
    pub fn discard(&mut self) {
        for &i in &self.touched {
            self.per_cmd[i] = [0; 4];
        }
        self.touched.clear();
        self.unknown = 0;
        self.errors = [0; ERR_KINDS.len()];
        self.any_error = false;
        self.changes = 0;
        self.latency.clear();
    }
}
