//! Concurrent writers that remember every acknowledged write, for crash tests.
//!
//! Writer `t` works in database `t % 3` on keys only it touches (`t{t}:s{i}` strings,
//! `t{t}:n{i}` numbers), plus a counter `shared:{db}` that the writers of one database all
//! INCR. Each writer sends one command at a time, so when the server dies at most one command
//! per writer is in flight: it may or may not have been applied, all or nothing.

use super::{dump, now_ms, show, Depth, Dump, Item, Rng, Val};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Databases the writers use.
pub const DBS: i64 = 3;

/// A string key's state in the model.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyState {
    pub val: Vec<u8>,
    /// Expected absolute expiry (unix ms, from the client's clock when the command was sent).
    pub expire_at: Option<i64>,
}

/// One writer's keys.
pub type Model = BTreeMap<Vec<u8>, KeyState>;

#[derive(Clone, Debug)]
pub enum Op {
    Set {
        key: Vec<u8>,
        val: Vec<u8>,
        /// ("PX"|"EX", amount)
        ttl: Option<(&'static str, i64)>,
    },
    Incr(Vec<u8>),
    Append(Vec<u8>, Vec<u8>),
    Del(Vec<u8>),
    Expire(Vec<u8>, i64),
    Mset(Vec<(Vec<u8>, Vec<u8>)>),
    /// INCR of the counter the writers of one database share.
    IncrShared,
}

impl Op {
    /// Keys of the writer's own model this op changes.
    fn touched(&self) -> Vec<Vec<u8>> {
        match self {
            Op::Set { key, .. }
            | Op::Incr(key)
            | Op::Append(key, _)
            | Op::Del(key)
            | Op::Expire(key, _) => vec![key.clone()],
            Op::Mset(pairs) => pairs.iter().map(|(k, _)| k.clone()).collect(),
            Op::IncrShared => vec![],
        }
    }

    fn command(&self, shared_key: &str) -> redis::Cmd {
        let mut c;
        match self {
            Op::Set { key, val, ttl } => {
                c = redis::cmd("SET");
                c.arg(&key[..]).arg(&val[..]);
                if let Some((unit, n)) = ttl {
                    c.arg(*unit).arg(*n);
                }
            }
            Op::Incr(key) => {
                c = redis::cmd("INCR");
                c.arg(&key[..]);
            }
            Op::Append(key, s) => {
                c = redis::cmd("APPEND");
                c.arg(&key[..]).arg(&s[..]);
            }
            Op::Del(key) => {
                c = redis::cmd("DEL");
                c.arg(&key[..]);
            }
            Op::Expire(key, secs) => {
                c = redis::cmd("EXPIRE");
                c.arg(&key[..]).arg(*secs);
            }
            Op::Mset(pairs) => {
                c = redis::cmd("MSET");
                for (k, v) in pairs {
                    c.arg(&k[..]).arg(&v[..]);
                }
            }
            Op::IncrShared => {
                c = redis::cmd("INCR");
                c.arg(shared_key);
            }
        }
        c
    }

    /// Apply to the model (`sent_at` = client clock when sent); returns the reply the model
    /// predicts (None for IncrShared, whose reply depends on other writers).
    fn apply(&self, m: &mut Model, sent_at: i64) -> Option<redis::Value> {
        use redis::Value as V;
        match self {
            Op::Set { key, val, ttl } => {
                let expire_at = ttl.map(|(u, n)| sent_at + if u == "EX" { n * 1000 } else { n });
                m.insert(
                    key.clone(),
                    KeyState {
                        val: val.clone(),
                        expire_at,
                    },
                );
                Some(V::Okay)
            }
            Op::Incr(key) => {
                let e = m.entry(key.clone()).or_insert(KeyState {
                    val: b"0".to_vec(),
                    expire_at: None,
                });
                let n: i64 = std::str::from_utf8(&e.val).unwrap().parse().unwrap();
                e.val = (n + 1).to_string().into_bytes();
                Some(V::Int(n + 1))
            }
            Op::Append(key, s) => {
                let e = m.entry(key.clone()).or_insert(KeyState {
                    val: Vec::new(),
                    expire_at: None,
                });
                e.val.extend_from_slice(s);
                Some(V::Int(e.val.len() as i64))
            }
            Op::Del(key) => Some(V::Int(m.remove(key).is_some() as i64)),
            Op::Expire(key, secs) => match m.get_mut(key) {
                Some(e) => {
                    e.expire_at = Some(sent_at + secs * 1000);
                    Some(V::Int(1))
                }
                None => Some(V::Int(0)),
            },
            Op::Mset(pairs) => {
                for (k, v) in pairs {
                    m.insert(
                        k.clone(),
                        KeyState {
                            val: v.clone(),
                            expire_at: None,
                        },
                    );
                }
                Some(V::Okay)
            }
            Op::IncrShared => None,
        }
    }
}

/// Pick an operation for writer `t`. `pad` is appended to SET/MSET values (bigger
/// overwrites make a rewrite worth it).
fn pick_op(rng: &mut Rng, t: usize, seq: u64, pad: &str) -> Op {
    let skey = |rng: &mut Rng| format!("t{t}:s{}", rng.below(12)).into_bytes();
    let nkey = |rng: &mut Rng| format!("t{t}:n{}", rng.below(6)).into_bytes();
    let anykey = |rng: &mut Rng| {
        if rng.below(2) == 0 {
            format!("t{t}:s{}", rng.below(12)).into_bytes()
        } else {
            format!("t{t}:n{}", rng.below(6)).into_bytes()
        }
    };
    let far = |rng: &mut Rng| rng.range(1_000, 100_000) as i64; // seconds: never expires here
    match rng.below(100) {
        0..=19 => Op::Set {
            key: skey(rng),
            val: format!("v{seq}{pad}").into_bytes(),
            ttl: None,
        },
        20..=27 => Op::Set {
            key: skey(rng),
            val: format!("px{seq}{pad}").into_bytes(),
            ttl: Some(("PX", far(rng) * 1000)),
        },
        28..=33 => Op::Set {
            key: skey(rng),
            val: format!("ex{seq}{pad}").into_bytes(),
            ttl: Some(("EX", far(rng))),
        },
        34..=39 => Op::Set {
            key: nkey(rng),
            val: (seq as i64 * 7 - 1000).to_string().into_bytes(),
            ttl: None,
        },
        40..=57 => Op::Incr(nkey(rng)),
        58..=67 => Op::Append(skey(rng), format!("+{seq}").into_bytes()),
        68..=74 => Op::Del(anykey(rng)),
        75..=81 => Op::Expire(anykey(rng), far(rng)),
        82..=89 => {
            let n = rng.range(2, 5);
            let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            for j in 0..n {
                let k = skey(rng);
                if pairs.iter().all(|(x, _)| *x != k) {
                    pairs.push((k, format!("m{seq}.{j}{pad}").into_bytes()));
                }
            }
            Op::Mset(pairs)
        }
        _ => Op::IncrShared,
    }
}

pub struct WriterResult {
    model: Model,
    /// The command sent but not acknowledged when the server died, with its send time.
    inflight: Option<(Op, i64)>,
    shared_acked: u64,
    ops: u64,
}

pub fn writer_db(t: usize) -> i64 {
    (t % DBS as usize) as i64
}

struct WriterArgs {
    addr: String,
    t: usize,
    seed: u64,
    pad: String,
    model: Model,
    start: Arc<Barrier>,
    stop: Arc<AtomicBool>,
    killed: Arc<AtomicBool>,
    deadline: Instant,
}

fn run_writer(a: WriterArgs) -> WriterResult {
    let t = a.t;
    let mut model = a.model;
    let mut con = super::connect(&a.addr);
    let db = writer_db(t);
    let _: () = redis::cmd("SELECT").arg(db).query(&mut con).unwrap();
    let shared_key = format!("shared:{db}");
    let mut rng = Rng::new(a.seed);
    let mut shared_acked = 0;
    let mut last_shared = 0i64;
    let mut ops = 0;
    a.start.wait();
    while Instant::now() < a.deadline && !a.stop.load(Ordering::SeqCst) {
        let op = pick_op(&mut rng, t, ops, &a.pad);
        let sent_at = now_ms();
        match op.command(&shared_key).query::<redis::Value>(&mut con) {
            Ok(reply) => {
                let predicted = op.apply(&mut model, sent_at);
                match predicted {
                    Some(p) => assert_eq!(reply, p, "writer {t}: reply to {op:?}"),
                    None => {
                        let redis::Value::Int(n) = reply else {
                            panic!("INCR shared gave {reply:?}")
                        };
                        assert!(n > last_shared, "shared counter went back: {n}");
                        last_shared = n;
                        shared_acked += 1;
                    }
                }
                ops += 1;
            }
            Err(e) if e.code().is_none() => {
                // The connection died: only a kill may do that.
                assert!(
                    a.killed.load(Ordering::SeqCst),
                    "writer {t} lost its connection before the kill: {e}"
                );
                return WriterResult {
                    model,
                    inflight: Some((op, sent_at)),
                    shared_acked,
                    ops,
                };
            }
            Err(e) => panic!("writer {t}: {op:?} failed: {e}"),
        }
    }
    WriterResult {
        model,
        inflight: None,
        shared_acked,
        ops,
    }
}

/// The observed state of `keys` in `dump` (db `db`) vs a model.
fn matches(dump: &Dump, db: i64, m: &Model, keys: &[Vec<u8>], tol: i64) -> Result<(), String> {
    for k in keys {
        let got = dump.get(&(db, k.clone()));
        let want = m.get(k);
        let ok = match (got, want) {
            (None, None) => true,
            (Some(g), Some(w)) => {
                g.kind == "string"
                    && g.val == Val::Str(w.val.clone())
                    && match (g.expire_at, w.expire_at) {
                        (None, None) => true,
                        (Some(a), Some(b)) => (a - b).abs() <= tol,
                        _ => false,
                    }
            }
            _ => false,
        };
        if !ok {
            return Err(format!(
                "db {db} key {}: got {got:?}, want {want:?}",
                show(k)
            ));
        }
    }
    Ok(())
}

/// Expiries may differ from the model by this much (clock reads around each command).
pub const TTL_TOL: i64 = 3_000;

/// The writers' combined knowledge, carried across kills.
pub struct Writers {
    n: usize,
    pad: String,
    models: Vec<Model>,
    /// Per database: value of the shared counter known to be in the data.
    shared: HashMap<i64, u64>,
    pub total_ops: u64,
    pub inflight_total: u64,
}

/// Writers at work.
pub struct Running {
    handles: Vec<JoinHandle<WriterResult>>,
    stop: Arc<AtomicBool>,
    killed: Arc<AtomicBool>,
}

impl Running {
    /// Call right before killing the server: connection errors are expected from now on.
    pub fn expect_kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
    }
}

impl Writers {
    pub fn new(n: usize, pad: usize) -> Writers {
        Writers {
            n,
            pad: "_".repeat(pad),
            models: vec![Model::new(); n],
            shared: HashMap::new(),
            total_ops: 0,
            inflight_total: 0,
        }
    }

    /// Start the writers against `addr` (returns once all are connected and writing). They
    /// stop by themselves after `max` at the latest.
    pub fn start(&mut self, addr: &str, seed: u64, max: Duration) -> Running {
        let start = Arc::new(Barrier::new(self.n + 1));
        let stop = Arc::new(AtomicBool::new(false));
        let killed = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + max;
        let handles = (0..self.n)
            .map(|t| {
                let args = WriterArgs {
                    addr: addr.to_string(),
                    t,
                    seed: seed * 100 + t as u64,
                    pad: self.pad.clone(),
                    model: std::mem::take(&mut self.models[t]),
                    start: start.clone(),
                    stop: stop.clone(),
                    killed: killed.clone(),
                    deadline,
                };
                std::thread::spawn(move || run_writer(args))
            })
            .collect();
        start.wait();
        Running {
            handles,
            stop,
            killed,
        }
    }

    /// Stop the writers (if the server still runs) and collect what they did, then check
    /// the server's data against it: every acknowledged write present with its value and
    /// expiry, each unacknowledged command applied wholly or not at all, the shared counters
    /// within bounds, and no key that was never written. `context` names the moment.
    pub fn finish_and_verify(&mut self, running: Running, addr: &str, context: &str) {
        running.stop.store(true, Ordering::SeqCst);
        let results: Vec<WriterResult> = running
            .handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        let mut con = super::connect(addr);
        let data = dump(&mut con, DBS, Depth::Lengths);
        let mut explained: Vec<(i64, Vec<u8>)> = Vec::new();
        let mut shared_inflight: HashMap<i64, u64> = HashMap::new();
        for (t, r) in results.into_iter().enumerate() {
            let db = writer_db(t);
            self.total_ops += r.ops;
            *self.shared.entry(db).or_default() += r.shared_acked;
            let mut model = r.model;
            let touched = r
                .inflight
                .as_ref()
                .map(|(op, _)| op.touched())
                .unwrap_or_default();
            let settled: Vec<Vec<u8>> = model
                .keys()
                .filter(|k| !touched.contains(k))
                .cloned()
                .collect();
            if let Err(e) = matches(&data, db, &model, &settled, TTL_TOL) {
                panic!("{context}, writer {t}: acknowledged write lost or wrong: {e}");
            }
            if let Some((op, sent_at)) = r.inflight {
                self.inflight_total += 1;
                if let Op::IncrShared = op {
                    *shared_inflight.entry(db).or_default() += 1;
                }
                let mut after = model.clone();
                op.apply(&mut after, sent_at);
                let old = matches(&data, db, &model, &touched, TTL_TOL);
                let new = matches(&data, db, &after, &touched, TTL_TOL);
                match (old, new) {
                    (Ok(()), _) => {}
                    (Err(_), Ok(())) => model = after,
                    (Err(a), Err(b)) => panic!(
                        "{context}, writer {t}: unacknowledged {op:?} left neither the old nor \
                         the new state (all or nothing): old: {a}; new: {b}"
                    ),
                }
                for k in &touched {
                    explained.push((db, k.clone()));
                }
            }
            for k in model.keys() {
                explained.push((db, k.clone()));
            }
            self.models[t] = model;
        }
        for db in 0..DBS {
            let key = (db, format!("shared:{db}").into_bytes());
            let acked = *self.shared.get(&db).unwrap_or(&0);
            let got = match data.get(&key) {
                None => 0,
                Some(Item {
                    val: Val::Str(v), ..
                }) => std::str::from_utf8(v).unwrap().parse::<u64>().unwrap(),
                Some(other) => panic!("{context}: shared counter is {other:?}"),
            };
            let maybe = *shared_inflight.get(&db).unwrap_or(&0);
            assert!(
                got >= acked && got <= acked + maybe,
                "{context}: shared:{db} is {got}, acknowledged increments {acked}, \
                 unacknowledged {maybe}"
            );
            self.shared.insert(db, got);
            explained.push(key);
        }
        for k in data.keys() {
            assert!(
                explained.contains(k),
                "{context}: db {} key {} exists but was never written",
                k.0,
                show(&k.1)
            );
        }
    }
}
