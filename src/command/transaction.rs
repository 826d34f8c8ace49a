//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, and RESET (which ends them too).
//! Queueing and EXEC itself are the dispatcher's (`engine::batch`): a queued command is
//! checked there, and EXEC runs the queue as one atomic unit under the engine's locks.

use super::error;
use super::{flags::*, Cmd, Ctx, Outcome};
use crate::engine::watch::Watching;
use crate::resp::Protocol;
use bytes::Bytes;

fn multi(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    if ctx.client.multi.is_some() {
        return Err(error::text("ERR MULTI calls can not be nested"));
    }
    ctx.client.multi = Some(Vec::new());
    ctx.client.multi_aborted = false;
    ctx.client.publish_state();
    ctx.out.ok();
    Ok(())
}

/// EXEC reaches its handler only outside MULTI (the dispatcher runs it inside).
fn exec(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Err(error::text("ERR EXEC without MULTI"))
}

fn discard(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    if ctx.client.multi.take().is_none() {
        return Err(error::text("ERR DISCARD without MULTI"));
    }
    ctx.client.multi_aborted = false;
    ctx.client.watching = None;
    ctx.client.publish_state();
    ctx.out.ok();
    Ok(())
}

/// `WATCH key [key ...]`: a key already past its TTL (not yet removed) is watched as such,
/// so its removal by expiry does not fail the EXEC (as Redis).
fn watch(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if ctx.client.multi.is_some() {
        return Err(error::text("ERR WATCH inside MULTI is not allowed"));
    }
    let db = ctx.client.db;
    let now = ctx.now;
    let w = ctx
        .client
        .watching
        .get_or_insert_with(|| Watching::new(ctx.engine.watches.clone()));
    // No point watching more once a watched key changed.
    if !w.is_dirty() {
        for k in &args[1..] {
            let expired = ctx.keys.shard(db, k).peek_expired(k, now);
            w.add(db, k, expired);
        }
    }
    ctx.out.ok();
    Ok(())
}

fn unwatch(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.client.watching = None;
    ctx.out.ok();
    Ok(())
}

/// `RESET`: the connection's state as a new one's (transaction, watches, database,
/// protocol, name, user); `CLIENT NO-EVICT` stays, as Redis's `clearClientConnectionState`
/// leaves it.
fn reset(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.client.multi = None;
    ctx.client.multi_aborted = false;
    ctx.client.watching = None;
    ctx.client.sub = None;
    ctx.client.monitor = None;
    super::tracking::tracking_off(ctx);
    ctx.client.no_touch = false;
    ctx.client
        .set_flag(crate::engine::client::flag::MONITOR, false);
    ctx.client
        .set_flag(crate::engine::client::flag::NO_TOUCH, false);
    ctx.client.reply = crate::engine::client::ReplyMode::On;
    ctx.client.db = 0;
    ctx.client.proto = Protocol::Resp2;
    ctx.out.proto = Protocol::Resp2;
    ctx.client.info.name.lock().clear();
    ctx.client
        .info
        .db
        .store(0, std::sync::atomic::Ordering::Relaxed);
    ctx.client
        .info
        .resp
        .store(2, std::sync::atomic::Ordering::Relaxed);
    // Back to the default user, authenticated only if it needs no password (Redis).
    ctx.client.log_in("default");
    ctx.client.authenticated = !ctx.engine.acl.auth_required();
    ctx.client.publish_state();
    ctx.out.simple("RESET");
    Ok(())
}

const T: u32 = NOSCRIPT | LOADING | STALE;

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("multi", 1, T | FAST | ALLOW_BUSY, "transactions", multi)
        .doc("Starts a transaction.", "1.2.0"),
    Cmd::new("exec", 1, T | SKIP_SLOWLOG, "transactions", exec)
        .doc("Executes all commands in a transaction.", "1.2.0"),
    Cmd::new("discard", 1, T | FAST | ALLOW_BUSY, "transactions", discard)
        .doc("Discards a transaction.", "2.0.0"),
    Cmd::new("watch", -2, T | FAST | ALLOW_BUSY, "transactions", watch)
        .keys(1, -1, 1)
        .doc(
            "Monitors changes to keys to determine the execution of a transaction.",
            "2.2.0",
        ),
    Cmd::new("unwatch", 1, T | FAST | ALLOW_BUSY, "transactions", unwatch)
        .doc("Forgets about watched keys of a transaction.", "2.2.0"),
    Cmd::new(
        "reset",
        1,
        NO_AUTH | NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        "connection",
        reset,
    )
    .doc("Resets the connection.", "6.2.0"),
];
