//! Prometheus metrics, encoded by the `prometheus-client` crate as OpenMetrics text.
//!
//! Hot paths only bump atomics (per-command counters live in the command table's stats,
//! latency buckets here). A scrape takes a snapshot of every value and hands it to a
//! `prometheus-client` collector for encoding, so names, types and escaping follow the
//! OpenMetrics rules. Label values come only from the command table, the fixed set of error
//! prefixes we emit, and database numbers, so clients cannot inflate cardinality.

use super::{Engine, Registry as CmdRegistry};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the per-family latency histogram buckets.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25,
];

/// The latency bucket `elapsed` falls in (None past the last bound).
fn bucket(elapsed: &std::time::Duration) -> Option<usize> {
    let secs = elapsed.as_secs_f64();
    LATENCY_BUCKETS.iter().position(|&le| secs <= le)
}

/// Command groups that get a latency histogram (a command's group picks one).
pub const FAMILIES: [&str; 10] = [
    "string",
    "generic",
    "connection",
    "server",
    "list",
    "hash",
    "set",
    "sorted-set",
    "pubsub",
    "other",
];

fn family_index(group: &str) -> usize {
    FAMILIES
        .iter()
        .position(|f| *f == group)
        .unwrap_or(FAMILIES.len() - 1)
}

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

pub struct Metrics {
    latency: [Histogram; FAMILIES.len()],
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            latency: Default::default(),
        }
    }

    /// Record a batch of (command index, latency) observations.
    pub fn commands_done(&self, reg: &CmdRegistry, batch: &[(usize, Duration)]) {
        if batch.is_empty() {
            return;
        }
        // A batch of one or two (every request of an unpipelined client) goes straight to
        // the shared counters: cheaper than clearing and scanning the per-family table.
        if batch.len() <= 2 {
            for (cmd, elapsed) in batch {
                let h = &self.latency[family_index(reg.cmds[*cmd].group)];
                if let Some(b) = bucket(elapsed) {
                    h.buckets[b].fetch_add(1, Ordering::Relaxed);
                }
                h.count.fetch_add(1, Ordering::Relaxed);
                h.sum_nanos
                    .fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
            }
            return;
        }
        let mut local = [[0u64; LATENCY_BUCKETS.len() + 2]; FAMILIES.len()];
        for (cmd, elapsed) in batch {
            let f = family_index(reg.cmds[*cmd].group);
            if let Some(b) = bucket(elapsed) {
                local[f][b] += 1;
            }
            local[f][LATENCY_BUCKETS.len()] += 1;
            local[f][LATENCY_BUCKETS.len() + 1] += elapsed.as_nanos() as u64;
        }
        for (f, row) in local.iter().enumerate() {
            let count = row[LATENCY_BUCKETS.len()];
            if count == 0 {
                continue;
            }
            let h = &self.latency[f];
            for (b, n) in row[..LATENCY_BUCKETS.len()].iter().enumerate() {
                if *n > 0 {
                    h.buckets[b].fetch_add(*n, Ordering::Relaxed);
                }
            }
            h.count.fetch_add(count, Ordering::Relaxed);
            h.sum_nanos
                .fetch_add(row[LATENCY_BUCKETS.len() + 1], Ordering::Relaxed);
        }
    }

    /// The OpenMetrics text of every metric.
    pub fn render(&self, engine: &Engine) -> String {
        let snap = Snapshot::take(self, engine);
        let mut reg = Registry::default();
        reg.register_collector(Box::new(snap));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &reg)
            .expect("encoding to a String cannot fail");
        out
    }
}

/// One metric family's values at scrape time.
type Labels = Vec<(&'static str, String)>;

/// One histogram series: labels, sum of observations, count, cumulative buckets.
#[derive(Debug)]
struct HistRow {
    labels: Labels,
    sum: f64,
    count: u64,
    buckets: Vec<(f64, u64)>,
}

#[derive(Debug)]
struct Snapshot {
    families: Vec<(&'static str, &'static str, Values)>,
}

#[derive(Debug)]
enum Values {
    Counter(Vec<(Labels, f64)>),
    Gauge(Vec<(Labels, f64)>),
    Histogram(Vec<HistRow>),
}

fn one(v: f64) -> Vec<(Vec<(&'static str, String)>, f64)> {
    vec![(Vec::new(), v)]
}

impl Snapshot {
    fn take(_m: &Metrics, shared: &Engine) -> Snapshot {
        let m = _m;
        let reg = shared.registry;
        let st = &shared.stats;
        let store = &shared.store;
        let ks = store.stats();
        let c = store.counters();
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        let mut calls = Vec::new();
        let mut durations = Vec::new();
        for (i, s) in st.per_cmd.iter().enumerate() {
            let n = s.calls.load(Ordering::Relaxed);
            if n == 0 {
                continue;
            }
            let label = vec![("cmd", reg.fullnames[i].clone())];
            calls.push((label.clone(), n as f64));
            durations.push((label, s.nanos.load(Ordering::Relaxed) as f64 / 1e9));
        }
        let unknown = st.unknown_commands.load(Ordering::Relaxed);
        if unknown > 0 {
            calls.push((vec![("cmd", "unknown".to_string())], unknown as f64));
        }
        let errors = st
            .error_counts()
            .into_iter()
            .map(|(k, v)| (vec![("err", k.to_string())], v as f64))
            .collect();
        let mut keys = Vec::new();
        let mut expiring = Vec::new();
        for db in 0..store.databases() {
            let n = store.dbsize(db);
            if n > 0 {
                keys.push((vec![("db", format!("db{db}"))], n as f64));
                expiring.push((
                    vec![("db", format!("db{db}"))],
                    store.db(db).expires_len() as f64,
                ));
            }
        }
        let mut hists = Vec::new();
        for (i, h) in m.latency.iter().enumerate() {
            let count = h.count.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            // Per-bucket counts (the encoder accumulates them); whatever is above the last
            // bound goes to `+Inf`, which prometheus-client writes for the bound f64::INFINITY.
            let mut buckets: Vec<(f64, u64)> = LATENCY_BUCKETS
                .iter()
                .zip(h.buckets.iter())
                .map(|(le, b)| (*le, b.load(Ordering::Relaxed)))
                .collect();
            let counted: u64 = buckets.iter().map(|b| b.1).sum();
            let count = count.max(counted);
            buckets.push((f64::INFINITY, count - counted));
            let sum = h.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            hists.push(HistRow {
                labels: vec![("family", FAMILIES[i].to_string())],
                sum,
                count,
                buckets,
            });
        }
        let maxmemory = shared.hot.maxmemory.load(Ordering::Relaxed) as f64;
        let aof = shared
            .persistence()
            .map(|p| p.info(shared))
            .unwrap_or_default();
        let families = vec![
            (
                "redis_commands",
                "Commands processed, by command",
                Values::Counter(calls),
            ),
            (
                "redis_commands_duration_seconds",
                "Time spent executing commands, by command",
                Values::Counter(durations),
            ),
            (
                "redis_errors",
                "Error replies, by error prefix",
                Values::Counter(errors),
            ),
            (
                "redis_commands_latency_seconds",
                "Command latency, by command family",
                Values::Histogram(hists),
            ),
            (
                "redis_connected_clients",
                "Clients connected now",
                Values::Gauge(one(shared.clients.lock().len() as f64)),
            ),
            (
                "redis_connections_received",
                "Connections accepted",
                Values::Counter(one(load(&st.connections_received))),
            ),
            (
                "redis_rejected_connections",
                "Connections refused (maxclients)",
                Values::Counter(one(load(&st.rejected_connections))),
            ),
            (
                "redis_blocked_clients",
                "Clients blocked in a blocking command",
                Values::Gauge(one(0.0)),
            ),
            (
                "redis_memory_used_bytes",
                "Bytes held for keys and values",
                Values::Gauge(one(store.used_memory() as f64)),
            ),
            (
                "redis_memory_max_bytes",
                "The maxmemory setting (0 = unlimited)",
                Values::Gauge(one(maxmemory)),
            ),
            ("redis_db_keys", "Keys per database", Values::Gauge(keys)),
            (
                "redis_db_keys_expiring",
                "Keys with a TTL per database",
                Values::Gauge(expiring),
            ),
            (
                "redis_expired_keys",
                "Keys removed because their TTL passed",
                Values::Counter(one(ks.expired_keys as f64)),
            ),
            (
                "redis_evicted_keys",
                "Keys evicted to stay under maxmemory",
                Values::Counter(one(load(&c.evicted_keys))),
            ),
            (
                "redis_keyspace_hits",
                "Key lookups that found the key",
                Values::Counter(one(ks.keyspace_hits as f64)),
            ),
            (
                "redis_keyspace_misses",
                "Key lookups that did not find the key",
                Values::Counter(one(ks.keyspace_misses as f64)),
            ),
            (
                "redis_net_input_bytes",
                "Bytes read from clients",
                Values::Counter(one(load(&st.net_input_bytes))),
            ),
            (
                "redis_net_output_bytes",
                "Bytes written to clients",
                Values::Counter(one(load(&st.net_output_bytes))),
            ),
            (
                "redis_aof_writes",
                "Writes of buffered records to the AOF",
                Values::Counter(one(aof.writes as f64)),
            ),
            (
                "redis_aof_write_errors",
                "Failed AOF writes or fsyncs",
                Values::Counter(one(aof.write_errors as f64)),
            ),
            (
                "redis_aof_rewrites",
                "Completed AOF rewrites",
                Values::Counter(one(aof.rewrites as f64)),
            ),
            (
                "redis_start_time_seconds",
                "Start time, Unix seconds",
                Values::Gauge(one(shared.started_unix_ms as f64 / 1000.0)),
            ),
            (
                "redis_uptime_seconds",
                "Seconds since start",
                Values::Gauge(one(shared.uptime_secs() as f64)),
            ),
        ];
        Snapshot { families }
    }
}

/// Counts are integers: encode them as such (`5`, not `5.0`) when they are whole.
fn encode_value(
    v: f64,
    counter: bool,
    me: prometheus_client::encoding::MetricEncoder,
) -> Result<(), std::fmt::Error> {
    let whole = v.fract() == 0.0 && v.abs() < 9.0e15;
    match (counter, whole) {
        (true, true) => ConstCounter::new(v as u64).encode(me),
        (true, false) => ConstCounter::new(v).encode(me),
        (false, true) => ConstGauge::new(v as i64).encode(me),
        (false, false) => ConstGauge::new(v).encode(me),
    }
}

impl Collector for Snapshot {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for (name, help, values) in &self.families {
            match values {
                Values::Counter(rows) | Values::Gauge(rows) => {
                    let counter = matches!(values, Values::Counter(_));
                    let kind = if counter {
                        MetricType::Counter
                    } else {
                        MetricType::Gauge
                    };
                    let mut me = enc.encode_descriptor(name, help, None, kind)?;
                    match rows.as_slice() {
                        // A single series without labels: no `{}` after the name.
                        [(labels, v)] if labels.is_empty() => encode_value(*v, counter, me)?,
                        _ => {
                            for (labels, v) in rows {
                                encode_value(*v, counter, me.encode_family(labels)?)?;
                            }
                        }
                    }
                }
                Values::Histogram(rows) => {
                    let mut me = enc.encode_descriptor(name, help, None, MetricType::Histogram)?;
                    for r in rows {
                        me.encode_family(&r.labels)?
                            .encode_histogram::<NoLabelSet>(r.sum, r.count, &r.buckets, None)?;
                    }
                }
            }
        }
        Ok(())
    }
}
