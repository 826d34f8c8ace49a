//! `CLIENT` subcommands: naming, listing and killing connections, pausing, reply modes.

use super::connection::{valid_name, BAD_NAME, CONN};
use super::error;
use super::tracking;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::client::{flag, ClientInfo};
use crate::engine::CmdError;
use crate::num::parse_i64;
use bytes::Bytes;
use std::sync::atomic::Ordering;

fn client_id(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.out.int(ctx.client.info.id as i64);
    Ok(())
}

fn client_setname(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if !valid_name(&args[2]) {
        return Err(BAD_NAME);
    }
    *ctx.client.info.name.lock() = args[2].to_vec();
    ctx.out.ok();
    Ok(())
}

fn client_getname(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let name = ctx.client.info.name.lock().clone();
    if name.is_empty() {
        ctx.out.null();
    } else {
        ctx.out.bulk(&name);
    }
    Ok(())
}

/// `CLIENT SETINFO LIB-NAME|LIB-VER value` (Redis 7.2; clients such as redis-py send it).
fn client_setinfo(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let slot = if is(&args[2], "lib-name") {
        &ctx.client.info.lib_name
    } else if is(&args[2], "lib-ver") {
        &ctx.client.info.lib_ver
    } else {
        return Err(error::msg(format!(
            "ERR Unrecognized option '{}'",
            String::from_utf8_lossy(&args[2])
        )));
    };
    if !valid_name(&args[3]) {
        return Err(error::msg(format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(&args[2]).to_ascii_uppercase()
        )));
    }
    *slot.lock() = args[3].to_vec();
    ctx.out.ok();
    Ok(())
}

fn client_info(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let line = format!(
        "{}\n",
        ctx.client
            .info
            .describe(ctx.now, &ctx.engine.registry.fullnames)
    );
    ctx.out.verbatim(line.as_bytes());
    Ok(())
}

/// The client type `CLIENT LIST TYPE` and `CLIENT KILL TYPE` filter on: as Redis, a client
/// with subscriptions is `pubsub`, any other `normal` (there are no replicas or masters).
fn client_type(c: &ClientInfo) -> &'static str {
    if c.flags.load(Ordering::Relaxed) & flag::PUBSUB != 0 {
        "pubsub"
    } else {
        "normal"
    }
}

/// A `TYPE` argument: the type it names (replica and master match no client here).
fn type_arg(a: &[u8]) -> Result<&'static str, CmdError> {
    let t = String::from_utf8_lossy(a).to_ascii_lowercase();
    match t.as_str() {
        "normal" => Ok("normal"),
        "pubsub" => Ok("pubsub"),
        "master" => Ok("master"),
        "replica" | "slave" => Ok("replica"),
        _ => Err(error::msg(format!(
            "ERR Unknown client type '{}'",
            String::from_utf8_lossy(a)
        ))),
    }
}

/// `CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id ...]`
fn client_list(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let mut ids: Option<Vec<u64>> = None;
    let mut kind = None;
    let mut j = 2;
    while j < args.len() {
        if is(&args[j], "type") && j + 1 < args.len() {
            kind = Some(type_arg(&args[j + 1])?);
            j += 2;
        } else if is(&args[j], "id") && j + 1 < args.len() {
            let mut list = Vec::new();
            for a in &args[j + 1..] {
                // Any integer: one no client has (0, -1) lists nothing, as in Redis.
                match parse_i64(a) {
                    Some(id) if id > 0 => list.push(id as u64),
                    Some(_) => {}
                    None => return Err(error::text("ERR Invalid client ID")),
                }
            }
            ids = Some(list);
            j = args.len();
        } else {
            return Err(error::SYNTAX);
        }
    }
    let clients: Vec<_> = ctx.engine.clients.lock().values().cloned().collect();
    let mut text = String::new();
    for c in clients {
        if ids.as_ref().is_some_and(|ids| !ids.contains(&c.id))
            || kind.is_some_and(|k| k != client_type(&c))
        {
            continue;
        }
        text.push_str(&c.describe(ctx.now, &ctx.engine.registry.fullnames));
        text.push('\n');
    }
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

/// `CLIENT KILL ip:port` or `CLIENT KILL [ID id] [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no]
/// [TYPE type] [USER name]`
fn client_kill(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let clients: Vec<_> = ctx.engine.clients.lock().values().cloned().collect();
    let me = ctx.client.info.id;
    if args.len() == 3 {
        let addr = String::from_utf8_lossy(&args[2]);
        return match clients.iter().find(|c| c.addr == addr) {
            Some(c) => {
                if c.id == me {
                    ctx.client.close = true;
                } else {
                    c.kill();
                }
                ctx.out.ok();
                Ok(())
            }
            None => Err(error::text("ERR No such client")),
        };
    }
    if args.len() % 2 == 1 {
        return Err(error::SYNTAX);
    }
    let (mut id, mut addr, mut laddr, mut kind, mut user) = (None, None, None, None, None);
    let mut skipme = true;
    for pair in args[2..].chunks(2) {
        let v = String::from_utf8_lossy(&pair[1]).into_owned();
        if is(&pair[0], "id") {
            match parse_i64(&pair[1]) {
                Some(n) if n > 0 => id = Some(n as u64),
                _ => return Err(error::text("ERR client-id should be greater than 0")),
            }
        } else if is(&pair[0], "addr") {
            addr = Some(v);
        } else if is(&pair[0], "laddr") {
            laddr = Some(v);
        } else if is(&pair[0], "user") {
            if ctx.engine.acl.get(&v).is_none() {
                return Err(error::msg(format!("ERR No such user '{v}'")));
            }
            user = Some(v);
        } else if is(&pair[0], "type") {
            kind = Some(type_arg(&pair[1])?);
        } else if is(&pair[0], "skipme") {
            match v.to_ascii_lowercase().as_str() {
                "yes" => skipme = true,
                "no" => skipme = false,
                _ => return Err(error::SYNTAX),
            }
        } else {
            return Err(error::SYNTAX);
        }
    }
    let mut killed = 0;
    for c in clients {
        let matches = kind.is_none_or(|k| k == client_type(&c))
            && id.is_none_or(|i| i == c.id)
            && addr.as_ref().is_none_or(|a| *a == c.addr)
            && laddr.as_ref().is_none_or(|a| *a == c.laddr)
            && user.as_ref().is_none_or(|u| **c.user.lock() == **u);
        if !matches || (skipme && c.id == me) {
            continue;
        }
        if c.id == me {
            ctx.client.close = true;
        } else {
            c.kill();
        }
        killed += 1;
    }
    ctx.out.int(killed);
    Ok(())
}

/// Redis 7.0's text line for line: like Redis's it leaves out `KILL ID` and, here, the
/// later `SETINFO` and `NO-TOUCH`, which are taken all the same.
fn client_help(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    super::server::help(
        ctx,
        "CLIENT",
        &[
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
        ],
    )
}

/// `CLIENT UNBLOCK client-id [TIMEOUT|ERROR]`
fn client_unblock(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    // As Redis, which takes at most one argument after the first here.
    if args.len() > 4 {
        return Err(error::subcommand_syntax(args, "CLIENT"));
    }
    let id = parse_i64(&args[2]).ok_or(error::NOT_INTEGER)?;
    let how = match args.get(3) {
        None => crate::engine::blocking::Unblock::Timeout,
        Some(a) if is(a, "timeout") => crate::engine::blocking::Unblock::Timeout,
        Some(a) if is(a, "error") => crate::engine::blocking::Unblock::Error,
        Some(_) => {
            return Err(error::text(
                "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
    };
    let done = id > 0 && ctx.engine.blocking.unblock_client(id as u64, how);
    ctx.out.int(done as i64);
    Ok(())
}

/// `CLIENT NO-EVICT on|off`: accepted (nothing is evicted per client here).
fn client_no_evict(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let on = on_off(&args[2])?;
    ctx.client.set_flag(flag::NO_EVICT, on);
    ctx.out.ok();
    Ok(())
}

fn on_off(a: &[u8]) -> Result<bool, CmdError> {
    if is(a, "on") {
        Ok(true)
    } else if is(a, "off") {
        Ok(false)
    } else {
        Err(error::SYNTAX)
    }
}

/// `CLIENT NO-TOUCH on|off` (Redis 7.2): with it on, this client's commands other than
/// TOUCH do not update the LRU clock or LFU counter of the keys they read.
fn client_no_touch(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let on = on_off(&args[2])?;
    ctx.client.no_touch = on;
    ctx.client.set_flag(flag::NO_TOUCH, on);
    ctx.out.ok();
    Ok(())
}

/// `CLIENT REPLY ON|OFF|SKIP`: only ON replies.
fn client_reply(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    use crate::engine::client::ReplyMode;
    if is(&args[2], "on") {
        ctx.client.reply = ReplyMode::On;
        ctx.out.ok();
    } else if is(&args[2], "off") {
        ctx.client.reply = ReplyMode::Off;
    } else if is(&args[2], "skip") {
        if ctx.client.reply != ReplyMode::Off {
            ctx.client.reply = ReplyMode::SkipNext;
        }
    } else {
        return Err(error::SYNTAX);
    }
    Ok(())
}

/// `CLIENT PAUSE timeout [WRITE|ALL]` (milliseconds; see `engine::pause`).
fn client_pause(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    use crate::engine::pause::PauseKind;
    // As Redis, which takes at most one argument after the first here.
    if args.len() > 4 {
        return Err(error::subcommand_syntax(args, "CLIENT"));
    }
    let kind = match args.get(3) {
        None => PauseKind::All,
        Some(a) if is(a, "write") => PauseKind::Write,
        Some(a) if is(a, "all") => PauseKind::All,
        Some(_) => return Err(error::text("ERR CLIENT PAUSE mode must be WRITE or ALL")),
    };
    let ms =
        parse_i64(&args[2]).ok_or(error::text("ERR timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(error::text("ERR timeout is negative"));
    }
    let end = match ms {
        0 => 0,
        ms => (ctx.now as i64)
            .checked_add(ms)
            .ok_or(error::text("ERR timeout is out of range"))? as u64,
    };
    ctx.engine.pause.pause(kind, end, &ctx.engine.store);
    ctx.out.ok();
    Ok(())
}

/// `CLIENT UNPAUSE`
fn client_unpause(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.engine.pause.unpause(&ctx.engine.store);
    ctx.out.ok();
    Ok(())
}

/// `MONITOR`: from now on this connection receives every command the server runs (see
/// `engine::monitor`).
fn monitor(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    use crate::engine::monitor::Monitoring;
    use crate::engine::pubsub::Mailbox;
    if ctx.atomic {
        return Err(error::text(
            "ERR MONITOR isn't allowed for DENY BLOCKING client",
        ));
    }
    // Already monitoring: nothing to do and, as in Redis, no reply.
    if ctx.client.monitor.is_some() {
        return Ok(());
    }
    let info = ctx.client.info.clone();
    let (mailbox, rx) = Mailbox::new(info.id, Box::new(move || info.kill()));
    ctx.engine.monitors.add(mailbox.clone());
    ctx.client.monitor = Some(Box::new(Monitoring {
        registry: ctx.engine.monitors.clone(),
        mailbox,
        rx: Some(rx),
    }));
    ctx.client.set_flag(flag::MONITOR, true);
    ctx.out.ok();
    Ok(())
}

pub static COMMANDS: &[Cmd] = &[Cmd::new(
    "monitor",
    1,
    ADMIN | NOSCRIPT | LOADING | STALE,
    "server",
    monitor,
)
.doc(
    "Listens for all requests received by the server in real-time.",
    "1.0.0",
)];

pub static SUBS: &[Cmd] = &[
    Cmd::new("pause", -3, ADMIN | CONN, "connection", client_pause)
        .doc("Suspends commands processing.", "3.0.0"),
    Cmd::new("no-touch", 3, CONN, "connection", client_no_touch).doc(
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
        "7.2.0",
    ),
    Cmd::new("getredir", 2, CONN, "connection", tracking::client_getredir).doc(
        "Returns the client ID to which the connection's tracking notifications are redirected.",
        "6.0.0",
    ),
    Cmd::new(
        "tracking",
        -3,
        CONN,
        "connection",
        tracking::client_tracking,
    )
    .doc(
        "Enable or disable server assisted client side caching support",
        "6.0.0",
    ),
    Cmd::new("caching", 3, CONN, "connection", tracking::client_caching).doc(
        "Instruct the server about tracking or not keys in the next request",
        "6.0.0",
    ),
    Cmd::new(
        "trackinginfo",
        2,
        CONN,
        "connection",
        tracking::client_trackinginfo,
    )
    .doc(
        "Return information about server assisted client side caching for the current connection",
        "6.2.0",
    ),
    Cmd::new("unpause", 2, ADMIN | CONN, "connection", client_unpause)
        .doc("Resumes processing of clients that were paused.", "6.2.0"),
    Cmd::new("reply", 3, CONN, "connection", client_reply).doc(
        "Instructs the server whether to reply to commands.",
        "3.2.0",
    ),
    Cmd::new("id", 2, CONN, "connection", client_id)
        .doc("Returns the unique client ID of the connection.", "5.0.0"),
    Cmd::new("setname", 3, CONN, "connection", client_setname)
        .doc("Sets the connection name.", "2.6.9"),
    Cmd::new("getname", 2, CONN, "connection", client_getname)
        .doc("Returns the name of the connection.", "2.6.9"),
    Cmd::new("setinfo", 4, CONN, "connection", client_setinfo).doc(
        "Sets information specific to the client or connection.",
        "7.2.0",
    ),
    Cmd::new("info", 2, CONN, "connection", client_info)
        .doc("Returns information about the connection.", "6.2.0"),
    Cmd::new("list", -2, ADMIN | CONN, "connection", client_list)
        .doc("Lists open connections.", "2.4.0"),
    Cmd::new("kill", -3, ADMIN | CONN, "connection", client_kill)
        .doc("Terminates open connections.", "2.4.0"),
    Cmd::new("unblock", -3, ADMIN | CONN, "connection", client_unblock).doc(
        "Unblocks a client blocked by a blocking command from a different connection.",
        "5.0.0",
    ),
    Cmd::new("no-evict", 3, ADMIN | CONN, "connection", client_no_evict)
        .doc("Sets the client eviction mode of the connection.", "7.0.0"),
    Cmd::new("help", 2, LOADING | STALE, "connection", client_help).doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
    ),
];
