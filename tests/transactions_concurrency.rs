//! Bank-transfer invariants under concurrency, black-box through the `redis` crate against
//! ferrokv with `--io-threads 4`: 20 accounts of 100 each, so the total is always 2000.
//!
//! 1. Writers move money with MULTI/EXEC (DECRBY a x; INCRBY b x; INCR transfers) while
//!    readers read every balance in one MGET or one MULTI/EXEC: every read must add up to 2000,
//!    and at the end the transfer counter must equal the number of EXECs the writers made.
//! 2. Writers move money optimistically (WATCH a b; MGET; refuse if a would go negative; MULTI
//!    ... EXEC, retried when WATCH aborts it): no balance is ever negative, an EXEC that ran saw
//!    exactly the balances read under WATCH, and the total stays 2000.
//!
//! Loads are bounded by counts; every connection has a read timeout so a hang fails the test.
//! `SPEC_TARGET=redis` runs both against redis-server instead (the expectations' oracle);
//! `TX_IO_THREADS=N` changes the `--io-threads` the server is started with.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};
use support::server::{Server, Target};

const ACCOUNTS: usize = 20;
const START_BALANCE: i64 = 100;
const TOTAL: i64 = ACCOUNTS as i64 * START_BALANCE;
const WRITERS: usize = 4;
const READERS: usize = 2;

/// ferrokv with `--io-threads 4`; `SPEC_TARGET=redis` runs the same test against redis-server
/// (also started with `--io-threads 4`) to check the expectations.
fn start() -> Server {
    let threads = std::env::var("TX_IO_THREADS").unwrap_or_else(|_| "4".into());
    Server::start_with(Target::from_env(), &["--io-threads", &threads], None)
}

fn connect(server: &Server) -> redis::Connection {
    let con = redis::Client::open(format!("redis://{}/", server.addr()))
        .unwrap()
        .get_connection()
        .unwrap();
    con.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    con.set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    con
}

fn account(prefix: &str, i: usize) -> String {
    format!("{prefix}:acct:{i}")
}

fn accounts(prefix: &str) -> Vec<String> {
    (0..ACCOUNTS).map(|i| account(prefix, i)).collect()
}

/// Set every account to the starting balance.
fn open_accounts(con: &mut redis::Connection, prefix: &str) {
    let mut mset = redis::cmd("MSET");
    for k in accounts(prefix) {
        mset.arg(k).arg(START_BALANCE);
    }
    let _: () = mset.query(con).unwrap();
}

fn mget_balances(con: &mut redis::Connection, prefix: &str) -> Vec<i64> {
    let vals: Vec<Option<i64>> = redis::cmd("MGET").arg(accounts(prefix)).query(con).unwrap();
    vals.into_iter()
        .enumerate()
        .map(|(i, v)| v.unwrap_or_else(|| panic!("account {i} is missing")))
        .collect()
}

/// Every balance read with GETs inside one MULTI/EXEC.
fn multi_balances(con: &mut redis::Connection, prefix: &str) -> Vec<i64> {
    let mut p = redis::pipe();
    p.atomic();
    for k in accounts(prefix) {
        p.cmd("GET").arg(k);
    }
    let vals: Vec<i64> = p.query(con).unwrap();
    assert_eq!(vals.len(), ACCOUNTS, "EXEC returned {vals:?}");
    vals
}

/// Join a worker; its panic (a failed assertion) becomes the test's.
fn join<T>(t: thread::JoinHandle<T>) -> T {
    t.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// A small deterministic generator (xorshift64*), one per thread.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Two different accounts.
    fn pair(&mut self) -> (usize, usize) {
        let a = self.below(ACCOUNTS as u64) as usize;
        let b = (a + 1 + self.below(ACCOUNTS as u64 - 1) as usize) % ACCOUNTS;
        (a, b)
    }
}

/// Readers that check every snapshot until `stop`; returns the number of snapshots read.
fn spawn_readers(
    server: &Server,
    prefix: &'static str,
    stop: &Arc<AtomicBool>,
    start: &Arc<Barrier>,
    check_non_negative: bool,
) -> Vec<thread::JoinHandle<u64>> {
    (0..READERS)
        .map(|r| {
            let mut con = connect(server);
            let stop = stop.clone();
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                let mut reads = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    // Alternate: one MGET, then twenty GETs in one MULTI/EXEC.
                    let (how, balances) = if (reads + r as u64).is_multiple_of(2) {
                        ("MGET", mget_balances(&mut con, prefix))
                    } else {
                        ("MULTI/EXEC", multi_balances(&mut con, prefix))
                    };
                    let total: i64 = balances.iter().sum();
                    assert_eq!(
                        total, TOTAL,
                        "reader {r}: balances read with {how} add up to {total}, not {TOTAL}: {balances:?}"
                    );
                    if check_non_negative {
                        assert!(
                            balances.iter().all(|&b| b >= 0),
                            "reader {r}: a negative balance read with {how}: {balances:?}"
                        );
                    }
                    reads += 1;
                }
                reads
            })
        })
        .collect()
}

#[test]
fn multi_exec_transfers_keep_the_total_for_concurrent_readers() {
    const TRANSFERS: u64 = 2_000; // per writer
    let prefix = "multi";
    let server = start();
    let mut con = connect(&server);
    open_accounts(&mut con, prefix);
    let _: () = redis::cmd("SET")
        .arg("multi:transfers")
        .arg(0)
        .query(&mut con)
        .unwrap();

    let t0 = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(WRITERS + READERS));
    let readers = spawn_readers(&server, prefix, &stop, &start, false);
    let moved = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let mut con = connect(&server);
            let start = start.clone();
            let moved = moved.clone();
            thread::spawn(move || {
                let mut rng = Rng::new(w as u64 + 1);
                start.wait();
                let mut done = 0u64;
                for _ in 0..TRANSFERS {
                    let (a, b) = rng.pair();
                    let x = 1 + rng.below(10) as i64;
                    let (na, nb, count): (i64, i64, i64) = redis::pipe()
                        .atomic()
                        .cmd("DECRBY")
                        .arg(account(prefix, a))
                        .arg(x)
                        .cmd("INCRBY")
                        .arg(account(prefix, b))
                        .arg(x)
                        .cmd("INCR")
                        .arg("multi:transfers")
                        .query(&mut con)
                        .unwrap_or_else(|e| panic!("writer {w}: transfer failed: {e}"));
                    assert!(
                        (1..=(WRITERS as u64 * TRANSFERS) as i64).contains(&count),
                        "writer {w}: transfer counter {count} out of range ({na}, {nb})"
                    );
                    moved.fetch_add(x as u64, Ordering::Relaxed);
                    done += 1;
                }
                done
            })
        })
        .collect();

    let done: u64 = writers.into_iter().map(join).sum();
    stop.store(true, Ordering::Relaxed);
    let reads: Vec<u64> = readers.into_iter().map(join).collect();

    assert_eq!(done, WRITERS as u64 * TRANSFERS);
    let balances = mget_balances(&mut con, prefix);
    assert_eq!(
        balances.iter().sum::<i64>(),
        TOTAL,
        "final balances {balances:?}"
    );
    assert_eq!(multi_balances(&mut con, prefix), balances);
    let count: i64 = redis::cmd("GET")
        .arg("multi:transfers")
        .query(&mut con)
        .unwrap();
    assert_eq!(
        count as u64, done,
        "transfer counter vs EXECs the writers made"
    );
    assert!(
        reads.iter().all(|&n| n > 0),
        "every reader read at least once: {reads:?}"
    );
    eprintln!(
        "{done} MULTI/EXEC transfers (amount {}), reads per reader {reads:?}, {:.1?}",
        moved.load(Ordering::Relaxed),
        t0.elapsed()
    );
}

#[test]
fn watch_transfers_never_overdraw() {
    const ATTEMPTS: u64 = 1_500; // per writer
    let prefix = "watch";
    let server = start();
    let mut con = connect(&server);
    open_accounts(&mut con, prefix);

    let t0 = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(WRITERS + READERS));
    let readers = spawn_readers(&server, prefix, &stop, &start, true);
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let mut con = connect(&server);
            let start = start.clone();
            thread::spawn(move || {
                let mut rng = Rng::new(100 + w as u64);
                start.wait();
                let (mut done, mut refused, mut aborted) = (0u64, 0u64, 0u64);
                for _ in 0..ATTEMPTS {
                    let (a, b) = rng.pair();
                    let (ka, kb) = (account(prefix, a), account(prefix, b));
                    // Large amounts, so that some transfers must be refused.
                    let x = 1 + rng.below(120) as i64;
                    loop {
                        let _: () = redis::cmd("WATCH")
                            .arg(&ka)
                            .arg(&kb)
                            .query(&mut con)
                            .unwrap();
                        let (ba, bb): (i64, i64) = redis::cmd("MGET")
                            .arg(&ka)
                            .arg(&kb)
                            .query(&mut con)
                            .unwrap();
                        assert!(
                            ba >= 0 && bb >= 0,
                            "writer {w}: negative balance read: {ka}={ba} {kb}={bb}"
                        );
                        if ba < x {
                            let _: () = redis::cmd("UNWATCH").query(&mut con).unwrap();
                            refused += 1;
                            break;
                        }
                        let r: Option<(i64, i64)> = redis::pipe()
                            .atomic()
                            .cmd("DECRBY")
                            .arg(&ka)
                            .arg(x)
                            .cmd("INCRBY")
                            .arg(&kb)
                            .arg(x)
                            .query(&mut con)
                            .unwrap_or_else(|e| panic!("writer {w}: EXEC failed: {e}"));
                        match r {
                            None => aborted += 1, // a watched key changed: read again
                            Some((na, nb)) => {
                                assert_eq!(
                                    (na, nb),
                                    (ba - x, bb + x),
                                    "writer {w}: EXEC ran although {ka} or {kb} changed after WATCH \
                                     (read {ba}, {bb}; moved {x})"
                                );
                                done += 1;
                                break;
                            }
                        }
                    }
                }
                (done, refused, aborted)
            })
        })
        .collect();

    let results: Vec<(u64, u64, u64)> = writers.into_iter().map(join).collect();
    stop.store(true, Ordering::Relaxed);
    let reads: Vec<u64> = readers.into_iter().map(join).collect();

    let done: u64 = results.iter().map(|r| r.0).sum();
    let refused: u64 = results.iter().map(|r| r.1).sum();
    let aborted: u64 = results.iter().map(|r| r.2).sum();
    assert_eq!(done + refused, WRITERS as u64 * ATTEMPTS);
    assert!(done > 0, "no transfer went through: {results:?}");
    assert!(
        refused > 0,
        "no transfer was refused, so overdrafts were not tested: {results:?}"
    );
    let balances = mget_balances(&mut con, prefix);
    assert_eq!(
        balances.iter().sum::<i64>(),
        TOTAL,
        "final balances {balances:?}"
    );
    assert!(
        balances.iter().all(|&b| b >= 0),
        "negative final balance: {balances:?}"
    );
    assert!(
        reads.iter().all(|&n| n > 0),
        "every reader read at least once: {reads:?}"
    );
    eprintln!(
        "{done} WATCH transfers, {refused} refused, {aborted} EXECs aborted by WATCH, \
         reads per reader {reads:?}, {:.1?}",
        t0.elapsed()
    );
}
