//! XREAD and XREADGROUP, blocking or not.
//!
//! A read that finds nothing and was given `BLOCK` waits on its keys (`engine::blocking`).
//! When a key changes the client runs the command again (`ctx.client.block_retry`), served
//! as Redis serves a blocked stream reader: from the first of its keys whose last ID passed
//! the one it waits after, one key per reply, at most `COUNT` (1000 when not given) entries.
//! XREAD's `$` is resolved when it blocks (the retried command carries that ID). A group
//! reader whose key was deleted or whose group was destroyed meanwhile gets Redis's errors.
//!
//! XREADGROUP changes the group (last ID, read counter, PEL, consumer), so it propagates
//! what it did, as Redis: an `XCLAIM … FORCE JUSTID LASTID` per entry delivered, `XGROUP
//! SETID … ENTRIESREAD` for a NOACK read that moved the last ID, and `XGROUP
//! CREATECONSUMER` for a consumer created with nothing else to carry it.

use super::error;
use super::stream::{entry_reply, id_reply, int, mstime, nogroup, strict_id, INVALID_ID};
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::ctx::{Block, Record};
use crate::engine::table::KeySpec;
use crate::engine::{CmdError, ErrKind};
use crate::resp::ReplyBuf;
use crate::store::stream::{EntryRef, Stream, StreamId};
use crate::store::Value;
use bytes::Bytes;

/// Entries a woken reader gets when it gave no COUNT (Redis's `XREAD_BLOCKED_DEFAULT_COUNT`),
/// so a low ID cannot make one wake-up serve a huge reply.
const BLOCKED_DEFAULT_COUNT: usize = 1000;

struct ReadArgs {
    block_ms: Option<u64>,
    count: usize,
    streams_at: usize,
    n: usize,
    group: Option<(Bytes, Bytes)>,
    noack: bool,
}

fn parse(args: &[Bytes], readgroup: bool) -> Result<ReadArgs, CmdError> {
    let mut r = ReadArgs {
        block_ms: None,
        count: 0,
        streams_at: 0,
        n: 0,
        group: None,
        noack: false,
    };
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let a = &args[i];
        if is(a, "block") && more > 0 {
            i += 1;
            let t = parse_timeout(&args[i])?;
            r.block_ms = Some(t);
        } else if is(a, "count") && more > 0 {
            i += 1;
            r.count = int(&args[i])?.max(0) as usize;
        } else if is(a, "streams") && more > 0 {
            r.streams_at = i + 1;
            let left = args.len() - r.streams_at;
            if !left.is_multiple_of(2) {
                return Err(error::text("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."));
            }
            r.n = left / 2;
            break;
        } else if is(a, "group") && more >= 2 {
            if !readgroup {
                return Err(error::text(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.group = Some((args[i + 1].clone(), args[i + 2].clone()));
            i += 2;
        } else if is(a, "noack") {
            if !readgroup {
                return Err(error::text(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.noack = true;
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    if r.streams_at == 0 {
        return Err(error::SYNTAX);
    }
    if readgroup && r.group.is_none() {
        return Err(error::text("ERR Missing GROUP option for XREADGROUP"));
    }
    Ok(r)
}

/// `BLOCK milliseconds`: an integer, not negative (0: for ever).
fn parse_timeout(a: &[u8]) -> Result<u64, CmdError> {
    let t = crate::num::parse_i64(a)
        .ok_or(error::text("ERR timeout is not an integer or out of range"))?;
    if t < 0 {
        return Err(error::text("ERR timeout is negative"));
    }
    Ok(t as u64)
}

/// The stream at `key` with a reply buffer beside it, changed by `f` (None when missing or
/// not a stream).
fn with_stream<R>(
    ctx: &mut Ctx,
    key: &[u8],
    f: impl FnOnce(&mut Stream, &mut ReplyBuf) -> R,
) -> Option<R> {
    let (db, now) = (ctx.client.db, ctx.now);
    let out = &mut *ctx.out;
    let shard = ctx.keys.shard(db, key);
    if !matches!(
        shard.get_write(key, now).map(|e| &e.value),
        Some(Value::Stream(_))
    ) {
        return None;
    }
    shard.update(key, now, |e| match &mut e.value {
        Value::Stream(s) => f(s, out),
        _ => unreachable!("checked above"),
    })
}

/// Insert an array (RESP2) or map (RESP3, when `map`) header of `n` before what was written
/// from `mark` on.
fn header_at(out: &mut ReplyBuf, mark: usize, n: usize, map: bool) {
    let tail = out.buf.split_off(mark);
    if map {
        out.map(n);
    } else {
        out.array(n);
    }
    out.buf.unsplit(tail);
}

/// What one group read did, for propagation and notifications.
#[derive(Default)]
struct GroupRead {
    records: Vec<Record>,
    created: bool,
}

/// Serve `key` to a group reader: new entries after `after` (the group's last ID, for `>`)
/// or, with `history`, the consumer's own pending entries after `after`.
#[allow(clippy::too_many_arguments)]
fn serve_group(
    s: &mut Stream,
    out: &mut ReplyBuf,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    after: StreamId,
    history: bool,
    count: usize,
    noack: bool,
    now: u64,
    logging: bool,
) -> GroupRead {
    let mut done = GroupRead::default();
    let Stream { log, groups } = s;
    let Some(g) = groups.get_mut(group) else {
        return done;
    };
    let (cname, created) = g.touch_consumer(consumer, now);
    done.created = created;
    out.bulk(key);
    let start = after.incr().unwrap_or(StreamId::MIN);
    let take = if count == 0 { usize::MAX } else { count };
    if history {
        let ids: Vec<StreamId> = g.consumers[&cname]
            .pel
            .range(start..)
            .take(take)
            .copied()
            .collect();
        out.array(ids.len());
        for id in ids {
            match log.get(id) {
                Some(e) => {
                    entry_reply(out, &e);
                    if let Some(n) = g.pel.get_mut(&id) {
                        n.delivery_time = now;
                        n.delivery_count += 1;
                    }
                }
                None => {
                    out.array(2);
                    id_reply(out, id);
                    out.null_array();
                }
            }
        }
        return done;
    }
    let entries: Vec<EntryRef> = log.range(start, StreamId::MAX, false).take(take).collect();
    out.array(entries.len());
    let mut moved = false;
    for e in &entries {
        moved |= log.advance_group(g, e.id);
        entry_reply(out, e);
        if !noack {
            g.deliver(e.id, &cname, now);
            if logging {
                done.records
                    .push(xclaim_record(key, group, &cname, e.id, now, 1, g.last_id));
            }
        }
    }
    if logging {
        if created && (noack || entries.is_empty()) {
            done.records.insert(
                0,
                vec![
                    b"XGROUP".to_vec(),
                    b"CREATECONSUMER".to_vec(),
                    key.to_vec(),
                    group.to_vec(),
                    consumer.to_vec(),
                ],
            );
        }
        if noack && moved {
            done.records
                .push(setid_record(key, group, g.last_id, g.entries_read));
        }
    }
    done
}

/// The `XCLAIM` Redis propagates for a delivery (`streamPropagateXCLAIM`).
pub fn xclaim_record(
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    id: StreamId,
    time: u64,
    count: u64,
    last: StreamId,
) -> Record {
    vec![
        b"XCLAIM".to_vec(),
        key.to_vec(),
        group.to_vec(),
        consumer.to_vec(),
        b"0".to_vec(),
        id.to_bytes(),
        b"TIME".to_vec(),
        time.to_string().into_bytes(),
        b"RETRYCOUNT".to_vec(),
        count.to_string().into_bytes(),
        b"FORCE".to_vec(),
        b"JUSTID".to_vec(),
        b"LASTID".to_vec(),
        last.to_bytes(),
    ]
}

/// The `XGROUP SETID` Redis propagates when only the last ID moved (`streamPropagateGroupID`).
pub fn setid_record(key: &[u8], group: &[u8], last: StreamId, read: i64) -> Record {
    vec![
        b"XGROUP".to_vec(),
        b"SETID".to_vec(),
        key.to_vec(),
        group.to_vec(),
        last.to_bytes(),
        b"ENTRIESREAD".to_vec(),
        read.to_string().into_bytes(),
    ]
}

const GT_GROUP: StreamId = StreamId::MAX;

fn xread_generic(ctx: &mut Ctx, args: &[Bytes], readgroup: bool) -> Outcome {
    let r = parse(args, readgroup)?;
    let retry = ctx.client.block_retry;
    let (db, now) = (ctx.client.db, ctx.now);
    let keys = &args[r.streams_at..r.streams_at + r.n];
    let id_args = &args[r.streams_at + r.n..];
    // What each key's read starts after; None: the key is skipped on this try.
    let mut after: Vec<StreamId> = Vec::with_capacity(r.n);
    let mut dollar = false;
    for (key, ida) in keys.iter().zip(id_args) {
        let s = match super::stream::read(ctx.keys, db, key, now) {
            Ok(s) => s,
            // Once blocked, a key of another type is waited on (as for lists).
            Err(_) if retry && !readgroup => None,
            Err(_) if retry => {
                return Err(CmdError::new(
                    ErrKind::Unblocked,
                    "UNBLOCKED the stream key no longer exists",
                ))
            }
            Err(e) => return Err(e),
        };
        if let Some((g, _)) = &r.group {
            let found = s.is_some_and(|s| s.groups.contains_key(g.as_ref()));
            if !found {
                if retry && s.is_none() {
                    return Err(CmdError::new(
                        ErrKind::Unblocked,
                        "UNBLOCKED the stream key no longer exists",
                    ));
                }
                if retry {
                    return Err(nogroup(
                        "the consumer group this client was blocked on no longer exists".into(),
                    ));
                }
                return Err(nogroup(format!(
                    "No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    String::from_utf8_lossy(key),
                    String::from_utf8_lossy(g)
                )));
            }
        }
        let id = match ida.as_ref() {
            b"$" if readgroup => return Err(error::text("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")),
            b"$" => {
                dollar = true;
                s.map_or(StreamId::MIN, |s| s.log.last_id)
            }
            b">" if !readgroup => return Err(error::text("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")),
            b">" => GT_GROUP,
            a => strict_id(a).map_err(|_| INVALID_ID)?,
        };
        after.push(id);
    }
    let logging = ctx.fx.logging;
    let mstime = mstime(ctx);
    let resp3 = ctx.out.resp3();
    let mark = ctx.out.buf.len();
    let mut served = 0;
    let mut records = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        // Decide whether this key is served now, and from which ID.
        let plan = {
            let Some(s) = super::stream::read(ctx.keys, db, key, now).ok().flatten() else {
                continue;
            };
            match &r.group {
                Some((g, _)) => {
                    let last = s.groups.get(g.as_ref()).map(|g| g.last_id);
                    let Some(last) = last else { continue };
                    if after[i] != GT_GROUP {
                        Some((after[i], true))
                    } else if retry {
                        (s.log.last_id > last).then_some((last, false))
                    } else {
                        (s.log.length > 0 && s.log.last_valid_id().is_some_and(|m| m > last))
                            .then_some((last, false))
                    }
                }
                None => {
                    let go = if retry {
                        s.log.last_id > after[i]
                    } else {
                        s.log.length > 0 && s.log.last_valid_id().is_some_and(|m| m > after[i])
                    };
                    go.then_some((after[i], false))
                }
            }
        };
        let Some((from, history)) = plan else {
            continue;
        };
        let count = if retry && r.count == 0 {
            BLOCKED_DEFAULT_COUNT
        } else {
            r.count
        };
        served += 1;
        if !resp3 {
            ctx.out.array(2);
        }
        match &r.group {
            Some((g, c)) => {
                let done = with_stream(ctx, key, |s, out| {
                    serve_group(
                        s, out, key, g, c, from, history, count, r.noack, mstime, logging,
                    )
                })
                .unwrap_or_default();
                ctx.fx.dirty += 1;
                if done.created {
                    ctx.fx.dirty += 1;
                    ctx.notify(key, super::stream::ev("xgroup-createconsumer"));
                }
                records.extend(done.records);
            }
            None => {
                let s = super::stream::read(ctx.keys, db, key, now)?.expect("checked above");
                let start = from.incr().unwrap_or(StreamId::MIN);
                let take = if count == 0 { usize::MAX } else { count };
                let items: Vec<EntryRef> = s
                    .log
                    .range(start, StreamId::MAX, false)
                    .take(take)
                    .collect();
                ctx.out.bulk(key);
                super::stream::entries_reply(ctx.out, &items);
            }
        }
        // A woken reader is served from one key, as Redis does.
        if retry {
            break;
        }
    }
    if readgroup {
        ctx.log_as(|| records);
    }
    if served > 0 {
        header_at(ctx.out, mark, served, resp3);
        return Ok(());
    }
    let Some(timeout_ms) = r.block_ms else {
        ctx.out.null_array();
        return Ok(());
    };
    if !ctx.can_block() {
        ctx.out.null_array();
        return Ok(());
    }
    // Wait for entries after the IDs resolved now (`$` becomes the last ID).
    let retry_args = dollar.then(|| {
        let mut a = args.to_vec();
        for (j, id) in after.iter().enumerate() {
            let at = r.streams_at + r.n + j;
            if a[at].as_ref() == b"$" {
                a[at] = Bytes::from(id.to_bytes());
            }
        }
        a
    });
    ctx.fx.rare().block = Some(Block {
        keys: keys.to_vec(),
        timeout_ms,
        on_timeout: crate::engine::ctx::TimeoutReply::NullArray,
        retry_args,
    });
    Ok(())
}

/// `XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]`
fn xread(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    xread_generic(ctx, args, false)
}

/// `XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key
/// [key ...] id [id ...]`
fn xreadgroup(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    xread_generic(ctx, args, true)
}

static XREAD_KEYS: &[KeySpec] = &[KeySpec::keyword("STREAMS", 1, 2)];
static XREADGROUP_KEYS: &[KeySpec] = &[KeySpec::keyword("STREAMS", 4, 2)];

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("xread", -4, READONLY | BLOCKING, "stream", xread).key_specs(XREAD_KEYS).doc("Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.", "5.0.0"),
    Cmd::new("xreadgroup", -7, WRITE | BLOCKING, "stream", xreadgroup).key_specs(XREADGROUP_KEYS).doc("Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.", "5.0.0"),
];
