//! Freeing large values off the command path, as Redis's lazyfree does.
//!
//! `UNLINK`, `DEL` under `lazyfree-lazy-user-del`, and `FLUSHALL`/`FLUSHDB` with `ASYNC` (or
//! under `lazyfree-lazy-user-flush`) unlink what they remove at once, under the shard's lock,
//! and hand it to one background thread that drops it. A value goes there only when freeing
//! it is worth a trip (its free effort, counted as Redis counts it, is over
//! [`THRESHOLD`]); a flushed database always goes. `INFO memory` shows the objects waiting
//! (`lazyfree_pending_objects`) and those freed so far (`lazyfreed_objects`).
//!
//! Not done here: `lazyfree-lazy-expire`, `-eviction` and `-server-del` are accepted but
//! expiry, eviction and overwrites free in place.

use super::value::Value;
use super::Counters;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex, OnceLock};

/// Redis's `LAZYFREE_THRESHOLD`: values whose free effort is at most this are freed in place.
pub const THRESHOLD: usize = 64;

/// Redis 7.0's list node holds about this many bytes (`list-max-listpack-size -2`).
const REDIS_LIST_NODE_BYTES: usize = 8 * 1024;

/// How much work freeing `v` is, as Redis's `lazyfreeGetFreeEffort` counts it: the
/// allocations a large encoding holds, 1 for a compact one.
pub fn effort(v: &Value) -> usize {
    match v {
        Value::Str { .. } => 1,
        // Redis counts quicklist nodes, which hold 8 KB each (ours hold less).
        Value::List(l) => l.counted().div_ceil(REDIS_LIST_NODE_BYTES).max(1),
        Value::Hash(h) if h.encoding() == "hashtable" => h.len(),
        Value::Set(s) if s.encoding() == "hashtable" => s.len(),
        Value::ZSet(z) if z.encoding() == "skiplist" => z.len(),
        Value::Stream(s) => {
            // The radix tree's nodes (counted exactly only when near the threshold: above
            // it the node count alone decides), then each group and the first one's PEL.
            let nodes = s.log.node_count();
            let mut e = if nodes > THRESHOLD || nodes * 2 <= THRESHOLD {
                nodes
            } else {
                s.log.rax_nodes()
            };
            if let Some(g) = s.groups.values().next() {
                e += s.groups.len() * (1 + g.pel.len());
            }
            e
        }
        _ => 1,
    }
}

type Garbage = Box<dyn Send>;
type Job = (Garbage, u64, Arc<Counters>);

fn sender() -> &'static Mutex<Sender<Job>> {
    static TX: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    TX.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || {
                for (garbage, objects, counters) in rx {
                    drop(garbage);
                    counters
                        .lazyfree_pending
                        .fetch_sub(objects, Ordering::Relaxed);
                    counters.lazyfreed.fetch_add(objects, Ordering::Relaxed);
                }
            })
            .expect("spawn the lazyfree thread");
        Mutex::new(tx)
    })
}

/// Free `garbage`, counted as `objects`, on the background thread.
pub fn defer(counters: &Arc<Counters>, garbage: Garbage, objects: u64) {
    counters
        .lazyfree_pending
        .fetch_add(objects, Ordering::Relaxed);
    let job = (garbage, objects, counters.clone());
    let sent = sender().lock().map(|tx| tx.send(job));
    if let Ok(Err(std::sync::mpsc::SendError((garbage, objects, counters)))) = sent {
        // The thread is gone (it never panics on a drop of ours): free here instead.
        drop(garbage);
        counters
            .lazyfree_pending
            .fetch_sub(objects, Ordering::Relaxed);
        counters.lazyfreed.fetch_add(objects, Ordering::Relaxed);
    }
}

/// Free `v` in the background if it is large enough to be worth it, else here.
pub fn free(counters: &Arc<Counters>, v: Value) {
    if effort(&v) > THRESHOLD {
        defer(counters, Box::new(v), 1);
    }
}
