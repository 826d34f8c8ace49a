//! The engine in-process: keyspace events, propagation of effects only, atomic units over
//! several shards, whole-keyspace lock sets, and the loading mode of AOF replay.

use ferrokv::config::Config;
use ferrokv::engine::events::{Event, EventKind};
use ferrokv::engine::{Engine, LockSet, Session, Sink};
use ferrokv::resp::Frame;
use ferrokv::store::Db;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A sink that keeps every record it is given.
#[derive(Default)]
struct Recorder(Mutex<Vec<(usize, Vec<Vec<u8>>)>>);

impl Sink for Recorder {
    fn append(&self, db: usize, args: &[&[u8]]) -> u64 {
        let mut v = self.0.lock();
        v.push((db, args.iter().map(|a| a.to_vec()).collect()));
        v.len() as u64
    }
    fn error(&self) -> Option<String> {
        None
    }
    fn batch_done(&self) {}
    fn sync_replies(&self) -> bool {
        false
    }
    fn wait_durable(
        &self,
        _seq: u64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(async {})
    }
}

impl Recorder {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock())
            .into_iter()
            .map(|(db, r)| {
                let words: Vec<String> = r
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                format!("{db}:{}", words.join(" "))
            })
            .collect()
    }
}

fn engine_with_recorder() -> (Arc<Engine>, Arc<Recorder>) {
    let engine = ferrokv::command::engine(Config::default());
    let rec = Arc::new(Recorder::default());
    engine.set_sink(Some(rec.clone()));
    (engine, rec)
}

fn run(s: &mut Session, cmd: &str) -> Frame {
    let args: Vec<&[u8]> = cmd.split(' ').map(|a| a.as_bytes()).collect();
    s.execute(&args)
}

/// Two keys that live in different shards.
fn keys_in_two_shards() -> (String, String) {
    let a = "a".to_string();
    let b = (0..)
        .map(|i| format!("b{i}"))
        .find(|b| Db::shard_index(b.as_bytes()) != Db::shard_index(a.as_bytes()))
        .unwrap();
    (a, b)
}

#[test]
fn failed_commands_propagate_nothing_and_succeeding_ones_their_canonical_form() {
    let (engine, rec) = engine_with_recorder();
    let mut s = Session::new(engine);
    // Each of these fails: nothing may reach the sink.
    for cmd in [
        "ZADD z inf m",
        "ZADD z INCR -inf m",
        "LPUSH z x",
        "INCR z",
        "SET s abc",
        "INCR s",
        "INCRBY n 9223372036854775807",
        "INCRBY n 1",
        "INCRBYFLOAT s 1",
        "INCRBYFLOAT n 1e5000",
        "SETRANGE s -1 x",
        "SET s v EX 0",
        "SET s v NX XX",
        "EXPIRE s abc",
        "MOVE s 99",
        "NOSUCHCOMMAND x",
        "GET",
    ] {
        run(&mut s, cmd);
    }
    let records = rec.take();
    assert_eq!(
        records,
        vec![
            "0:ZADD z inf m",
            "0:SET s abc",
            "0:INCRBY n 9223372036854775807",
        ],
        "only the commands that changed data are propagated"
    );
    // Canonical forms: relative expiries become absolute, conditional sets plain SETs.
    run(&mut s, "SET k v EX 100");
    run(&mut s, "SETNX k2 v");
    run(&mut s, "SETNX k2 w");
    let records = rec.take();
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(records[0].starts_with("0:SET k v PXAT "), "{records:?}");
    assert_eq!(records[1], "0:SET k2 v");
}

#[test]
fn every_change_expiry_and_deletion_raises_exactly_one_event() {
    let engine = ferrokv::command::engine(Config::default());
    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let tap = seen.clone();
    engine.set_tap(Some(Box::new(move |e| tap.lock().push(e.clone()))));
    let mut s = Session::new(engine.clone());
    let kinds = |seen: &Mutex<Vec<Event>>| -> Vec<(EventKind, String)> {
        std::mem::take(&mut *seen.lock())
            .into_iter()
            .map(|e| (e.kind, String::from_utf8_lossy(&e.key).into_owned()))
            .collect()
    };
    run(&mut s, "SET a 1");
    run(&mut s, "MSET b 1 c 2");
    run(&mut s, "INCR a");
    run(&mut s, "INCR nosuch");
    use EventKind::*;
    assert_eq!(
        kinds(&seen),
        vec![
            (Modified, "a".into()),
            (Modified, "b".into()),
            (Modified, "c".into()),
            (Modified, "a".into()),
            (Modified, "nosuch".into()),
        ]
    );
    // Failures and no-ops raise nothing.
    run(&mut s, "LPUSH a x");
    run(&mut s, "SETNX a 2");
    run(&mut s, "DEL zzz");
    run(&mut s, "GET a");
    assert_eq!(kinds(&seen), vec![]);
    run(&mut s, "DEL a b zzz");
    run(&mut s, "RENAME c d");
    assert_eq!(
        kinds(&seen),
        vec![
            (Deleted, "a".into()),
            (Deleted, "b".into()),
            (Deleted, "c".into()),
            (Modified, "d".into()),
        ]
    );
    // A key found expired by a read raises its expiry event once.
    run(&mut s, "SET e v PX 1");
    kinds(&seen);
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(run(&mut s, "GET e"), Frame::Null);
    assert_eq!(run(&mut s, "GET e"), Frame::Null);
    assert_eq!(kinds(&seen), vec![(Expired, "e".into())]);
}

#[test]
fn expired_and_evicted_keys_are_propagated_as_del_before_later_records() {
    let (engine, rec) = engine_with_recorder();
    let mut s = Session::new(engine.clone());
    run(&mut s, "SET e v PX 1");
    rec.take();
    std::thread::sleep(std::time::Duration::from_millis(5));
    // The SET finds e expired: its DEL must come first, or a replay would delete the new value.
    run(&mut s, "SET e new");
    assert_eq!(rec.take(), vec!["0:DEL e", "0:SET e new"]);
    // Eviction under maxmemory.
    run(&mut s, "CONFIG SET maxmemory-policy allkeys-random");
    for i in 0..200 {
        run(&mut s, &format!("SET key{i} {}", "x".repeat(1000)));
    }
    rec.take();
    run(&mut s, "CONFIG SET maxmemory 1200000");
    let dels = rec.take();
    assert!(!dels.is_empty(), "eviction happened");
    assert!(
        dels.iter().all(|r| r.starts_with("0:DEL ")),
        "evictions are DELs: {dels:?}"
    );
    let left = match run(&mut s, "DBSIZE") {
        Frame::Integer(n) => n as usize,
        f => panic!("{f:?}"),
    };
    assert_eq!(left + dels.len(), 201, "one DEL per evicted key");
}

#[test]
fn an_atomic_unit_over_two_shards_is_never_seen_half_done() {
    let engine = ferrokv::command::engine(Config::default());
    let (a, b) = keys_in_two_shards();
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (engine, a, b, stop) = (engine.clone(), a.clone(), b.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut s = Session::new(engine);
            let mut checked = 0;
            while !stop.load(Ordering::Relaxed) {
                if let Frame::Array(v) = s.execute(&[b"MGET", a.as_bytes(), b.as_bytes()]) {
                    assert_eq!(v[0], v[1], "a transaction was seen half done");
                    checked += 1;
                }
            }
            checked
        })
    };
    let mut w = Session::new(engine);
    for i in 0..20_000 {
        let v = i.to_string();
        let replies = w.execute_atomic(&[
            vec![b"SET", a.as_bytes(), v.as_bytes()],
            vec![b"SET", b.as_bytes(), v.as_bytes()],
        ]);
        assert_eq!(replies.len(), 2);
    }
    stop.store(true, Ordering::Relaxed);
    let checked = reader.join().unwrap();
    assert!(checked > 0);
}

#[test]
fn the_same_pair_of_sets_without_an_atomic_unit_can_be_seen_half_done() {
    // The control for the test above: separate commands do interleave with the reader, so
    // the check there is not vacuous.
    let engine = ferrokv::command::engine(Config::default());
    let (a, b) = keys_in_two_shards();
    let stop = Arc::new(AtomicBool::new(false));
    let torn = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let reader = {
        let (engine, a, b, stop, torn) = (
            engine.clone(),
            a.clone(),
            b.clone(),
            stop.clone(),
            torn.clone(),
        );
        std::thread::spawn(move || {
            let mut s = Session::new(engine);
            while !stop.load(Ordering::Relaxed) {
                if let Frame::Array(v) = s.execute(&[b"MGET", a.as_bytes(), b.as_bytes()]) {
                    if v[0] != v[1] {
                        torn.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })
    };
    let mut w = Session::new(engine);
    for i in 0..2_000_000u64 {
        let v = i.to_string();
        w.execute(&[b"SET", a.as_bytes(), v.as_bytes()]);
        w.execute(&[b"SET", b.as_bytes(), v.as_bytes()]);
        if torn.load(Ordering::Relaxed) > 0 {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    assert!(
        torn.load(Ordering::Relaxed) > 0,
        "separate SETs interleave with MGET"
    );
}

#[test]
fn a_whole_keyspace_lock_set_holds_off_every_other_client_until_released() {
    let engine = ferrokv::command::engine(Config::default());
    let done = Arc::new(AtomicBool::new(false));
    let set = LockSet::all(&engine);
    let other = {
        let (engine, done) = (engine.clone(), done.clone());
        std::thread::spawn(move || {
            let mut s = Session::new(engine);
            s.execute(&[b"SET", b"k", b"v"]);
            done.store(true, Ordering::SeqCst);
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(
        !done.load(Ordering::SeqCst),
        "a client ran while the keyspace was held"
    );
    drop(set);
    other.join().unwrap();
    assert!(done.load(Ordering::SeqCst));
}

mod loading {
    use super::*;

    fn resp(args: &[&str]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        out
    }

    fn load(file: &[u8], config: Config) -> (Arc<Engine>, ferrokv::aof::LoadReport, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("appendonly.aof");
        std::fs::write(&path, file).unwrap();
        let engine = ferrokv::command::engine(config);
        let report = ferrokv::aof::load(&engine, &path).unwrap();
        let after = std::fs::read(&path).unwrap();
        (engine, report, after)
    }

    #[test]
    fn a_multi_block_applies_whole_and_a_torn_block_at_the_tail_is_dropped_whole() {
        let mut f = Vec::new();
        f.extend(resp(&["SET", "before", "1"]));
        f.extend(resp(&["MULTI"]));
        f.extend(resp(&["SET", "t1", "a"]));
        f.extend(resp(&["INCR", "counter"]));
        f.extend(resp(&["EXEC"]));
        let whole = f.len();
        f.extend(resp(&["MULTI"]));
        f.extend(resp(&["SET", "t2", "b"]));
        f.extend(resp(&["SET", "t3", "c"]));
        // The process died before EXEC.
        let (engine, report, after) = load(&f, Config::default());
        let mut s = Session::new(engine);
        assert_eq!(run(&mut s, "GET before"), Frame::Bulk(b"1".to_vec()));
        assert_eq!(run(&mut s, "GET t1"), Frame::Bulk(b"a".to_vec()));
        assert_eq!(run(&mut s, "GET counter"), Frame::Bulk(b"1".to_vec()));
        assert_eq!(
            run(&mut s, "GET t2"),
            Frame::Null,
            "none of a torn block applies"
        );
        assert_eq!(run(&mut s, "GET t3"), Frame::Null);
        assert_eq!(
            report.truncated,
            Some((whole as u64, (f.len() - whole) as u64))
        );
        assert_eq!(
            after,
            f[..whole],
            "the file is cut where the torn block began"
        );
    }

    #[test]
    fn a_failing_command_inside_a_block_refuses_the_load() {
        let mut f = Vec::new();
        f.extend(resp(&["MULTI"]));
        f.extend(resp(&["SET", "x", "abc"]));
        f.extend(resp(&["INCR", "x"]));
        f.extend(resp(&["EXEC"]));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("appendonly.aof");
        std::fs::write(&path, &f).unwrap();
        let engine = ferrokv::command::engine(Config::default());
        let err = ferrokv::aof::load(&engine, &path).unwrap_err().to_string();
        assert!(err.contains("offset 0"), "{err}");
        assert!(err.contains("not an integer"), "{err}");
    }

    #[test]
    fn replay_never_evicts_never_expires_and_counts_nothing() {
        let mut f = Vec::new();
        for i in 0..300 {
            f.extend(resp(&["SET", &format!("k{i}"), &"x".repeat(1000)]));
        }
        // Expired long ago: a replay applies the record as logged, time stands still.
        f.extend(resp(&["SET", "old", "v", "PXAT", "1000"]));
        f.extend(resp(&["GET", "k1"]));
        let mut config = Config::default();
        config
            .set_runtime(&[
                ("maxmemory".into(), "1100000".into()),
                ("maxmemory-policy".into(), "allkeys-lru".into()),
            ])
            .unwrap();
        let (engine, report, _) = load(&f, config);
        assert_eq!(report.commands, 302);
        assert_eq!(
            engine.store.dbsize(0),
            301,
            "nothing evicted or expired while loading"
        );
        let ks = engine.store.stats();
        assert_eq!(
            (ks.keyspace_hits, ks.keyspace_misses, ks.expired_keys),
            (0, 0, 0)
        );
        assert_eq!(engine.stats.total_calls(), 0, "no command statistics");
        assert_eq!(engine.slowlog.entries.lock().len(), 0);
    }
}

#[test]
fn commands_a_script_runs_count_in_commandstats() {
    let (engine, _rec) = engine_with_recorder();
    let mut s = Session::new(engine.clone());
    let script: &[u8] =
        b"redis.call('SET','k','1') redis.call('INCR','k') return redis.pcall('HGET','k','f')";
    s.execute(&[b"EVAL", script, b"0"]);
    let info = match run(&mut s, "INFO commandstats") {
        Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
        other => panic!("{other:?}"),
    };
    let line = |name: &str| {
        info.lines()
            .find(|l| l.starts_with(&format!("cmdstat_{name}:")))
            .unwrap_or_else(|| panic!("no {name} in {info}"))
            .to_string()
    };
    assert!(line("set").starts_with("cmdstat_set:calls=1,"), "{info}");
    assert!(line("incr").starts_with("cmdstat_incr:calls=1,"), "{info}");
    assert!(line("hget").ends_with("failed_calls=1"), "{info}");
    assert!(line("eval").starts_with("cmdstat_eval:calls=1,"), "{info}");
}
