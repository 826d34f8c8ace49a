//! AOF round trip: whatever a seeded random workload leaves in the server must come back
//! identical after `kill -9` and a restart from the append-only file (`appendfsync always`).
//!
//! The workload covers every write command family ferrokv has, across several databases, with
//! TTLs short enough to expire during the run (1–5 ms) or long enough never to (≥ 1000 s), and
//! a large share of commands that must fail (wrong type, overflow, NaN, syntax, out of range,
//! bad DB index, arity, unknown command): a failed command must change nothing, neither in
//! memory nor in what the AOF replays. Dumps read every key of every database with its type,
//! value (collections in full where the server can read them back, else their sizes) and exact
//! absolute expiry (`PEXPIRETIME`); keys whose expiry passed before the second dump finished
//! are the only ones allowed to be missing after the restart.

mod aof_common;
mod support;

use aof_common::raw::{self, RawDump, RawProc};
use aof_common::{now_ms, show, Rng};
use std::path::Path;
use std::time::{Duration, Instant};
use support::client::{quote, RawClient, Reply};

const ALWAYS: &[&str] = &["--appendonly", "yes", "--appendfsync", "always"];

/// Workload seeds, and commands per seed.
const SEEDS: &[u64] = &[0x5eed_0001, 0x5eed_0002, 0x5eed_0003, 0x5eed_0004];
const COMMANDS: usize = 3000;
/// Databases the workload SELECTs, MOVEs, COPYs and SWAPDBs between.
const WORK_DBS: u64 = 4;
/// Commands sent per pipeline.
const BATCH: usize = 32;

/// The key pool: generic keys, keys each family prefers, and two awkward names.
const KEYS: &[&[u8]] = &[
    b"k0",
    b"k1",
    b"k2",
    b"k3",
    b"k4",
    b"k5",
    b"n0",
    b"n1",
    b"n2",
    b"l0",
    b"l1",
    b"s0",
    b"s1",
    b"h0",
    b"h1",
    b"z0",
    b"z1",
    b"bin\0\r\n\xff",
    b"with space",
];
/// The keys that are not any collection family's favourites.
const PLAIN_KEYS: &[&[u8]] = &[
    b"k0",
    b"k1",
    b"k2",
    b"k3",
    b"k4",
    b"k5",
    b"n0",
    b"n1",
    b"n2",
    b"bin\0\r\n\xff",
    b"with space",
];
const NUM_KEYS: &[&[u8]] = &[b"n0", b"n1", b"n2"];
const LIST_KEYS: &[&[u8]] = &[b"l0", b"l1"];
const SET_KEYS: &[&[u8]] = &[b"s0", b"s1"];
const HASH_KEYS: &[&[u8]] = &[b"h0", b"h1"];
const ZSET_KEYS: &[&[u8]] = &[b"z0", b"z1"];

/// Anything that can be one argument of a command.
trait Arg {
    fn arg(self) -> Vec<u8>;
}
impl Arg for &str {
    fn arg(self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}
impl Arg for String {
    fn arg(self) -> Vec<u8> {
        self.into_bytes()
    }
}
impl Arg for Vec<u8> {
    fn arg(self) -> Vec<u8> {
        self
    }
}
impl Arg for &Vec<u8> {
    fn arg(self) -> Vec<u8> {
        self.clone()
    }
}
impl Arg for &[u8] {
    fn arg(self) -> Vec<u8> {
        self.to_vec()
    }
}
impl Arg for i64 {
    fn arg(self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}
impl Arg for u64 {
    fn arg(self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

macro_rules! c {
    ($($a:expr),* $(,)?) => { vec![$(Arg::arg($a)),*] };
}

/// What the reply to a step must be.
#[derive(Debug)]
enum Expect {
    Any,
    Err,
    ErrContaining(&'static str),
    Is(Reply),
}

struct Step {
    args: Vec<Vec<u8>>,
    expect: Expect,
}

fn any(args: Vec<Vec<u8>>) -> Step {
    Step {
        args,
        expect: Expect::Any,
    }
}
fn err(args: Vec<Vec<u8>>) -> Step {
    Step {
        args,
        expect: Expect::Err,
    }
}
fn is(args: Vec<Vec<u8>>, r: Reply) -> Step {
    Step {
        args,
        expect: Expect::Is(r),
    }
}
fn ok() -> Reply {
    Reply::Status("OK".into())
}

/// The workload generator. It tracks the database the connection is in (SELECTs it emits
/// with a bad index fail and change nothing).
struct Gen {
    rng: Rng,
    db: u64,
    seq: u64,
}

impl Gen {
    fn pick<'a>(&mut self, from: &[&'a [u8]]) -> &'a [u8] {
        from[self.rng.below(from.len() as u64) as usize]
    }
    /// Any key, a plain one three times out of four (so the collections live a while).
    fn key(&mut self) -> Vec<u8> {
        if self.rng.below(4) == 0 {
            self.pick(KEYS).to_vec()
        } else {
            self.pick(PLAIN_KEYS).to_vec()
        }
    }
    /// A key of `pref` most of the time, else any key (wrong types happen that way too).
    fn key_of(&mut self, pref: &[&[u8]]) -> Vec<u8> {
        if self.rng.below(10) < 7 {
            self.pick(pref).to_vec()
        } else {
            self.key()
        }
    }
    fn chance(&mut self, n: u64) -> bool {
        self.rng.below(n) == 0
    }
    fn other_db(&mut self) -> u64 {
        self.rng.below(WORK_DBS)
    }
    fn value(&mut self) -> Vec<u8> {
        self.seq += 1;
        let seq = self.seq;
        match self.rng.below(12) {
            0 => Vec::new(),
            1 => format!("\0\r\n\u{7f}bin{seq}\r\n").into_bytes(),
            2 => "x".repeat(self.rng.range(200, 3000) as usize).into_bytes(),
            3 | 4 => (self.rng.below(2000) as i64 - 1000)
                .to_string()
                .into_bytes(),
            5 => ["1.5", "-0.25", "3e3", "0.1", "10.000"][self.rng.below(5) as usize]
                .as_bytes()
                .to_vec(),
            _ => format!("v{seq}").into_bytes(),
        }
    }
    fn small(&mut self) -> Vec<u8> {
        format!("m{}", self.rng.below(8)).into_bytes()
    }
    /// A TTL of a few ms (expires during the run) or of ≥ 1000 s (never does here).
    fn short_ms(&mut self) -> i64 {
        self.rng.range(1, 6) as i64
    }
    fn long_s(&mut self) -> i64 {
        self.rng.range(1_000, 100_000) as i64
    }
    fn long_ms(&mut self) -> i64 {
        self.rng.range(1_000_000, 100_000_000) as i64
    }
    /// The expiry options of SET.
    fn set_expiry(&mut self) -> Vec<Vec<u8>> {
        let now = now_ms();
        match self.rng.below(14) {
            0..=5 => vec![],
            6 => c!["KEEPTTL"],
            7 => c!["PX", self.short_ms()],
            8 => c!["EX", self.long_s()],
            9 => c!["PX", self.long_ms()],
            10 => c!["EXAT", now / 1000 + self.long_s()],
            11 => {
                let t = if self.chance(2) {
                    now + self.short_ms()
                } else {
                    now + self.long_ms()
                };
                c!["PXAT", t]
            }
            // In the past.
            12 => c!["EXAT", self.rng.range(1, 1_000_000) as i64],
            _ => c!["PXAT", now - self.rng.range(1, 100_000) as i64],
        }
    }
    /// The options of GETEX.
    fn getex_opts(&mut self) -> Vec<Vec<u8>> {
        let now = now_ms();
        match self.rng.below(8) {
            0 => vec![],
            1 => c!["EX", self.long_s()],
            2 => c!["PX", self.short_ms()],
            3 => c!["PX", self.long_ms()],
            4 => c!["EXAT", now / 1000 + self.long_s()],
            5 => c!["PXAT", now + self.short_ms()],
            6 => c!["PXAT", now - self.rng.range(1, 100_000) as i64],
            _ => c!["PERSIST"],
        }
    }
    fn expire_flag(&mut self) -> Vec<Vec<u8>> {
        match self.rng.below(6) {
            0 => c!["NX"],
            1 => c!["XX"],
            2 => c!["GT"],
            3 => c!["LT"],
            _ => vec![],
        }
    }
    fn score(&mut self) -> Vec<u8> {
        let s = match self.rng.below(10) {
            0 => "inf".to_string(),
            1 => "-inf".to_string(),
            2 => "+inf".to_string(),
            3 => "1.5".to_string(),
            4 => "-2.25".to_string(),
            5 => "1e10".to_string(),
            _ => (self.rng.below(200) as i64 - 100).to_string(),
        };
        s.into_bytes()
    }

    /// The next steps: usually one random command, sometimes a scenario of several.
    fn next(&mut self) -> Vec<Step> {
        match self.rng.below(100) {
            0..=79 => vec![self.random_command()],
            80..=97 => self.failing_scenario(),
            _ => {
                let db = self.other_db();
                self.db = db;
                vec![is(c!["SELECT", db], ok())]
            }
        }
    }

    /// One command of any family, with arguments that may or may not make it fail.
    fn random_command(&mut self) -> Step {
        let now = now_ms();
        match self.rng.below(62) {
            // Strings.
            0..=5 => {
                let mut a = c!["SET", self.key(), self.value()];
                match self.rng.below(4) {
                    0 => a.push(b"NX".to_vec()),
                    1 => a.push(b"XX".to_vec()),
                    _ => {}
                }
                if self.chance(4) {
                    a.push(b"GET".to_vec());
                }
                a.extend(self.set_expiry());
                any(a)
            }
            6 => any(c!["SETNX", self.key(), self.value()]),
            7 => any(c!["SETEX", self.key(), self.long_s(), self.value()]),
            8 => {
                let ms = if self.chance(2) {
                    self.short_ms()
                } else {
                    self.long_ms()
                };
                any(c!["PSETEX", self.key(), ms, self.value()])
            }
            9 => any(c!["GETSET", self.key(), self.value()]),
            10 => any(c!["GETDEL", self.key()]),
            11 | 12 => {
                let mut a = c!["GETEX", self.key()];
                a.extend(self.getex_opts());
                any(a)
            }
            13 | 14 => {
                let name = if self.chance(2) { "MSET" } else { "MSETNX" };
                let mut a = c![name];
                for _ in 0..self.rng.range(1, 5) {
                    a.push(self.key());
                    a.push(self.value());
                }
                any(a)
            }
            15 | 16 => {
                let v = format!("+{}", self.rng.below(100));
                any(c!["APPEND", self.key(), v])
            }
            17 | 18 => {
                let off = self.rng.below(40);
                let v = format!("<{}>", self.rng.below(100));
                any(c!["SETRANGE", self.key(), off, v])
            }
            19..=23 => {
                let k = self.key_of(NUM_KEYS);
                let n = self.rng.below(2000) as i64 - 1000;
                any(match self.rng.below(4) {
                    0 => c!["INCR", k],
                    1 => c!["DECR", k],
                    2 => c!["INCRBY", k, n],
                    _ => c!["DECRBY", k, n],
                })
            }
            24 | 25 => {
                let f = ["0.5", "-1.25", "3e2", "1e-3", "7", "-0.1"][self.rng.below(6) as usize];
                any(c!["INCRBYFLOAT", self.key_of(NUM_KEYS), f])
            }
            // Keys.
            26 | 27 => {
                let name = if self.chance(2) { "DEL" } else { "UNLINK" };
                let mut a = c![name, self.key()];
                if self.chance(3) {
                    a.push(self.key());
                }
                any(a)
            }
            28 => any(c!["RENAME", self.key(), self.key()]),
            29 => any(c!["RENAMENX", self.key(), self.key()]),
            30 | 31 => {
                let mut a = c!["COPY", self.key(), self.key()];
                if self.chance(2) {
                    a.extend(c!["DB", self.other_db()]);
                }
                if self.chance(2) {
                    a.push(b"REPLACE".to_vec());
                }
                any(a)
            }
            32 => any(c!["MOVE", self.key(), self.other_db()]),
            33 => {
                if self.chance(4) {
                    any(c!["SWAPDB", self.other_db(), self.other_db()])
                } else {
                    any(c!["PING"])
                }
            }
            34 => {
                if self.chance(40) {
                    any(c!["FLUSHDB"])
                } else {
                    any(c!["EXISTS", self.key(), self.key()])
                }
            }
            // Expiry.
            35..=40 => {
                let k = self.key();
                let (name, t) = match self.rng.below(10) {
                    0 | 1 => ("PEXPIRE", self.short_ms()),
                    2 => ("EXPIRE", self.long_s()),
                    3 => ("PEXPIRE", self.long_ms()),
                    4 => ("EXPIREAT", now / 1000 + self.long_s()),
                    5 => ("PEXPIREAT", now + self.short_ms()),
                    6 => ("PEXPIREAT", now + self.long_ms()),
                    7 => ("EXPIRE", -(self.rng.below(100) as i64)),
                    8 => ("EXPIREAT", self.rng.range(1, 1_000_000) as i64),
                    _ => ("PEXPIREAT", now - self.rng.range(1, 100_000) as i64),
                };
                let mut a = c![name, k, t];
                a.extend(self.expire_flag());
                any(a)
            }
            41 | 42 => any(c!["PERSIST", self.key()]),
            // Collections.
            43..=46 => {
                let name = if self.chance(2) { "LPUSH" } else { "RPUSH" };
                let mut a = c![name, self.key_of(LIST_KEYS)];
                for _ in 0..self.rng.range(1, 4) {
                    a.push(self.value());
                }
                any(a)
            }
            47..=49 => {
                let mut a = c!["SADD", self.key_of(SET_KEYS)];
                for _ in 0..self.rng.range(1, 4) {
                    a.push(self.small());
                }
                any(a)
            }
            50..=52 => {
                let mut a = c!["HSET", self.key_of(HASH_KEYS)];
                for _ in 0..self.rng.range(1, 3) {
                    a.push(self.small());
                    a.push(self.value());
                }
                any(a)
            }
            53..=57 => {
                let mut a = c!["ZADD", self.key_of(ZSET_KEYS)];
                for flag in ["NX", "XX", "GT", "LT", "CH", "INCR"] {
                    if self.chance(6) {
                        a.push(flag.arg());
                    }
                }
                let pairs = if self.chance(5) { 2 } else { 1 };
                for _ in 0..pairs {
                    a.push(self.score());
                    a.push(self.small());
                }
                any(a)
            }
            // Reads (they expire keys lazily, which must reach the AOF as deletions).
            _ => {
                let k = self.key();
                any(match self.rng.below(6) {
                    0 => c!["GET", k],
                    1 => c!["MGET", k, self.key()],
                    2 => c!["PTTL", k],
                    3 => c!["TYPE", k],
                    4 => c!["STRLEN", k],
                    _ => c!["GETRANGE", k, 0i64, -1i64],
                })
            }
        }
    }

    /// A few commands that must fail (sometimes after a setup that must succeed).
    fn failing_scenario(&mut self) -> Vec<Step> {
        let k = self.key();
        let n = self.pick(NUM_KEYS).to_vec();
        let db = self.db;
        match self.rng.below(14) {
            // Integer overflow, both ways; the value stays as it was.
            0 => vec![
                is(c!["SET", &n, "9223372036854775800"], ok()),
                err(c!["INCRBY", &n, 100i64]),
                err(c!["DECRBY", &n, -100i64]),
                is(c!["INCRBY", &n, 7i64], Reply::Int(i64::MAX)),
                err(c!["INCR", &n]),
            ],
            1 => vec![
                is(c!["SET", &n, "-9223372036854775800"], ok()),
                err(c!["DECRBY", &n, 100i64]),
                err(c!["INCRBY", &n, -100i64]),
                err(c!["DECRBY", &n, "-9223372036854775808"]),
            ],
            // Float overflow to infinity, and a non-number.
            2 => vec![
                // Past even the long double range INCRBYFLOAT computes in.
                is(c!["SET", &n, "1.1e4932"], ok()),
                err(c!["INCRBYFLOAT", &n, "1.1e4932"]),
                err(c!["INCRBYFLOAT", &n, "inf"]),
                is(c!["SET", &n, "abc"], ok()),
                err(c!["INCRBYFLOAT", &n, "1"]),
                err(c!["INCR", &n]),
            ],
            // Wrong type: a list, then a string.
            3 => {
                let mut v = vec![
                    any(c!["DEL", &k]),
                    is(c!["RPUSH", &k, "a", "b"], Reply::Int(2)),
                ];
                for a in [
                    c!["INCR", &k],
                    c!["APPEND", &k, "x"],
                    c!["SADD", &k, "m"],
                    c!["HSET", &k, "f", "v"],
                    c!["ZADD", &k, "1", "m"],
                    c!["GET", &k],
                    c!["SETRANGE", &k, 0i64, "x"],
                    c!["GETEX", &k, "PERSIST"],
                    c!["INCRBYFLOAT", &k, "1"],
                    c!["SET", &k, "v", "GET"],
                    c!["GETDEL", &k],
                ] {
                    if self.chance(3) {
                        v.push(err(a));
                    }
                }
                v
            }
            4 => {
                let mut v = vec![is(c!["SET", &k, "v"], ok())];
                for a in [
                    c!["LPUSH", &k, "a"],
                    c!["SADD", &k, "m"],
                    c!["HSET", &k, "f", "v"],
                    c!["ZADD", &k, "INCR", "1", "m"],
                    c!["LLEN", &k],
                    c!["ZCARD", &k],
                ] {
                    if self.chance(2) {
                        v.push(err(a));
                    }
                }
                v
            }
            // Syntax errors and bad numbers.
            5..=7 => {
                let all = [
                    c!["SET", &k, "v", "EX", "10", "PX", "10"],
                    c!["SET", &k, "v", "NX", "XX"],
                    c!["SET", &k, "v", "KEEPTTL", "EX", "5"],
                    c!["SET", &k, "v", "EX", "0"],
                    c!["SET", &k, "v", "EX", "-1"],
                    c!["SET", &k, "v", "PX", "abc"],
                    c!["SET", &k, "v", "FOO"],
                    c!["SET", &k, "v", "EX"],
                    c!["GETEX", &k, "EX", "10", "PERSIST"],
                    c!["GETEX", &k, "FOO"],
                    c!["SETEX", &k, "0", "v"],
                    c!["PSETEX", &k, "-5", "v"],
                    c!["SETEX", &k, "abc", "v"],
                    c!["EXPIRE", &k, "10", "NX", "XX"],
                    c!["EXPIRE", &k, "10", "GT", "LT"],
                    c!["PEXPIRE", &k, "10", "NX", "GT"],
                    c!["EXPIRE", &k, "10", "BAR"],
                    c!["EXPIRE", &k, "abc"],
                    c!["EXPIRE", &k, "9223372036854775807"],
                    c!["PEXPIRE", &k, "9223372036854775807", "XX", "LT"],
                    c!["ZADD", &k, "NX", "XX", "1", "m"],
                    c!["ZADD", &k, "GT", "LT", "1", "m"],
                    c!["ZADD", &k, "NX", "GT", "1", "m"],
                    c!["ZADD", &k, "INCR", "1", "a", "2", "b"],
                    c!["ZADD", &k, "abc", "m"],
                    c!["ZADD", &k, "nan", "m"],
                    c!["ZADD", &k, "1", "m", "2"],
                    c!["HSET", &k, "f", "v", "f2"],
                    c!["COPY", &k, "other", "DB"],
                    c!["COPY", &k, "other", "FOO"],
                    c!["COPY", &k, "other", "DB", "abc"],
                    c!["COPY", &k, &k],
                    c!["INCRBY", &k, "abc"],
                    c!["INCRBYFLOAT", &k, "abc"],
                    c!["DECRBY", &k, "1.5"],
                    c!["SETRANGE", &k, "-1", "x"],
                    c!["SETRANGE", &k, "536870912", "x"],
                    c!["SETRANGE", &k, "4294967296", "xyz"],
                    c!["GETRANGE", &k, "a", "b"],
                    c!["MSET", "a", "1", "b"],
                    c!["MSETNX", "a"],
                    c!["MOVE", &k, db],
                    c!["RENAME", format!("missing:{}", self.seq), &k],
                    c!["RENAMENX", format!("missing:{}", self.seq), &k],
                ];
                let mut v = Vec::new();
                for _ in 0..self.rng.range(1, 4) {
                    let i = self.rng.below(all.len() as u64) as usize;
                    v.push(err(all[i].clone()));
                }
                v
            }
            // Out-of-range databases.
            8 | 9 => {
                let all = [
                    c!["SELECT", "16"],
                    c!["SELECT", "-1"],
                    c!["SELECT", "abc"],
                    c!["MOVE", &k, "16"],
                    c!["MOVE", &k, "-1"],
                    c!["COPY", &k, "other", "DB", "16"],
                    c!["SWAPDB", "0", "16"],
                    c!["SWAPDB", "abc", "0"],
                    c!["SWAPDB", "-1", "0"],
                ];
                let i = self.rng.below(all.len() as u64) as usize;
                vec![err(all[i].clone())]
            }
            // Wrong arity.
            10 | 11 => {
                let all = [
                    c!["GET"],
                    c!["SET", &k],
                    c!["INCR"],
                    c!["INCRBY", &k],
                    c!["MSET"],
                    c!["LPUSH", &k],
                    c!["SADD", &k],
                    c!["HSET", &k, "f"],
                    c!["ZADD", &k, "1"],
                    c!["EXPIRE", &k],
                    c!["RENAME", &k],
                    c!["GETEX"],
                    c!["SETRANGE", &k, "0"],
                    c!["APPEND", &k],
                    c!["SELECT"],
                    c!["DEL"],
                    c!["COPY", &k],
                    c!["SWAPDB", "0"],
                    c!["PERSIST"],
                ];
                let i = self.rng.below(all.len() as u64) as usize;
                vec![err(all[i].clone())]
            }
            // Unknown commands.
            _ => {
                let all = [c!["NOSUCHCMD"], c!["XYZZY", &k, "1"], c!["SETT", &k, "v"]];
                let i = self.rng.below(all.len() as u64) as usize;
                vec![err(all[i].clone())]
            }
        }
    }
}

/// The NaN case: a ZADD INCR that fails because inf + -inf is not a number.
fn nan_steps() -> Vec<Step> {
    vec![
        any(c!["DEL", "z"]),
        is(c!["ZADD", "z", "inf", "m"], Reply::Int(1)),
        Step {
            args: c!["ZADD", "z", "INCR", "-inf", "m"],
            expect: Expect::ErrContaining("NaN"),
        },
    ]
}

/// A command in one line (long arguments cut).
fn show_cmd(args: &[Vec<u8>]) -> String {
    args.iter()
        .map(|a| {
            if a.len() > 40 {
                format!("{}...({} bytes)", show(&a[..32]), a.len())
            } else {
                show(a)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A reply in one short line (long bulk strings cut).
fn brief(r: &Reply) -> String {
    match r {
        Reply::Bulk(b) if b.len() > 48 => format!("{}... ({} bytes)", quote(&b[..40]), b.len()),
        Reply::Bulk(b) => quote(b),
        other => format!("{other:?}"),
    }
}

fn matches(expect: &Expect, r: &Reply) -> bool {
    match expect {
        Expect::Any => true,
        Expect::Err => matches!(r, Reply::Error(_)),
        Expect::ErrContaining(s) => matches!(r, Reply::Error(e) if e.contains(s)),
        Expect::Is(want) => r == want,
    }
}

/// One command sent and the reply the client got.
struct Sent {
    db: u64,
    args: Vec<Vec<u8>>,
    reply: Reply,
}

/// The last commands that name `key` (in any database: MOVE carries keys across), with the
/// SWAPDBs and FLUSHDBs that succeeded.
fn history(log: &[Sent], key: &[u8], max: usize) -> String {
    let hits: Vec<String> = log
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.args.iter().skip(1).any(|a| a == key)
                || ((s.args[0] == b"SWAPDB" || s.args[0] == b"FLUSHDB")
                    && !matches!(s.reply, Reply::Error(_)))
        })
        .map(|(i, s)| {
            format!(
                "    #{i} db {}: {} -> {}",
                s.db,
                show_cmd(&s.args),
                brief(&s.reply)
            )
        })
        .collect();
    hits[hits.len().saturating_sub(max)..].join("\n")
}

fn aof_size(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("appendonly.aof"))
        .map(|m| m.len())
        .unwrap_or(0)
}

fn counts(d: &RawDump) -> String {
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    for e in d.values() {
        *kinds.entry(e.kind.as_str()).or_default() += 1;
    }
    let ttl = d.values().filter(|e| e.expire_at.is_some()).count();
    format!("{} keys {kinds:?}, {ttl} with a TTL", d.len())
}

fn info_stat(c: &mut RawClient, field: &str) -> Option<i64> {
    let Reply::Bulk(b) = c.call(&["INFO", "stats"]) else {
        return None;
    };
    String::from_utf8_lossy(&b)
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
}

/// Run one seed's workload, then dump, kill -9, restart, dump and compare. Err explains what
/// went wrong.
fn round_trip(seed: u64) -> Result<String, String> {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let mut server = raw::start(dir.path(), ALWAYS, &logs.path().join("first.log"))
        .unwrap_or_else(|f| panic!("seed {seed:#x}: first start failed: {f}"));
    let mut con = RawClient::connect(&server.addr());
    let mut gen = Gen {
        rng: Rng::new(seed),
        db: 0,
        seq: 0,
    };
    // The NaN case goes somewhere in the middle of every seed's workload.
    let nan_at = gen.rng.range(COMMANDS as u64 / 4, COMMANDS as u64 * 3 / 4) as usize;
    let mut log: Vec<Sent> = Vec::with_capacity(COMMANDS + 64);
    let mut nan_index = None;
    let mut pending: Vec<(u64, Step)> = Vec::new();
    let mut errors = 0usize;
    let mut wrong = Vec::new();
    while log.len() < COMMANDS {
        while pending.len() < BATCH && log.len() + pending.len() < COMMANDS {
            if nan_index.is_none() && log.len() + pending.len() >= nan_at {
                nan_index = Some(log.len() + pending.len() + 2);
                pending.extend(nan_steps().into_iter().map(|s| (gen.db, s)));
            }
            // A SELECT is the only step of its batch: all run in the db from before.
            let db = gen.db;
            for s in gen.next() {
                pending.push((db, s));
            }
        }
        let cmds: Vec<Vec<Vec<u8>>> = pending.iter().map(|(_, s)| s.args.clone()).collect();
        let replies = raw::pipeline(&mut con, &cmds).unwrap_or_else(|e| {
            panic!(
                "seed {seed:#x}: connection lost after {} commands: {e:?}\nserver output:\n{}",
                log.len(),
                server.log_text()
            )
        });
        for ((db, step), reply) in pending.drain(..).zip(replies) {
            if matches!(reply, Reply::Error(_)) {
                errors += 1;
            }
            if !matches(&step.expect, &reply) {
                wrong.push(format!(
                    "#{} db {db}: {} -> {}, expected {:?}",
                    log.len(),
                    show_cmd(&step.args),
                    brief(&reply),
                    step.expect
                ));
            }
            log.push(Sent {
                db,
                args: step.args,
                reply,
            });
        }
        // Let the few-ms TTLs run out now and then.
        if gen.chance(4) {
            std::thread::sleep(Duration::from_millis(gen.rng.range(1, 8)));
        }
    }
    let nan_index = nan_index.expect("the NaN case was sent");
    if !wrong.is_empty() {
        return Err(format!(
            "seed {seed:#x}: {} replies were not what the workload expects:\n  {}",
            wrong.len(),
            wrong.join("\n  ")
        ));
    }
    let expired = info_stat(&mut con, "expired_keys");
    let cov = raw::coverage(&mut con);
    let before = raw::dump(&mut con, cov);
    drop(con);
    for kind in ["string", "list", "set", "hash", "zset"] {
        assert!(
            before.values().any(|e| e.kind == kind),
            "seed {seed:#x}: the workload left no {kind}: {}",
            counts(&before)
        );
    }
    assert!(
        before.values().any(|e| e.expire_at.is_some()),
        "seed {seed:#x}: the workload left no key with a TTL"
    );
    assert!(
        errors * 5 > COMMANDS,
        "seed {seed:#x}: only {errors} of {COMMANDS} commands failed"
    );
    let workload_time = started.elapsed();

    server.kill9();
    let size = aof_size(dir.path());
    let restarted: RawProc = match raw::start(dir.path(), ALWAYS, &logs.path().join("second.log")) {
        Ok(p) => p,
        Err(f) => {
            return Err(format!(
                "seed {seed:#x}: after kill -9, ferrokv FAILED TO RESTART from its AOF \
                 ({size} bytes, {COMMANDS} commands sent, {errors} of them failed; the NaN \
                 case `ZADD z INCR -inf m` was command #{nan_index} in db {}, replied {}).\n\
                 {f}",
                log[nan_index].db,
                brief(&log[nan_index].reply)
            ))
        }
    };
    let mut con = RawClient::connect(&restarted.addr());
    let after = raw::dump(&mut con, cov);
    let expired_by = now_ms() + 50;
    let diffs = raw::diff_across_restart(&before, &after, expired_by);
    if !diffs.is_empty() {
        let mut msg = format!(
            "seed {seed:#x}: the data after kill -9 and restart differs from the data before \
             ({} differences; before: {}; after: {}):\n",
            diffs.len(),
            counts(&before),
            counts(&after)
        );
        for d in diffs.iter().take(10) {
            msg.push_str(&format!("  {d}\n"));
        }
        // The history of the first differing keys.
        let mut shown: Vec<&[u8]> = Vec::new();
        for (db, k) in before.keys().chain(after.keys()) {
            let differs = diffs
                .iter()
                .any(|d| d.starts_with(&format!("db {db} key {}:", show(k))));
            if shown.len() == 3 || !differs || shown.contains(&&k[..]) {
                continue;
            }
            msg.push_str(&format!(
                "  last commands naming {} (and SWAPDB/FLUSHDB):\n{}\n",
                show(k),
                history(&log, k, 12)
            ));
            shown.push(k);
        }
        return Err(msg);
    }
    Ok(format!(
        "seed {seed:#x}: {COMMANDS} commands ({errors} failed, NaN case at #{nan_index}), \
         {} expired during the run, AOF {size} bytes; {}; collections read {cov:?}; \
         workload+dump {:.1}s, total {:.1}s",
        expired.map_or("?".into(), |n| n.to_string()),
        counts(&before),
        workload_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    ))
}

#[test]
fn a_seeded_random_workload_survives_kill_9_and_restart_from_the_aof_unchanged() {
    let mut failures = Vec::new();
    for &seed in SEEDS {
        match round_trip(seed) {
            Ok(summary) => eprintln!("{summary}"),
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "AOF round trip failed for {} of {} seeds:\n\n{}",
        failures.len(),
        SEEDS.len(),
        failures.join("\n\n")
    );
}

#[test]
fn a_zadd_incr_that_fails_with_nan_changes_nothing_and_the_data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let mut server = raw::start(dir.path(), ALWAYS, &logs.path().join("first.log"))
        .unwrap_or_else(|f| panic!("first start failed: {f}"));
    let mut con = RawClient::connect(&server.addr());
    assert_eq!(con.call(&["ZADD", "z", "inf", "m"]), Reply::Int(1));
    let failed = con.call(&["ZADD", "z", "INCR", "-inf", "m"]);
    assert!(
        matches!(&failed, Reply::Error(e) if e.contains("NaN")),
        "ZADD z INCR -inf m after ZADD z inf m: {failed:?}"
    );
    let cov = raw::coverage(&mut con);
    let before = raw::dump(&mut con, cov);
    let want = if cov.zset {
        raw::Contents::Items(vec![b"m=inf".to_vec()])
    } else {
        raw::Contents::Len(1)
    };
    assert_eq!(
        before
            .get(&(0, b"z".to_vec()))
            .map(|e| (&e.kind[..], &e.contents, e.expire_at)),
        Some(("zset", &want, None)),
        "before the restart: {before:?}"
    );
    assert_eq!(before.len(), 1, "before the restart: {before:?}");
    drop(con);
    server.kill9();
    let restarted =
        raw::start(dir.path(), ALWAYS, &logs.path().join("second.log")).unwrap_or_else(|f| {
            panic!(
                "after `ZADD z inf m` and the failed `ZADD z INCR -inf m` (replied {failed:?}), \
                 kill -9: ferrokv FAILED TO RESTART from its AOF ({} bytes). {f}",
                aof_size(dir.path())
            )
        });
    let mut con = RawClient::connect(&restarted.addr());
    let after = raw::dump(&mut con, cov);
    let diffs = raw::diff_across_restart(&before, &after, now_ms());
    assert!(
        diffs.is_empty(),
        "data differs after kill -9 and restart:\n{}",
        diffs.join("\n")
    );
}
