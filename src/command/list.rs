//! List commands (the non-blocking ones). The list itself is `store::list`.

use super::error;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::notify::Ev;
use crate::engine::table::KeySpec;
use crate::engine::{CmdError, LockSet};
use crate::num::parse_i64;
use crate::store::value::List;
use crate::store::Value;
use bytes::Bytes;

// ---- helpers ---------------------------------------------------------------------------

/// The list at `key` for reading (a keyspace hit or miss).
fn read<'s>(
    keys: &'s mut LockSet,
    db: usize,
    key: &[u8],
    now: u64,
) -> Result<Option<&'s List>, CmdError> {
    super::read_as(keys, db, key, now)
}

macro_rules! read {
    ($ctx:expr, $key:expr) => {
        read(&mut *$ctx.keys, $ctx.client.db, $key, $ctx.now)
    };
}

/// The list at `key` looked up to be changed: Some(true) a list, Some(false) another type,
/// None missing.
fn kind(ctx: &mut Ctx, db: usize, key: &[u8]) -> Option<bool> {
    let now = ctx.now;
    ctx.keys
        .shard(db, key)
        .get_write(key, now)
        .map(|e| matches!(e.value, Value::List(_)))
}

/// Change the list at `key` in database `db` with `f`, creating it first when `create`; None
/// when missing (and not created). The store deletes a list left empty.
fn write_in<R>(
    ctx: &mut Ctx,
    db: usize,
    key: &[u8],
    create: bool,
    f: impl FnOnce(&mut List) -> R,
) -> Result<Option<R>, CmdError> {
    let create = create.then_some((|| Value::List(Box::default())) as fn() -> Value);
    super::write_as(&mut *ctx.keys, db, key, ctx.now, create, f)
}

fn write<R>(
    ctx: &mut Ctx,
    key: &[u8],
    create: bool,
    f: impl FnOnce(&mut List) -> R,
) -> Result<Option<R>, CmdError> {
    let db = ctx.client.db;
    write_in(ctx, db, key, create, f)
}

/// A Redis list index (negative from the end) resolved against `len`.
fn resolve(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 { len as i64 + index } else { index };
    (0..len as i64).contains(&i).then_some(i as usize)
}

/// `start..=end` of a range command, clamped as Redis clamps it; None when empty.
fn range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if end < 0 { len + end } else { end };
    s = s.max(0);
    if e >= len {
        e = len - 1;
    }
    (s <= e && s < len).then_some((s as usize, e as usize))
}

fn int(a: &[u8]) -> Result<i64, CmdError> {
    parse_i64(a).ok_or(error::NOT_INTEGER)
}

// ---- handlers --------------------------------------------------------------------------

fn push(ctx: &mut Ctx, args: &[Bytes], left: bool, only_existing: bool) -> Outcome {
    let n = write(ctx, &args[1], !only_existing, |l| {
        for a in &args[2..] {
            if left {
                l.push_front(a);
            } else {
                l.push_back(a);
            }
        }
        l.len()
    })?;
    if n.is_some() {
        ctx.changed(&args[1], Ev::list(if left { "lpush" } else { "rpush" }));
    }
    ctx.out.int(n.unwrap_or(0) as i64);
    Ok(())
}

/// `LPUSH key element [element ...]`
fn lpush(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    push(ctx, args, true, false)
}
/// `RPUSH key element [element ...]`
fn rpush(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    push(ctx, args, false, false)
}
/// `LPUSHX key element [element ...]`
fn lpushx(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    push(ctx, args, true, true)
}
/// `RPUSHX key element [element ...]`
fn rpushx(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    push(ctx, args, false, true)
}

/// `LPOP key [count]` / `RPOP key [count]`
fn pop(ctx: &mut Ctx, args: &[Bytes], left: bool) -> Outcome {
    if args.len() > 3 {
        return Err(error::wrong_arity(if left { "lpop" } else { "rpop" }));
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => match parse_i64(a) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => return Err(error::text("ERR value is out of range, must be positive")),
        },
    };
    let popped = write(ctx, &args[1], false, |l| {
        let n = count.unwrap_or(1).min(l.len());
        (0..n)
            .filter_map(|_| if left { l.pop_front() } else { l.pop_back() })
            .collect::<Vec<_>>()
    })?;
    let Some(popped) = popped else {
        match count {
            None => ctx.out.null(),
            Some(_) => ctx.out.null_array(),
        }
        return Ok(());
    };
    if !popped.is_empty() {
        ctx.removed_from(&args[1], Ev::list(if left { "lpop" } else { "rpop" }));
    }
    match count {
        None => ctx.out.bulk(&popped[0]),
        Some(_) => {
            ctx.out.array(popped.len());
            for v in &popped {
                ctx.out.bulk(v);
            }
        }
    }
    Ok(())
}

fn lpop(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    pop(ctx, args, true)
}
fn rpop(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    pop(ctx, args, false)
}

/// `LLEN key`
fn llen(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let n = read!(ctx, &args[1])?.map_or(0, |l| l.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// `LRANGE key start stop`
fn lrange(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (start, end) = (int(&args[2])?, int(&args[3])?);
    let l = read!(ctx, &args[1])?;
    match l.and_then(|l| range(start, end, l.len()).map(|r| (l, r))) {
        None => ctx.out.array(0),
        Some((l, (s, e))) => {
            ctx.out.array(e - s + 1);
            for v in l.range(s, e + 1) {
                ctx.out.bulk(v);
            }
        }
    }
    Ok(())
}

/// `LINDEX key index`
fn lindex(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    // As Redis: the key is looked up (missing: nil; wrong type) before the index is parsed.
    let Some(l) = read!(ctx, &args[1])? else {
        ctx.out.null();
        return Ok(());
    };
    let index = int(&args[2])?;
    match resolve(index, l.len()).and_then(|i| l.get(i)) {
        Some(v) => ctx.out.bulk(v),
        None => ctx.out.null(),
    }
    Ok(())
}

/// `LSET key index element`
fn lset(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    // As Redis: the key is looked up (missing, wrong type) before the index is parsed.
    let index = int(&args[2]);
    let done = write(ctx, &args[1], false, |l| {
        index.map(|index| resolve(index, l.len()).map(|i| l.set(i, &args[3])))
    })?;
    match done {
        None => Err(error::NO_SUCH_KEY),
        Some(Err(e)) => Err(e),
        Some(Ok(None)) => Err(error::text("ERR index out of range")),
        Some(Ok(Some(()))) => {
            ctx.changed(&args[1], Ev::list("lset"));
            ctx.out.ok();
            Ok(())
        }
    }
}

/// `LREM key count element`
fn lrem(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let count = int(&args[2])?;
    let n = write(ctx, &args[1], false, |l| l.remove_matching(&args[3], count))?.unwrap_or(0);
    if n > 0 {
        ctx.removed_from(&args[1], Ev::list("lrem"));
    }
    ctx.out.int(n as i64);
    Ok(())
}

/// `LTRIM key start stop`: a list trimmed to nothing is deleted.
fn ltrim(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (start, end) = (int(&args[2])?, int(&args[3])?);
    let changed = write(ctx, &args[1], false, |l| {
        let before = l.len();
        match range(start, end, l.len()) {
            Some((s, e)) => l.retain_range(s, e),
            None => l.retain_range(1, 0),
        }
        l.len() != before
    })?;
    // Redis counts a trim as a change (WATCH, notifications) even when nothing went.
    if changed.is_some() {
        ctx.removed_from(&args[1], Ev::list("ltrim"));
    }
    ctx.out.ok();
    Ok(())
}

/// `LINSERT key BEFORE|AFTER pivot element`
fn linsert(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let after = if is(&args[2], "after") {
        true
    } else if is(&args[2], "before") {
        false
    } else {
        return Err(error::SYNTAX);
    };
    let (pivot, elem) = (&args[3], &args[4]);
    let n = write(ctx, &args[1], false, |l| {
        let at = l.iter().position(|v| v == pivot);
        match at {
            Some(i) => {
                l.insert(if after { i + 1 } else { i }, elem);
                l.len() as i64
            }
            None => -1,
        }
    })?;
    if n.is_some_and(|n| n > 0) {
        ctx.changed(&args[1], Ev::list("linsert"));
    }
    ctx.out.int(n.unwrap_or(0));
    Ok(())
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`
fn lpos(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (mut rank, mut count, mut maxlen) = (1i64, None::<usize>, 0usize);
    let mut j = 3;
    while j < args.len() {
        let Some(v) = args.get(j + 1) else {
            return Err(error::SYNTAX);
        };
        if is(&args[j], "rank") {
            rank = int(v)?;
            if rank == 0 {
                return Err(error::text("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"));
            }
            if rank == i64::MIN {
                return Err(error::text("ERR value is out of range"));
            }
        } else if is(&args[j], "count") {
            // A non-number gets the same text as a negative one, as in Redis.
            let n = parse_i64(v)
                .filter(|n| *n >= 0)
                .ok_or(error::text("ERR COUNT can't be negative"))?;
            count = Some(n as usize);
        } else if is(&args[j], "maxlen") {
            let n = parse_i64(v)
                .filter(|n| *n >= 0)
                .ok_or(error::text("ERR MAXLEN can't be negative"))?;
            maxlen = n as usize;
        } else {
            return Err(error::SYNTAX);
        }
        j += 2;
    }
    let Some(l) = read!(ctx, &args[1])? else {
        match count {
            Some(_) => ctx.out.array(0),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let len = l.len();
    let want = match count {
        Some(0) => usize::MAX,
        Some(n) => n,
        None => 1,
    };
    let scan = if maxlen == 0 { len } else { maxlen.min(len) };
    let mut skip = rank.unsigned_abs() - 1;
    let mut found = Vec::new();
    let elems: Box<dyn Iterator<Item = (usize, &[u8])>> = if rank > 0 {
        Box::new(l.iter().enumerate().take(scan))
    } else {
        Box::new(
            l.iter_rev()
                .enumerate()
                .take(scan)
                .map(|(k, v)| (len - 1 - k, v)),
        )
    };
    for (i, v) in elems {
        if v == &args[2][..] {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            found.push(i);
            if found.len() >= want {
                break;
            }
        }
    }
    match count {
        Some(_) => {
            ctx.out.array(found.len());
            for i in found {
                ctx.out.int(i as i64);
            }
        }
        None => match found.first() {
            Some(i) => ctx.out.int(*i as i64),
            None => ctx.out.null(),
        },
    }
    Ok(())
}

fn side(a: &[u8]) -> Result<bool, CmdError> {
    if is(a, "left") {
        Ok(true)
    } else if is(a, "right") {
        Ok(false)
    } else {
        Err(error::SYNTAX)
    }
}

/// The one move path: `LMOVE` and `RPOPLPUSH`.
fn lmove_generic(
    ctx: &mut Ctx,
    src: &Bytes,
    dst: &Bytes,
    from_left: bool,
    to_left: bool,
) -> Outcome {
    let db = ctx.client.db;
    match kind(ctx, db, src) {
        None => {
            ctx.out.null();
            return Ok(());
        }
        Some(false) => return Err(error::WRONGTYPE),
        Some(true) => {}
    }
    if kind(ctx, db, dst) == Some(false) {
        return Err(error::WRONGTYPE);
    }
    let v = write(ctx, src, false, |l| {
        if from_left {
            l.pop_front()
        } else {
            l.pop_back()
        }
    })?
    .flatten()
    .expect("a list is never empty");
    let pushed = v.clone();
    write(ctx, dst, true, move |l| {
        if to_left {
            l.push_front(&pushed)
        } else {
            l.push_back(&pushed)
        }
    })?;
    // Redis names the push first, then the pop (and the source's `del`).
    ctx.changed(dst, Ev::list(if to_left { "lpush" } else { "rpush" }));
    ctx.removed_from(src, Ev::list(if from_left { "lpop" } else { "rpop" }));
    ctx.out.bulk(&v);
    Ok(())
}

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`
fn lmove(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (from, to) = (side(&args[3])?, side(&args[4])?);
    lmove_generic(ctx, &args[1], &args[2], from, to)
}

/// `RPOPLPUSH source destination`
fn rpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    lmove_generic(ctx, &args[1], &args[2], false, true)
}

/// `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]`: pops from the first non-empty
/// list; propagated as the `LPOP`/`RPOP key count` it amounted to.
fn lmpop(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let numkeys = parse_i64(&args[1])
        .filter(|n| *n > 0)
        .ok_or(error::text("ERR numkeys should be greater than 0"))? as usize;
    // The direction must follow the keys.
    let at = 2 + numkeys;
    if at >= args.len() {
        return Err(error::SYNTAX);
    }
    let left = side(&args[at])?;
    let mut count = 1usize;
    match &args[at + 1..] {
        [] => {}
        [c, n] if is(c, "count") => match parse_i64(n) {
            Some(n) if n > 0 => count = n as usize,
            _ => return Err(error::text("ERR count should be greater than 0")),
        },
        _ => return Err(error::SYNTAX),
    }
    for key in &args[2..at] {
        let popped = match write(ctx, key, false, |l| {
            (0..count.min(l.len()))
                .filter_map(|_| if left { l.pop_front() } else { l.pop_back() })
                .collect::<Vec<_>>()
        }) {
            // Once blocked (BLMPOP), a key of another type is waited on, as Redis does.
            Err(e) if ctx.client.block_retry && e == error::WRONGTYPE => None,
            r => r?,
        };
        let Some(popped) = popped else { continue };
        ctx.removed_from(key, Ev::list(if left { "lpop" } else { "rpop" }));
        let n = popped.len();
        ctx.log_as(|| {
            let cmd: &[u8] = if left { b"LPOP" } else { b"RPOP" };
            vec![vec![cmd.to_vec(), key.to_vec(), n.to_string().into_bytes()]]
        });
        ctx.out.array(2);
        ctx.out.bulk(key);
        ctx.out.array(n);
        for v in &popped {
            ctx.out.bulk(v);
        }
        return Ok(());
    }
    ctx.out.null_array();
    Ok(())
}

// ---- blocking --------------------------------------------------------------------------

/// A blocking command's timeout in seconds (fractions allowed; 0 = for ever), in ms.
/// As Redis 7.0: the milliseconds are rounded up first (so a timeout above -0.001 s is 0,
/// for ever), and a value whose milliseconds do not fit a signed 64-bit integer (`inf`,
/// `1e30`) is reported as negative, as Redis's overflowing conversion makes it.
pub fn timeout_ms(a: &[u8]) -> Result<u64, CmdError> {
    let secs = crate::num::strtod_whole(a)
        .filter(|v| !v.is_nan())
        .ok_or(error::text("ERR timeout is not a float or out of range"))?;
    let ms = (secs * 1000.0).ceil();
    // 2^63 is exactly representable; anything from it up does not fit.
    if !(0.0..9_223_372_036_854_775_808.0).contains(&ms) {
        return Err(error::text("ERR timeout is negative"));
    }
    Ok(ms as u64)
}

/// Wait on `keys` (nothing was there to serve), or reply null at once where clients cannot
/// block (inside a transaction or script): a null array for the pops, a null bulk for the
/// moves (`null_array`), as Redis. A wait that times out always replies a null array.
pub fn block(ctx: &mut Ctx, keys: &[Bytes], timeout_ms: u64, null_array: bool) -> Outcome {
    if !ctx.can_block() {
        if null_array {
            ctx.out.null_array();
        } else {
            ctx.out.null();
        }
        return Ok(());
    }
    ctx.fx.rare().block = Some(crate::engine::ctx::Block {
        keys: keys.to_vec(),
        timeout_ms,
        on_timeout: crate::engine::ctx::TimeoutReply::NullArray,
        retry_args: None,
    });
    Ok(())
}

/// The first of `keys` holding a non-empty list. A key of another type is an error on the
/// first try; once blocked, it is waited on (as Redis 7.0 does).
fn first_list<'k>(ctx: &mut Ctx, keys: &'k [Bytes]) -> Result<Option<&'k Bytes>, CmdError> {
    let db = ctx.client.db;
    for k in keys {
        match kind(ctx, db, k) {
            Some(true) => return Ok(Some(k)),
            Some(false) if !ctx.client.block_retry => return Err(error::WRONGTYPE),
            _ => {}
        }
    }
    Ok(None)
}

/// `BLPOP key [key ...] timeout` / `BRPOP`: served as the `LPOP`/`RPOP` it amounts to.
fn bpop(ctx: &mut Ctx, args: &[Bytes], left: bool) -> Outcome {
    let timeout = timeout_ms(&args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    let Some(key) = first_list(ctx, keys)? else {
        return block(ctx, keys, timeout, true);
    };
    let v = write(ctx, key, false, |l| {
        if left {
            l.pop_front()
        } else {
            l.pop_back()
        }
    })?
    .flatten()
    .expect("a list is never empty");
    ctx.removed_from(key, Ev::list(if left { "lpop" } else { "rpop" }));
    ctx.log_as(|| {
        let cmd: &[u8] = if left { b"LPOP" } else { b"RPOP" };
        vec![vec![cmd.to_vec(), key.to_vec()]]
    });
    ctx.out.array(2);
    ctx.out.bulk(key);
    ctx.out.bulk(&v);
    Ok(())
}

fn blpop(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    bpop(ctx, args, true)
}
fn brpop(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    bpop(ctx, args, false)
}

/// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout` and `BRPOPLPUSH`: served as the
/// `LMOVE` it amounts to.
fn bmove(ctx: &mut Ctx, args: &[Bytes], from: bool, to: bool, timeout: &[u8]) -> Outcome {
    let timeout = timeout_ms(timeout)?;
    let (src, dst) = (&args[1], &args[2]);
    if first_list(ctx, std::slice::from_ref(src))?.is_none() {
        return block(ctx, std::slice::from_ref(src), timeout, false);
    }
    lmove_generic(ctx, src, dst, from, to)?;
    ctx.log_as(|| {
        let side = |l: bool| {
            if l {
                b"LEFT".to_vec()
            } else {
                b"RIGHT".to_vec()
            }
        };
        vec![vec![
            b"LMOVE".to_vec(),
            src.to_vec(),
            dst.to_vec(),
            side(from),
            side(to),
        ]]
    });
    Ok(())
}

fn blmove(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (from, to) = (side(&args[3])?, side(&args[4])?);
    bmove(ctx, args, from, to, &args[5])
}

fn brpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    bmove(ctx, args, false, true, &args[3])
}

/// `BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]`
fn blmpop(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let timeout = timeout_ms(&args[1])?;
    // The non-blocking form checks the rest; its reply is null when nothing was there.
    let inner: Vec<Bytes> = std::iter::once(Bytes::from_static(b"LMPOP"))
        .chain(args[2..].iter().cloned())
        .collect();
    let numkeys = parse_i64(&args[2]).unwrap_or(0).max(0) as usize;
    let mark = ctx.out.buf.len();
    lmpop(ctx, &inner)?;
    if ctx.fx.dirty == 0 {
        let keys = &args[3..(3 + numkeys).min(args.len())];
        if ctx.client.block_retry || !keys.is_empty() {
            ctx.out.buf.truncate(mark);
            return block(ctx, keys, timeout, true);
        }
    }
    Ok(())
}

const W: u32 = WRITE | DENYOOM | FAST;
const R: u32 = READONLY | FAST;

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("lpush", -3, W, "list", lpush).keys(1, 1, 1).doc("Prepends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0"),
    Cmd::new("rpush", -3, W, "list", rpush).keys(1, 1, 1).doc("Appends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0"),
    Cmd::new("lpushx", -3, W, "list", lpushx).keys(1, 1, 1).doc("Prepends one or more elements to a list only when the list exists.", "2.2.0"),
    Cmd::new("rpushx", -3, W, "list", rpushx).keys(1, 1, 1).doc("Appends an element to a list only when the list exists.", "2.2.0"),
    Cmd::new("lpop", -2, WRITE | FAST, "list", lpop).keys(1, 1, 1).doc("Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", "1.0.0"),
    Cmd::new("rpop", -2, WRITE | FAST, "list", rpop).keys(1, 1, 1).doc("Returns and removes the last elements of a list. Deletes the list if the last element was popped.", "1.0.0"),
    Cmd::new("llen", 2, R, "list", llen).keys(1, 1, 1).doc("Returns the length of a list.", "1.0.0"),
    Cmd::new("lrange", 4, READONLY, "list", lrange).keys(1, 1, 1).doc("Returns a range of elements from a list.", "1.0.0"),
    Cmd::new("lindex", 3, READONLY, "list", lindex).keys(1, 1, 1).doc("Returns an element from a list by its index.", "1.0.0"),
    Cmd::new("lset", 4, WRITE | DENYOOM, "list", lset).keys(1, 1, 1).doc("Sets the value of an element in a list by its index.", "1.0.0"),
    Cmd::new("lrem", 4, WRITE, "list", lrem).keys(1, 1, 1).doc("Removes elements from a list. Deletes the list if the last element was removed.", "1.0.0"),
    Cmd::new("ltrim", 4, WRITE, "list", ltrim).keys(1, 1, 1).doc("Removes elements from both ends a list. Deletes the list if all elements were trimmed.", "1.0.0"),
    Cmd::new("linsert", 5, WRITE | DENYOOM, "list", linsert).keys(1, 1, 1).doc("Inserts an element before or after another element in a list.", "2.2.0"),
    Cmd::new("lpos", -3, READONLY, "list", lpos).keys(1, 1, 1).doc("Returns the index of matching elements in a list.", "6.0.6"),
    Cmd::new("lmove", 5, WRITE | DENYOOM, "list", lmove).keys(1, 2, 1).doc("Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", "6.2.0"),
    Cmd::new("rpoplpush", 3, WRITE | DENYOOM, "list", rpoplpush).keys(1, 2, 1).doc("Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", "1.2.0"),
    Cmd::new("blpop", -3, WRITE | NOSCRIPT | BLOCKING, "list", blpop).keys(1, -2, 1).doc("Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "2.0.0"),
    Cmd::new("brpop", -3, WRITE | NOSCRIPT | BLOCKING, "list", brpop).keys(1, -2, 1).doc("Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "2.0.0"),
    Cmd::new("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, "list", blmove).keys(1, 2, 1).doc("Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", "6.2.0"),
    Cmd::new("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, "list", brpoplpush).keys(1, 2, 1).doc("Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", "2.2.0"),
    Cmd::new("blmpop", -5, WRITE | BLOCKING, "list", blmpop).key_specs(&[KeySpec::numkeys(2)]).doc("Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "7.0.0"),
    Cmd::new("lmpop", -4, WRITE, "list", lmpop).key_specs(&[KeySpec::numkeys(1)]).doc("Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", "7.0.0"),
];
