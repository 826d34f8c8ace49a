//! Durability of the append-only file across crashes: every acknowledged write survives a
//! SIGKILL, a torn last record is cut off cleanly, corruption in the middle stops the start,
//! and `everysec` loses at most about a second.

mod aof_common;
mod support;

use aof_common::{
    dump, now_ms, record_boundaries, resp_str, run_expecting_exit, start_ferrokv, Depth, Dump,
    Item, Rng, Val,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};
use support::server::{Server, Target};

const ALWAYS: &[&str] = &["--appendonly", "yes", "--appendfsync", "always"];

// ---------------------------------------------------------------------------------------
// 1. Crash replay with concurrent writers.

/// A string key's state in the model.
#[derive(Clone, Debug, PartialEq)]
struct KeyState {
    val: Vec<u8>,
    /// Expected absolute expiry (unix ms, from the client's clock when the command was sent).
    expire_at: Option<i64>,
}

/// One writer's keys (all in the writer's database, no other client touches them).
type Model = BTreeMap<Vec<u8>, KeyState>;

#[derive(Clone, Debug)]
enum Op {
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
            Op::Set { key, .. } | Op::Incr(key) | Op::Append(key, _) | Op::Del(key) => {
                vec![key.clone()]
            }
            Op::Expire(key, _) => vec![key.clone()],
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

    /// Apply to the model (`sent_at` = client clock when sent); returns the reply the
    /// model predicts (None for IncrShared, whose reply depends on other writers).
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

/// Pick an operation for writer `t`: string keys `t{t}:s{i}` (SET/APPEND/MSET), number keys
/// `t{t}:n{i}` (SET of an integer, INCR), both DEL'd and EXPIRE'd.
fn pick_op(rng: &mut Rng, t: usize, seq: u64) -> Op {
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
            val: format!("v{seq}").into_bytes(),
            ttl: None,
        },
        20..=27 => Op::Set {
            key: skey(rng),
            val: format!("px{seq}").into_bytes(),
            ttl: Some(("PX", far(rng) * 1000)),
        },
        28..=33 => Op::Set {
            key: skey(rng),
            val: format!("ex{seq}").into_bytes(),
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
                    pairs.push((k, format!("m{seq}.{j}").into_bytes()));
                }
            }
            Op::Mset(pairs)
        }
        _ => Op::IncrShared,
    }
}

struct WriterResult {
    model: Model,
    /// The command sent but not acknowledged when the server died, with its send time.
    inflight: Option<(Op, i64)>,
    shared_acked: u64,
    ops: u64,
}

fn writer_db(t: usize) -> i64 {
    (t % 3) as i64
}

#[allow(clippy::too_many_arguments)]
fn run_writer(
    addr: String,
    t: usize,
    seed: u64,
    mut model: Model,
    start: Arc<Barrier>,
    killed: Arc<AtomicBool>,
    deadline: Instant,
) -> WriterResult {
    let mut con = aof_common::connect(&addr);
    let db = writer_db(t);
    let _: () = redis::cmd("SELECT").arg(db).query(&mut con).unwrap();
    let shared_key = format!("shared:{db}");
    let mut rng = Rng::new(seed);
    let mut shared_acked = 0;
    let mut last_shared = 0i64;
    let mut ops = 0;
    start.wait();
    while Instant::now() < deadline {
        let op = pick_op(&mut rng, t, ops);
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
                // The connection died: only the kill may do that.
                assert!(
                    killed.load(Ordering::SeqCst),
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
                aof_common::show(k)
            ));
        }
    }
    Ok(())
}

#[test]
fn every_acknowledged_write_survives_sigkill_at_random_moments_with_appendfsync_always() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_with(Target::Ferrokv, ALWAYS, Some(dir.path().to_path_buf()));
    const WRITERS: usize = 8;
    const TTL_TOL: i64 = 3_000;
    let mut models: Vec<Model> = vec![Model::new(); WRITERS];
    // Per database: increments of the shared counter known to be in the data.
    let mut shared: HashMap<i64, u64> = HashMap::new();
    let mut total_ops = 0;
    let mut inflight_total = 0;
    for cycle in 0..8u64 {
        let mut rng = Rng::new(1000 + cycle);
        let start = Arc::new(Barrier::new(WRITERS + 1));
        let killed = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + Duration::from_secs(5);
        let handles: Vec<_> = (0..WRITERS)
            .map(|t| {
                let (addr, model, start, killed) = (
                    server.addr(),
                    std::mem::take(&mut models[t]),
                    start.clone(),
                    killed.clone(),
                );
                let seed = cycle * 100 + t as u64;
                std::thread::spawn(move || {
                    run_writer(addr, t, seed, model, start, killed, deadline)
                })
            })
            .collect();
        start.wait();
        std::thread::sleep(Duration::from_millis(rng.range(150, 900)));
        killed.store(true, Ordering::SeqCst);
        let _ = server.child.kill();
        let _ = server.child.wait();
        let results: Vec<WriterResult> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        server.restart();

        let mut con = aof_common::connect(&server.addr());
        let data = dump(&mut con, 4, Depth::Lengths);
        let mut explained: Vec<(i64, Vec<u8>)> = Vec::new();
        let mut shared_inflight: HashMap<i64, u64> = HashMap::new();
        for (t, r) in results.into_iter().enumerate() {
            let db = writer_db(t);
            total_ops += r.ops;
            *shared.entry(db).or_default() += r.shared_acked;
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
                panic!("cycle {cycle}, writer {t}: acknowledged write lost or wrong: {e}");
            }
            if let Some((op, sent_at)) = r.inflight {
                inflight_total += 1;
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
                        "cycle {cycle}, writer {t}: unacknowledged {op:?} left neither the old \
                         nor the new state (all or nothing): old: {a}; new: {b}"
                    ),
                }
                for k in &touched {
                    explained.push((db, k.clone()));
                }
            }
            for k in model.keys() {
                explained.push((db, k.clone()));
            }
            models[t] = model;
        }
        // The shared counters: every acknowledged INCR is in, unacknowledged ones may be.
        for db in 0..3 {
            let key = (db, format!("shared:{db}").into_bytes());
            let acked = *shared.get(&db).unwrap_or(&0);
            let got = match data.get(&key) {
                None => 0,
                Some(Item {
                    val: Val::Str(v), ..
                }) => std::str::from_utf8(v).unwrap().parse::<u64>().unwrap(),
                Some(other) => panic!("shared counter is {other:?}"),
            };
            let maybe = *shared_inflight.get(&db).unwrap_or(&0);
            assert!(
                got >= acked && got <= acked + maybe,
                "cycle {cycle}: shared:{db} is {got}, acknowledged increments {acked}, \
                 unacknowledged {maybe}"
            );
            shared.insert(db, got);
            explained.push(key);
        }
        for k in data.keys() {
            assert!(
                explained.contains(k),
                "cycle {cycle}: db {} key {} exists but was never written",
                k.0,
                aof_common::show(&k.1)
            );
        }
    }
    assert!(
        total_ops > 800,
        "too few writes to mean anything: {total_ops}"
    );
    eprintln!("crash replay: {total_ops} acknowledged writes over 8 kills, {inflight_total} in flight at a kill");
}

// ---------------------------------------------------------------------------------------
// 2. A torn last record, at every byte offset.

/// The hand-built AOF of the torn-tail and corruption tests: records across databases 0
/// and 2, with a binary value holding CR, LF and NUL.
fn sample_records() -> Vec<Vec<u8>> {
    let bin: &[u8] = b"x\r\n\0y";
    vec![
        resp_str(&["SELECT", "0"]),
        resp_str(&["SET", "a", "1"]),
        resp_str(&["SET", "b", "hello"]),
        resp_str(&["INCR", "a"]),
        resp_str(&["APPEND", "b", "!"]),
        resp_str(&["SELECT", "2"]),
        resp_str(&["SET", "c", "x"]),
        resp_str(&["MSET", "d", "1", "e", "22"]),
        resp_str(&["DEL", "d"]),
        resp_str(&["RPUSH", "l", "x", "y"]),
        resp_str(&["SELECT", "0"]),
        aof_common::resp(&[b"SET", b"f", bin]),
        resp_str(&["SADD", "s", "m", "n"]),
        resp_str(&["HSET", "h", "f", "v"]),
    ]
}

/// What the first `n` sample records leave (a tiny interpreter for the commands used).
fn expected_after(records: &[Vec<u8>], n: usize) -> Dump {
    let mut db = 0i64;
    let mut out = Dump::new();
    let s = |v: &[u8]| Item {
        kind: "string".into(),
        val: Val::Str(v.to_vec()),
        expire_at: None,
    };
    let coll = |kind: &str, len: i64| Item {
        kind: kind.into(),
        val: Val::Len(len),
        expire_at: None,
    };
    for rec in &records[..n] {
        let args = parse_record(rec);
        let a: Vec<&[u8]> = args.iter().map(|x| &x[..]).collect();
        let key = |i: usize| (db, a[i].to_vec());
        match a[0] {
            b"SELECT" => db = std::str::from_utf8(a[1]).unwrap().parse().unwrap(),
            b"SET" => {
                out.insert(key(1), s(a[2]));
            }
            b"INCR" => {
                let Some(Item {
                    val: Val::Str(v), ..
                }) = out.get(&key(1))
                else {
                    unreachable!()
                };
                let n: i64 = std::str::from_utf8(v).unwrap().parse().unwrap();
                out.insert(key(1), s((n + 1).to_string().as_bytes()));
            }
            b"APPEND" => {
                let Some(Item {
                    val: Val::Str(v), ..
                }) = out.get(&key(1))
                else {
                    unreachable!()
                };
                let mut v = v.clone();
                v.extend_from_slice(a[2]);
                out.insert(key(1), s(&v));
            }
            b"MSET" => {
                for i in (1..a.len()).step_by(2) {
                    out.insert(key(i), s(a[i + 1]));
                }
            }
            b"DEL" => {
                out.remove(&key(1));
            }
            b"RPUSH" => {
                out.insert(key(1), coll("list", a.len() as i64 - 2));
            }
            b"SADD" => {
                out.insert(key(1), coll("set", a.len() as i64 - 2));
            }
            b"HSET" => {
                out.insert(key(1), coll("hash", (a.len() as i64 - 2) / 2));
            }
            other => panic!("interpreter lacks {}", aof_common::show(other)),
        }
    }
    out
}

fn parse_record(rec: &[u8]) -> Vec<Vec<u8>> {
    fn line(rec: &[u8], pos: &mut usize) -> usize {
        let rel = rec[*pos..].windows(2).position(|w| w == b"\r\n").unwrap();
        let n = std::str::from_utf8(&rec[*pos + 1..*pos + rel])
            .unwrap()
            .parse()
            .unwrap();
        *pos += rel + 2;
        n
    }
    let mut pos = 0;
    let argc = line(rec, &mut pos);
    let mut out = Vec::new();
    for _ in 0..argc {
        let len = line(rec, &mut pos);
        out.push(rec[pos..pos + len].to_vec());
        pos += len + 2;
    }
    out
}

/// ok_up_to from redis-check-aof's report.
fn check_aof_ok_up_to(text: &str) -> Option<usize> {
    let i = text.find("ok_up_to=")? + "ok_up_to=".len();
    text[i..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[test]
fn a_file_cut_at_any_byte_loads_the_whole_records_before_the_cut_and_is_truncated_there() {
    let records = sample_records();
    let file: Vec<u8> = records.concat();
    let bounds = record_boundaries(&file);
    assert_eq!(bounds.len(), records.len() + 1);
    assert!(
        file.len() < 420,
        "keep the sample small: {} bytes",
        file.len()
    );
    let check_aof = aof_common::have("redis-check-aof");
    if !check_aof {
        eprintln!("redis-check-aof not installed: its cross-check is skipped");
    }
    let dir = tempfile::tempdir().unwrap();
    let aof = dir.path().join("appendonly.aof");
    let log = dir.path().join("server.log");
    let mut failures = Vec::new();
    for cut in 0..=file.len() {
        // Records wholly before the cut.
        let whole = bounds.iter().rposition(|&b| b <= cut).unwrap();
        let keep = bounds[whole];
        std::fs::write(&aof, &file[..cut]).unwrap();
        if check_aof && cut > 0 {
            // Redis's own checker finds the same last whole record.
            let (ok, text) = aof_common::redis_check_aof(&aof).unwrap();
            let up_to = check_aof_ok_up_to(&text);
            if up_to != Some(keep) || ok != (keep == cut) {
                failures.push(format!(
                    "cut {cut}: redis-check-aof says ok_up_to {up_to:?} (valid: {ok}), expected {keep}"
                ));
            }
        }
        let mut p = start_ferrokv(dir.path(), &["--appendonly", "yes"], &[], &log);
        let mut con = aof_common::connect(&p.addr());
        let got = dump(&mut con, 3, Depth::Lengths);
        drop(con);
        p.kill();
        let want = expected_after(&records, whole);
        let diff = aof_common::diff_dumps(&want, &got, 0);
        if !diff.is_empty() {
            failures.push(format!(
                "cut {cut} ({whole} whole records): {}",
                diff.join("; ")
            ));
        }
        let on_disk = std::fs::read(&aof).unwrap();
        if on_disk != file[..keep] {
            failures.push(format!(
                "cut {cut}: file is {} bytes after the start, expected truncation to {keep}",
                on_disk.len()
            ));
        }
        let text = p.log_text();
        let warned = text.contains(&format!("Truncating the AOF at offset {keep}"))
            && text.contains(&format!("dropping the last {} bytes", cut - keep));
        if (cut != keep) != warned {
            failures.push(format!(
                "cut {cut}: truncation warning {} expected (log: {text:?})",
                if cut != keep { "" } else { "not" }
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cuts wrong:\n{}",
        failures.len(),
        file.len() + 1,
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// 3. Corruption in the middle.

#[test]
fn garbage_or_a_failing_record_in_the_middle_stops_the_start_with_exit_code_1_and_the_offset() {
    let records = sample_records();
    let file: Vec<u8> = records.concat();
    let bounds = record_boundaries(&file);
    let insert = |at: usize, bytes: &[u8]| -> Vec<u8> {
        let mut f = file[..at].to_vec();
        f.extend_from_slice(bytes);
        f.extend_from_slice(&file[at..]);
        f
    };
    let mut flipped = file.clone();
    // Record 8 (MSET …): its first bulk header `$4` becomes `#4`.
    let rec8 = bounds[7];
    let dollar = rec8 + file[rec8..].iter().position(|&b| b == b'$').unwrap();
    flipped[dollar] = b'#';
    let format_err = "Bad file format reading the append only file";
    let cmd_err = |off: usize| format!("The command at offset {off} of the append only file");
    // (name, file contents, expected message parts)
    let cases: Vec<(&str, Vec<u8>, Vec<String>)> = vec![
        (
            "text between records",
            insert(bounds[5], b"garbage\r\n"),
            vec![format_err.into(), format!("at offset {}", bounds[5])],
        ),
        (
            "NUL bytes between records",
            insert(bounds[7], &[0u8; 16]),
            vec![format_err.into(), format!("at offset {}", bounds[7])],
        ),
        (
            "a non-bulk element in a record",
            insert(bounds[3], b"*2\r\n$3\r\nGET\r\n:1\r\n"),
            vec![format_err.into(), format!("at offset {}", bounds[3])],
        ),
        (
            "a bad multibulk length",
            insert(bounds[9], b"*x\r\n"),
            vec![format_err.into(), format!("at offset {}", bounds[9])],
        ),
        (
            "a damaged byte inside a record",
            flipped,
            vec![format_err.into(), format!("at offset {rec8}")],
        ),
        (
            "an unknown command",
            insert(bounds[5], &resp_str(&["NOSUCHCOMMAND", "x"])),
            vec![cmd_err(bounds[5]), "failed".into()],
        ),
        (
            "a command with the wrong arity",
            insert(bounds[2], &resp_str(&["SET", "a"])),
            vec![cmd_err(bounds[2]), "failed".into()],
        ),
        (
            "a command that fails on the data (INCR of a non-number)",
            insert(bounds[5], &resp_str(&["INCR", "b"])),
            vec![cmd_err(bounds[5]), "failed".into(), "not an integer".into()],
        ),
    ];
    let mut failures = Vec::new();
    for (name, contents, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        let aof = dir.path().join("appendonly.aof");
        std::fs::write(&aof, &contents).unwrap();
        let (code, out) = run_expecting_exit(
            dir.path(),
            &["--appendonly", "yes"],
            Duration::from_secs(10),
        );
        if code != Some(1) {
            failures.push(format!("{name}: exit code {code:?}, output: {out}"));
            continue;
        }
        for w in &want {
            if !out.contains(w.as_str()) {
                failures.push(format!("{name}: output lacks {w:?}: {out}"));
            }
        }
        if std::fs::read(&aof).unwrap() != contents {
            failures.push(format!("{name}: the refused file was modified"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------
// 4. everysec.

#[test]
fn with_appendfsync_everysec_a_sigkill_loses_at_most_the_last_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_with(
        Target::Ferrokv,
        &["--appendonly", "yes", "--appendfsync", "everysec"],
        Some(dir.path().to_path_buf()),
    );
    let acks: Arc<Mutex<Vec<(Instant, i64)>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (addr, acks, stop) = (server.addr(), acks.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut con = aof_common::connect(&addr);
            let mut n = 0i64;
            // Bounded: at most 10 s even if the kill never comes.
            let end = Instant::now() + Duration::from_secs(10);
            while Instant::now() < end && !stop.load(Ordering::SeqCst) {
                n += 1;
                let r: redis::RedisResult<(i64, ())> = redis::pipe()
                    .cmd("INCR")
                    .arg("counter")
                    .cmd("SET")
                    .arg(format!("k:{n}"))
                    .arg(n)
                    .query(&mut con);
                match r {
                    Ok((c, ())) => {
                        assert_eq!(c, n);
                        acks.lock().unwrap().push((Instant::now(), n));
                    }
                    Err(e) if e.code().is_none() => return n,
                    Err(e) => panic!("{e}"),
                }
            }
            n
        })
    };
    std::thread::sleep(Duration::from_millis(3000));
    let kill_at = Instant::now();
    stop.store(true, Ordering::SeqCst);
    let _ = server.child.kill();
    let _ = server.child.wait();
    let last_sent = writer.join().unwrap();
    server.restart();
    let acks = acks.lock().unwrap();
    let safe = acks
        .iter()
        .filter(|(t, _)| kill_at.duration_since(*t) > Duration::from_secs(2))
        .map(|&(_, n)| n)
        .max()
        .unwrap_or(0);
    let last_acked = acks.last().map_or(0, |&(_, n)| n);
    assert!(safe > 100, "too few writes before the safe point: {safe}");
    let mut con = aof_common::connect(&server.addr());
    let c: i64 = redis::cmd("GET").arg("counter").query(&mut con).unwrap();
    assert!(
        c >= safe && c <= last_sent,
        "counter {c}: writes acknowledged 2 s before the kill reached {safe}, last sent {last_sent}"
    );
    // The file is a prefix of the history: every k:n up to the counter, nothing after.
    let keys: Vec<String> = (1..=c + 2).map(|n| format!("k:{n}")).collect();
    for chunk in keys.chunks(1000) {
        let vals: Vec<Option<i64>> = redis::cmd("MGET").arg(chunk).query(&mut con).unwrap();
        for (k, v) in chunk.iter().zip(vals) {
            let n: i64 = k[2..].parse().unwrap();
            if n < c {
                assert_eq!(v, Some(n), "{k} lost although counter is {c}");
            } else if n > c {
                assert_eq!(v, None, "{k} present although counter is {c}");
            }
        }
    }
    let size: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert!(size == c || size == c + 1, "DBSIZE {size} with counter {c}");
    eprintln!("everysec: {last_acked} acknowledged, {c} after the restart, {safe} required");
}
