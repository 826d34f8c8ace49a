//! String commands: SET and its variants, GET and its variants, counters, ranges.

use super::error;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::notify::{self, Ev};
use crate::engine::CmdError;
use crate::num::longdouble::LongDouble;
use crate::num::parse_i64;
use crate::store::{Entry, Shard, StrEnc, Value};
use bytes::Bytes;
use std::sync::atomic::Ordering;

// ---- helpers ---------------------------------------------------------------------------

fn int_arg(b: &[u8]) -> Result<i64, CmdError> {
    parse_i64(b).ok_or(error::NOT_INTEGER)
}

/// A key's string value: Ok(None) when missing, WRONGTYPE when it holds another type.
pub fn get_string<'s>(
    shard: &'s mut Shard,
    key: &[u8],
    now: u64,
) -> Result<Option<&'s Vec<u8>>, CmdError> {
    match shard.get_read(key, now) {
        None => Ok(None),
        Some(Entry {
            value: Value::Str { data, .. },
            ..
        }) => Ok(Some(data)),
        Some(_) => Err(error::WRONGTYPE),
    }
}

/// Largest string a command may create (`proto-max-bulk-len`).
fn check_length(ctx: &Ctx, size: u64, append: u64) -> Outcome {
    let max = ctx.engine.hot.proto_max_bulk_len.load(Ordering::Relaxed);
    match size.checked_add(append) {
        Some(total) if total <= max => Ok(()),
        _ => Err(error::STRING_TOO_LONG),
    }
}

/// Expiry options shared by SET and GETEX.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ExpireOpt {
    None,
    Ex,
    Px,
    ExAt,
    PxAt,
    KeepTtl,
    Persist,
}

#[derive(Debug)]
pub struct SetOpts<'a> {
    pub nx: bool,
    pub xx: bool,
    pub get: bool,
    pub expire: ExpireOpt,
    pub expire_arg: Option<&'a [u8]>,
}

/// Parse SET/GETEX options with Redis's compatibility rules; `set` selects which are valid.
fn parse_set_opts(args: &[Bytes], set: bool) -> Result<SetOpts<'_>, CmdError> {
    let mut o = plain_opts();
    let mut j = 0;
    while j < args.len() {
        let a = &args[j][..];
        let next = args.get(j + 1);
        let e = o.expire;
        let timed = |x: ExpireOpt| e == ExpireOpt::None || e == x;
        if set && is(a, "nx") && !o.xx {
            o.nx = true;
        } else if set && is(a, "xx") && !o.nx {
            o.xx = true;
        } else if set && is(a, "get") {
            o.get = true;
        } else if set && is(a, "keepttl") && timed(ExpireOpt::KeepTtl) {
            o.expire = ExpireOpt::KeepTtl;
        } else if !set && is(a, "persist") && timed(ExpireOpt::Persist) {
            o.expire = ExpireOpt::Persist;
        } else if let (Some(kind), Some(n)) = (timed_opt(a), next) {
            if !timed(kind) {
                return Err(error::SYNTAX);
            }
            o.expire = kind;
            o.expire_arg = Some(&n[..]);
            j += 1;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

fn timed_opt(a: &[u8]) -> Option<ExpireOpt> {
    if is(a, "ex") {
        Some(ExpireOpt::Ex)
    } else if is(a, "px") {
        Some(ExpireOpt::Px)
    } else if is(a, "exat") {
        Some(ExpireOpt::ExAt)
    } else if is(a, "pxat") {
        Some(ExpireOpt::PxAt)
    } else {
        None
    }
}

/// Turn an expire argument into absolute Unix milliseconds, with Redis's checks and texts.
pub fn expire_at(now: u64, kind: ExpireOpt, arg: &[u8], cmd: &str) -> Result<u64, CmdError> {
    let v = parse_i64(arg).ok_or(error::NOT_INTEGER)?;
    let seconds = matches!(kind, ExpireOpt::Ex | ExpireOpt::ExAt);
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(error::invalid_expire(cmd));
    }
    let mut ms = if seconds { v * 1000 } else { v };
    if matches!(kind, ExpireOpt::Ex | ExpireOpt::Px) {
        if ms > i64::MAX - now as i64 {
            return Err(error::invalid_expire(cmd));
        }
        ms += now as i64;
    }
    Ok(ms as u64)
}

// ---- handlers --------------------------------------------------------------------------

/// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ts|KEEPTTL]`
fn set(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let opts = parse_set_opts(&args[3..], true)?;
    let at = match opts.expire_arg {
        Some(a) => expire_at(ctx.now, opts.expire, a, "set")?,
        None => 0,
    };
    set_generic(ctx, &args[1], &args[2], &opts, at)
}

/// The one SET path: SET, SETNX, SETEX, PSETEX, GETSET.
fn set_generic(ctx: &mut Ctx, key: &Bytes, value: &[u8], opts: &SetOpts, at: u64) -> Outcome {
    let now = ctx.now;
    let shard = ctx.keys.shard(ctx.client.db, key);
    if opts.get {
        match get_string(shard, key, now)? {
            Some(v) => ctx.out.bulk(v),
            None => ctx.out.null(),
        }
    }
    // A plain SET needs no look at the old entry first: one lookup does it all.
    let plain = !opts.get && !opts.nx && !opts.xx && opts.expire != ExpireOpt::KeepTtl;
    let old_ttl = if plain {
        None
    } else {
        shard.get_write(key, now).map(|e| e.expire_at)
    };
    let found = old_ttl.is_some();
    if (opts.nx && found) || (opts.xx && !found) {
        if !opts.get {
            ctx.out.null();
        }
        return Ok(());
    }
    let exp = if opts.expire == ExpireOpt::KeepTtl {
        old_ttl.unwrap_or(0)
    } else {
        at
    };
    shard.set_string(key, value, exp, now, plain);
    ctx.changed(key, Ev::string("set"));
    if at != 0 {
        ctx.notify(key, notify::EXPIRE);
    }
    // Propagated as a plain SET with an absolute expiry, whatever the options were.
    if !plain || at != 0 {
        ctx.log_as(|| vec![set_record(key, value, exp)]);
    }
    if !opts.get {
        ctx.out.ok();
    }
    Ok(())
}

fn plain_opts() -> SetOpts<'static> {
    SetOpts {
        nx: false,
        xx: false,
        get: false,
        expire: ExpireOpt::None,
        expire_arg: None,
    }
}

/// `SETNX key value`
fn setnx(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    let shard = ctx.keys.shard(ctx.client.db, &args[1]);
    if shard.get_write(&args[1], now).is_some() {
        ctx.out.int(0);
        return Ok(());
    }
    shard.set(&args[1], Value::string(args[2].to_vec()), 0, now);
    ctx.changed(&args[1], Ev::string("set"));
    ctx.log_as(|| vec![set_record(&args[1], &args[2], 0)]);
    ctx.out.int(1);
    Ok(())
}

/// The canonical form of a SET: `SET key value [PXAT abs-ms]`.
pub fn set_record(key: &[u8], value: &[u8], expire_at: u64) -> Vec<Vec<u8>> {
    let mut r = vec![b"SET".to_vec(), key.to_vec(), value.to_vec()];
    if expire_at != 0 {
        r.push(b"PXAT".to_vec());
        r.push(expire_at.to_string().into_bytes());
    }
    r
}

/// `SETEX key seconds value` / `PSETEX key milliseconds value`
fn setex_generic(ctx: &mut Ctx, args: &[Bytes], kind: ExpireOpt, name: &str) -> Outcome {
    let at = expire_at(ctx.now, kind, &args[2], name)?;
    set_generic(ctx, &args[1], &args[3], &plain_opts(), at)
}

fn setex(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    setex_generic(ctx, args, ExpireOpt::Ex, "setex")
}

fn psetex(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    setex_generic(ctx, args, ExpireOpt::Px, "psetex")
}

/// `GET key`
fn get(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    let shard = ctx.keys.shard(ctx.client.db, &args[1]);
    match get_string(shard, &args[1], now)? {
        Some(v) => ctx.out.bulk(v),
        None => ctx.out.null(),
    }
    Ok(())
}

/// `GETDEL key`
fn getdel(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    let shard = ctx.keys.shard(ctx.client.db, &args[1]);
    match get_string(shard, &args[1], now)? {
        Some(v) => {
            ctx.out.bulk(v);
            shard.remove(&args[1], now);
            ctx.changed(&args[1], notify::DEL);
            ctx.log_as(|| vec![vec![b"DEL".to_vec(), args[1].to_vec()]]);
        }
        None => ctx.out.null(),
    }
    Ok(())
}

/// `GETSET key value`
fn getset(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let opts = SetOpts {
        get: true,
        ..plain_opts()
    };
    set_generic(ctx, &args[1], &args[2], &opts, 0)
}

/// `GETEX key [EX s|PX ms|EXAT ts|PXAT ts|PERSIST]`
fn getex(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let opts = parse_set_opts(&args[2..], false)?;
    // As in Redis: the key is looked up (nil, WRONGTYPE) before the expire value is checked.
    let now = ctx.now;
    let key = &args[1];
    let shard = ctx.keys.shard(ctx.client.db, key);
    let Some(value) = get_string(shard, key, now)? else {
        ctx.out.null();
        return Ok(());
    };
    let value = value.clone();
    let at = match opts.expire_arg {
        Some(a) => expire_at(now, opts.expire, a, "getex")?,
        None => 0,
    };
    ctx.out.bulk(&value);
    let shard = ctx.keys.shard(ctx.client.db, key);
    let (record, ev) = match opts.expire {
        ExpireOpt::ExAt | ExpireOpt::PxAt if at <= now => {
            shard.remove(key, now);
            (vec![b"DEL".to_vec(), key.to_vec()], notify::DEL)
        }
        ExpireOpt::Persist => {
            if shard.get(key, now).is_some_and(|e| e.expire_at != 0) {
                shard.set_expire(key, 0, now);
                (
                    vec![b"PERSIST".to_vec(), key.to_vec()],
                    Ev::generic("persist"),
                )
            } else {
                return Ok(());
            }
        }
        ExpireOpt::None => return Ok(()),
        _ => {
            shard.set_expire(key, at, now);
            let r = vec![
                b"PEXPIREAT".to_vec(),
                key.to_vec(),
                at.to_string().into_bytes(),
            ];
            (r, notify::EXPIRE)
        }
    };
    ctx.changed(key, ev);
    ctx.log_as(|| vec![record]);
    Ok(())
}

/// `MGET key [key ...]`
fn mget(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    let db = ctx.client.db;
    ctx.out.array(args.len() - 1);
    for key in &args[1..] {
        match get_string(ctx.keys.shard(db, key), key, now) {
            Ok(Some(v)) => ctx.out.bulk(v),
            _ => ctx.out.null(),
        }
    }
    Ok(())
}

/// `MSET key value [key value ...]` and `MSETNX`: all keys change at once, or (MSETNX)
/// none when any exists.
fn mset_generic(ctx: &mut Ctx, args: &[Bytes], nx: bool) -> Outcome {
    if args.len().is_multiple_of(2) {
        let name = if nx { "msetnx" } else { "mset" };
        return Err(error::wrong_arity(name));
    }
    let now = ctx.now;
    let db = ctx.client.db;
    if nx
        && args[1..]
            .iter()
            .step_by(2)
            .any(|k| ctx.keys.shard(db, k).exists(k, now))
    {
        ctx.out.int(0);
        return Ok(());
    }
    for pair in args[1..].chunks(2) {
        ctx.keys
            .shard(db, &pair[0])
            .set_string(&pair[0], &pair[1], 0, now, true);
        ctx.changed(&pair[0], Ev::string("set"));
    }
    if nx {
        ctx.log_as(|| {
            let mut record = vec![b"MSET".to_vec()];
            record.extend(args[1..].iter().map(|a| a.to_vec()));
            vec![record]
        });
        ctx.out.int(1)
    } else {
        ctx.out.ok()
    }
    Ok(())
}

fn mset(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    mset_generic(ctx, args, false)
}

fn msetnx(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    mset_generic(ctx, args, true)
}

/// `APPEND key value`
fn append(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (key, add) = (&args[1], &args[2]);
    let now = ctx.now;
    let max = ctx.engine.hot.proto_max_bulk_len.load(Ordering::Relaxed);
    let shard = ctx.keys.shard(ctx.client.db, key);
    let new_len = match get_string(shard, key, now)?.map(|v| v.len()) {
        None => {
            shard.set(key, Value::string(add.to_vec()), 0, now);
            add.len()
        }
        Some(len) => {
            if (len as u64).saturating_add(add.len() as u64) > max {
                return Err(error::STRING_TOO_LONG);
            }
            shard
                .update(key, now, |e| match &mut e.value {
                    Value::Str { data, enc } => {
                        data.extend_from_slice(add);
                        *enc = StrEnc::Raw;
                        data.len()
                    }
                    _ => 0,
                })
                .unwrap_or(0)
        }
    };
    ctx.changed(key, Ev::string("append"));
    ctx.out.int(new_len as i64);
    Ok(())
}

/// `STRLEN key`
fn strlen(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    let shard = ctx.keys.shard(ctx.client.db, &args[1]);
    let n = get_string(shard, &args[1], now)?.map_or(0, |v| v.len() as i64);
    ctx.out.int(n);
    Ok(())
}

/// `GETRANGE key start end` (and the old name `SUBSTR`)
fn getrange(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (Some(mut start), Some(mut end)) = (parse_i64(&args[2]), parse_i64(&args[3])) else {
        return Err(error::NOT_INTEGER);
    };
    let now = ctx.now;
    let shard = ctx.keys.shard(ctx.client.db, &args[1]);
    let Some(v) = get_string(shard, &args[1], now)? else {
        ctx.out.bulk(b"");
        return Ok(());
    };
    let len = v.len() as i64;
    if start < 0 && end < 0 && start > end {
        ctx.out.bulk(b"");
        return Ok(());
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        ctx.out.bulk(b"");
    } else {
        ctx.out.bulk(&v[start as usize..=end as usize]);
    }
    Ok(())
}

/// `SETRANGE key offset value`
fn setrange(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (key, value) = (&args[1], &args[3]);
    let offset = parse_i64(&args[2]).ok_or(error::NOT_INTEGER)?;
    if offset < 0 {
        return Err(error::OFFSET_RANGE);
    }
    let offset = offset as u64;
    let now = ctx.now;
    let cur = get_string(ctx.keys.shard(ctx.client.db, key), key, now)?.map(|v| v.len());
    if value.is_empty() {
        ctx.out.int(cur.unwrap_or(0) as i64);
        return Ok(());
    }
    check_length(ctx, offset, value.len() as u64)?;
    let offset = offset as usize;
    let write = |data: &mut Vec<u8>| {
        if data.len() < offset + value.len() {
            data.resize(offset + value.len(), 0);
        }
        data[offset..offset + value.len()].copy_from_slice(value);
    };
    let shard = ctx.keys.shard(ctx.client.db, key);
    let new_len = match cur {
        Some(_) => shard
            .update(key, now, |e| match &mut e.value {
                Value::Str { data, enc } => {
                    write(data);
                    *enc = StrEnc::Raw;
                    data.len()
                }
                _ => 0,
            })
            .unwrap_or(0),
        None => {
            let mut data = Vec::new();
            write(&mut data);
            let n = data.len();
            shard.set(
                key,
                Value::Str {
                    data,
                    enc: StrEnc::Raw,
                },
                0,
                now,
            );
            n
        }
    };
    ctx.changed(key, Ev::string("setrange"));
    ctx.out.int(new_len as i64);
    Ok(())
}

/// The one counter path: INCR, DECR, INCRBY, DECRBY. The TTL is kept. An existing value is
/// rewritten in place, with one lookup.
fn incr_by(ctx: &mut Ctx, key: &Bytes, by: i64) -> Outcome {
    let now = ctx.now;
    let shard = ctx.keys.shard(ctx.client.db, key);
    let existing = shard.string_mut(key, now).map(|h| match &mut h.e.value {
        Value::Str { data, enc } => match parse_i64(data).map(|cur| cur.checked_add(by)) {
            None => Err(error::NOT_INTEGER),
            Some(None) => Err(error::OVERFLOW),
            Some(Some(new)) => {
                let mut tmp = [0u8; 24];
                data.clear();
                data.extend_from_slice(crate::resp::write::fmt_i64(new, &mut tmp));
                *enc = StrEnc::Int;
                Ok(new)
            }
        },
        _ => Err(error::WRONGTYPE),
    });
    let n = match existing {
        Some(r) => r?,
        None => {
            let mut tmp = [0u8; 24];
            let text = crate::resp::write::fmt_i64(by, &mut tmp).to_vec();
            shard.set(
                key,
                Value::Str {
                    data: text,
                    enc: StrEnc::Int,
                },
                0,
                now,
            );
            by
        }
    };
    ctx.changed(key, Ev::string("incrby"));
    ctx.out.int(n);
    Ok(())
}

fn incr(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    incr_by(ctx, &args[1], 1)
}

fn decr(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    incr_by(ctx, &args[1], -1)
}

fn incrby(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let n = int_arg(&args[2])?;
    incr_by(ctx, &args[1], n)
}

fn decrby(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    match int_arg(&args[2])? {
        i64::MIN => Err(error::text("ERR decrement would overflow")),
        n => incr_by(ctx, &args[1], -n),
    }
}

/// `INCRBYFLOAT key increment`: computed in x87 extended precision and printed with
/// `%.17Lf` rules, as Redis does, so results match digit for digit.
fn incrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let key = &args[1];
    let now = ctx.now;
    let shard = ctx.keys.shard(ctx.client.db, key);
    let cur = match get_string(shard, key, now)? {
        None => Some(LongDouble::parse(b"0").expect("zero parses")),
        Some(v) => LongDouble::parse(v),
    };
    let (Some(cur), Some(by)) = (cur, LongDouble::parse(&args[2])) else {
        return Err(error::NOT_FLOAT);
    };
    let sum = cur.add(by);
    if !sum.is_finite() {
        return Err(error::NAN_OR_INF);
    }
    let text = sum.to_human_string().into_bytes();
    let updated = shard.update(key, now, |e| e.value = Value::plain_string(text.clone()));
    if updated.is_none() {
        shard.set(key, Value::plain_string(text.clone()), 0, now);
    }
    ctx.changed(key, Ev::string("incrbyfloat"));
    ctx.log_as(|| {
        vec![vec![
            b"SET".to_vec(),
            key.to_vec(),
            text.clone(),
            b"KEEPTTL".to_vec(),
        ]]
    });
    ctx.out.bulk(&text);
    Ok(())
}

const W: u32 = WRITE | DENYOOM;

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("get", 2, READONLY | FAST, "string", get).keys(1, 1, 1).doc("Returns the string value of a key.", "1.0.0"),
    Cmd::new("set", -3, W, "string", set).keys(1, 1, 1).doc("Sets the string value of a key.", "1.0.0"),
    Cmd::new("setnx", 3, W | FAST, "string", setnx).keys(1, 1, 1).doc("Set the string value of a key only when the key doesn't exist.", "1.0.0"),
    Cmd::new("setex", 4, W, "string", setex).keys(1, 1, 1).doc("Sets the value and expiration time of a key.", "2.0.0"),
    Cmd::new("psetex", 4, W, "string", psetex).keys(1, 1, 1).doc("Sets the value and expiration time in milliseconds of a key.", "2.6.0"),
    Cmd::new("getdel", 2, WRITE | FAST, "string", getdel).keys(1, 1, 1).doc("Returns the string value of a key after deleting the key.", "6.2.0"),
    Cmd::new("getset", 3, W | FAST, "string", getset).keys(1, 1, 1).doc("Returns the previous string value of a key after setting it to a new value.", "1.0.0"),
    Cmd::new("getex", -2, WRITE | FAST, "string", getex).keys(1, 1, 1).doc("Returns the string value of a key after setting its expiration time.", "6.2.0"),
    Cmd::new("mget", -2, READONLY | FAST, "string", mget).keys(1, -1, 1).doc("Atomically returns the string values of one or more keys.", "1.0.0"),
    Cmd::new("mset", -3, W, "string", mset).keys(1, -1, 2).doc("Atomically creates or modifies the string values of one or more keys.", "1.0.1"),
    Cmd::new("msetnx", -3, W, "string", msetnx).keys(1, -1, 2).doc("Atomically modifies the string values of one or more keys only when all keys don't exist.", "1.0.1"),
    Cmd::new("append", 3, W | FAST, "string", append).keys(1, 1, 1).doc("Appends a string to the value of a key. Creates the key if it doesn't exist.", "2.0.0"),
    Cmd::new("strlen", 2, READONLY | FAST, "string", strlen).keys(1, 1, 1).doc("Returns the length of a string value.", "2.2.0"),
    Cmd::new("getrange", 4, READONLY, "string", getrange).keys(1, 1, 1).doc("Returns a substring of the string stored at a key.", "2.4.0"),
    Cmd::new("substr", 4, READONLY, "string", getrange).keys(1, 1, 1).doc("Returns a substring from a string value.", "1.0.0"),
    Cmd::new("setrange", 4, W, "string", setrange).keys(1, 1, 1).doc("Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", "2.2.0"),
    Cmd::new("incr", 2, W | FAST, "string", incr).keys(1, 1, 1).doc("Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "1.0.0"),
    Cmd::new("decr", 2, W | FAST, "string", decr).keys(1, 1, 1).doc("Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "1.0.0"),
    Cmd::new("incrby", 3, W | FAST, "string", incrby).keys(1, 1, 1).doc("Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "1.0.0"),
    Cmd::new("decrby", 3, W | FAST, "string", decrby).keys(1, 1, 1).doc("Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", "1.0.0"),
    Cmd::new("incrbyfloat", 3, W | FAST, "string", incrbyfloat).keys(1, 1, 1).doc("Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "2.6.0"),
];
