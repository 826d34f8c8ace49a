//! Stream commands on entries: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID, and the
//! helpers the other stream families share (lookups, ID arguments, entry replies). The
//! stream itself is `store::stream`; groups are in `stream_group`, reads in `stream_read`,
//! XINFO in `stream_info`.

use super::error;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::notify::{self, Ev};
use crate::engine::{CmdError, ErrKind, LockSet};
use crate::num::parse_i64;
use crate::resp::ReplyBuf;
use crate::store::stream::{AddError, EntryRef, SeqGiven, Stream, StreamId, Trim, TrimArgs};
use crate::store::Value;
use bytes::Bytes;

// ---- errors ------------------------------------------------------------------------------

pub const INVALID_ID: CmdError =
    error::text("ERR Invalid stream ID specified as stream command argument");
const BAD_START: CmdError = error::text("ERR invalid start ID for the interval");
const BAD_END: CmdError = error::text("ERR invalid end ID for the interval");

/// A `-NOGROUP …` error with a built text.
pub fn nogroup(text: String) -> CmdError {
    CmdError::owned(ErrKind::NoGroup, format!("NOGROUP {text}"))
}

/// A stream event for keyspace notifications.
pub fn ev(name: &'static str) -> Ev {
    Ev::new(notify::STREAM, name)
}

// ---- lookups -----------------------------------------------------------------------------

/// The stream at `key` for reading (a keyspace hit or miss).
pub fn read<'s>(
    keys: &'s mut LockSet,
    db: usize,
    key: &[u8],
    now: u64,
) -> Result<Option<&'s Stream>, CmdError> {
    super::read_as(keys, db, key, now)
}

/// What is at `key`, looked up to be changed: Some(true) a stream, Some(false) another
/// type, None missing.
pub fn kind(ctx: &mut Ctx, key: &[u8]) -> Option<bool> {
    let (db, now) = (ctx.client.db, ctx.now);
    ctx.keys
        .shard(db, key)
        .get_write(key, now)
        .map(|e| matches!(e.value, Value::Stream(_)))
}

/// Change the stream at `key` with `f`: None when missing, WRONGTYPE when another type. Its
/// memory is measured again afterwards.
pub fn write<R>(
    ctx: &mut Ctx,
    key: &[u8],
    f: impl FnOnce(&mut Stream) -> R,
) -> Result<Option<R>, CmdError> {
    match kind(ctx, key) {
        None => return Ok(None),
        Some(false) => return Err(error::WRONGTYPE),
        Some(true) => {}
    }
    let (db, now) = (ctx.client.db, ctx.now);
    Ok(ctx
        .keys
        .shard(db, key)
        .update(key, now, |e| match &mut e.value {
            Value::Stream(s) => f(s),
            _ => unreachable!("checked above"),
        }))
}

/// Create an empty stream at `key` (which is missing).
pub fn create(ctx: &mut Ctx, key: &[u8]) {
    let (db, now) = (ctx.client.db, ctx.now);
    ctx.keys
        .shard(db, key)
        .set(key, Value::Stream(Box::default()), 0, now);
}

/// The wall clock in ms for delivery and seen times: while loading the command clock stands
/// at 0, but times the AOF carries (`XCLAIM … TIME`) are compared with the real one.
pub fn mstime(ctx: &Ctx) -> u64 {
    if ctx.loading {
        ctx.engine.store.now()
    } else {
        ctx.now
    }
}

// ---- arguments ---------------------------------------------------------------------------

/// A strict ID argument (no `-`/`+`).
pub fn strict_id(a: &[u8]) -> Result<StreamId, CmdError> {
    StreamId::parse_strict(a).ok_or(INVALID_ID)
}

/// A range bound: `-`, `+`, an ID (a missing sequence is `missing_seq`), or `(id` for an
/// exclusive bound (then moved one ID inwards; `start` says which way).
pub fn bound(a: &[u8], missing_seq: u64, start: bool) -> Result<StreamId, CmdError> {
    if a.len() > 1 && a[0] == b'(' {
        let id = StreamId::parse(&a[1..], missing_seq, true, false)
            .ok_or(INVALID_ID)?
            .0;
        return if start {
            id.incr().ok_or(BAD_START)
        } else {
            id.decr().ok_or(BAD_END)
        };
    }
    Ok(StreamId::parse(a, missing_seq, false, false)
        .ok_or(INVALID_ID)?
        .0)
}

/// A signed 64-bit integer argument.
pub fn int(a: &[u8]) -> Result<i64, CmdError> {
    parse_i64(a).ok_or(error::NOT_INTEGER)
}

// ---- replies -----------------------------------------------------------------------------

pub fn id_reply(out: &mut ReplyBuf, id: StreamId) {
    out.bulk(id.to_string().as_bytes());
}

/// One entry: `[id, [field, value, …]]`.
pub fn entry_reply(out: &mut ReplyBuf, e: &EntryRef) {
    out.array(2);
    id_reply(out, e.id);
    out.array(e.len() * 2);
    for (f, v) in e.pairs() {
        out.bulk(f);
        out.bulk(v);
    }
}

/// Entries as an array.
pub fn entries_reply(out: &mut ReplyBuf, entries: &[EntryRef]) {
    out.array(entries.len());
    for e in entries {
        entry_reply(out, e);
    }
}

fn arg(a: &[u8]) -> Vec<u8> {
    a.to_vec()
}

// ---- XADD / XTRIM ------------------------------------------------------------------------

/// The options XADD and XTRIM share, parsed as Redis's `streamParseAddOrTrimArgsOrReply`.
struct AddTrim {
    trim: Option<Trim>,
    approx: bool,
    limit: Option<i64>,
    /// Index of the MAXLEN/MINID value (the `~`/`=` is just before it when given).
    trim_at: usize,
    nomkstream: bool,
    /// XADD: index of the ID argument, and the ID unless `*`.
    id_at: usize,
    id: Option<(StreamId, SeqGiven)>,
}

fn parse_add_trim(ctx: &Ctx, args: &[Bytes], xadd: bool) -> Result<AddTrim, CmdError> {
    const BOTH: CmdError = error::text(
        "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
    );
    let mut o = AddTrim {
        trim: None,
        approx: false,
        limit: None,
        trim_at: 0,
        nomkstream: false,
        id_at: args.len(),
        id: None,
    };
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let a = &args[i];
        if xadd && a.as_ref() == b"*" {
            o.id_at = i;
            break;
        } else if (is(a, "maxlen") || is(a, "minid")) && more > 0 {
            if o.trim.is_some() {
                return Err(BOTH);
            }
            o.approx = false;
            let next = &args[i + 1];
            if more >= 2 && (next.as_ref() == b"~" || next.as_ref() == b"=") {
                o.approx = next.as_ref() == b"~";
                i += 1;
            }
            let v = &args[i + 1];
            o.trim = Some(if is(a, "maxlen") {
                let n = int(v)?;
                if n < 0 {
                    return Err(error::text("ERR The MAXLEN argument must be >= 0."));
                }
                Trim::MaxLen(n as u64)
            } else {
                Trim::MinId(strict_id(v)?)
            });
            i += 1;
            o.trim_at = i;
        } else if is(a, "limit") && more > 0 {
            let n = int(&args[i + 1])?;
            if n < 0 {
                return Err(error::text("ERR The LIMIT argument must be >= 0."));
            }
            o.limit = Some(n);
            i += 1;
        } else if xadd && is(a, "nomkstream") {
            o.nomkstream = true;
        } else if xadd {
            let id = StreamId::parse(a, 0, true, true).ok_or(INVALID_ID)?;
            o.id = Some(id);
            o.id_at = i;
            break;
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    if o.limit.unwrap_or(0) != 0 && o.trim.is_none() {
        return Err(error::text(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && o.trim.is_none() {
        return Err(error::text(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if !ctx.loading && o.limit.is_some() && !o.approx {
        return Err(error::text(
            "ERR syntax error, LIMIT cannot be used without the special ~ option",
        ));
    }
    Ok(o)
}

impl AddTrim {
    /// The trim to run: without LIMIT, `~` does at most 100 nodes' worth of work (Redis's
    /// default); replayed commands (already exact) are never limited.
    fn args(&self, ctx: &Ctx) -> Option<TrimArgs> {
        let node_entries = ctx.engine.hot.limits.read().stream_node_entries as i64;
        let limit = if ctx.loading {
            0
        } else {
            match self.limit {
                Some(l) => l,
                None if self.approx => {
                    let l = node_entries.saturating_mul(100);
                    if l <= 0 {
                        10_000
                    } else {
                        l.min(1_000_000)
                    }
                }
                None => 0,
            }
        };
        Some(TrimArgs {
            trim: self.trim?,
            approx: self.approx,
            limit: limit as u64,
        })
    }

    /// Rewrite `args` for propagation after an approximate trim: `~` becomes `=` and the
    /// value becomes what the trim left (the length, or the first ID), as Redis's
    /// `streamRewriteTrimArgument`, so replay is exact.
    fn rewrite(&self, rec: &mut [Vec<u8>], s: &Stream) {
        if !self.approx {
            return;
        }
        rec[self.trim_at - 1] = b"=".to_vec();
        rec[self.trim_at] = match self.trim {
            Some(Trim::MaxLen(_)) => s.log.length.to_string().into_bytes(),
            _ => s.log.first_edge_with_tombstones().to_bytes(),
        };
    }
}

/// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value
/// [field value ...]`, propagated with the ID it added and an exact trim.
fn xadd(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let o = parse_add_trim(ctx, args, true)?;
    let fields = o.id_at + 1;
    if args.len() < fields + 2 || (args.len() - fields) % 2 == 1 {
        return Err(error::wrong_arity("xadd"));
    }
    if let Some((id, SeqGiven::Yes)) = o.id {
        if id.is_zero() {
            return Err(error::text(
                "ERR The ID specified in XADD must be greater than 0-0",
            ));
        }
    }
    let key = &args[1];
    match kind(ctx, key) {
        Some(false) => return Err(error::WRONGTYPE),
        None if o.nomkstream => {
            ctx.out.null();
            return Ok(());
        }
        None => {
            // Created only once the entry is known to go in (a refused ID leaves no key).
        }
        Some(true) => {}
    }
    let existed = kind(ctx, key).is_some();
    let limits = ctx.engine.hot.limits.read().clone();
    let pairs: Vec<(&[u8], &[u8])> = args[fields..]
        .chunks(2)
        .map(|c| (c[0].as_ref(), c[1].as_ref()))
        .collect();
    let now = ctx.now;
    let trim = o.args(ctx);
    let add = |s: &mut Stream| -> Result<(StreamId, u64), CmdError> {
        if s.log.last_id == StreamId::MAX {
            return Err(error::text(
                "ERR The stream has exhausted the last possible ID, unable to add more items",
            ));
        }
        let id = s
            .log
            .append(
                &pairs,
                o.id,
                now,
                limits.stream_node_bytes,
                limits.stream_node_entries,
            )
            .map_err(|e| match e {
                AddError::NotGreater => error::text(
                    "ERR The ID specified in XADD is equal or smaller than the target stream top item",
                ),
                AddError::TooLarge => error::text("ERR Elements are too large to be stored"),
            })?;
        let trimmed = trim.map(|t| s.log.trim(&t)).unwrap_or(0);
        Ok((id, trimmed))
    };
    let (id, trimmed, rec) = if existed {
        let mut rec_args = None;
        let logging = ctx.fx.logging;
        let r = write(ctx, key, |s| {
            let r = add(s)?;
            if logging {
                let mut rec: Vec<Vec<u8>> = args.iter().map(|a| arg(a)).collect();
                o.rewrite(&mut rec, s);
                rec_args = Some(rec);
            }
            Ok::<_, CmdError>(r)
        })?
        .expect("exists")?;
        (r.0, r.1, rec_args)
    } else {
        let mut s = Stream::new();
        let r = add(&mut s)?;
        let mut rec: Vec<Vec<u8>> = args.iter().map(|a| arg(a)).collect();
        o.rewrite(&mut rec, &s);
        let (db, now) = (ctx.client.db, ctx.now);
        ctx.keys
            .shard(db, key)
            .set(key, Value::Stream(Box::new(s)), 0, now);
        (r.0, r.1, Some(rec))
    };
    id_reply(ctx.out, id);
    ctx.changed(key, ev("xadd"));
    if trimmed > 0 {
        ctx.notify(key, ev("xtrim"));
    }
    if let Some(mut rec) = rec {
        rec[o.id_at] = id.to_bytes();
        ctx.log_as(|| vec![rec]);
    }
    Ok(())
}

/// `XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]`
fn xtrim(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let o = parse_add_trim(ctx, args, false)?;
    let key = &args[1];
    let trim = o.args(ctx).expect("XTRIM has a strategy");
    let logging = ctx.fx.logging;
    let r = write(ctx, key, |s| {
        let n = s.log.trim(&trim);
        let rec = (logging && n > 0).then(|| {
            let mut rec: Vec<Vec<u8>> = args.iter().map(|a| arg(a)).collect();
            o.rewrite(&mut rec, s);
            rec
        });
        (n, rec)
    })?;
    let (n, rec) = r.unwrap_or((0, None));
    if n > 0 {
        ctx.changed(key, ev("xtrim"));
        ctx.fx.dirty += n - 1;
        if let Some(rec) = rec {
            ctx.log_as(|| vec![rec]);
        }
    }
    ctx.out.int(n as i64);
    Ok(())
}

// ---- reads -------------------------------------------------------------------------------

/// `XRANGE key start end [COUNT count]` and `XREVRANGE key end start [COUNT count]`.
fn range(ctx: &mut Ctx, args: &[Bytes], rev: bool) -> Outcome {
    let (sa, ea) = if rev {
        (&args[3], &args[2])
    } else {
        (&args[2], &args[3])
    };
    let start = bound(sa, 0, true)?;
    let end = bound(ea, u64::MAX, false)?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if is(&args[j], "count") && j + 1 < args.len() {
            count = int(&args[j + 1])?.max(0);
            j += 2;
        } else {
            return Err(error::SYNTAX);
        }
    }
    let Some(s) = read(ctx.keys, ctx.client.db, &args[1], ctx.now)? else {
        ctx.out.array(0);
        return Ok(());
    };
    if count == 0 {
        ctx.out.null_array();
        return Ok(());
    }
    let take = if count < 0 {
        usize::MAX
    } else {
        count as usize
    };
    let items: Vec<EntryRef> = s.log.range(start, end, rev).take(take).collect();
    entries_reply(ctx.out, &items);
    Ok(())
}

fn xrange(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    range(ctx, args, false)
}

fn xrevrange(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    range(ctx, args, true)
}

fn xlen(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let n = read(ctx.keys, ctx.client.db, &args[1], ctx.now)?.map_or(0, |s| s.log.length);
    ctx.out.int(n as i64);
    Ok(())
}

// ---- XDEL / XSETID -----------------------------------------------------------------------

/// `XDEL key id [id ...]`
fn xdel(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let key = &args[1];
    match kind(ctx, key) {
        Some(false) => return Err(error::WRONGTYPE),
        // A missing key answers 0 before the IDs are looked at, as in Redis.
        None => {
            ctx.out.int(0);
            return Ok(());
        }
        Some(true) => {}
    }
    let ids = args[2..]
        .iter()
        .map(|a| strict_id(a))
        .collect::<Result<Vec<_>, _>>()?;
    let n = write(ctx, key, |s| {
        let (mut n, mut first) = (0u64, false);
        for id in &ids {
            if s.log.delete(*id) {
                first |= *id == s.log.first_id;
                if *id > s.log.max_deleted {
                    s.log.max_deleted = *id;
                }
                n += 1;
            }
        }
        if n > 0 {
            s.log.finish_delete(first);
        }
        n
    })?
    .unwrap_or(0);
    if n > 0 {
        ctx.changed(key, ev("xdel"));
        ctx.fx.dirty += n - 1;
    }
    ctx.out.int(n as i64);
    Ok(())
}

/// `XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]`
fn xsetid(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let id = strict_id(&args[2])?;
    let (mut added, mut max_del) = (None, StreamId::MIN);
    let mut i = 3;
    while i < args.len() {
        let more = i + 1 < args.len();
        if is(&args[i], "entriesadded") && more {
            let n = int(&args[i + 1])?;
            if n < 0 {
                return Err(error::text("ERR entries_added must be positive"));
            }
            added = Some(n as u64);
        } else if is(&args[i], "maxdeletedid") && more {
            max_del = strict_id(&args[i + 1])?;
            if id < max_del {
                return Err(error::text("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"));
            }
        } else {
            return Err(error::SYNTAX);
        }
        i += 2;
    }
    let key = &args[1];
    match kind(ctx, key) {
        None => return Err(error::NO_SUCH_KEY),
        Some(false) => return Err(error::WRONGTYPE),
        Some(true) => {}
    }
    write(ctx, key, |s| {
        if s.log.length > 0 {
            if s.log.last_valid_id().is_some_and(|top| id < top) {
                return Err(error::text(
                    "ERR The ID specified in XSETID is smaller than the target stream top item",
                ));
            }
            if added.is_some_and(|a| s.log.length > a) {
                return Err(error::text("ERR The entries_added specified in XSETID is smaller than the target stream length"));
            }
        }
        s.log.last_id = id;
        if let Some(a) = added {
            s.log.entries_added = a;
        }
        if !max_del.is_zero() {
            s.log.max_deleted = max_del;
        }
        Ok(())
    })?
    .expect("exists")?;
    ctx.fx.dirty += 1;
    ctx.notify(key, ev("xsetid"));
    ctx.out.ok();
    Ok(())
}

const W: u32 = WRITE | DENYOOM | FAST;

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("xadd", -5, W, "stream", xadd).keys(1, 1, 1).doc(
        "Appends a new message to a stream. Creates the key if it doesn't exist.",
        "5.0.0",
    ),
    Cmd::new("xlen", 2, READONLY | FAST, "stream", xlen)
        .keys(1, 1, 1)
        .doc("Return the number of messages in a stream.", "5.0.0"),
    Cmd::new("xrange", -4, READONLY, "stream", xrange)
        .keys(1, 1, 1)
        .doc(
            "Returns the messages from a stream within a range of IDs.",
            "5.0.0",
        ),
    Cmd::new("xrevrange", -4, READONLY, "stream", xrevrange)
        .keys(1, 1, 1)
        .doc(
            "Returns the messages from a stream within a range of IDs in reverse order.",
            "5.0.0",
        ),
    Cmd::new("xdel", -3, WRITE | FAST, "stream", xdel)
        .keys(1, 1, 1)
        .doc(
            "Returns the number of messages after removing them from a stream.",
            "5.0.0",
        ),
    Cmd::new("xtrim", -4, WRITE, "stream", xtrim)
        .keys(1, 1, 1)
        .doc("Deletes messages from the beginning of a stream.", "5.0.0"),
    Cmd::new("xsetid", -3, W, "stream", xsetid)
        .keys(1, 1, 1)
        .doc(
            "An internal command for replicating stream values.",
            "5.0.0",
        ),
];
