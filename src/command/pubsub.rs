//! Pub/sub commands: PUBLISH, (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, SPUBLISH and PUBSUB. The
//! registry and delivery are `engine::pubsub`; the connection writes delivered messages.

use super::error;
use super::{flags::*, Cmd, Ctx, Outcome};
use crate::engine::client::Subscriptions;
use crate::engine::pubsub::{Mailbox, Space};
use bytes::Bytes;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The client's subscriptions, created (with its mailbox) on first use.
pub(super) fn subs<'c>(ctx: &'c mut Ctx) -> &'c mut Subscriptions {
    let info = ctx.client.info.clone();
    let registry = ctx.engine.pubsub.clone();
    ctx.client.sub.get_or_insert_with(|| {
        let weak = info.clone();
        let (mailbox, rx) = Mailbox::new(info.id, Box::new(move || info.kill()));
        *weak.push.lock() = Some(Arc::downgrade(&mailbox));
        Box::new(Subscriptions {
            registry,
            mailbox,
            rx: Some(rx),
            channels: BTreeSet::new(),
            patterns: BTreeSet::new(),
            shard: BTreeSet::new(),
        })
    })
}

fn set_of(s: &mut Subscriptions, space: Space) -> &mut BTreeSet<Bytes> {
    match space {
        Space::Channel => &mut s.channels,
        Space::Pattern => &mut s.patterns,
        Space::Shard => &mut s.shard,
    }
}

/// The count a (un)subscribe reply carries: channels plus patterns, or shard channels.
fn count(s: &Subscriptions, space: Space) -> usize {
    if space == Space::Shard {
        s.shard.len()
    } else {
        s.count()
    }
}

fn confirm(ctx: &mut Ctx, kind: &str, name: Option<&[u8]>, n: usize) {
    ctx.out.push(3);
    ctx.out.bulk(kind.as_bytes());
    match name {
        Some(c) => ctx.out.bulk(c),
        None => ctx.out.null(),
    }
    ctx.out.int(n as i64);
}

fn subscribe_generic(ctx: &mut Ctx, args: &[Bytes], space: Space, kind: &str) -> Outcome {
    for name in &args[1..] {
        let s = subs(ctx);
        if set_of(s, space).insert(name.clone()) {
            s.registry.subscribe(space, name, &s.mailbox);
        }
        let n = count(s, space);
        confirm(ctx, kind, Some(name), n);
    }
    ctx.client.publish_state();
    Ok(())
}

fn unsubscribe_generic(ctx: &mut Ctx, args: &[Bytes], space: Space, kind: &str) -> Outcome {
    let names: Vec<Bytes> = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        ctx.client
            .sub
            .as_mut()
            .map(|s| set_of(s, space).iter().cloned().collect())
            .unwrap_or_default()
    };
    if names.is_empty() {
        let n = ctx.client.sub.as_ref().map_or(0, |s| count(s, space));
        confirm(ctx, kind, None, n);
    }
    for name in &names {
        let n = match ctx.client.sub.as_mut() {
            Some(s) => {
                if set_of(s, space).remove(name) {
                    s.registry.unsubscribe(space, name, s.mailbox.client_id);
                }
                count(s, space)
            }
            None => 0,
        };
        confirm(ctx, kind, Some(name), n);
    }
    // The mailbox stays while the client tracks keys: its invalidations come through it.
    if ctx.client.sub.as_ref().is_some_and(|s| s.is_empty())
        && ctx.client.tracking.is_none()
        && ctx.client.proto == crate::resp::Protocol::Resp2
    {
        ctx.client.sub = None;
    }
    ctx.client.publish_state();
    Ok(())
}

fn subscribe(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    subscribe_generic(ctx, args, Space::Channel, "subscribe")
}
fn psubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    subscribe_generic(ctx, args, Space::Pattern, "psubscribe")
}
fn ssubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    subscribe_generic(ctx, args, Space::Shard, "ssubscribe")
}
fn unsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    unsubscribe_generic(ctx, args, Space::Channel, "unsubscribe")
}
fn punsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    unsubscribe_generic(ctx, args, Space::Pattern, "punsubscribe")
}
fn sunsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    unsubscribe_generic(ctx, args, Space::Shard, "sunsubscribe")
}

fn publish(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let n = ctx.engine.pubsub.publish(false, &args[1], &args[2]);
    ctx.out.int(n as i64);
    Ok(())
}
fn spublish(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let n = ctx.engine.pubsub.publish(true, &args[1], &args[2]);
    ctx.out.int(n as i64);
    Ok(())
}

fn channels_generic(ctx: &mut Ctx, args: &[Bytes], shard: bool) -> Outcome {
    if args.len() > 3 {
        return Err(error::subcommand_syntax(args, "PUBSUB"));
    }
    let mut list = ctx
        .engine
        .pubsub
        .channels(shard, args.get(2).map(|p| &p[..]));
    list.sort();
    ctx.out.array(list.len());
    list.iter().for_each(|c| ctx.out.bulk(c));
    Ok(())
}
fn pubsub_channels(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    channels_generic(ctx, args, false)
}
fn pubsub_shardchannels(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    channels_generic(ctx, args, true)
}
/// A flat array of channel, count pairs, in RESP3 too (as Redis 7.0 answers).
fn numsub_generic(ctx: &mut Ctx, args: &[Bytes], shard: bool) -> Outcome {
    ctx.out.array(2 * (args.len() - 2));
    for c in &args[2..] {
        let n = ctx.engine.pubsub.numsub(shard, c);
        ctx.out.bulk(c);
        ctx.out.int(n as i64);
    }
    Ok(())
}
fn pubsub_numsub(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    numsub_generic(ctx, args, false)
}
fn pubsub_shardnumsub(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    numsub_generic(ctx, args, true)
}
fn pubsub_numpat(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.out.int(ctx.engine.pubsub.numpat() as i64);
    Ok(())
}
fn pubsub(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Err(error::SYNTAX)
}

const P: u32 = PUBSUB | NOSCRIPT | LOADING | STALE;

fn pubsub_help(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    super::server::help(
        ctx,
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    )
}

static PUBSUB_SUBS: &[Cmd] = &[
    Cmd::new("help", 2, LOADING | STALE, "pubsub", pubsub_help)
        .doc("Show helpful text about the different subcommands", "6.2.0"),
    Cmd::new(
        "channels",
        -2,
        PUBSUB | LOADING | STALE,
        "pubsub",
        pubsub_channels,
    )
    .doc("Returns the active channels.", "2.8.0"),
    Cmd::new(
        "numsub",
        -2,
        PUBSUB | LOADING | STALE,
        "pubsub",
        pubsub_numsub,
    )
    .doc("Returns a count of subscribers to channels.", "2.8.0"),
    Cmd::new(
        "numpat",
        2,
        PUBSUB | LOADING | STALE,
        "pubsub",
        pubsub_numpat,
    )
    .doc("Returns a count of unique pattern subscriptions.", "2.8.0"),
    Cmd::new(
        "shardchannels",
        -2,
        PUBSUB | LOADING | STALE,
        "pubsub",
        pubsub_shardchannels,
    )
    .doc("Returns the active shard channels.", "7.0.0"),
    Cmd::new(
        "shardnumsub",
        -2,
        PUBSUB | LOADING | STALE,
        "pubsub",
        pubsub_shardnumsub,
    )
    .doc(
        "Returns the count of subscribers of shard channels.",
        "7.0.0",
    ),
];

pub static COMMANDS: &[Cmd] = &[
    Cmd::new(
        "publish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        "pubsub",
        publish,
    )
    .doc("Posts a message to a channel.", "2.0.0"),
    Cmd::new(
        "spublish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        "pubsub",
        spublish,
    )
    .keys(1, 1, 1)
    .doc("Post a message to a shard channel", "7.0.0"),
    Cmd::new("subscribe", -2, P, "pubsub", subscribe)
        .doc("Listens for messages published to channels.", "2.0.0"),
    Cmd::new("psubscribe", -2, P, "pubsub", psubscribe).doc(
        "Listens for messages published to channels that match one or more patterns.",
        "2.0.0",
    ),
    Cmd::new("ssubscribe", -2, P, "pubsub", ssubscribe)
        .keys(1, -1, 1)
        .doc("Listens for messages published to shard channels.", "7.0.0"),
    Cmd::new("unsubscribe", -1, P, "pubsub", unsubscribe)
        .doc("Stops listening to messages posted to channels.", "2.0.0"),
    Cmd::new("punsubscribe", -1, P, "pubsub", punsubscribe).doc(
        "Stops listening to messages published to channels that match one or more patterns.",
        "2.0.0",
    ),
    Cmd::new("sunsubscribe", -1, P, "pubsub", sunsubscribe)
        .keys(1, -1, 1)
        .doc(
            "Stops listening to messages posted to shard channels.",
            "7.0.0",
        ),
    Cmd::new("pubsub", -2, 0, "pubsub", pubsub)
        .subs(PUBSUB_SUBS)
        .doc("A container for Pub/Sub commands.", "2.8.0"),
];
