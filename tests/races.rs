//! Concurrency races against ferrokv with `--io-threads 4`: many connections (one raw client
//! per thread) race on the same few keys, while another connection keeps setting keys with
//! 1–5 ms TTLs so that expiry happens all the time. Each race checks an invariant at the end
//! (and some while it runs), and every race ends by checking that all the TTL'd keys are gone
//! and the permanent ones intact.
//!
//! Loads are bounded by a count and by time (`MAX_TIME` per race).

mod support;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use support::client::{encode, RawClient, Reply};
use support::server::{Server, Target};

const THREADS: usize = 16;
/// Each race stops at its count or after this long, whichever comes first.
const MAX_TIME: Duration = Duration::from_secs(4);
/// Permanent keys set before each race and checked after it.
const PERMANENT: usize = 50;

fn start() -> Server {
    Server::start_with(Target::Ferrokv, &["--io-threads", "4"], None)
}

fn call(c: &mut RawClient, args: &[&[u8]]) -> Reply {
    let v: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
    c.send(&v);
    c.read()
        .unwrap_or_else(|e| panic!("{:?}: {e:?}", String::from_utf8_lossy(args[0])))
}

/// Send all of `cmds` at once, then read their replies.
fn pipeline(c: &mut RawClient, cmds: &[Vec<Vec<u8>>]) -> Vec<Reply> {
    let mut bytes = Vec::new();
    for cmd in cmds {
        bytes.extend_from_slice(&encode(cmd));
    }
    c.send_raw(&bytes);
    cmds.iter()
        .map(|_| c.read().expect("pipelined reply"))
        .collect()
}

fn int(r: &Reply, what: &str) -> i64 {
    match r {
        Reply::Int(n) => *n,
        other => panic!("{what}: expected an integer, got {other:?}"),
    }
}

fn bulk(r: Reply, what: &str) -> Vec<u8> {
    match r {
        Reply::Bulk(b) => b,
        other => panic!("{what}: expected a bulk string, got {other:?}"),
    }
}

/// Run `f(thread index, own connection, deadline)` on `n` threads started together.
fn race<R: Send + 'static>(
    addr: &str,
    n: usize,
    f: impl Fn(usize, &mut RawClient, Instant) -> R + Send + Sync + 'static,
) -> Vec<R> {
    let f = Arc::new(f);
    let go = Arc::new(Barrier::new(n));
    let handles: Vec<JoinHandle<R>> = (0..n)
        .map(|t| {
            let (f, go, addr) = (f.clone(), go.clone(), addr.to_string());
            std::thread::spawn(move || {
                let mut c = RawClient::connect(&addr);
                go.wait();
                f(t, &mut c, Instant::now() + MAX_TIME)
            })
        })
        .collect();
    // Join them all before passing a panic on, so the others are not cut off mid-command
    // when the failed test stops the server.
    let joined: Vec<std::thread::Result<R>> = handles.into_iter().map(|h| h.join()).collect();
    joined
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| std::panic::resume_unwind(e)))
        .collect()
}

/// How many SET PX the churn sent, and the key names it used.
type ChurnDone = (u64, HashSet<Vec<u8>>);

/// The connection that keeps writing keys with 1–5 ms TTLs (`ttl:*`) and reading them back.
struct Churn {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Result<ChurnDone, String>>,
}

fn churn(addr: &str) -> Churn {
    let stop = Arc::new(AtomicBool::new(false));
    let addr = addr.to_string();
    let s = stop.clone();
    let handle = std::thread::spawn(move || {
        let mut c = RawClient::connect(&addr);
        let mut keys = HashSet::new();
        let mut sets = 0u64;
        let mut i = 0u64;
        while !s.load(Ordering::SeqCst) {
            let mut cmds = Vec::new();
            for _ in 0..16 {
                i += 1;
                let k = format!("ttl:{}", i % 500).into_bytes();
                let ms = (1 + i % 5).to_string().into_bytes();
                cmds.push(vec![b"SET".to_vec(), k.clone(), i.to_string().into_bytes()]);
                cmds.last_mut()
                    .unwrap()
                    .extend([b"PX".to_vec(), ms.clone()]);
                // Reads of keys that may have just expired (lazy expiry) and TTL refreshes.
                let old = format!("ttl:{}", (i * 7) % 500).into_bytes();
                cmds.push(vec![b"GET".to_vec(), old.clone()]);
                cmds.push(vec![b"PEXPIRE".to_vec(), old, ms, b"XX".to_vec()]);
                keys.insert(k);
            }
            let mut bytes = Vec::new();
            for cmd in &cmds {
                bytes.extend_from_slice(&encode(cmd));
            }
            c.send_raw(&bytes);
            for cmd in &cmds {
                match c.read() {
                    Ok(Reply::Error(e)) => {
                        return Err(format!(
                            "churn: {:?} failed: {e}",
                            String::from_utf8_lossy(&cmd[0])
                        ))
                    }
                    Ok(_) => {}
                    // The server is gone (a failed race ends its test): stop quietly.
                    Err(e) => return Err(format!("churn: connection lost: {e:?}")),
                }
            }
            sets += 16;
        }
        Ok((sets, keys))
    });
    Churn { stop, handle }
}

/// Set the permanent keys every race checks at the end.
fn set_permanent(addr: &str) {
    let mut c = RawClient::connect(addr);
    let cmds: Vec<Vec<Vec<u8>>> = (0..PERMANENT)
        .map(|i| {
            vec![
                b"SET".to_vec(),
                format!("perm:{i}").into_bytes(),
                format!("p{i}").into_bytes(),
            ]
        })
        .collect();
    for r in pipeline(&mut c, &cmds) {
        assert_eq!(r, Reply::Status("OK".into()));
    }
}

/// Stop the churn and check, after a short wait, that every TTL'd key is gone and only the
/// permanent keys are left: the `PERMANENT` ones, intact, plus `race_keys` more.
fn finish(server: &Server, churn: Churn, race_keys: i64, what: &str) {
    churn.stop.store(true, Ordering::SeqCst);
    let (sets, keys) = churn
        .handle
        .join()
        .expect("churn thread")
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    // All TTLs were at most 5 ms.
    std::thread::sleep(Duration::from_millis(20));
    let mut c = RawClient::connect(&server.addr());
    let want = PERMANENT as i64 + race_keys;
    // Active expiry alone (informational): how far DBSIZE gets by itself in 300 ms.
    let deadline = Instant::now() + Duration::from_millis(300);
    let mut dbsize = int(&call(&mut c, &[b"DBSIZE"]), "DBSIZE");
    while dbsize > want && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        dbsize = int(&call(&mut c, &[b"DBSIZE"]), "DBSIZE");
    }
    let keys: Vec<Vec<u8>> = keys.into_iter().collect();
    let cmds: Vec<Vec<Vec<u8>>> = keys
        .iter()
        .map(|k| vec![b"EXISTS".to_vec(), k.clone()])
        .collect();
    let alive: Vec<String> = keys
        .iter()
        .zip(pipeline(&mut c, &cmds))
        .filter(|(_, r)| *r != Reply::Int(0))
        .map(|(k, r)| format!("{} ({r:?})", String::from_utf8_lossy(k)))
        .collect();
    assert!(
        alive.is_empty(),
        "{what}: keys set with a TTL of at most 5 ms still exist 20 ms after the last one was \
         set: {alive:?}"
    );
    let listed = call(&mut c, &[b"KEYS", b"ttl:*"]);
    assert_eq!(listed, Reply::Array(vec![]), "{what}: KEYS ttl:*");
    let final_size = int(&call(&mut c, &[b"DBSIZE"]), "DBSIZE");
    assert_eq!(
        final_size, want,
        "{what}: DBSIZE after every TTL'd key expired ({PERMANENT} permanent keys and \
         {race_keys} race keys expected)"
    );
    for i in 0..PERMANENT {
        let k = format!("perm:{i}");
        assert_eq!(
            call(&mut c, &[b"GET", k.as_bytes()]),
            Reply::Bulk(format!("p{i}").into_bytes()),
            "{what}: permanent key {k}"
        );
        assert_eq!(
            call(&mut c, &[b"PTTL", k.as_bytes()]),
            Reply::Int(-1),
            "{what}: permanent key {k} got a TTL"
        );
    }
    eprintln!(
        "{what}: churn set {sets} keys with 1-5 ms TTLs over {} names; active expiry alone \
         brought DBSIZE to {dbsize} (want {want}) within 300 ms",
        keys.len()
    );
}

#[test]
fn incr_race_loses_no_increment_and_hands_out_every_value_once() {
    const PER_THREAD: usize = 400;
    let server = start();
    set_permanent(&server.addr());
    let churn = churn(&server.addr());
    let started = Instant::now();
    let replies = race(&server.addr(), THREADS, |t, c, deadline| {
        let mut got = Vec::new();
        while got.len() < PER_THREAD && Instant::now() < deadline {
            // Pipelines of 4 make the INCRs of different connections interleave more.
            let cmds = vec![vec![b"INCR".to_vec(), b"counter".to_vec()]; 4];
            for r in pipeline(c, &cmds) {
                got.push(int(&r, &format!("thread {t}: INCR")));
            }
        }
        got
    });
    let elapsed = started.elapsed();
    let mut c = RawClient::connect(&server.addr());
    let total: usize = replies.iter().map(|r| r.len()).sum();
    let mut all: Vec<i64> = Vec::with_capacity(total);
    for (t, r) in replies.iter().enumerate() {
        assert!(
            r.windows(2).all(|w| w[0] < w[1]),
            "thread {t}: its own INCR replies are not increasing"
        );
        all.extend(r);
    }
    all.sort_unstable();
    let expected: Vec<i64> = (1..=total as i64).collect();
    if all != expected {
        let dup = all.windows(2).find(|w| w[0] == w[1]);
        panic!(
            "{total} INCRs: the replies are not exactly 1..={total} (first duplicate {dup:?}, \
             smallest {:?}, largest {:?})",
            all.first(),
            all.last()
        );
    }
    assert_eq!(
        call(&mut c, &[b"GET", b"counter"]),
        Reply::Bulk(total.to_string().into_bytes()),
        "final counter after {total} acknowledged INCRs"
    );
    eprintln!("INCR race: {THREADS} clients, {total} INCRs in {elapsed:?}");
    finish(&server, churn, 1, "INCR race");
}

/// Fixed-size chunk `i` of thread `t`.
fn chunk(t: usize, i: usize) -> Vec<u8> {
    format!("<{t:02}:{i:05}>").into_bytes()
}
const CHUNK: usize = 10;

/// Split an appended string into chunks and check that each thread's chunks appear in its own
/// order (0, 1, 2, ...) without gaps up to `counts[t]` when `complete`, or as an increasing
/// sequence otherwise. Returns per thread the chunk numbers seen.
fn check_chunks(s: &[u8], threads: usize, what: &str) -> Vec<Vec<usize>> {
    assert_eq!(
        s.len() % CHUNK,
        0,
        "{what}: length {} is not a multiple of the chunk size",
        s.len()
    );
    let mut seen = vec![Vec::new(); threads];
    for (n, c) in s.chunks(CHUNK).enumerate() {
        let text = std::str::from_utf8(c).unwrap_or("");
        let parsed = text
            .strip_prefix('<')
            .and_then(|x| x.strip_suffix('>'))
            .and_then(|x| x.split_once(':'))
            .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)));
        let Some((t, i)) = parsed.filter(|&(t, _)| t < threads) else {
            panic!(
                "{what}: chunk #{n} is torn or foreign: {:?}",
                String::from_utf8_lossy(c)
            );
        };
        if let Some(&last) = seen[t].last() {
            assert!(
                i > last,
                "{what}: thread {t}'s chunk {i} comes after its chunk {last}"
            );
        }
        seen[t].push(i);
    }
    seen
}

#[test]
fn append_race_keeps_every_chunk_whole_and_in_each_clients_order() {
    const PER_THREAD: usize = 200;
    let server = start();
    set_permanent(&server.addr());
    let churn = churn(&server.addr());
    let started = Instant::now();
    let results = race(&server.addr(), THREADS, |t, c, deadline| {
        let mut lens = Vec::new();
        let mut i = 0;
        while i < PER_THREAD && Instant::now() < deadline {
            let r = call(c, &[b"APPEND", b"log", &chunk(t, i)]);
            lens.push(int(&r, &format!("thread {t}: APPEND")));
            i += 1;
        }
        (i, lens)
    });
    let elapsed = started.elapsed();
    let total: usize = results.iter().map(|r| r.0).sum();
    let mut all_lens: Vec<i64> = results.iter().flat_map(|r| r.1.clone()).collect();
    all_lens.sort_unstable();
    let expected: Vec<i64> = (1..=total as i64).map(|n| n * CHUNK as i64).collect();
    assert_eq!(
        all_lens.len(),
        expected.len(),
        "APPEND replies: count differs from the chunks sent"
    );
    if all_lens != expected {
        let bad: Vec<&i64> = all_lens
            .iter()
            .zip(&expected)
            .filter(|(a, b)| a != b)
            .map(|(a, _)| a)
            .take(10)
            .collect();
        panic!(
            "APPEND replies (the new lengths) are not exactly {CHUNK}, {}, ..., {}: e.g. {bad:?}",
            2 * CHUNK,
            total * CHUNK
        );
    }
    let mut c = RawClient::connect(&server.addr());
    let s = bulk(call(&mut c, &[b"GET", b"log"]), "GET log");
    assert_eq!(s.len(), total * CHUNK, "final length");
    let seen = check_chunks(&s, THREADS, "APPEND race");
    for (t, r) in results.iter().enumerate() {
        let want: Vec<usize> = (0..r.0).collect();
        assert_eq!(seen[t], want, "thread {t}'s chunks in the final string");
    }
    eprintln!("APPEND race: {THREADS} clients, {total} chunks in {elapsed:?}");
    finish(&server, churn, 1, "APPEND race");
}

#[test]
fn append_racing_del_and_short_ttls_always_replies_the_length_after_the_append() {
    // APPEND returns the string's length after appending, so never less than the chunk; a
    // DEL (or an expiry) between its read and its write must not lose the chunk.
    const APPENDERS: usize = 12;
    const KILLERS: usize = 4;
    const PER_THREAD: usize = 600;
    let server = start();
    set_permanent(&server.addr());
    let churn = churn(&server.addr());
    let started = Instant::now();
    let results = race(&server.addr(), APPENDERS + KILLERS, |t, c, deadline| {
        let mut bad = Vec::new();
        let mut done = 0;
        while done < PER_THREAD && Instant::now() < deadline {
            if t < APPENDERS {
                let r = call(c, &[b"APPEND", b"victim", &chunk(t, done)]);
                let n = int(&r, &format!("thread {t}: APPEND"));
                if n < CHUNK as i64 || n % CHUNK as i64 != 0 {
                    bad.push(n);
                }
            } else if done % 2 == 0 {
                int(&call(c, &[b"DEL", b"victim"]), "DEL");
            } else {
                // A whole chunk with a 1 ms TTL.
                let r = call(c, &[b"SET", b"victim", &chunk(t, done), b"PX", b"1"]);
                assert_eq!(r, Reply::Status("OK".into()), "SET PX");
            }
            done += 1;
        }
        (done, bad)
    });
    let elapsed = started.elapsed();
    let appends: usize = results[..APPENDERS].iter().map(|r| r.0).sum();
    let bad: Vec<(usize, Vec<i64>)> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.1.is_empty())
        .map(|(t, r)| (t, r.1.clone()))
        .collect();
    assert!(
        bad.is_empty(),
        "APPEND replied a length smaller than its own chunk ({CHUNK} bytes) or not a multiple \
         of it while DEL / SET PX 1 raced on the key ({} of {appends} APPENDs; 0 means the \
         chunk was dropped): (thread, bad replies) {bad:?}",
        bad.iter().map(|b| b.1.len()).sum::<usize>()
    );
    let mut c = RawClient::connect(&server.addr());
    let race_keys = match call(&mut c, &[b"GET", b"victim"]) {
        Reply::Bulk(s) => {
            check_chunks(&s, APPENDERS + KILLERS, "APPEND vs DEL");
            // A key left with a 1 ms TTL may not have expired yet: wait for it.
            std::thread::sleep(Duration::from_millis(5));
            int(&call(&mut c, &[b"EXISTS", b"victim"]), "EXISTS")
        }
        Reply::NilBulk => 0,
        other => panic!("GET victim: {other:?}"),
    };
    eprintln!(
        "APPEND vs DEL race: {appends} APPENDs against {KILLERS} DEL/SET PX 1 clients in \
         {elapsed:?}"
    );
    finish(&server, churn, race_keys, "APPEND vs DEL race");
}

/// The bytes thread `t` owns in the SETRANGE race (`REGION` of them from `t * REGION`).
fn region(t: usize) -> Vec<u8> {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..REGION)
        .map(|j| ALPHA[(t * 7 + j * 3) % ALPHA.len()])
        .collect()
}
const REGION: usize = 48;

#[test]
fn setrange_race_on_disjoint_regions_keeps_every_region_as_written() {
    const WRITERS: usize = 14;
    const READERS: usize = 2;
    const PER_THREAD: usize = 300;
    let server = start();
    set_permanent(&server.addr());
    let churn = churn(&server.addr());
    let expected: Vec<u8> = (0..WRITERS).flat_map(region).collect();
    let exp = Arc::new(expected.clone());
    let started = Instant::now();
    let results = race(&server.addr(), WRITERS + READERS, move |t, c, deadline| {
        let mut rng = 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(t as u64 + 1);
        let mut n = 0;
        let mut last_len = 0;
        while n < PER_THREAD && Instant::now() < deadline {
            if t < WRITERS {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let a = (rng % REGION as u64) as usize;
                let b = a + 1 + ((rng >> 20) % (REGION - a) as u64) as usize;
                let off = (t * REGION + a).to_string().into_bytes();
                let r = call(c, &[b"SETRANGE", b"canvas", &off, &region(t)[a..b]]);
                let len = int(&r, "SETRANGE");
                assert!(
                    len >= (t * REGION + b) as i64,
                    "thread {t}: SETRANGE at {a}..{b} of its region replied length {len}"
                );
            } else {
                // Every byte is either still zero padding or what its owner writes there.
                match call(c, &[b"GET", b"canvas"]) {
                    Reply::NilBulk => {}
                    Reply::Bulk(s) => {
                        assert!(s.len() >= last_len, "reader {t}: the string shrank");
                        last_len = s.len();
                        assert!(s.len() <= exp.len(), "reader {t}: the string is too long");
                        if let Some(p) = (0..s.len()).find(|&p| s[p] != 0 && s[p] != exp[p]) {
                            panic!(
                                "reader {t}: byte {p} (region {}) is {:?}, expected 0 or {:?}",
                                p / REGION,
                                s[p] as char,
                                exp[p] as char
                            );
                        }
                    }
                    other => panic!("reader {t}: GET canvas: {other:?}"),
                }
            }
            n += 1;
        }
        if t < WRITERS {
            // Finally the whole region, so every byte of it has been written.
            let off = (t * REGION).to_string().into_bytes();
            int(
                &call(c, &[b"SETRANGE", b"canvas", &off, &region(t)]),
                "SETRANGE",
            );
        }
        n
    });
    let elapsed = started.elapsed();
    let mut c = RawClient::connect(&server.addr());
    let s = bulk(call(&mut c, &[b"GET", b"canvas"]), "GET canvas");
    if s != expected {
        let bad: Vec<usize> = (0..WRITERS)
            .filter(|&t| s.get(t * REGION..(t + 1) * REGION) != Some(&region(t)[..]))
            .collect();
        panic!(
            "SETRANGE race: final string ({} bytes, want {}) differs in the regions of threads \
             {bad:?}",
            s.len(),
            expected.len()
        );
    }
    let writes: usize = results[..WRITERS].iter().sum();
    let reads: usize = results[WRITERS..].iter().sum();
    eprintln!("SETRANGE race: {writes} writes, {reads} checked reads in {elapsed:?}");
    finish(&server, churn, 1, "SETRANGE race");
}

#[test]
fn mset_is_atomic_for_concurrent_mget() {
    const KEYS: usize = 8;
    const WRITERS: usize = 8;
    const READERS: usize = 8;
    const PER_THREAD: usize = 400;
    let server = start();
    set_permanent(&server.addr());
    let keys: Vec<Vec<u8>> = (0..KEYS).map(|i| format!("m:{i}").into_bytes()).collect();
    {
        let mut c = RawClient::connect(&server.addr());
        let mut init = vec![b"MSET".to_vec()];
        for k in &keys {
            init.extend([k.clone(), b"init".to_vec()]);
        }
        c.send(&init);
        assert_eq!(c.read().unwrap(), Reply::Status("OK".into()));
    }
    let churn = churn(&server.addr());
    let started = Instant::now();
    let race_keys = keys.clone();
    let results = race(&server.addr(), WRITERS + READERS, move |t, c, deadline| {
        let keys = &race_keys;
        let mut n = 0;
        // Reader: the last number seen from each writer.
        let mut last: BTreeMap<usize, usize> = BTreeMap::new();
        while n < PER_THREAD && Instant::now() < deadline {
            if t < WRITERS {
                let v = format!("w{t}:{n}").into_bytes();
                let mut cmd = vec![b"MSET".to_vec()];
                // Keys in a different order each time (locking must not deadlock).
                for j in 0..KEYS {
                    let k = &keys[(j * (t + 1) + n) % KEYS];
                    if !cmd.contains(k) {
                        cmd.extend([k.clone(), v.clone()]);
                    }
                }
                for k in keys {
                    if !cmd.contains(k) {
                        cmd.extend([k.clone(), v.clone()]);
                    }
                }
                c.send(&cmd);
                assert_eq!(c.read().unwrap(), Reply::Status("OK".into()), "MSET");
            } else {
                let mut cmd = vec![b"MGET".to_vec()];
                cmd.extend(keys.iter().cloned());
                c.send(&cmd);
                let Reply::Array(vals) = c.read().unwrap() else {
                    panic!("MGET did not reply an array")
                };
                let vals: Vec<Vec<u8>> = vals.into_iter().map(|v| bulk(v, "MGET")).collect();
                assert!(
                    vals.iter().all(|v| *v == vals[0]),
                    "reader {t}: MGET saw a half-applied MSET: {:?}",
                    vals.iter()
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                        .collect::<Vec<_>>()
                );
                if let Some((w, i)) = std::str::from_utf8(&vals[0])
                    .ok()
                    .and_then(|s| s.strip_prefix('w'))
                    .and_then(|s| s.split_once(':'))
                    .and_then(|(w, i)| Some((w.parse().ok()?, i.parse().ok()?)))
                {
                    let prev = last.insert(w, i);
                    assert!(
                        prev.is_none_or(|p| p <= i),
                        "reader {t}: saw writer {w}'s MSET {i} after its MSET {prev:?}"
                    );
                }
            }
            n += 1;
        }
        n
    });
    let elapsed = started.elapsed();
    let mut c = RawClient::connect(&server.addr());
    let mut cmd = vec![b"MGET".to_vec()];
    cmd.extend(keys.iter().cloned());
    c.send(&cmd);
    let Reply::Array(vals) = c.read().unwrap() else {
        panic!("MGET")
    };
    assert!(vals.iter().all(|v| *v == vals[0]), "final MGET: {vals:?}");
    let writes: usize = results[..WRITERS].iter().sum();
    let reads: usize = results[WRITERS..].iter().sum();
    eprintln!("MSET/MGET race: {writes} MSETs of {KEYS} keys, {reads} MGETs in {elapsed:?}");
    finish(&server, churn, KEYS as i64, "MSET/MGET race");
}

#[test]
fn setnx_race_has_exactly_one_winner_per_key() {
    const ROUNDS: usize = 300;
    let server = start();
    set_permanent(&server.addr());
    let churn = churn(&server.addr());
    let started = Instant::now();
    let results = race(&server.addr(), THREADS, |t, c, deadline| {
        let mut won = Vec::new();
        let mut r = 0;
        while r < ROUNDS && Instant::now() < deadline {
            let k = format!("lock:{r}").into_bytes();
            let tag = format!("t{t}").into_bytes();
            if int(&call(c, &[b"SETNX", &k, &tag]), "SETNX") == 1 {
                won.push(r);
            }
            r += 1;
        }
        (r, won)
    });
    let elapsed = started.elapsed();
    let rounds = results.iter().map(|r| r.0).max().unwrap_or(0);
    let mut winners: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (t, r) in results.iter().enumerate() {
        for &round in &r.1 {
            winners.entry(round).or_default().push(t);
        }
    }
    let mut c = RawClient::connect(&server.addr());
    for round in 0..rounds {
        let w = winners.get(&round).cloned().unwrap_or_default();
        assert_eq!(w.len(), 1, "lock:{round}: SETNX replied 1 to threads {w:?}");
        let k = format!("lock:{round}");
        assert_eq!(
            call(&mut c, &[b"GET", k.as_bytes()]),
            Reply::Bulk(format!("t{}", w[0]).into_bytes()),
            "{k}: value is not the winner's"
        );
    }
    eprintln!("SETNX race: {THREADS} clients, {rounds} keys in {elapsed:?}");
    finish(&server, churn, rounds as i64, "SETNX race");
}

#[test]
fn keys_written_only_with_short_ttls_never_lose_their_ttl_and_all_expire() {
    // Several clients rewrite the same `ttl:*` names with PX 1-5 and touch them with reads
    // and TTL-preserving writes; none may ever be seen without a TTL, and all must be gone
    // at the end.
    const WRITERS: usize = 6;
    const TOUCHERS: usize = 10;
    const PER_THREAD: usize = 1500;
    let server = start();
    set_permanent(&server.addr());
    let churn = churn(&server.addr());
    let started = Instant::now();
    let results = race(&server.addr(), WRITERS + TOUCHERS, |t, c, deadline| {
        let mut n = 0u64;
        let mut hits = 0u64;
        while (n as usize) < PER_THREAD && Instant::now() < deadline {
            let k = format!("ttl:{}", (n * 13 + t as u64) % 40).into_bytes();
            if t < WRITERS {
                let ms = (1 + (n + t as u64) % 5).to_string().into_bytes();
                let v = format!("w{t}:{n}").into_bytes();
                let r = call(c, &[b"SET", &k, &v, b"PX", &ms]);
                assert_eq!(r, Reply::Status("OK".into()), "SET PX");
            } else {
                let cmds: Vec<Vec<Vec<u8>>> = vec![
                    vec![b"PTTL".to_vec(), k.clone()],
                    vec![
                        b"SET".to_vec(),
                        k.clone(),
                        format!("t{t}").into_bytes(),
                        b"XX".to_vec(),
                        b"KEEPTTL".to_vec(),
                    ],
                    vec![
                        b"PEXPIRE".to_vec(),
                        k.clone(),
                        b"3".to_vec(),
                        b"XX".to_vec(),
                    ],
                    vec![b"GETEX".to_vec(), k.clone(), b"PX".to_vec(), b"2".to_vec()],
                    vec![b"PTTL".to_vec(), k.clone()],
                ];
                for (cmd, r) in cmds.iter().zip(pipeline(c, &cmds)) {
                    match (&cmd[0][..], &r) {
                        (b"PTTL", Reply::Int(ms)) => {
                            assert!(
                                *ms == -2 || (0..=5).contains(ms),
                                "toucher {t}: PTTL {} = {ms} ms, but every write of that key \
                                 set a TTL of at most 5 ms (the clock this command used is \
                                 older than the one the SET PX on another connection used)",
                                String::from_utf8_lossy(&k)
                            );
                            if *ms >= 0 {
                                hits += 1;
                            }
                        }
                        (_, Reply::Error(e)) => panic!(
                            "toucher {t}: {:?} failed: {e}",
                            String::from_utf8_lossy(&cmd[0])
                        ),
                        _ => {}
                    }
                }
            }
            n += 1;
        }
        (n, hits)
    });
    let elapsed = started.elapsed();
    let ops: u64 = results.iter().map(|r| r.0).sum();
    let hits: u64 = results.iter().map(|r| r.1).sum();
    eprintln!("short-TTL race: {ops} operations, {hits} PTTLs found a live key, in {elapsed:?}");
    finish(&server, churn, 0, "short-TTL race");
}
