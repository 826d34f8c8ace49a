//! The command table's types: a [`Cmd`] per command (name, arity, flags, key specs, lock
//! scope, handler) and the [`Registry`] that indexes a table. The rows themselves live with
//! their families in `command`.
//!
//! # Key specs
//! As in Redis 7, a command names its keys with specs: where the search begins (an argument
//! index, or the argument after a keyword such as `STREAMS`) and how keys are found from
//! there (a range with a step, or a count read from a `numkeys` argument). The dispatcher
//! locks the shards of exactly these keys before the handler runs, so a spec that misses a
//! key the handler touches is a bug the tests catch (the view refuses unlocked keys).

use super::ctx::{Ctx, Outcome};
use bytes::Bytes;
use std::collections::HashMap;

/// Command flags (Redis's names, shown by `COMMAND INFO`).
pub mod flags {
    /// May modify the keyspace.
    pub const WRITE: u32 = 1;
    /// Never modifies the keyspace.
    pub const READONLY: u32 = 1 << 1;
    /// May grow memory use: refused with `-OOM` when over `maxmemory` under `noeviction`.
    pub const DENYOOM: u32 = 1 << 2;
    /// Administrative.
    pub const ADMIN: u32 = 1 << 3;
    /// Constant or logarithmic time.
    pub const FAST: u32 = 1 << 4;
    /// Allowed before `AUTH`.
    pub const NO_AUTH: u32 = 1 << 5;
    pub const NOSCRIPT: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const PUBSUB: u32 = 1 << 9;
    pub const BLOCKING: u32 = 1 << 10;
    /// Not allowed inside `MULTI` (Redis's `no-multi`).
    pub const NO_MULTI: u32 = 1 << 12;
    /// Key positions depend on the arguments (a `numkeys` or keyword spec).
    pub const MOVABLEKEYS: u32 = 1 << 13;
    /// Not a write, but propagated (PUBLISH): paused by `CLIENT PAUSE WRITE`.
    pub const MAY_REPLICATE: u32 = 1 << 14;
    /// Served while a script is busy (past busy-reply-threshold); others get `-BUSY`.
    pub const ALLOW_BUSY: u32 = 1 << 15;
    /// Runs a Lua script or function (EVAL…, FCALL…): the server runs it off the
    /// connection's thread, so the thread keeps serving others if the script turns busy.
    /// Internal: not one of Redis's flags, so `COMMAND INFO` does not show it.
    pub const SCRIPT: u32 = 1 << 16;

    /// Shown by `COMMAND INFO` only, as Redis shows them (nothing here depends on them).
    pub const NO_MANDATORY_KEYS: u32 = 1 << 17;
    pub const NO_ASYNC_LOADING: u32 = 1 << 18;
    pub const SKIP_MONITOR: u32 = 1 << 19;
    pub const SKIP_SLOWLOG: u32 = 1 << 20;
    pub const ASKING: u32 = 1 << 21;

    /// The flags `COMMAND INFO` shows, in Redis's order. As in Redis, `may_replicate` and
    /// `sentinel` are not shown.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLEKEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

pub type Handler = fn(&mut Ctx, &[Bytes]) -> Outcome;

/// Where a key spec's search begins.
#[derive(Clone, Copy, Debug)]
pub enum Begin {
    /// At this argument index.
    Index(u16),
    /// Just after the first argument equal to the keyword (case-insensitive), searching from
    /// `from` (negative: from the end, backwards).
    Keyword { word: &'static str, from: i16 },
}

/// How keys are found from where the search began.
#[derive(Clone, Copy, Debug)]
pub enum Find {
    /// Keys from the beginning up to `last` (relative to it; negative counts from the end of
    /// the arguments, -1 being the last), every `step`-th argument. `limit` > 1 keeps only the
    /// first 1/limit of the range (XREAD: keys, then as many IDs).
    Range { last: i16, step: u16, limit: u16 },
    /// The number of keys is the argument at `num` (relative to the beginning); keys start at
    /// `first` (relative to it), every `step`-th argument.
    KeyNum { num: u16, first: u16, step: u16 },
}

#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    pub begin: Begin,
    pub find: Find,
}

impl KeySpec {
    /// Keys from `first` to `last` (Redis's legacy triple; last negative from the end).
    pub const fn range(first: u16, last: i16, step: u16) -> KeySpec {
        let rel = if last < 0 { last } else { last - first as i16 };
        KeySpec {
            begin: Begin::Index(first),
            find: Find::Range {
                last: rel,
                step,
                limit: 0,
            },
        }
    }
    /// `numkeys` at argument `at`, keys right after it.
    pub const fn numkeys(at: u16) -> KeySpec {
        KeySpec {
            begin: Begin::Index(at),
            find: Find::KeyNum {
                num: 0,
                first: 1,
                step: 1,
            },
        }
    }
    /// The keys after `word` up to the end, the first 1/`limit` of them.
    pub const fn keyword(word: &'static str, from: i16, limit: u16) -> KeySpec {
        KeySpec {
            begin: Begin::Keyword { word, from },
            find: Find::Range {
                last: -1,
                step: 1,
                limit,
            },
        }
    }

    /// Push the arguments this spec selects in `args` (`args[0]` is the command name).
    /// Malformed numbers select nothing: the handler reports the error.
    /// Whether a key-count spec's count fits the arguments, as Redis's `getKeysUsingKeySpecs`
    /// requires before it lists any key (`COMMAND GETKEYS` lists none otherwise): the count a
    /// non-negative integer, and its keys, at least one, all present. Other specs are valid.
    pub fn count_fits(&self, args: &[Bytes]) -> bool {
        let Find::KeyNum { num, first, .. } = self.find else {
            return true;
        };
        let Begin::Index(start) = self.begin else {
            return true;
        };
        let n = args.len() as i64;
        let at = start as i64 + num as i64;
        let Some(count) = args
            .get(at as usize)
            .and_then(|a| crate::num::parse_i64(a))
            .filter(|c| *c >= 0)
        else {
            return false;
        };
        let first = start as i64 + first as i64;
        let last = first + count - 1;
        !(last >= n || last < first || first >= n)
    }

    pub fn collect<'a>(&self, args: &'a [Bytes], out: &mut Vec<&'a Bytes>) {
        self.each(args, |k| out.push(k));
    }

    /// Call `f` with each argument this spec selects.
    pub fn each<'a>(&self, args: &'a [Bytes], mut f: impl FnMut(&'a Bytes)) {
        let n = args.len() as i64;
        let start = match self.begin {
            Begin::Index(i) => i as i64,
            Begin::Keyword { word, from } => {
                let hit = if from >= 0 {
                    (from as i64..n)
                        .find(|&i| args[i as usize].eq_ignore_ascii_case(word.as_bytes()))
                } else {
                    (1..=(n + from as i64))
                        .rev()
                        .find(|&i| args[i as usize].eq_ignore_ascii_case(word.as_bytes()))
                };
                match hit {
                    Some(i) => i + 1,
                    None => return,
                }
            }
        };
        if start >= n {
            return;
        }
        match self.find {
            Find::Range { last, step, limit } => {
                let mut end = if last < 0 {
                    n + last as i64
                } else {
                    start + last as i64
                };
                end = end.min(n - 1);
                if limit > 1 {
                    let count = end - start + 1;
                    end = start + count / limit as i64 - 1;
                }
                let mut i = start;
                while i <= end {
                    f(&args[i as usize]);
                    i += step.max(1) as i64;
                }
            }
            Find::KeyNum { num, first, step } => {
                let at = start + num as i64;
                if at >= n {
                    return;
                }
                let Some(count) = crate::num::parse_i64(&args[at as usize]) else {
                    return;
                };
                let first = start + first as i64;
                let mut i = first;
                let mut left = count.max(0);
                while left > 0 && i < n {
                    f(&args[i as usize]);
                    i += step.max(1) as i64;
                    left -= 1;
                }
            }
        }
    }
}

/// What a command locks besides (or instead of) its keys.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    /// Only the shards of its keys (none when it has no keys).
    Keys,
    /// Every shard of the client's database (`KEYS`, `SCAN`, `FLUSHDB`).
    Db,
    /// Every shard of every database (`FLUSHALL`, `SWAPDB`, `INFO`).
    All,
    /// A script (`EVAL`, `FCALL`): every shard of the client's database to begin with, and
    /// of any other database its calls reach (`SELECT`, `MOVE`), taken as they do (see
    /// `LockSet::grow`). Transactions treat it as `All`.
    Script,
    /// Its keys in the client's database and in the database this function reads from the
    /// arguments (`MOVE key db`, `COPY … DB n`); None when the argument is invalid.
    OtherDb(fn(&[Bytes]) -> Option<usize>),
}

/// One entry of the command table.
pub struct Cmd {
    /// Lower-case name (`get`; a subcommand's own name, `get` under `config`).
    pub name: &'static str,
    pub arity: i32,
    pub flags: u32,
    /// Redis's group (`string`, `generic`, `connection`, `server`).
    pub group: &'static str,
    pub keys: &'static [KeySpec],
    pub scope: Scope,
    pub handler: Handler,
    /// Subcommands, for container commands such as `CONFIG` and `CLIENT`.
    pub subs: &'static [Cmd],
    pub summary: &'static str,
    pub since: &'static str,
}

impl Cmd {
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        group: &'static str,
        handler: Handler,
    ) -> Cmd {
        Cmd {
            name,
            arity,
            flags,
            group,
            keys: &[],
            scope: Scope::Keys,
            handler,
            subs: &[],
            summary: "",
            since: "1.0.0",
        }
    }
    /// One key range, Redis's legacy (first, last, step).
    pub const fn keys(mut self, first: u16, last: i16, step: u16) -> Cmd {
        const ONE: &[KeySpec] = &[KeySpec::range(1, 1, 1)];
        const ALL: &[KeySpec] = &[KeySpec::range(1, -1, 1)];
        const PAIRS: &[KeySpec] = &[KeySpec::range(1, -1, 2)];
        const TWO: &[KeySpec] = &[KeySpec::range(1, 1, 1), KeySpec::range(2, 2, 1)];
        const BUT_LAST: &[KeySpec] = &[KeySpec::range(1, -2, 1)];
        const SECOND: &[KeySpec] = &[KeySpec::range(2, 2, 1)];
        self.keys = match (first, last, step) {
            (1, 1, 1) => ONE,
            (1, -1, 1) => ALL,
            (1, -1, 2) => PAIRS,
            (1, 2, 1) => TWO,
            (1, -2, 1) => BUT_LAST,
            (2, 2, 1) => SECOND,
            _ => panic!("add this key range to Cmd::keys or use Cmd::key_specs"),
        };
        self
    }
    pub const fn key_specs(mut self, specs: &'static [KeySpec]) -> Cmd {
        self.keys = specs;
        if !specs.is_empty() {
            let mut i = 0;
            while i < specs.len() {
                if !matches!(
                    specs[i],
                    KeySpec {
                        begin: Begin::Index(_),
                        find: Find::Range { limit: 0, .. }
                    }
                ) {
                    self.flags |= flags::MOVABLEKEYS;
                }
                i += 1;
            }
        }
        self
    }
    pub const fn scope(mut self, scope: Scope) -> Cmd {
        self.scope = scope;
        self
    }
    pub const fn subs(mut self, subs: &'static [Cmd]) -> Cmd {
        self.subs = subs;
        self
    }
    pub const fn doc(mut self, summary: &'static str, since: &'static str) -> Cmd {
        self.summary = summary;
        self.since = since;
        self
    }

    /// The key arguments of a call of this command.
    pub fn key_args<'a>(&self, args: &'a [Bytes], out: &mut Vec<&'a Bytes>) {
        for spec in self.keys {
            spec.collect(args, out);
        }
    }

    /// Redis's legacy (first, last, step) for `COMMAND INFO`: the plain index ranges merged;
    /// (0, 0, 0) when there are none.
    pub fn legacy_range(&self) -> (i64, i64, i64) {
        let mut first = i64::MAX;
        let mut last = i64::MIN;
        let mut step = 1;
        let mut n = 0;
        for spec in self.keys {
            if let KeySpec {
                begin: Begin::Index(b),
                find:
                    Find::Range {
                        last: l,
                        step: s,
                        limit: 0,
                    },
            } = *spec
            {
                let b = b as i64;
                first = first.min(b);
                let end = if l < 0 { l as i64 } else { b + l as i64 };
                last = if n == 0 || end < 0 {
                    end
                } else if last < 0 {
                    last
                } else {
                    last.max(end)
                };
                step = s as i64;
                n += 1;
            }
        }
        match n {
            0 => (0, 0, 0),
            1 => (first, last, step),
            _ => (first, last, 1),
        }
    }
}

/// The command table, indexed.
pub struct Registry {
    pub cmds: Vec<&'static Cmd>,
    /// `get`, or `config|get` for a subcommand.
    pub fullnames: Vec<String>,
    pub parent: Vec<Option<usize>>,
    top: HashMap<&'static [u8], usize, ahash::RandomState>,
    sub: HashMap<(usize, Vec<u8>), usize, ahash::RandomState>,
}

/// Commands longer than this cannot exist, so lookups need no allocation.
const MAX_NAME: usize = 32;

impl Registry {
    /// Index every command (and subcommand) of `families`.
    pub fn build(families: &[&'static [Cmd]]) -> Registry {
        let mut r = Registry {
            cmds: Vec::new(),
            fullnames: Vec::new(),
            parent: Vec::new(),
            top: HashMap::default(),
            sub: HashMap::default(),
        };
        for family in families {
            for cmd in family.iter() {
                let i = r.cmds.len();
                r.cmds.push(cmd);
                r.fullnames.push(cmd.name.to_string());
                r.parent.push(None);
                r.top.insert(cmd.name.as_bytes(), i);
                for sub in cmd.subs {
                    let j = r.cmds.len();
                    r.cmds.push(sub);
                    r.fullnames.push(format!("{}|{}", cmd.name, sub.name));
                    r.parent.push(Some(i));
                    r.sub.insert((i, sub.name.as_bytes().to_vec()), j);
                }
            }
        }
        r
    }

    pub fn lookup(&self, name: &[u8]) -> Option<usize> {
        if name.len() > MAX_NAME {
            return None;
        }
        let mut buf = [0u8; MAX_NAME];
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.top.get(&*lower).copied()
    }

    pub fn lookup_sub(&self, parent: usize, name: &[u8]) -> Option<usize> {
        self.sub.get(&(parent, name.to_ascii_lowercase())).copied()
    }

    /// Top-level command indices, in table order.
    pub fn top_level(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.cmds.len()).filter(|&i| self.parent[i].is_none())
    }

    /// Resolve a request's name (and subcommand) to a table index.
    /// Err(Some(parent)) when the subcommand is unknown, Err(None) when the command is.
    pub fn resolve(&self, args: &[Bytes]) -> Result<usize, Option<usize>> {
        let idx = self.lookup(&args[0]).ok_or(None)?;
        let parent = self.cmds[idx];
        if !parent.subs.is_empty() && args.len() >= 2 {
            return self.lookup_sub(idx, &args[1]).ok_or(Some(idx));
        }
        Ok(idx)
    }
}

/// Lower-case comparison of an option argument with a word.
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(specs: &[KeySpec], line: &str) -> Vec<String> {
        let args: Vec<Bytes> = line
            .split(' ')
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        let mut out = Vec::new();
        for s in specs {
            s.collect(&args, &mut out);
        }
        out.iter()
            .map(|k| String::from_utf8(k.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn key_specs_find_the_keys_of_every_form() {
        // Fixed ranges: one key, all but the last (BLPOP's timeout), pairs (MSET).
        assert_eq!(keys(&[KeySpec::range(1, 1, 1)], "GET k"), ["k"]);
        assert_eq!(keys(&[KeySpec::range(1, -2, 1)], "BLPOP a b 0"), ["a", "b"]);
        assert_eq!(
            keys(&[KeySpec::range(1, -1, 2)], "MSET a 1 b 2"),
            ["a", "b"]
        );
        // numkeys forms: EVAL, LMPOP, SINTERCARD, ZUNIONSTORE (destination + numkeys).
        let eval = [KeySpec::numkeys(2)];
        assert_eq!(keys(&eval, "EVAL script 2 k1 k2 arg"), ["k1", "k2"]);
        assert_eq!(keys(&eval, "EVAL script 0 arg"), Vec::<String>::new());
        assert_eq!(
            keys(&[KeySpec::numkeys(1)], "LMPOP 2 a b LEFT COUNT 3"),
            ["a", "b"]
        );
        assert_eq!(
            keys(&[KeySpec::numkeys(1)], "SINTERCARD 1 s LIMIT 5"),
            ["s"]
        );
        let zunionstore = [KeySpec::range(1, 1, 1), KeySpec::numkeys(2)];
        assert_eq!(
            keys(&zunionstore, "ZUNIONSTORE d 2 a b WEIGHTS 1 2"),
            ["d", "a", "b"]
        );
        // A malformed or oversized count selects what is there, never past the arguments.
        assert_eq!(keys(&eval, "EVAL script x k1"), Vec::<String>::new());
        assert_eq!(keys(&eval, "EVAL script 5 k1"), ["k1"]);
        // Keyword forms: XREAD … STREAMS k1 k2 id1 id2 (the first half after the keyword).
        let xread = [KeySpec::keyword("STREAMS", 1, 2)];
        assert_eq!(
            keys(&xread, "XREAD COUNT 2 STREAMS s1 s2 0 0"),
            ["s1", "s2"]
        );
        assert_eq!(keys(&xread, "XREAD streams s1 $"), ["s1"]);
        assert_eq!(keys(&xread, "XREAD COUNT 2"), Vec::<String>::new());
    }

    #[test]
    fn the_legacy_range_is_derived_from_the_specs() {
        const ONE: &[KeySpec] = &[KeySpec::range(1, 1, 1)];
        const TWO: &[KeySpec] = &[KeySpec::range(1, 1, 1), KeySpec::range(2, 2, 1)];
        const PAIRS: &[KeySpec] = &[KeySpec::range(1, -1, 2)];
        const BUT_LAST: &[KeySpec] = &[KeySpec::range(1, -2, 1)];
        const EVAL: &[KeySpec] = &[KeySpec::numkeys(2)];
        let cmd =
            |specs: &'static [KeySpec]| Cmd::new("x", -1, 0, "g", |_, _| Ok(())).key_specs(specs);
        assert_eq!(cmd(ONE).legacy_range(), (1, 1, 1));
        assert_eq!(cmd(TWO).legacy_range(), (1, 2, 1));
        assert_eq!(cmd(PAIRS).legacy_range(), (1, -1, 2));
        assert_eq!(cmd(BUT_LAST).legacy_range(), (1, -2, 1));
        let eval = cmd(EVAL);
        assert_eq!(eval.legacy_range(), (0, 0, 0));
        assert!(eval.flags & flags::MOVABLEKEYS != 0);
    }
}
