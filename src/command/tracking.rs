//! `CLIENT TRACKING`, `CLIENT CACHING`, `CLIENT TRACKINGINFO` and `CLIENT GETREDIR`: the
//! client side of client-side caching (the tables live in `engine::tracking`).

use super::error;
use super::{is, Ctx, Outcome};
use crate::engine::client::{flag, TrackingOn};
use crate::engine::tracking::Options;
use crate::engine::CmdError;
use crate::num::parse_i64;
use bytes::Bytes;
use std::sync::atomic::Ordering;

fn err(text: &'static str) -> CmdError {
    error::text(text)
}

/// Turn the client's tracking off (`CLIENT TRACKING off`, `RESET`).
pub fn tracking_off(ctx: &mut Ctx) {
    ctx.client.tracking = None;
    ctx.client.caching = false;
    ctx.client.info.redir.store(-1, Ordering::Relaxed);
    for f in [flag::TRACKING, flag::TRACKING_BCAST, flag::TRACKING_BROKEN] {
        ctx.client.set_flag(f, false);
    }
    if ctx.client.sub.as_ref().is_some_and(|s| s.is_empty())
        && ctx.client.proto == crate::resp::Protocol::Resp2
    {
        ctx.client.sub = None;
    }
}

/// `CLIENT TRACKING on|off [REDIRECT id] [BCAST] [PREFIX p …] [OPTIN] [OPTOUT] [NOLOOP]`,
/// with Redis's checks in Redis's order.
pub(super) fn client_tracking(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let mut opts = Options::default();
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let a = &args[j];
        if is(a, "redirect") && more {
            j += 1;
            if opts.redirect != 0 {
                return Err(err(
                    "ERR A client can only redirect to a single other client",
                ));
            }
            let id = parse_i64(&args[j]).ok_or(error::NOT_INTEGER)?;
            let exists = u64::try_from(id)
                .ok()
                .is_some_and(|id| ctx.engine.clients.lock().contains_key(&id));
            if !exists {
                return Err(err("ERR The client ID you want redirect to does not exist"));
            }
            opts.redirect = id as u64;
        } else if is(a, "bcast") {
            opts.bcast = true;
        } else if is(a, "optin") {
            opts.optin = true;
        } else if is(a, "optout") {
            opts.optout = true;
        } else if is(a, "noloop") {
            opts.noloop = true;
        } else if is(a, "prefix") && more {
            j += 1;
            opts.prefixes.push(args[j].clone());
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    let id = ctx.client.info.id;
    if is(&args[2], "off") {
        tracking_off(ctx);
        ctx.out.ok();
        return Ok(());
    }
    if !is(&args[2], "on") {
        return Err(error::SYNTAX);
    }
    if !opts.bcast && !opts.prefixes.is_empty() {
        return Err(err("ERR PREFIX option requires BCAST mode to be enabled"));
    }
    let current = ctx.engine.tracking.options(id).map(|(o, _)| o);
    if let Some(cur) = &current {
        if cur.bcast != opts.bcast {
            return Err(err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."));
        }
    }
    if opts.bcast && (opts.optin || opts.optout) {
        return Err(err("ERR OPTIN and OPTOUT are not compatible with BCAST"));
    }
    if opts.optin && opts.optout {
        return Err(err("ERR You can't specify both OPTIN mode and OPTOUT mode"));
    }
    if let Some(cur) = &current {
        if (opts.optin && cur.optout) || (opts.optout && cur.optin) {
            return Err(err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."));
        }
    }
    if opts.bcast {
        if let Some(text) = ctx.engine.tracking.prefix_collision(id, &opts.prefixes) {
            return Err(CmdError::owned(crate::engine::ErrKind::Err, text));
        }
    }
    // Messages reach the client through its push mailbox (shared with pub/sub).
    let mailbox = super::pubsub::subs(ctx).mailbox.clone();
    let redirect = opts.redirect;
    let bcast = opts.bcast;
    ctx.engine.tracking.enable(id, mailbox, opts);
    if ctx.client.tracking.is_none() {
        ctx.client.tracking = Some(TrackingOn {
            tracking: ctx.engine.tracking.clone(),
            id,
        });
    }
    ctx.client
        .info
        .redir
        .store(redirect as i64, Ordering::Relaxed);
    ctx.client.set_flag(flag::TRACKING, true);
    ctx.client.set_flag(flag::TRACKING_BCAST, bcast);
    ctx.client.set_flag(flag::TRACKING_BROKEN, false);
    ctx.out.ok();
    Ok(())
}

/// `CLIENT CACHING yes|no`: whether the next command's keys are tracked (OPTIN / OPTOUT).
pub(super) fn client_caching(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let Some((opts, _)) = ctx.engine.tracking.options(ctx.client.info.id) else {
        return Err(err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"));
    };
    if is(&args[2], "yes") {
        if !opts.optin {
            return Err(err(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
    } else if is(&args[2], "no") {
        if !opts.optout {
            return Err(err(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
    } else {
        return Err(error::SYNTAX);
    }
    ctx.client.caching = true;
    ctx.out.ok();
    Ok(())
}

/// `CLIENT GETREDIR`: -1 when not tracking, else the redirect target (0: none).
pub(super) fn client_getredir(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let redir = match ctx.engine.tracking.options(ctx.client.info.id) {
        Some((o, _)) => o.redirect as i64,
        None => -1,
    };
    ctx.out.int(redir);
    Ok(())
}

/// `CLIENT TRACKINGINFO`: flags, redirect and prefixes.
pub(super) fn client_trackinginfo(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let state = ctx.engine.tracking.options(ctx.client.info.id);
    let caching = ctx.client.caching;
    let mut flags: Vec<&str> = Vec::new();
    match &state {
        None => flags.push("off"),
        Some((o, broken)) => {
            flags.push("on");
            if o.bcast {
                flags.push("bcast");
            }
            if o.optin {
                flags.push("optin");
                if caching {
                    flags.push("caching-yes");
                }
            }
            if o.optout {
                flags.push("optout");
                if caching {
                    flags.push("caching-no");
                }
            }
            if o.noloop {
                flags.push("noloop");
            }
            if *broken {
                flags.push("broken_redirect");
            }
        }
    }
    let out = &mut *ctx.out;
    out.map(3);
    out.bulk(b"flags");
    out.set(flags.len());
    for f in flags {
        out.bulk(f.as_bytes());
    }
    out.bulk(b"redirect");
    out.int(state.as_ref().map_or(-1, |(o, _)| o.redirect as i64));
    out.bulk(b"prefixes");
    let prefixes = state.map(|(o, _)| o.prefixes).unwrap_or_default();
    out.array(prefixes.len());
    for p in prefixes {
        out.bulk(&p);
    }
    Ok(())
}
