//! Hash commands. The hash itself (encodings, memory) is `store::hash`.

use super::error;
use super::keys::parse_cursor;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::notify::Ev;
use crate::engine::{CmdError, LockSet};
use crate::num::longdouble::LongDouble;
use crate::num::parse_i64;
use crate::store::glob::glob_match;
use crate::store::value::Hash;
use crate::store::Value;
use bytes::Bytes;

// ---- helpers ---------------------------------------------------------------------------

/// The hash at `key` for reading (a keyspace hit or miss): None when missing, WRONGTYPE
/// when another type. It borrows only the locked shards, so the reply can be written while
/// it is held.
fn read<'s>(
    keys: &'s mut LockSet,
    db: usize,
    key: &[u8],
    now: u64,
) -> Result<Option<&'s Hash>, CmdError> {
    super::read_as(keys, db, key, now)
}

/// The hash at `key`, looked up to be changed (no keyspace hit or miss is counted).
fn peek<'s>(ctx: &'s mut Ctx, key: &[u8]) -> Result<Option<&'s Hash>, CmdError> {
    let now = ctx.now;
    hash_of(ctx.keys.shard(ctx.client.db, key).get_write(key, now))
}

fn hash_of(e: Option<&crate::store::Entry>) -> Result<Option<&Hash>, CmdError> {
    super::typed(e)
}

/// `read` for a handler: the hash at `args[1]`.
macro_rules! read {
    ($ctx:expr, $key:expr) => {
        read(&mut *$ctx.keys, $ctx.client.db, $key, $ctx.now)
    };
}

/// Change the hash at `key` with `f`, creating it first when `create` is set and it is missing.
/// Returns None when it is missing (and not created). The store deletes a hash left empty.
fn write<R>(
    ctx: &mut Ctx,
    key: &[u8],
    create: bool,
    f: impl FnOnce(&mut Hash) -> R,
) -> Result<Option<R>, CmdError> {
    let create = create.then_some((|| Value::Hash(Hash::default())) as fn() -> Value);
    super::write_as(&mut *ctx.keys, ctx.client.db, key, ctx.now, create, f)
}

// ---- handlers --------------------------------------------------------------------------

/// `HSET key field value [field value ...]` (and `HMSET`, which replies OK).
fn hset_generic(ctx: &mut Ctx, args: &[Bytes], name: &str) -> Outcome {
    if args.len() % 2 == 1 {
        return Err(error::wrong_arity(name));
    }
    let limits = ctx.engine.hot.limits.read().clone();
    let added = write(ctx, &args[1], true, |h| {
        args[2..]
            .chunks(2)
            .filter(|p| h.insert(&p[0], &p[1], &limits))
            .count()
    })?
    .unwrap_or(0);
    ctx.changed(&args[1], Ev::hash("hset"));
    if name == "hmset" {
        ctx.out.ok();
    } else {
        ctx.out.int(added as i64);
    }
    Ok(())
}

fn hset(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    hset_generic(ctx, args, "hset")
}

fn hmset(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    hset_generic(ctx, args, "hmset")
}

/// `HSETNX key field value`
fn hsetnx(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if peek(ctx, &args[1])?.is_some_and(|h| h.get(&args[2]).is_some()) {
        ctx.out.int(0);
        return Ok(());
    }
    let limits = ctx.engine.hot.limits.read().clone();
    write(ctx, &args[1], true, |h| {
        h.insert(&args[2], &args[3], &limits)
    })?;
    ctx.changed(&args[1], Ev::hash("hset"));
    ctx.log_as(|| {
        vec![vec![
            b"HSET".to_vec(),
            args[1].to_vec(),
            args[2].to_vec(),
            args[3].to_vec(),
        ]]
    });
    ctx.out.int(1);
    Ok(())
}

/// `HGET key field`
fn hget(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    match read!(ctx, &args[1])?.and_then(|h| h.get(&args[2])) {
        Some(v) => ctx.out.bulk(v),
        None => ctx.out.null(),
    }
    Ok(())
}

/// `HMGET key field [field ...]`
fn hmget(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let h = read!(ctx, &args[1])?;
    ctx.out.array(args.len() - 2);
    for f in &args[2..] {
        match h.and_then(|h| h.get(f)) {
            Some(v) => ctx.out.bulk(v),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// `HGETALL key`: a map in RESP3, a flat array in RESP2.
fn hgetall(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let h = read!(ctx, &args[1])?;
    ctx.out.map(h.map_or(0, |h| h.len()));
    for (f, v) in h.iter().flat_map(|h| h.iter()) {
        ctx.out.bulk(f);
        ctx.out.bulk(v);
    }
    Ok(())
}

fn hkeys_or_vals(ctx: &mut Ctx, args: &[Bytes], keys: bool) -> Outcome {
    let h = read!(ctx, &args[1])?;
    ctx.out.array(h.map_or(0, |h| h.len()));
    for (f, v) in h.iter().flat_map(|h| h.iter()) {
        ctx.out.bulk(if keys { f } else { v });
    }
    Ok(())
}

/// `HKEYS key`
fn hkeys(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    hkeys_or_vals(ctx, args, true)
}

/// `HVALS key`
fn hvals(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    hkeys_or_vals(ctx, args, false)
}

/// `HLEN key`
fn hlen(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let n = read!(ctx, &args[1])?.map_or(0, |h| h.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// `HSTRLEN key field`
fn hstrlen(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let n = read!(ctx, &args[1])?
        .and_then(|h| h.get(&args[2]))
        .map_or(0, |v| v.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// `HEXISTS key field`
fn hexists(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let found = read!(ctx, &args[1])?.is_some_and(|h| h.get(&args[2]).is_some());
    ctx.out.int(found as i64);
    Ok(())
}

/// `HDEL key field [field ...]`: a hash left empty is deleted.
fn hdel(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let n = write(ctx, &args[1], false, |h| {
        args[2..].iter().filter(|f| h.remove(f)).count()
    })?
    .unwrap_or(0);
    if n > 0 {
        ctx.removed_from(&args[1], Ev::hash("hdel"));
    }
    ctx.out.int(n as i64);
    Ok(())
}

/// `HINCRBY key field increment`
fn hincrby(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let by = parse_i64(&args[3]).ok_or(error::NOT_INTEGER)?;
    let cur = match peek(ctx, &args[1])?.and_then(|h| h.get(&args[2])) {
        None => 0,
        Some(v) => parse_i64(v).ok_or(error::text("ERR hash value is not an integer"))?,
    };
    let new = cur.checked_add(by).ok_or(error::OVERFLOW)?;
    let text = new.to_string();
    let limits = ctx.engine.hot.limits.read().clone();
    write(ctx, &args[1], true, |h| {
        h.insert(&args[2], text.as_bytes(), &limits)
    })?;
    ctx.changed(&args[1], Ev::hash("hincrby"));
    ctx.out.int(new);
    Ok(())
}

/// `HINCRBYFLOAT key field increment`: long double arithmetic and formatting, as Redis; the
/// result is propagated as an `HSET` of the value reached.
fn hincrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let by = LongDouble::parse(&args[3]).ok_or(error::NOT_FLOAT)?;
    if !by.is_finite() {
        return Err(error::text("ERR value is NaN or Infinity"));
    }
    let cur = match peek(ctx, &args[1])?.and_then(|h| h.get(&args[2])) {
        None => LongDouble::parse(b"0").expect("zero parses"),
        Some(v) => LongDouble::parse(v).ok_or(error::text("ERR hash value is not a float"))?,
    };
    let sum = cur.add(by);
    if !sum.is_finite() {
        return Err(error::NAN_OR_INF);
    }
    let text = sum.to_human_string().into_bytes();
    let limits = ctx.engine.hot.limits.read().clone();
    write(ctx, &args[1], true, |h| h.insert(&args[2], &text, &limits))?;
    ctx.changed(&args[1], Ev::hash("hincrbyfloat"));
    ctx.log_as(|| {
        vec![vec![
            b"HSET".to_vec(),
            args[1].to_vec(),
            args[2].to_vec(),
            text.clone(),
        ]]
    });
    ctx.out.bulk(&text);
    Ok(())
}

/// Random numbers for the random commands: a per-thread xorshift64* state, seeded once from
/// the clock and the thread, that every call advances (so calls in one millisecond differ).
pub fn rng(ctx: &Ctx) -> impl FnMut() -> u64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = const { Cell::new(0) };
    }
    let seed = ctx.now ^ (ctx.client.info.id << 32) ^ 0x9E37_79B9_7F4A_7C15;
    move || {
        STATE.with(|s| {
            let mut x = s.get();
            if x == 0 {
                x = seed | 1;
            }
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            s.set(x);
            x.wrapping_mul(0x2545_F491_4F6C_DD1D)
        })
    }
}

/// `HRANDFIELD key [count [WITHVALUES]]`
/// The count of HRANDFIELD, SRANDMEMBER and ZRANDMEMBER: Redis's range checks (halved when
/// pairs are returned), plus our bound on repeated picks (`error::MAX_RANDOM_REPLY`).
pub(super) fn random_count(a: &[u8], pairs: bool) -> Result<i64, CmdError> {
    let n = parse_i64(a).ok_or(error::NOT_INTEGER)?;
    if n < -i64::MAX {
        return Err(error::COUNT_RANGE);
    }
    let out_of_range = (n < 0 && n.unsigned_abs() > error::MAX_RANDOM_REPLY)
        || (pairs && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&n));
    if out_of_range {
        return Err(error::text("ERR value is out of range"));
    }
    Ok(n)
}

fn hrandfield(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    // As Redis: the count must be an integer before the rest is looked at.
    if let Some(a) = args.get(2) {
        if parse_i64(a).ok_or(error::NOT_INTEGER)? < -i64::MAX {
            return Err(error::COUNT_RANGE);
        }
    }
    if args.len() > 4 || (args.len() == 4 && !is(&args[3], "withvalues")) {
        return Err(error::SYNTAX);
    }
    let withvalues = args.len() == 4;
    let count = match args.get(2) {
        None => None,
        Some(a) => Some(random_count(a, withvalues)?),
    };
    let mut next = rng(ctx);
    let resp3 = ctx.out.resp3();
    let out = &mut *ctx.out;
    let Some(h) = read(&mut *ctx.keys, ctx.client.db, &args[1], ctx.now)? else {
        match count {
            None => out.null(),
            Some(_) => out.array(0),
        }
        return Ok(());
    };
    let Some(count) = count else {
        match h.random(&mut next) {
            Some((f, _)) => out.bulk(f),
            None => out.null(),
        }
        return Ok(());
    };
    let n = if count < 0 {
        count.unsigned_abs() as usize
    } else {
        (count as usize).min(h.len())
    };
    out.array(if withvalues && !resp3 { n * 2 } else { n });
    // Written as they are picked: a reply of -count repeated fields can be long.
    let mut emit = |f: &[u8], v: &[u8]| {
        if withvalues && resp3 {
            out.array(2);
        }
        out.bulk(f);
        if withvalues {
            out.bulk(v);
        }
    };
    if count < 0 {
        // Repeats allowed: exactly -count picks.
        for _ in 0..n {
            if let Some((f, v)) = h.random(&mut next) {
                emit(f, v);
            }
        }
    } else if n == h.len() {
        h.iter().for_each(|(f, v)| emit(f, v));
    } else {
        // Distinct fields: a partial Fisher-Yates shuffle.
        let mut all: Vec<(&[u8], &[u8])> = h.iter().collect();
        for i in 0..n {
            let j = i + (next() % (all.len() - i) as u64) as usize;
            all.swap(i, j);
            emit(all[i].0, all[i].1);
        }
    }
    Ok(())
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count]`
fn hscan(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    // As in Redis: the cursor is checked first, then the key, then the options.
    let cursor = parse_cursor(&args[2]).ok_or(error::text("ERR invalid cursor"))?;
    let Some(h) = read!(ctx, &args[1])? else {
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        ctx.out.array(0);
        return Ok(());
    };
    let opts = super::keys::scan_options(args, 3, false)?;
    let (count, pattern) = (opts.count as i64, opts.pattern);
    let mut found: Vec<(&[u8], &[u8])> = Vec::new();
    let mut cur = cursor;
    // Bound the buckets visited per call, as Redis does.
    let mut budget = count.saturating_mul(10);
    loop {
        cur = h.scan_step(cur, |f, v| {
            if pattern.is_none_or(|p| glob_match(p, f, false)) {
                found.push((f, v));
            }
        });
        budget -= 1;
        if cur == 0 || found.len() >= count as usize || budget <= 0 {
            break;
        }
    }
    ctx.out.array(2);
    ctx.out.bulk(cur.to_string().as_bytes());
    ctx.out.array(found.len() * 2);
    for (f, v) in &found {
        ctx.out.bulk(f);
        ctx.out.bulk(v);
    }
    Ok(())
}

const W: u32 = WRITE | DENYOOM | FAST;
const R: u32 = READONLY | FAST;

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("hset", -4, W, "hash", hset).keys(1, 1, 1).doc("Creates or modifies the value of a field in a hash.", "2.0.0"),
    Cmd::new("hmset", -4, W, "hash", hmset).keys(1, 1, 1).doc("Sets the values of multiple fields.", "2.0.0"),
    Cmd::new("hsetnx", 4, W, "hash", hsetnx).keys(1, 1, 1).doc("Sets the value of a field in a hash only when the field doesn't exist.", "2.0.0"),
    Cmd::new("hget", 3, R, "hash", hget).keys(1, 1, 1).doc("Returns the value of a field in a hash.", "2.0.0"),
    Cmd::new("hmget", -3, R, "hash", hmget).keys(1, 1, 1).doc("Returns the values of all fields in a hash.", "2.0.0"),
    Cmd::new("hgetall", 2, READONLY, "hash", hgetall).keys(1, 1, 1).doc("Returns all fields and values in a hash.", "2.0.0"),
    Cmd::new("hkeys", 2, READONLY, "hash", hkeys).keys(1, 1, 1).doc("Returns all fields in a hash.", "2.0.0"),
    Cmd::new("hvals", 2, READONLY, "hash", hvals).keys(1, 1, 1).doc("Returns all values in a hash.", "2.0.0"),
    Cmd::new("hlen", 2, R, "hash", hlen).keys(1, 1, 1).doc("Returns the number of fields in a hash.", "2.0.0"),
    Cmd::new("hstrlen", 3, R, "hash", hstrlen).keys(1, 1, 1).doc("Returns the length of the value of a field.", "3.2.0"),
    Cmd::new("hexists", 3, R, "hash", hexists).keys(1, 1, 1).doc("Determines whether a field exists in a hash.", "2.0.0"),
    Cmd::new("hdel", -3, WRITE | FAST, "hash", hdel).keys(1, 1, 1).doc("Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", "2.0.0"),
    Cmd::new("hincrby", 4, W, "hash", hincrby).keys(1, 1, 1).doc("Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", "2.0.0"),
    Cmd::new("hincrbyfloat", 4, W, "hash", hincrbyfloat).keys(1, 1, 1).doc("Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", "2.6.0"),
    Cmd::new("hrandfield", -2, READONLY, "hash", hrandfield).keys(1, 1, 1).doc("Returns one or more random fields from a hash.", "6.2.0"),
    Cmd::new("hscan", -3, READONLY, "hash", hscan).keys(1, 1, 1).doc("Iterates over fields and values of a hash.", "2.8.0"),
];
