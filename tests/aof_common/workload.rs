//! The seeded random workload of `aof_roundtrip` (included there with `#[path]`; the other
//! `aof_*` tests do not use it): key pools, the `Step`s it sends with the reply each must get,
//! and the generator of string, key and expiry commands and of scenarios that must fail. The
//! collection commands and the transactions are in `workload_coll.rs`.

use crate::aof_common::{now_ms, Rng};
use crate::support::client::Reply;

/// Databases the workload SELECTs, MOVEs, COPYs and SWAPDBs between.
pub const WORK_DBS: u64 = 4;

/// The key pool: generic keys, keys each family prefers, and two awkward names.
pub const KEYS: &[&[u8]] = &[
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
pub const PLAIN_KEYS: &[&[u8]] = &[
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
pub const NUM_KEYS: &[&[u8]] = &[b"n0", b"n1", b"n2"];
pub const LIST_KEYS: &[&[u8]] = &[b"l0", b"l1"];
pub const SET_KEYS: &[&[u8]] = &[b"s0", b"s1"];
pub const HASH_KEYS: &[&[u8]] = &[b"h0", b"h1"];
pub const ZSET_KEYS: &[&[u8]] = &[b"z0", b"z1"];

/// Anything that can be one argument of a command.
pub trait Arg {
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
    ($($a:expr),* $(,)?) => { vec![$($crate::workload::Arg::arg($a)),*] };
}
pub(crate) use c;

/// What the reply to a step must be.
#[derive(Debug)]
pub enum Expect {
    Any,
    Err,
    ErrContaining(&'static str),
    Is(Reply),
    /// An array of that many replies (what EXEC of that many queued commands returns).
    ArrayOf(usize),
}

pub struct Step {
    pub args: Vec<Vec<u8>>,
    pub expect: Expect,
}

pub fn any(args: Vec<Vec<u8>>) -> Step {
    Step {
        args,
        expect: Expect::Any,
    }
}
pub fn err(args: Vec<Vec<u8>>) -> Step {
    Step {
        args,
        expect: Expect::Err,
    }
}
pub fn is(args: Vec<Vec<u8>>, r: Reply) -> Step {
    Step {
        args,
        expect: Expect::Is(r),
    }
}
pub fn ok() -> Reply {
    Reply::Status("OK".into())
}

/// The workload generator. It tracks the database the connection is in (SELECTs it emits
/// with a bad index fail and change nothing).
pub struct Gen {
    pub rng: Rng,
    pub db: u64,
    pub seq: u64,
}

impl Gen {
    pub fn pick<'a>(&mut self, from: &[&'a [u8]]) -> &'a [u8] {
        from[self.rng.below(from.len() as u64) as usize]
    }
    /// Any key, a plain one three times out of four (so the collections live a while).
    pub fn key(&mut self) -> Vec<u8> {
        if self.rng.below(4) == 0 {
            self.pick(KEYS).to_vec()
        } else {
            self.pick(PLAIN_KEYS).to_vec()
        }
    }
    /// A key of `pref` most of the time, else any key (wrong types happen that way too).
    pub fn key_of(&mut self, pref: &[&[u8]]) -> Vec<u8> {
        if self.rng.below(10) < 7 {
            self.pick(pref).to_vec()
        } else {
            self.key()
        }
    }
    pub fn chance(&mut self, n: u64) -> bool {
        self.rng.below(n) == 0
    }
    pub fn other_db(&mut self) -> u64 {
        self.rng.below(WORK_DBS)
    }
    pub fn value(&mut self) -> Vec<u8> {
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
    pub fn small(&mut self) -> Vec<u8> {
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
    pub fn score(&mut self) -> Vec<u8> {
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

    /// The next steps: usually one random command, sometimes a scenario of several, a
    /// MULTI block, or a blocking pop that surely finds data.
    pub fn next(&mut self) -> Vec<Step> {
        match self.rng.below(100) {
            0..=73 => vec![self.random_command()],
            74..=89 => self.failing_scenario(),
            90..=93 => self.transaction(),
            94..=97 => self.blocking_with_data(),
            _ => {
                let db = self.other_db();
                self.db = db;
                vec![is(c!["SELECT", db], ok())]
            }
        }
    }

    /// One command of any family, with arguments that may or may not make it fail.
    pub fn random_command(&mut self) -> Step {
        let now = now_ms();
        match self.rng.below(82) {
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
            // Collections, and moving them between keys and databases.
            43..=77 => self.collection_command(),
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
                    c!["LPOP", &k, "-1"],
                    c!["SPOP", &k, "-1"],
                    c!["ZPOPMIN", &k, "-1"],
                    c!["LINSERT", &k, "MIDDLE", "a", "b"],
                    c!["LMOVE", &k, &k, "UP", "LEFT"],
                    c!["LMPOP", "0", &k, "LEFT"],
                    c!["LMPOP", "1", &k, "LEFT", "COUNT", "0"],
                    c!["ZMPOP", "1", &k, "MIN", "COUNT", "-1"],
                    c!["BLPOP", &k, "-1"],
                    c!["BZPOPMIN", &k, "abc"],
                    c!["BLMPOP", "-1", "1", &k, "LEFT"],
                    c!["HINCRBY", &k, "f", "abc"],
                    c!["HINCRBYFLOAT", &k, "f", "nan"],
                    c!["ZINCRBY", &k, "abc", "m"],
                    c!["ZUNIONSTORE", &k, "0", "z0"],
                    c!["ZINTERSTORE", &k, "1", "z0", "WEIGHTS", "x"],
                    c!["ZUNIONSTORE", &k, "1", "z0", "AGGREGATE", "AVG"],
                    c!["ZRANGESTORE", &k, "z0", "0", "-1", "WITHSCORES"],
                    c!["ZREMRANGEBYSCORE", &k, "a", "b"],
                    c!["ZREMRANGEBYLEX", &k, "a", "b"],
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
                    c!["LMOVE", &k, &k, "LEFT"],
                    c!["LSET", &k, "0"],
                    c!["LINSERT", &k, "BEFORE", "a"],
                    c!["HINCRBY", &k, "f"],
                    c!["SMOVE", &k, &k],
                    c!["ZINCRBY", &k, "1"],
                    c!["BLPOP", &k],
                    c!["ZRANGESTORE", &k, &k, "0"],
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
pub fn nan_steps() -> Vec<Step> {
    vec![
        any(c!["DEL", "z"]),
        is(c!["ZADD", "z", "inf", "m"], Reply::Int(1)),
        Step {
            args: c!["ZADD", "z", "INCR", "-inf", "m"],
            expect: Expect::ErrContaining("NaN"),
        },
    ]
}
