//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, and Redis's internal PFSELFTEST and
//! PFDEBUG. An HLL is a string value in Redis's representation (`store::hll`).
//!
//! As in Redis, an HLL found corrupt halfway through PFADD keeps the registers already
//! raised (nothing is propagated or notified); every other error leaves the value as it was.
//! Like Redis, every command that accepts a key's HLL re-encodes the string as `raw`.

use super::error;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::notify::Ev;
use crate::engine::table::KeySpec;
use crate::engine::{CmdError, Engine};
use crate::store::hll::{self, REGISTERS};
use crate::store::{Entry, StrEnc, Value};
use bytes::Bytes;

// ---- helpers ---------------------------------------------------------------------------

/// `hll-sparse-max-bytes`: the size past which a sparse HLL becomes dense. Looked up by
/// name, so only read when a sparse HLL is changed.
fn sparse_max(engine: &Engine) -> usize {
    engine.config.read().get_u64("hll-sparse-max-bytes") as usize
}

/// The HLL held by an entry: WRONGTYPE for another type or a string that is not one.
fn hll_of(e: &Entry) -> Result<&[u8], CmdError> {
    match &e.value {
        Value::Str { data, .. } if hll::is_hll(data) => Ok(data),
        Value::Str { .. } => Err(error::HLL_WRONGTYPE),
        _ => Err(error::WRONGTYPE),
    }
}

/// The HLL held by an entry, to change (checked as [`hll_of`]); it becomes `raw`.
fn hll_mut(value: &mut Value) -> Result<&mut Vec<u8>, CmdError> {
    match value {
        Value::Str { data, enc } if hll::is_hll(data) => {
            *enc = StrEnc::Raw;
            Ok(data)
        }
        Value::Str { .. } => Err(error::HLL_WRONGTYPE),
        _ => Err(error::WRONGTYPE),
    }
}

fn raw(data: Vec<u8>) -> Value {
    Value::Str {
        data,
        enc: StrEnc::Raw,
    }
}

/// A change Redis makes without a keyspace notification (the cached cardinality, an
/// encoding conversion): it is propagated, and WATCH sees it when `watch` is set.
fn silent_change(ctx: &mut Ctx, key: &Bytes, watch: bool) {
    ctx.fx.dirty += 1;
    if watch && ctx.fx.track_keys {
        let db = ctx.client.db;
        ctx.fx.modified.push((db, key.clone()));
    }
}

/// The union of the HLLs at `keys` (missing keys are empty); true when one of them was
/// dense.
fn union(ctx: &mut Ctx, keys: &[Bytes]) -> Result<(Box<[u8; REGISTERS]>, bool), CmdError> {
    let (db, now) = (ctx.client.db, ctx.now);
    let mut max = Box::new([0u8; REGISTERS]);
    let mut dense = false;
    for key in keys {
        let Some(e) = ctx.keys.shard(db, key).get_read(key, now) else {
            continue;
        };
        let data = hll_of(e)?;
        dense |= !hll::is_sparse(data);
        hll::merge_into(&mut max, data).map_err(|_| error::HLL_CORRUPT)?;
    }
    Ok((max, dense))
}

// ---- handlers --------------------------------------------------------------------------

/// `PFADD key [element ...]`: 1 when the HLL was created or a register grew, else 0.
fn pfadd(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let key = &args[1];
    let (db, now) = (ctx.client.db, ctx.now);
    let shard = ctx.keys.shard(db, key);
    // Redis counts the creation and every register raised.
    let mut updated = 0u64;
    let mut corrupt = false;
    let found = if let Some(h) = shard.string_mut(key, now) {
        let data = hll_mut(&mut h.e.value)?;
        // A dense HLL never looks at the limit.
        let max = if hll::is_sparse(data) {
            sparse_max(ctx.engine)
        } else {
            usize::MAX
        };
        for ele in &args[2..] {
            match hll::add(data, ele, max) {
                Ok(up) => updated += up as u64,
                Err(hll::Corrupt) => {
                    corrupt = true;
                    break;
                }
            }
        }
        if updated > 0 && !corrupt {
            hll::invalidate(data);
        }
        true
    } else {
        false
    };
    if !found {
        let mut data = hll::new_sparse();
        let max = sparse_max(ctx.engine);
        for ele in &args[2..] {
            // A value made here always decodes.
            updated += hll::add(&mut data, ele, max).unwrap_or(false) as u64;
        }
        hll::invalidate(&mut data);
        drop(shard.set(key, raw(data), 0, now));
        updated += 1;
    }
    if corrupt {
        return Err(error::HLL_CORRUPT);
    }
    if updated > 0 {
        ctx.changed(key, Ev::string("pfadd"));
        ctx.fx.dirty += updated - 1;
    }
    ctx.out.int((updated > 0) as i64);
    Ok(())
}

/// `PFCOUNT key [key ...]`: the estimated cardinality of one HLL (cached in its header) or
/// of the union of several (computed aside: the keys are not changed).
fn pfcount(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if args.len() > 2 {
        let (max, _) = union(ctx, &args[1..])?;
        ctx.out.int(hll::count_registers(&max) as i64);
        return Ok(());
    }
    let key = &args[1];
    let (db, now) = (ctx.client.db, ctx.now);
    let shard = ctx.keys.shard(db, key);
    let Some(e) = shard.get_read(key, now) else {
        ctx.out.int(0);
        return Ok(());
    };
    let raw_already = matches!(
        e.value,
        Value::Str {
            enc: StrEnc::Raw,
            ..
        }
    );
    let data = hll_of(e)?;
    let (card, fresh) = match hll::cached(data) {
        Some(c) => (Ok(c), false),
        None => (hll::count(data), true),
    };
    // Redis makes the value raw even when it only reads the cache.
    if fresh || !raw_already {
        shard.update(key, now, |e| {
            if let Ok(data) = hll_mut(&mut e.value) {
                if let (true, Ok(c)) = (fresh, card) {
                    hll::set_cache(data, c);
                }
            }
        });
    }
    let card = card.map_err(|_| error::HLL_CORRUPT)?;
    if fresh {
        // Redis propagates PFCOUNT itself when it wrote the cache (hence `may-replicate`).
        silent_change(ctx, key, true);
    }
    ctx.out.int(card as i64);
    Ok(())
}

/// `PFMERGE destkey [sourcekey ...]`: the union of the destination and the sources, written
/// to the destination (created as needed). It stays sparse only if every input was sparse
/// (and it fits).
fn pfmerge(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let key = &args[1];
    let (max, dense) = union(ctx, &args[1..])?;
    let (db, now) = (ctx.client.db, ctx.now);
    let limit = sparse_max(ctx.engine);
    let shard = ctx.keys.shard(db, key);
    let write = |data: &mut Vec<u8>| -> Outcome {
        if dense {
            hll::to_dense(data).map_err(|_| error::HLL_CORRUPT)?;
        }
        hll::write_union(data, &max, limit);
        hll::invalidate(data);
        Ok(())
    };
    let found = if let Some(h) = shard.string_mut(key, now) {
        write(hll_mut(&mut h.e.value)?)?;
        true
    } else {
        false
    };
    if !found {
        let mut data = hll::new_sparse();
        write(&mut data)?;
        drop(shard.set(key, raw(data), 0, now));
    }
    // Redis names it `pfadd`: a merge is many adds.
    ctx.changed(key, Ev::string("pfadd"));
    ctx.out.ok();
    Ok(())
}

/// `PFSELFTEST`: Redis's self test of the registers and of the estimate's error.
fn pfselftest(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let seed = ctx.now ^ (ctx.client.info.id << 32);
    hll::selftest(seed, sparse_max(ctx.engine)).map_err(error::msg)?;
    ctx.out.ok();
    Ok(())
}

/// `PFDEBUG GETREG|DECODE|ENCODING|TODENSE key`: Redis's HLL internals.
fn pfdebug(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (sub, key) = (&args[1], &args[2]);
    let (db, now) = (ctx.client.db, ctx.now);
    let shard = ctx.keys.shard(db, key);
    let Some(h) = shard.string_mut(key, now) else {
        return Err(error::text("ERR The specified key does not exist"));
    };
    let data = hll_mut(&mut h.e.value)?;
    let converted;
    if is(sub, "getreg") {
        converted = hll::to_dense(data).map_err(|_| error::HLL_CORRUPT)?;
        let regs = hll::registers(data);
        drop(h);
        ctx.out.array(regs.len());
        for r in regs {
            ctx.out.int(r as i64);
        }
    } else if is(sub, "decode") {
        if !hll::is_sparse(data) {
            return Err(error::text("ERR HLL encoding is not sparse"));
        }
        let text = hll::decode(data);
        drop(h);
        ctx.out.bulk(text.as_bytes());
        converted = false;
    } else if is(sub, "encoding") {
        let enc = if hll::is_sparse(data) {
            "sparse"
        } else {
            "dense"
        };
        drop(h);
        ctx.out.simple(enc);
        converted = false;
    } else if is(sub, "todense") {
        converted = hll::to_dense(data).map_err(|_| error::HLL_CORRUPT)?;
        drop(h);
        ctx.out.int(converted as i64);
    } else {
        // Redis's error replies turn line breaks into spaces.
        let name = String::from_utf8_lossy(sub).replace(['\r', '\n'], " ");
        return Err(error::msg(format!(
            "ERR Unknown PFDEBUG subcommand '{name}'"
        )));
    }
    if converted {
        // Propagated so replicas convert too; no notification, no WATCH, as in Redis.
        silent_change(ctx, key, false);
    }
    Ok(())
}

const MERGE_KEYS: &[KeySpec] = &[KeySpec::range(1, 1, 1), KeySpec::range(2, -1, 1)];

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("pfadd", -2, WRITE | DENYOOM | FAST, "hyperloglog", pfadd)
        .keys(1, 1, 1)
        .doc(
            "Adds the specified elements to the specified HyperLogLog.",
            "2.8.9",
        ),
    Cmd::new(
        "pfcount",
        -2,
        READONLY | MAY_REPLICATE,
        "hyperloglog",
        pfcount,
    )
    .keys(1, -1, 1)
    .doc(
        "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
        "2.8.9",
    ),
    Cmd::new("pfmerge", -2, WRITE | DENYOOM, "hyperloglog", pfmerge)
        .key_specs(MERGE_KEYS)
        .doc("Merge N different HyperLogLogs into a single one.", "2.8.9"),
    Cmd::new("pfselftest", 1, ADMIN, "hyperloglog", pfselftest).doc(
        "An internal command for testing HyperLogLog values",
        "2.8.9",
    ),
    Cmd::new(
        "pfdebug",
        3,
        WRITE | DENYOOM | ADMIN,
        "hyperloglog",
        pfdebug,
    )
    .keys(2, 2, 1)
    .doc(
        "Internal commands for debugging HyperLogLog values",
        "2.8.9",
    ),
];
