//! XINFO STREAM [FULL [COUNT n]] / GROUPS / CONSUMERS: maps in RESP3, flat arrays in RESP2,
//! with Redis's field names and order.

use super::error;
use super::stream::{entry_reply, id_reply, int, mstime, nogroup, read};
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::resp::ReplyBuf;
use crate::store::stream::{EntryRef, Group, Log, StreamId, ENTRIES_READ_INVALID};
use bytes::Bytes;

fn field(out: &mut ReplyBuf, name: &str) {
    out.bulk(name.as_bytes());
}

fn entries_read(out: &mut ReplyBuf, g: &Group) {
    if g.entries_read != ENTRIES_READ_INVALID {
        out.int(g.entries_read);
    } else {
        out.null();
    }
}

fn lag(out: &mut ReplyBuf, log: &Log, g: &Group) {
    match log.lag(g) {
        Some(l) => out.int(l),
        None => out.null(),
    }
}

/// `XINFO STREAM key [FULL [COUNT count]]`
fn xinfo_stream(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    // The key first, as Redis: a missing or wrong key is reported before bad options.
    let Some(s) = read(ctx.keys, ctx.client.db, &args[2], ctx.now)? else {
        return Err(error::NO_SUCH_KEY);
    };
    let opts = &args[3..];
    let (full, count) = match opts.len() {
        0 => (false, 10),
        1 | 3 if is(&opts[0], "full") => {
            let mut count = 10;
            if opts.len() == 3 {
                if !is(&opts[1], "count") {
                    return Err(error::subcommand_syntax(args, "XINFO"));
                }
                count = int(&opts[2])?;
                if count < 0 {
                    count = 10;
                }
            }
            (true, count as usize)
        }
        _ => return Err(error::subcommand_syntax(args, "XINFO")),
    };
    let out = &mut *ctx.out;
    let log = &s.log;
    out.map(if full { 9 } else { 10 });
    field(out, "length");
    out.int(log.length as i64);
    field(out, "radix-tree-keys");
    out.int(log.node_count() as i64);
    field(out, "radix-tree-nodes");
    out.int(log.rax_nodes() as i64);
    field(out, "last-generated-id");
    id_reply(out, log.last_id);
    field(out, "max-deleted-entry-id");
    id_reply(out, log.max_deleted);
    field(out, "entries-added");
    out.int(log.entries_added as i64);
    field(out, "recorded-first-entry-id");
    id_reply(out, log.first_id);
    if !full {
        field(out, "groups");
        out.int(s.groups.len() as i64);
        for (name, rev) in [("first-entry", false), ("last-entry", true)] {
            field(out, name);
            match log.range(StreamId::MIN, StreamId::MAX, rev).next() {
                Some(e) => entry_reply(out, &e),
                None => out.null(),
            }
        }
        return Ok(());
    }
    let limit = if count == 0 { usize::MAX } else { count };
    field(out, "entries");
    let items: Vec<EntryRef> = log
        .range(StreamId::MIN, StreamId::MAX, false)
        .take(limit)
        .collect();
    super::stream::entries_reply(out, &items);
    field(out, "groups");
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(7);
        field(out, "name");
        out.bulk(name);
        field(out, "last-delivered-id");
        id_reply(out, g.last_id);
        field(out, "entries-read");
        entries_read(out, g);
        field(out, "lag");
        lag(out, log, g);
        field(out, "pel-count");
        out.int(g.pel.len() as i64);
        field(out, "pending");
        let pel: Vec<_> = g.pel.iter().take(limit).collect();
        out.array(pel.len());
        for (id, n) in pel {
            out.array(4);
            id_reply(out, *id);
            out.bulk(&n.consumer);
            out.int(n.delivery_time as i64);
            out.int(n.delivery_count as i64);
        }
        field(out, "consumers");
        out.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            out.map(4);
            field(out, "name");
            out.bulk(cname);
            field(out, "seen-time");
            out.int(c.seen_time as i64);
            field(out, "pel-count");
            out.int(c.pel.len() as i64);
            field(out, "pending");
            let ids: Vec<_> = c.pel.iter().take(limit).collect();
            out.array(ids.len());
            for id in ids {
                let (time, n) = g
                    .pel
                    .get(id)
                    .map_or((0, 0), |n| (n.delivery_time, n.delivery_count));
                out.array(3);
                id_reply(out, *id);
                out.int(time as i64);
                out.int(n as i64);
            }
        }
    }
    Ok(())
}

/// `XINFO GROUPS key`
fn xinfo_groups(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let Some(s) = read(ctx.keys, ctx.client.db, &args[2], ctx.now)? else {
        return Err(error::NO_SUCH_KEY);
    };
    let out = &mut *ctx.out;
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(6);
        field(out, "name");
        out.bulk(name);
        field(out, "consumers");
        out.int(g.consumers.len() as i64);
        field(out, "pending");
        out.int(g.pel.len() as i64);
        field(out, "last-delivered-id");
        id_reply(out, g.last_id);
        field(out, "entries-read");
        entries_read(out, g);
        field(out, "lag");
        lag(out, &s.log, g);
    }
    Ok(())
}

/// `XINFO CONSUMERS key group`
fn xinfo_consumers(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = mstime(ctx) as i64;
    let Some(s) = read(ctx.keys, ctx.client.db, &args[2], ctx.now)? else {
        return Err(error::NO_SUCH_KEY);
    };
    let Some(g) = s.groups.get(args[3].as_ref()) else {
        return Err(nogroup(format!(
            "No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(&args[3]),
            String::from_utf8_lossy(&args[2])
        )));
    };
    let out = &mut *ctx.out;
    out.array(g.consumers.len());
    for (name, c) in &g.consumers {
        out.map(3);
        field(out, "name");
        out.bulk(name);
        field(out, "pending");
        out.int(c.pel.len() as i64);
        field(out, "idle");
        out.int((now - c.seen_time as i64).max(0));
    }
    Ok(())
}

fn xinfo_help(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    super::server::help(
        ctx,
        "XINFO",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    )
}

fn container(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Ok(())
}

static XINFO_SUBS: &[Cmd] = &[
    Cmd::new("consumers", 4, READONLY, "stream", xinfo_consumers)
        .keys(2, 2, 1)
        .doc(
            "Returns a list of the consumers in a consumer group.",
            "5.0.0",
        ),
    Cmd::new("groups", 3, READONLY, "stream", xinfo_groups)
        .keys(2, 2, 1)
        .doc(
            "Returns a list of the consumer groups of a stream.",
            "5.0.0",
        ),
    Cmd::new("stream", -3, READONLY, "stream", xinfo_stream)
        .keys(2, 2, 1)
        .doc("Returns information about a stream.", "5.0.0"),
    Cmd::new("help", 2, LOADING | STALE, "stream", xinfo_help).doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
    ),
];

pub static COMMANDS: &[Cmd] = &[Cmd::new("xinfo", -2, 0, "stream", container)
    .subs(XINFO_SUBS)
    .doc("A container for stream introspection commands.", "5.0.0")];
