//! The collection half of the `aof_roundtrip` workload (included there with `#[path]`, like
//! `workload.rs`): every write command of lists, hashes, sets and sorted sets, the blocking
//! ones with a 10 ms timeout (they pop when the key has data, else reply null) or right after
//! a push to their first key (then with timeout 0: they must pop at once), COPY, RENAME and
//! MOVE between keys of one collection family, and MULTI blocks that EXEC, abort with
//! EXECABORT after a command refused at queue time, or are DISCARDed.

use crate::support::client::Reply;
use crate::workload::{
    any, c, err, is, ok, Arg, Expect, Gen, Step, HASH_KEYS, LIST_KEYS, SET_KEYS, ZSET_KEYS,
};

/// The timeout of blocking commands that may find nothing: they reply null that soon.
const TINY: &str = "0.01";

/// Score ranges (`min max` in ascending order) for ZREMRANGEBYSCORE and ZRANGESTORE BYSCORE.
const SCORE_RANGES: &[(&str, &str)] = &[
    ("-inf", "+inf"),
    ("(0", "50"),
    ("-100", "(-50"),
    ("1.5", "1.5"),
    ("(1e10", "+inf"),
    ("-inf", "(-2.25"),
    ("10", "5"),
];
/// Lex ranges for ZREMRANGEBYLEX and ZRANGESTORE BYLEX.
const LEX_RANGES: &[(&str, &str)] = &[
    ("-", "+"),
    ("[m2", "(m6"),
    ("(m1", "+"),
    ("-", "[m4"),
    ("[m5", "[m3"),
];

impl Gen {
    fn side(&mut self) -> &'static str {
        if self.chance(2) {
            "LEFT"
        } else {
            "RIGHT"
        }
    }
    fn min_max(&mut self) -> &'static str {
        if self.chance(2) {
            "MIN"
        } else {
            "MAX"
        }
    }
    /// Uniform in `lo..=hi`.
    fn int_in(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.rng.below((hi - lo + 1) as u64) as i64
    }
    fn one_of(&mut self, from: &[&'static str]) -> &'static str {
        from[self.rng.below(from.len() as u64) as usize]
    }
    /// A list element: often a short one of a few (that LREM and LINSERT then find).
    fn elem(&mut self) -> Vec<u8> {
        if self.chance(2) {
            self.small()
        } else {
            self.value()
        }
    }
    /// A set member: a short name, or a small integer (all-integer sets are encoded apart).
    fn member(&mut self) -> Vec<u8> {
        if self.chance(3) {
            self.int_in(-3, 12).arg()
        } else {
            self.small()
        }
    }
    /// A hash field: a short name or one of three counters (for HINCRBY and HINCRBYFLOAT).
    fn field(&mut self) -> Vec<u8> {
        if self.chance(3) {
            format!("c{}", self.rng.below(3)).into_bytes()
        } else {
            self.small()
        }
    }
    /// 1–3 keys of `pref`, preceded by their number when `counted` (LMPOP and the like).
    fn keys_of(&mut self, pref: &[&[u8]], counted: bool) -> Vec<Vec<u8>> {
        let n = self.rng.range(1, 4);
        let mut v = if counted { c![n] } else { vec![] };
        for _ in 0..n {
            v.push(self.key_of(pref));
        }
        v
    }
    /// `COUNT n` half of the time.
    fn opt_count(&mut self) -> Vec<Vec<u8>> {
        if self.chance(2) {
            c!["COUNT", self.rng.range(1, 5)]
        } else {
            vec![]
        }
    }
    fn score_range(&mut self) -> (&'static str, &'static str) {
        SCORE_RANGES[self.rng.below(SCORE_RANGES.len() as u64) as usize]
    }
    fn lex_range(&mut self) -> (&'static str, &'static str) {
        LEX_RANGES[self.rng.below(LEX_RANGES.len() as u64) as usize]
    }

    /// One write command of a collection family (or a key command on collection keys).
    pub fn collection_command(&mut self) -> Step {
        match self.rng.below(30) {
            0..=8 => self.list_command(),
            9..=13 => self.hash_command(),
            14..=19 => self.set_command(),
            20..=27 => self.zset_command(),
            _ => self.collection_key_command(),
        }
    }

    fn list_command(&mut self) -> Step {
        let k = self.key_of(LIST_KEYS);
        let l = LIST_KEYS;
        any(match self.rng.below(22) {
            0..=7 => {
                let name = self.one_of(&["LPUSH", "RPUSH", "LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]);
                let mut a = c![name, k];
                for _ in 0..self.rng.range(1, 4) {
                    a.push(self.elem());
                }
                a
            }
            8 | 9 => {
                let mut a = c![self.one_of(&["LPOP", "RPOP"]), k];
                if self.chance(2) {
                    a.push(self.rng.below(4).arg());
                }
                a
            }
            10 => c!["LSET", k, self.int_in(-3, 3), self.elem()],
            11 => c!["LREM", k, self.int_in(-2, 2), self.small()],
            12 => c!["LTRIM", k, self.int_in(-6, 1), self.int_in(-2, 8)],
            13 => {
                let at = self.one_of(&["BEFORE", "AFTER"]);
                c!["LINSERT", k, at, self.small(), self.elem()]
            }
            14 | 15 => c!["LMOVE", k, self.key_of(l), self.side(), self.side()],
            16 => c!["RPOPLPUSH", k, self.key_of(l)],
            17 => {
                let mut a = c!["LMPOP"];
                a.extend(self.keys_of(l, true));
                a.push(self.side().arg());
                a.extend(self.opt_count());
                a
            }
            18 => {
                let mut a = c![self.one_of(&["BLPOP", "BRPOP"])];
                a.extend(self.keys_of(l, false));
                a.push(TINY.arg());
                a
            }
            19 => c!["BLMOVE", k, self.key_of(l), self.side(), self.side(), TINY],
            20 => c!["BRPOPLPUSH", k, self.key_of(l), TINY],
            _ => {
                let mut a = c!["BLMPOP", TINY];
                a.extend(self.keys_of(l, true));
                a.push(self.side().arg());
                a.extend(self.opt_count());
                a
            }
        })
    }

    fn hash_command(&mut self) -> Step {
        let k = self.key_of(HASH_KEYS);
        any(match self.rng.below(12) {
            0..=3 => {
                let mut a = c![if self.chance(3) { "HMSET" } else { "HSET" }, k];
                for _ in 0..self.rng.range(1, 3) {
                    a.push(self.field());
                    a.push(self.value());
                }
                a
            }
            4 => c!["HSETNX", k, self.field(), self.value()],
            5 | 6 => {
                let mut a = c!["HDEL", k, self.field()];
                if self.chance(3) {
                    a.push(self.field());
                }
                a
            }
            7 | 8 => {
                let by = if self.chance(10) {
                    i64::MAX
                } else {
                    self.int_in(-1000, 1000)
                };
                c!["HINCRBY", k, self.field(), by]
            }
            _ => {
                let by = ["0.5", "-1.25", "3e2", "1e-3", "7", "-0.1", "1.7e308"];
                c!["HINCRBYFLOAT", k, self.field(), self.one_of(&by)]
            }
        })
    }

    fn set_command(&mut self) -> Step {
        let k = self.key_of(SET_KEYS);
        any(match self.rng.below(15) {
            0..=4 => {
                let mut a = c!["SADD", k];
                for _ in 0..self.rng.range(1, 4) {
                    a.push(self.member());
                }
                a
            }
            5 | 6 => {
                let mut a = c!["SREM", k];
                for _ in 0..self.rng.range(1, 3) {
                    a.push(self.member());
                }
                a
            }
            7 | 8 => {
                let mut a = c!["SPOP", k];
                if self.chance(2) {
                    a.push(self.rng.below(5).arg());
                }
                a
            }
            9 | 10 => c!["SMOVE", k, self.key_of(SET_KEYS), self.member()],
            _ => {
                let name =
                    self.one_of(&["SINTERSTORE", "SUNIONSTORE", "SUNIONSTORE", "SDIFFSTORE"]);
                let mut a = c![name, k];
                a.extend(self.keys_of(SET_KEYS, false));
                a
            }
        })
    }

    fn zset_command(&mut self) -> Step {
        let k = self.key_of(ZSET_KEYS);
        let z = ZSET_KEYS;
        any(match self.rng.below(24) {
            0..=5 => {
                let mut a = c!["ZADD", k];
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
                a
            }
            6 | 7 => c!["ZINCRBY", k, self.score(), self.small()],
            8 => {
                let mut a = c!["ZREM", k, self.small()];
                if self.chance(2) {
                    a.push(self.small());
                }
                a
            }
            9 | 10 => {
                let mut a = c![self.one_of(&["ZPOPMIN", "ZPOPMAX"]), k];
                if self.chance(2) {
                    a.push(self.rng.below(4).arg());
                }
                a
            }
            11 => {
                let mut a = c!["ZMPOP"];
                a.extend(self.keys_of(z, true));
                a.push(self.min_max().arg());
                a.extend(self.opt_count());
                a
            }
            12 => {
                let mut a = c![self.one_of(&["BZPOPMIN", "BZPOPMAX"])];
                a.extend(self.keys_of(z, false));
                a.push(TINY.arg());
                a
            }
            13 => {
                let mut a = c!["BZMPOP", TINY];
                a.extend(self.keys_of(z, true));
                a.push(self.min_max().arg());
                a.extend(self.opt_count());
                a
            }
            14 => {
                let (min, max) = self.score_range();
                c!["ZREMRANGEBYSCORE", k, min, max]
            }
            15 => c!["ZREMRANGEBYRANK", k, self.int_in(-3, 1), self.int_in(-3, 3)],
            16 => {
                let (min, max) = self.lex_range();
                c!["ZREMRANGEBYLEX", k, min, max]
            }
            17..=19 => self.zstore(k),
            _ => self.zrangestore(k),
        })
    }

    /// ZUNIONSTORE, ZINTERSTORE (sets are valid inputs too, with score 1) or ZDIFFSTORE.
    fn zstore(&mut self, dst: Vec<u8>) -> Vec<Vec<u8>> {
        let name = self.one_of(&["ZUNIONSTORE", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]);
        let n = self.rng.range(1, 4);
        let mut a = c![name, dst, n];
        for _ in 0..n {
            let src = if self.chance(5) {
                self.pick(SET_KEYS).to_vec()
            } else {
                self.key_of(ZSET_KEYS)
            };
            a.push(src);
        }
        if name != "ZDIFFSTORE" {
            if self.chance(3) {
                a.push("WEIGHTS".arg());
                for _ in 0..n {
                    a.push(self.one_of(&["1", "2", "0", "-1", "1.5", "inf"]).arg());
                }
            }
            if self.chance(3) {
                a.extend(c!["AGGREGATE", self.one_of(&["SUM", "MIN", "MAX"])]);
            }
        }
        a
    }

    /// ZRANGESTORE by rank, score or lex, maybe reversed, maybe with LIMIT.
    fn zrangestore(&mut self, dst: Vec<u8>) -> Vec<Vec<u8>> {
        let mut a = c!["ZRANGESTORE", dst, self.key_of(ZSET_KEYS)];
        let rev = self.chance(3);
        let (lo, hi, by) = match self.rng.below(3) {
            0 => {
                a.extend(c![self.int_in(-3, 1), self.int_in(-2, 4)]);
                if rev {
                    a.push("REV".arg());
                }
                return a;
            }
            1 => {
                let (lo, hi) = self.score_range();
                (lo, hi, "BYSCORE")
            }
            _ => {
                let (lo, hi) = self.lex_range();
                (lo, hi, "BYLEX")
            }
        };
        if rev {
            a.extend(c![hi, lo, by, "REV"]);
        } else {
            a.extend(c![lo, hi, by]);
        }
        if self.chance(3) {
            a.extend(c!["LIMIT", self.int_in(0, 2), self.int_in(-1, 3)]);
        }
        a
    }

    /// RENAME, RENAMENX, COPY or MOVE between keys of one collection family, or DEL of one.
    fn collection_key_command(&mut self) -> Step {
        let pool = [LIST_KEYS, SET_KEYS, HASH_KEYS, ZSET_KEYS][self.rng.below(4) as usize];
        let src = self.pick(pool).to_vec();
        let dst = self.pick(pool).to_vec();
        any(match self.rng.below(6) {
            0 => c!["RENAME", src, dst],
            1 => c!["RENAMENX", src, dst],
            // Clears the key for its family when another type took it.
            2 => c!["DEL", src],
            3 | 4 => {
                let mut a = c!["COPY", src, dst];
                if self.chance(2) {
                    a.extend(c!["DB", self.other_db()]);
                }
                if self.chance(2) {
                    a.push("REPLACE".arg());
                }
                a
            }
            _ => c!["MOVE", src, self.other_db()],
        })
    }

    /// A blocking pop with timeout 0 right after a push to its first key, which then surely
    /// has data: it must pop at once (or reply WRONGTYPE), never wait. PERSIST comes first, so
    /// that the key cannot expire in between.
    pub fn blocking_with_data(&mut self) -> Vec<Step> {
        let list = self.chance(2);
        let k = self.key_of(if list { LIST_KEYS } else { ZSET_KEYS });
        let other = self.key_of(if list { LIST_KEYS } else { ZSET_KEYS });
        let mut push = c![if list { "RPUSH" } else { "ZADD" }, &k];
        for _ in 0..self.rng.range(1, 4) {
            if list {
                push.push(self.elem());
            } else {
                push.push(self.score());
                push.push(self.small());
            }
        }
        let mut pop = match (list, self.rng.below(5)) {
            (true, 0) => c!["BLPOP", &k, other, "0"],
            (true, 1) => c!["BRPOP", &k, other, "0"],
            (true, 2) => c!["BLMOVE", &k, other, self.side(), self.side(), "0"],
            (true, 3) => c!["BRPOPLPUSH", &k, other, "0"],
            (true, _) => c!["BLMPOP", "0", 2u64, &k, other, self.side()],
            (false, 0 | 1) => c!["BZPOPMIN", &k, other, "0"],
            (false, 2 | 3) => c!["BZPOPMAX", &k, other, "0"],
            (false, _) => c!["BZMPOP", "0", 2u64, &k, other, self.min_max()],
        };
        if pop[0].ends_with(b"MPOP") {
            pop.extend(self.opt_count());
        }
        vec![any(c!["PERSIST", &k]), any(push), any(pop)]
    }

    /// MULTI, 2–5 random commands, then EXEC (which must reply one result per command).
    /// Sometimes a command refused at queue time (unknown, or wrong arity) is among them: EXEC
    /// then replies EXECABORT and nothing applies. Sometimes DISCARD instead of EXEC.
    pub fn transaction(&mut self) -> Vec<Step> {
        let n = self.rng.range(2, 6) as usize;
        let mut v = vec![is(c!["MULTI"], ok())];
        for _ in 0..n {
            let cmd = self.random_command().args;
            v.push(is(cmd, Reply::Status("QUEUED".into())));
        }
        match self.rng.below(6) {
            0 | 1 => {
                let k = self.key();
                let bad = match self.rng.below(5) {
                    0 => c!["NOSUCHCMD", k],
                    1 => c!["LPUSH", k],
                    2 => c!["ZADD", k, "1"],
                    3 => c!["HSET", k, "f"],
                    _ => c!["SMOVE", k, "s0"],
                };
                let at = 1 + self.rng.below(n as u64 + 1) as usize;
                v.insert(at, err(bad));
                v.push(Step {
                    args: c!["EXEC"],
                    expect: Expect::ErrContaining("EXECABORT"),
                });
            }
            2 => v.push(is(c!["DISCARD"], ok())),
            _ => v.push(Step {
                args: c!["EXEC"],
                expect: Expect::ArrayOf(n),
            }),
        }
        v
    }
}
