//! Consumer-group commands: XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER),
//! XACK, XPENDING, XCLAIM and XAUTOCLAIM. The groups are `store::stream::group`. XCLAIM and
//! XAUTOCLAIM propagate what they did as Redis does: an idempotent `XCLAIM … TIME RETRYCOUNT
//! FORCE JUSTID LASTID` per entry claimed or dropped, `XGROUP SETID` when only LASTID moved.

use super::error;
use super::stream::{
    bound, entry_reply, ev, id_reply, int, kind, mstime, nogroup, read, strict_id, write,
};
use super::stream_read::{setid_record, xclaim_record};
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::ctx::Record;
use crate::engine::{CmdError, ErrKind};
use crate::store::stream::{Group, Nack, Stream, StreamId, ENTRIES_READ_INVALID};
use bytes::Bytes;
use std::ops::Bound;
use std::sync::Arc;

fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

// ---- XGROUP ------------------------------------------------------------------------------

/// Options after `XGROUP CREATE|SETID key group id`: MKSTREAM (CREATE) and ENTRIESREAD.
fn group_options(args: &[Bytes], create: bool) -> Result<(bool, i64), CmdError> {
    let (mut mkstream, mut read) = (false, ENTRIES_READ_INVALID);
    let mut i = 5;
    while i < args.len() {
        if create && is(&args[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if is(&args[i], "entriesread") && i + 1 < args.len() {
            read = int(&args[i + 1])?;
            if read < 0 && read != ENTRIES_READ_INVALID {
                return Err(error::text(
                    "ERR value for ENTRIESREAD must be positive or -1",
                ));
            }
            i += 2;
        } else {
            return Err(error::subcommand_syntax(args, "XGROUP"));
        }
    }
    Ok((mkstream, read))
}

/// The checks every XGROUP subcommand but HELP makes: the key must be a stream (unless
/// MKSTREAM), and SETID/CREATECONSUMER/DELCONSUMER need the group. Returns whether the key
/// exists.
fn group_checks(
    ctx: &mut Ctx,
    args: &[Bytes],
    mkstream: bool,
    needs_group: bool,
) -> Result<bool, CmdError> {
    let key = &args[2];
    let exists = match kind(ctx, key) {
        Some(false) => return Err(error::WRONGTYPE),
        k => k.is_some(),
    };
    if mkstream {
        return Ok(exists);
    }
    if !exists {
        return Err(error::text("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."));
    }
    if needs_group {
        let has = read(ctx.keys, ctx.client.db, key, ctx.now)?
            .is_some_and(|s| s.groups.contains_key(args[3].as_ref()));
        if !has {
            return Err(nogroup(format!(
                "No such consumer group '{}' for key name '{}'",
                lossy(&args[3]),
                lossy(key)
            )));
        }
    }
    Ok(true)
}

/// `XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]`
fn xgroup_create(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (mkstream, read_count) = group_options(args, true)?;
    let exists = group_checks(ctx, args, mkstream, false)?;
    if args.len() > 8 {
        return Err(error::subcommand_syntax(args, "XGROUP"));
    }
    let key = &args[2];
    let id = if args[4].as_ref() == b"$" {
        read(ctx.keys, ctx.client.db, key, ctx.now)?.map_or(StreamId::MIN, |s| s.log.last_id)
    } else {
        strict_id(&args[4])?
    };
    if !exists {
        super::stream::create(ctx, key);
        ctx.changed(key, ev("xgroup-create"));
    }
    let name = args[3].to_vec();
    let created = write(ctx, key, |s| {
        if s.groups.contains_key(&name) {
            return false;
        }
        s.groups.insert(name, Group::new(id, read_count));
        true
    })?
    .unwrap_or(false);
    if !created {
        return Err(CmdError::new(
            ErrKind::BusyGroup,
            "BUSYGROUP Consumer Group name already exists",
        ));
    }
    if exists {
        ctx.fx.dirty += 1;
        ctx.notify(key, ev("xgroup-create"));
    }
    ctx.out.ok();
    Ok(())
}

/// `XGROUP SETID key group id|$ [ENTRIESREAD entries-read]`
fn xgroup_setid(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (_, read_count) = group_options(args, false)?;
    group_checks(ctx, args, false, true)?;
    if args.len() != 5 && args.len() != 7 {
        return Err(error::subcommand_syntax(args, "XGROUP"));
    }
    let key = &args[2];
    let id = if args[4].as_ref() == b"$" {
        None
    } else {
        Some(bound_plain(&args[4])?)
    };
    write(ctx, key, |s| {
        let last = s.log.last_id;
        if let Some(g) = s.groups.get_mut(args[3].as_ref()) {
            g.last_id = id.unwrap_or(last);
            g.entries_read = read_count;
        }
    })?;
    ctx.fx.dirty += 1;
    ctx.notify(key, ev("xgroup-setid"));
    ctx.out.ok();
    Ok(())
}

/// An ID where `-` and `+` are allowed (Redis's `streamParseIDOrReply`).
fn bound_plain(a: &[u8]) -> Result<StreamId, CmdError> {
    StreamId::parse(a, 0, false, false)
        .map(|x| x.0)
        .ok_or(super::stream::INVALID_ID)
}

/// `XGROUP DESTROY key group`: readers blocked on the group are woken (and get -NOGROUP).
fn xgroup_destroy(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    group_checks(ctx, args, false, false)?;
    let key = &args[2];
    let gone = write(ctx, key, |s| s.groups.remove(args[3].as_ref()).is_some())?.unwrap_or(false);
    if gone {
        ctx.changed(key, ev("xgroup-destroy"));
    }
    ctx.out.int(gone as i64);
    Ok(())
}

/// `XGROUP CREATECONSUMER key group consumer`
fn xgroup_createconsumer(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    group_checks(ctx, args, false, true)?;
    let key = &args[2];
    let now = mstime(ctx);
    let created = write(ctx, key, |s| {
        s.groups
            .get_mut(args[3].as_ref())
            .is_some_and(|g| g.create_consumer(&args[4], now))
    })?
    .unwrap_or(false);
    if created {
        ctx.fx.dirty += 1;
        ctx.notify(key, ev("xgroup-createconsumer"));
    }
    ctx.out.int(created as i64);
    Ok(())
}

/// `XGROUP DELCONSUMER key group consumer`: the number of entries it had pending.
fn xgroup_delconsumer(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    group_checks(ctx, args, false, true)?;
    let key = &args[2];
    let had = write(ctx, key, |s| {
        s.groups
            .get_mut(args[3].as_ref())
            .and_then(|g| g.delete_consumer(&args[4]))
    })?
    .flatten();
    if had.is_some() {
        ctx.fx.dirty += 1;
        ctx.notify(key, ev("xgroup-delconsumer"));
    }
    ctx.out.int(had.unwrap_or(0) as i64);
    Ok(())
}

fn xgroup_help(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    super::server::help(
        ctx,
        "XGROUP",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    )
}

fn container(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Ok(())
}

// ---- XACK / XPENDING ---------------------------------------------------------------------

/// `XACK key group id [id ...]`
fn xack(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let key = &args[1];
    let Some(group) =
        read(ctx.keys, ctx.client.db, key, ctx.now)?.and_then(|s| s.groups.get(args[2].as_ref()))
    else {
        ctx.out.int(0);
        return Ok(());
    };
    let ids = args[3..]
        .iter()
        .map(|a| strict_id(a))
        .collect::<Result<Vec<_>, _>>()?;
    // Nothing to acknowledge: the stream is left as it is (no write, no re-measure).
    if !ids.iter().any(|id| group.is_pending(*id)) {
        ctx.out.int(0);
        return Ok(());
    }
    let n = write(ctx, key, |s| {
        let g = s.groups.get_mut(args[2].as_ref()).expect("checked above");
        ids.iter().filter(|id| g.ack(**id)).count()
    })?
    .unwrap_or(0);
    ctx.fx.dirty += n as u64;
    ctx.out.int(n as i64);
    Ok(())
}

fn no_key_or_group(args: &[Bytes]) -> CmdError {
    nogroup(format!(
        "No such key '{}' or consumer group '{}'",
        lossy(&args[1]),
        lossy(&args[2])
    ))
}

/// `XPENDING key group [[IDLE min-idle-time] start end count [consumer]]`
fn xpending(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let n = args.len();
    if n != 3 && !(6..=9).contains(&n) {
        return Err(error::SYNTAX);
    }
    let mut ext = None;
    if n >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if is(&args[3], "idle") {
            min_idle = int(&args[4])?;
            if n < 8 {
                return Err(error::SYNTAX);
            }
            at += 2;
        }
        let count = int(&args[at + 2])?.max(0) as u64;
        let start = bound(&args[at], 0, true)?;
        let end = bound(&args[at + 1], u64::MAX, false)?;
        let consumer = args.get(at + 3).cloned();
        ext = Some((min_idle, start, end, count, consumer));
    }
    let now = mstime(ctx);
    let s = read(ctx.keys, ctx.client.db, &args[1], ctx.now)?;
    let Some(g) = s.and_then(|s| s.groups.get(args[2].as_ref())) else {
        return Err(no_key_or_group(args));
    };
    let out = &mut *ctx.out;
    let Some((min_idle, start, end, mut count, consumer)) = ext else {
        out.array(4);
        out.int(g.pel.len() as i64);
        match (g.pel.keys().next(), g.pel.keys().next_back()) {
            (Some(first), Some(last)) => {
                id_reply(out, *first);
                id_reply(out, *last);
                let busy: Vec<_> = g
                    .consumers
                    .iter()
                    .filter(|(_, c)| !c.pel.is_empty())
                    .collect();
                out.array(busy.len());
                for (name, c) in busy {
                    out.array(2);
                    out.bulk(name);
                    out.bulk(c.pel.len().to_string().as_bytes());
                }
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return Ok(());
    };
    let ids: Box<dyn Iterator<Item = StreamId>> = match &consumer {
        Some(c) => match g.consumers.get(c.as_ref()) {
            Some(c) if start <= end => Box::new(c.pel.range(start..=end).copied()),
            Some(_) => Box::new(std::iter::empty()),
            None => {
                out.array(0);
                return Ok(());
            }
        },
        None if start <= end => Box::new(g.pel.range(start..=end).map(|(k, _)| *k)),
        None => Box::new(std::iter::empty()),
    };
    let mut rows = Vec::new();
    for id in ids {
        if count == 0 {
            break;
        }
        let Some(nack) = g.pel.get(&id) else { continue };
        let idle = now as i64 - nack.delivery_time as i64;
        if min_idle != 0 && idle < min_idle {
            continue;
        }
        count -= 1;
        rows.push((id, nack, idle.max(0)));
    }
    out.array(rows.len());
    for (id, nack, idle) in rows {
        out.array(4);
        id_reply(out, id);
        out.bulk(&nack.consumer);
        out.int(idle);
        out.int(nack.delivery_count as i64);
    }
    Ok(())
}

// ---- XCLAIM / XAUTOCLAIM -----------------------------------------------------------------

/// Give pending entry `id` to `consumer` (created on first use): delivery time `time`, count
/// `retry` (or one more unless `justid`). The consumer's shared name.
fn claim_one(
    g: &mut Group,
    consumer: &mut Option<Arc<[u8]>>,
    name: &[u8],
    id: StreamId,
    now: u64,
    created: &mut bool,
) -> Arc<[u8]> {
    let c = match consumer {
        Some(c) => c.clone(),
        None => {
            let (c, new) = g.touch_consumer(name, now);
            *created |= new;
            *consumer = Some(c.clone());
            c
        }
    };
    g.assign(id, &c);
    c
}

/// `XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-ms]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]`
fn xclaim(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let key = &args[1];
    let has = read(ctx.keys, ctx.client.db, key, ctx.now)?
        .is_some_and(|s| s.groups.contains_key(args[2].as_ref()));
    if !has {
        return Err(no_key_or_group(args));
    }
    let min_idle = crate::num::parse_i64(&args[4])
        .ok_or(error::text("ERR Invalid min-idle-time argument for XCLAIM"))?
        .max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        match StreamId::parse_strict(&args[j]) {
            Some(id) => ids.push(id),
            None => break,
        }
        j += 1;
    }
    let now = mstime(ctx);
    let (mut force, mut justid, mut retry, mut time, mut last) =
        (false, false, None, None, StreamId::MIN);
    while j < args.len() {
        let more = j + 1 < args.len();
        let a = &args[j];
        let num = |v: &[u8], what: &'static str| {
            crate::num::parse_i64(v)
                .ok_or_else(|| error::msg(format!("ERR Invalid {what} option argument for XCLAIM")))
        };
        if is(a, "force") {
            force = true;
        } else if is(a, "justid") {
            justid = true;
        } else if is(a, "idle") && more {
            j += 1;
            time = Some(now as i64 - num(&args[j], "IDLE")?);
        } else if is(a, "time") && more {
            j += 1;
            time = Some(num(&args[j], "TIME")?);
        } else if is(a, "retrycount") && more {
            j += 1;
            retry = Some(num(&args[j], "RETRYCOUNT")?);
        } else if is(a, "lastid") && more {
            j += 1;
            last = strict_id(&args[j])?;
        } else {
            return Err(error::msg(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                lossy(a)
            )));
        }
        j += 1;
    }
    let time = match time {
        Some(t) if t >= 0 && t <= now as i64 => t as u64,
        _ => now,
    };
    let (group, name) = (args[2].as_ref(), args[3].as_ref());
    let logging = ctx.fx.logging;
    let out = &mut *ctx.out;
    let (db, cnow) = (ctx.client.db, ctx.now);
    let mut records: Vec<Record> = Vec::new();
    let mut created = false;
    let mut changes = 0u64;
    ctx.keys.shard(db, key).update(key, cnow, |e| {
        let crate::store::Value::Stream(s) = &mut e.value else {
            return;
        };
        let Stream { log, groups } = &mut **s;
        let g = groups.get_mut(group).expect("checked above");
        let mut propagate_last = false;
        if last > g.last_id {
            g.last_id = last;
            propagate_last = true;
        }
        let mut consumer = None;
        let mark = out.buf.len();
        let mut n = 0;
        for id in &ids {
            let id = *id;
            let Some(entry) = log.get(id) else {
                if let Some(nack) = g.pel.get(&id) {
                    if logging {
                        records.push(xclaim_record(
                            key,
                            group,
                            &nack.consumer,
                            id,
                            nack.delivery_time,
                            nack.delivery_count,
                            g.last_id,
                        ));
                    }
                    propagate_last = false;
                    changes += 1;
                    g.ack(id);
                }
                continue;
            };
            let mut fresh = false;
            if !g.pel.contains_key(&id) {
                if !force {
                    continue;
                }
                fresh = true;
            }
            if !fresh && min_idle != 0 {
                let idle = now as i64 - g.pel[&id].delivery_time as i64;
                if idle < min_idle {
                    continue;
                }
            }
            if fresh {
                // Redis creates the entry with no owner and a count of 1.
                let (c, new) = match &consumer {
                    Some(c) => (Arc::clone(c), false),
                    None => g.touch_consumer(name, now),
                };
                created |= new;
                consumer = Some(c.clone());
                g.pel.insert(
                    id,
                    Nack {
                        delivery_time: now,
                        delivery_count: 1,
                        consumer: c.clone(),
                    },
                );
            }
            let c = claim_one(g, &mut consumer, name, id, now, &mut created);
            let nack = g.pel.get_mut(&id).expect("pending");
            nack.delivery_time = time;
            match retry {
                Some(r) if r >= 0 => nack.delivery_count = r as u64,
                _ if !justid => nack.delivery_count += 1,
                _ => {}
            }
            if justid {
                id_reply(out, id);
            } else {
                entry_reply(out, &entry);
            }
            n += 1;
            if logging {
                records.push(xclaim_record(
                    key,
                    group,
                    &c,
                    id,
                    nack.delivery_time,
                    nack.delivery_count,
                    g.last_id,
                ));
            }
            propagate_last = false;
            changes += 1;
        }
        if propagate_last {
            if logging {
                records.push(setid_record(key, group, g.last_id, g.entries_read));
            }
            changes += 1;
        }
        let tail = out.buf.split_off(mark);
        out.array(n);
        out.buf.unsplit(tail);
    });
    ctx.fx.dirty += changes;
    if created {
        ctx.fx.dirty += 1;
        ctx.notify(key, ev("xgroup-createconsumer"));
    }
    ctx.log_as(|| records);
    Ok(())
}

/// `XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]`: claims up to
/// COUNT idle entries from `start`, examining at most ten times as many; replies the cursor
/// to continue from, the entries claimed, and the IDs of entries found deleted (dropped).
fn xautoclaim(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let min_idle = crate::num::parse_i64(&args[4])
        .ok_or(error::text(
            "ERR Invalid min-idle-time argument for XAUTOCLAIM",
        ))?
        .max(0);
    let start = bound(&args[5], 0, true)?;
    let (mut count, mut justid) = (100i64, false);
    let mut j = 6;
    while j < args.len() {
        if is(&args[j], "count") && j + 1 < args.len() {
            const BAD: CmdError = error::text("ERR COUNT must be > 0");
            count = crate::num::parse_i64(&args[j + 1]).ok_or(BAD)?;
            if !(1..=i64::MAX / 16).contains(&count) {
                return Err(BAD);
            }
            j += 1;
        } else if is(&args[j], "justid") {
            justid = true;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    let key = &args[1];
    let has = read(ctx.keys, ctx.client.db, key, ctx.now)?
        .is_some_and(|s| s.groups.contains_key(args[2].as_ref()));
    if !has {
        return Err(no_key_or_group(args));
    }
    let now = mstime(ctx);
    let (group, name) = (args[2].as_ref(), args[3].as_ref());
    let logging = ctx.fx.logging;
    let out = &mut *ctx.out;
    let (db, cnow) = (ctx.client.db, ctx.now);
    let mut records: Vec<Record> = Vec::new();
    let (mut created, mut changes) = (false, 0u64);
    ctx.keys.shard(db, key).update(key, cnow, |e| {
        let crate::store::Value::Stream(s) = &mut e.value else {
            return;
        };
        let Stream { log, groups } = &mut **s;
        let g = groups.get_mut(group).expect("checked above");
        let mut attempts = count.saturating_mul(10);
        let mut from = Bound::Included(start);
        let mut consumer = None;
        let mut deleted = Vec::new();
        let body_mark = out.buf.len();
        let mut n = 0;
        while attempts > 0 && count > 0 {
            attempts -= 1;
            let Some((&id, nack)) = g.pel.range((from, Bound::Unbounded)).next() else {
                break;
            };
            from = Bound::Excluded(id);
            let Some(entry) = log.get(id) else {
                if logging {
                    records.push(xclaim_record(
                        key,
                        group,
                        &nack.consumer,
                        id,
                        nack.delivery_time,
                        nack.delivery_count,
                        g.last_id,
                    ));
                }
                changes += 1;
                g.ack(id);
                deleted.push(id);
                count -= 1;
                continue;
            };
            if min_idle != 0 && (now as i64 - nack.delivery_time as i64) < min_idle {
                continue;
            }
            let c = claim_one(g, &mut consumer, name, id, now, &mut created);
            let nack = g.pel.get_mut(&id).expect("pending");
            nack.delivery_time = now;
            if !justid {
                nack.delivery_count += 1;
            }
            if justid {
                id_reply(out, id);
            } else {
                entry_reply(out, &entry);
            }
            n += 1;
            count -= 1;
            if logging {
                records.push(xclaim_record(
                    key,
                    group,
                    &c,
                    id,
                    nack.delivery_time,
                    nack.delivery_count,
                    g.last_id,
                ));
            }
            changes += 1;
        }
        let next = g
            .pel
            .range((from, Bound::Unbounded))
            .next()
            .map_or(StreamId::MIN, |(k, _)| *k);
        let body = out.buf.split_off(body_mark);
        out.array(3);
        id_reply(out, next);
        out.array(n);
        out.buf.unsplit(body);
        out.array(deleted.len());
        for id in deleted {
            id_reply(out, id);
        }
    });
    ctx.fx.dirty += changes;
    if created {
        ctx.fx.dirty += 1;
        ctx.notify(key, ev("xgroup-createconsumer"));
    }
    ctx.log_as(|| records);
    Ok(())
}

const W: u32 = WRITE | FAST;

static XGROUP_SUBS: &[Cmd] = &[
    Cmd::new("create", -5, WRITE | DENYOOM, "stream", xgroup_create)
        .keys(2, 2, 1)
        .doc("Creates a consumer group.", "5.0.0"),
    Cmd::new("setid", -5, WRITE, "stream", xgroup_setid)
        .keys(2, 2, 1)
        .doc("Sets the last-delivered ID of a consumer group.", "5.0.0"),
    Cmd::new("destroy", 4, WRITE, "stream", xgroup_destroy)
        .keys(2, 2, 1)
        .doc("Destroys a consumer group.", "5.0.0"),
    Cmd::new(
        "createconsumer",
        5,
        WRITE | DENYOOM,
        "stream",
        xgroup_createconsumer,
    )
    .keys(2, 2, 1)
    .doc("Creates a consumer in a consumer group.", "6.2.0"),
    Cmd::new("delconsumer", 5, WRITE, "stream", xgroup_delconsumer)
        .keys(2, 2, 1)
        .doc("Deletes a consumer from a consumer group.", "5.0.0"),
    Cmd::new("help", 2, LOADING | STALE, "stream", xgroup_help).doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
    ),
];

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("xgroup", -2, 0, "stream", container).subs(XGROUP_SUBS).doc("A container for consumer groups commands.", "5.0.0"),
    Cmd::new("xack", -4, W, "stream", xack).keys(1, 1, 1).doc("Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.", "5.0.0"),
    Cmd::new("xpending", -3, READONLY, "stream", xpending).keys(1, 1, 1).doc("Returns the information and entries from a stream consumer group's pending entries list.", "5.0.0"),
    Cmd::new("xclaim", -6, W, "stream", xclaim).keys(1, 1, 1).doc("Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.", "5.0.0"),
    Cmd::new("xautoclaim", -6, W, "stream", xautoclaim).keys(1, 1, 1).doc("Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.", "6.2.0"),
];
