//! Scripts lock the shards of their declared keys and take others as their calls reach them
//! (`Scope::Script`, `LockSet::grow_slots`). These races check, black-box with
//! `--io-threads 4`, that this stays atomic and never deadlocks:
//!
//! - scripts called from database 1 move money to database 0 (their set grows *below* what
//!   it holds) and scripts called from database 0 move it to database 1 (it grows above),
//!   while `MOVE` ping-pongs a token between the two databases (a set spanning both, the
//!   kind that must let go for a growing script) and readers check, in one MULTI/EXEC over
//!   both databases, that the total is kept and the token is in exactly one of them;
//! - a script in database 2, whose `SWAPDB` calls grow its set to the whole keyspace, reads
//!   both balances beside the same traffic and must see the total;
//! - in one database, scripts move money between accounts they do not declare (their sets
//!   grow below and above what they hold) beside transactions over several shards (sets
//!   that must let go), while a script summing every account and an `MGET` of them all must
//!   see the total.
//!
//! Loads are bounded by counts; every connection has a read timeout, so a deadlock fails the
//! test instead of hanging it. `SPEC_TARGET=redis` runs it against redis-server.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;
use support::server::{Server, Target};

const ROUNDS: usize = 1500;
const TOTAL: i64 = 1000;

/// Move `ARGV[2]` from `KEYS[1]` in the caller's database to `KEYS[2]` in database `ARGV[1]`.
const TRANSFER: &str = "
local from = redis.call('DECRBY', KEYS[1], ARGV[2])
redis.call('SELECT', ARGV[1])
redis.call('INCRBY', KEYS[2], ARGV[2])
return from";

fn start() -> Server {
    Server::start_with(Target::from_env(), &["--io-threads", "4"], None)
}

fn connect(server: &Server, db: i64) -> redis::Connection {
    let mut con = redis::Client::open(format!("redis://{}/{db}", server.addr()))
        .unwrap()
        .get_connection()
        .unwrap();
    con.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    con.set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _: () = redis::cmd("PING").query(&mut con).unwrap();
    con
}

fn join<T>(t: thread::JoinHandle<T>) -> T {
    t.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// Run `step` on a thread of its own, from the `go` barrier until `stop`; how many times it
/// ran.
fn until_stopped(
    go: &Arc<Barrier>,
    stop: &Arc<AtomicBool>,
    mut step: impl FnMut(u64) + Send + 'static,
) -> thread::JoinHandle<u64> {
    let (go, stop) = (go.clone(), stop.clone());
    thread::spawn(move || {
        go.wait();
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            step(n);
            n += 1;
        }
        n
    })
}

/// (balance in db 0, balance in db 1, token in db 0, token in db 1), read atomically.
fn snapshot(con: &mut redis::Connection) -> (i64, i64, i64, i64) {
    let (_, a, t0, _, b, t1, _): ((), i64, i64, (), i64, i64, ()) = redis::pipe()
        .atomic()
        .cmd("SELECT")
        .arg(0)
        .cmd("GET")
        .arg("bal")
        .cmd("EXISTS")
        .arg("token")
        .cmd("SELECT")
        .arg(1)
        .cmd("GET")
        .arg("bal")
        .cmd("EXISTS")
        .arg("token")
        .cmd("SELECT")
        .arg(0)
        .query(con)
        .unwrap();
    (a, b, t0, t1)
}

#[test]
fn scripts_reaching_other_databases_stay_atomic_beside_multi_database_commands() {
    let server = start();
    let mut setup = connect(&server, 0);
    let _: () = redis::cmd("SET")
        .arg("bal")
        .arg(TOTAL)
        .query(&mut setup)
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("token")
        .arg("t")
        .query(&mut setup)
        .unwrap();
    let mut one = connect(&server, 1);
    let _: () = redis::cmd("SET").arg("bal").arg(0).query(&mut one).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let go = Arc::new(Barrier::new(5));
    // Scripts from db 0 to db 1 (growing above) and from db 1 to db 0 (growing below).
    let movers: Vec<_> = [(0, 1), (1, 0)]
        .into_iter()
        .map(|(from, to)| {
            let mut con = connect(&server, from);
            let go = go.clone();
            thread::spawn(move || {
                go.wait();
                for i in 0..ROUNDS {
                    let _: i64 = redis::cmd("EVAL")
                        .arg(TRANSFER)
                        .arg(2)
                        .arg("bal")
                        .arg("bal")
                        .arg(to)
                        .arg(1 + i % 3)
                        .query(&mut con)
                        .unwrap();
                }
            })
        })
        .collect();
    // MOVE ping-pongs the token: a lock set over both databases.
    let (mut zero, mut one) = (connect(&server, 0), connect(&server, 1));
    let pingpong = until_stopped(&go, &stop, move |_| {
        let a: i64 = redis::cmd("MOVE")
            .arg("token")
            .arg(1)
            .query(&mut zero)
            .unwrap();
        let b: i64 = redis::cmd("MOVE")
            .arg("token")
            .arg(0)
            .query(&mut one)
            .unwrap();
        assert_eq!((a, b), (1, 1), "only this thread moves the token");
    });
    // A script in db 2 reads every database, and swaps two others back and forth twice
    // (leaving them as they were).
    let mut con = connect(&server, 2);
    let swapper = until_stopped(&go, &stop, move |_| {
        let script = "
            redis.call('SWAPDB', 3, 4)
            redis.call('SWAPDB', 3, 4)
            redis.call('SELECT', 0)
            local a = tonumber(redis.call('GET', 'bal'))
            redis.call('SELECT', 1)
            local b = tonumber(redis.call('GET', 'bal'))
            return a + b";
        let total: i64 = redis::cmd("EVAL")
            .arg(script)
            .arg(0)
            .query(&mut con)
            .unwrap();
        assert_eq!(total, TOTAL, "a script read a partial transfer");
    });
    let mut con = connect(&server, 0);
    let reader = until_stopped(&go, &stop, move |_| {
        let (a, b, t0, t1) = snapshot(&mut con);
        assert_eq!(
            a + b,
            TOTAL,
            "a transaction read a partial transfer: {a} + {b}"
        );
        assert_eq!(t0 + t1, 1, "the token is in {t0} + {t1} databases");
    });
    for m in movers {
        join(m);
    }
    stop.store(true, Ordering::Relaxed);
    let moves = join(pingpong);
    let swaps = join(swapper);
    let reads = join(reader);
    assert!(
        moves > 0 && swaps > 0 && reads > 0,
        "{moves} {swaps} {reads}"
    );
    let (a, b, t0, t1) = snapshot(&mut setup);
    assert_eq!((a + b, t0 + t1), (TOTAL, 1));
}

/// Accounts spread over the shards of one database.
const ACCOUNTS: usize = 24;

fn account(i: usize) -> String {
    format!("acct:{i}")
}

/// Moves `ARGV[3]` between the accounts named `ARGV[1]` and `ARGV[2]`, which it does not
/// declare: its set grows by their shards as it reaches them, below or above what it holds.
const UNDECLARED_TRANSFER: &str = "
redis.call('DECRBY', ARGV[1], ARGV[3])
redis.call('INCRBY', ARGV[2], ARGV[3])
return 1";

/// Sums every account in one script (its set grows shard by shard).
const SUM: &str = "
local s = 0
for i = 0, tonumber(ARGV[1]) - 1 do s = s + tonumber(redis.call('GET', 'acct:' .. i)) end
return s";

#[test]
fn scripts_taking_shards_as_they_go_stay_atomic_beside_multi_key_commands() {
    let server = start();
    let mut setup = connect(&server, 0);
    for i in 0..ACCOUNTS {
        let v = if i == 0 { TOTAL } else { 0 };
        let _: () = redis::cmd("SET")
            .arg(account(i))
            .arg(v)
            .query(&mut setup)
            .unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let go = Arc::new(Barrier::new(5));
    // Two script clients moving money between accounts in both directions of the lock order.
    let movers: Vec<_> = (0..2)
        .map(|m| {
            let mut con = connect(&server, 0);
            let go = go.clone();
            thread::spawn(move || {
                go.wait();
                for i in 0..ROUNDS {
                    let a = (i * 7 + m * 5) % ACCOUNTS;
                    let b = (a + 1 + i % (ACCOUNTS - 1)) % ACCOUNTS;
                    let _: i64 = redis::cmd("EVAL")
                        .arg(UNDECLARED_TRANSFER)
                        .arg(0)
                        .arg(account(a))
                        .arg(account(b))
                        .arg(1 + i % 3)
                        .query(&mut con)
                        .unwrap();
                }
            })
        })
        .collect();
    // Transactions moving money over several shards: sets that wait while they hold others.
    let mut con = connect(&server, 0);
    let txn = until_stopped(&go, &stop, move |n| {
        let n = n as usize;
        let (a, b) = (n % ACCOUNTS, (n * 5 + 3) % ACCOUNTS);
        let _: (i64, i64) = redis::pipe()
            .atomic()
            .cmd("DECRBY")
            .arg(account(a))
            .arg(2)
            .cmd("INCRBY")
            .arg(account(b))
            .arg(2)
            .query(&mut con)
            .unwrap();
    });
    // A script summing every account, and an MGET of them all: both must see the total.
    let mut con = connect(&server, 0);
    let summer = until_stopped(&go, &stop, move |_| {
        let total: i64 = redis::cmd("EVAL")
            .arg(SUM)
            .arg(0)
            .arg(ACCOUNTS)
            .query(&mut con)
            .unwrap();
        assert_eq!(total, TOTAL, "a script read a partial transfer");
    });
    let mut con = connect(&server, 0);
    let keys: Vec<String> = (0..ACCOUNTS).map(account).collect();
    let reader = until_stopped(&go, &stop, move |_| {
        let v: Vec<i64> = redis::cmd("MGET").arg(&keys).query(&mut con).unwrap();
        assert_eq!(v.iter().sum::<i64>(), TOTAL, "MGET read a partial transfer");
    });
    for m in movers {
        join(m);
    }
    stop.store(true, Ordering::Relaxed);
    let txns = join(txn);
    let sums = join(summer);
    let reads = join(reader);
    assert!(txns > 0 && sums > 0 && reads > 0, "{txns} {sums} {reads}");
}
