//! Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO (CLIENT's subcommands are in
//! `client`).

use super::error;
use super::keys::db_index;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::num::parse_i64;
use crate::resp::Protocol;
use bytes::Bytes;
use std::sync::atomic::Ordering;

/// `PING [message]`
fn ping(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if args.len() > 2 {
        return Err(error::wrong_arity("ping"));
    }
    // A RESP2 client in subscribed mode gets PING's reply as a message-like array.
    if ctx.client.subscribed() && !ctx.out.resp3() {
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out.bulk(args.get(1).map_or(&b""[..], |m| &m[..]));
        return Ok(());
    }
    match args.get(1) {
        Some(m) => ctx.out.bulk(m),
        None => ctx.out.simple("PONG"),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    ctx.out.bulk(&args[1]);
    Ok(())
}

fn quit(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.client.close = true;
    ctx.out.ok();
    Ok(())
}

fn select(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let db = db_index(ctx, &args[1])?;
    ctx.client.db = db;
    ctx.client.info.db.store(db, Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

/// Log the client in as `user` if `pass` is its password (or it needs none); a failure is
/// kept in `ACL LOG` under `command`'s name.
fn log_in(ctx: &mut Ctx, command: &[u8], user: &[u8], pass: &[u8]) -> bool {
    match ctx.engine.acl.authenticate(user, pass) {
        Some(u) => {
            ctx.client.log_in(&u.name);
            true
        }
        None => {
            let c = &*ctx.client;
            let in_multi = c.multi.is_some();
            ctx.engine
                .acl
                .log_auth_failure(ctx.engine, &c.info, command, user, in_multi);
            false
        }
    }
}

/// `AUTH [username] password`
fn auth(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if args.len() > 3 {
        return Err(error::SYNTAX);
    }
    if args.len() == 2 && ctx.engine.acl.get("default").is_none_or(|d| d.nopass) {
        return Err(error::AUTH_NOPASS);
    }
    let (user, pass) = if args.len() == 3 {
        (&args[1][..], &args[2][..])
    } else {
        (&b"default"[..], &args[1][..])
    };
    if log_in(ctx, &args[0], user, pass) {
        ctx.out.ok();
    } else {
        return Err(error::WRONGPASS);
    }
    Ok(())
}

/// Client names may not contain spaces or special characters (Redis: bytes `!`..`~`).
pub(super) fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

pub(super) const BAD_NAME: crate::engine::CmdError =
    error::text("ERR Client names cannot contain spaces, newlines or special characters.");

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`
fn hello(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let mut ver = None;
    let mut j = 1;
    if args.len() >= 2 {
        match parse_i64(&args[1]) {
            None => {
                return Err(error::text(
                    "ERR Protocol version is not an integer or out of range",
                ))
            }
            Some(v) if !(2..=3).contains(&v) => {
                return Err(crate::engine::CmdError::new(
                    crate::engine::ErrKind::NoProto,
                    "NOPROTO unsupported protocol version",
                ))
            }
            Some(v) => ver = Some(v),
        }
        j = 2;
    }
    // Options take effect one by one, left to right, as in Redis: a SETNAME before a failing
    // AUTH or a bad option has named the connection.
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is(&args[j], "auth") && more >= 2 {
            if !log_in(ctx, &args[0], &args[j + 1], &args[j + 2]) {
                return Err(error::WRONGPASS);
            }
            j += 3;
        } else if is(&args[j], "setname") && more >= 1 {
            if !valid_name(&args[j + 1]) {
                return Err(BAD_NAME);
            }
            *ctx.client.info.name.lock() = args[j + 1].to_vec();
            j += 2;
        } else {
            return Err(error::msg(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&args[j])
            )));
        }
    }
    if !ctx.client.authenticated {
        return Err(crate::engine::CmdError::new(crate::engine::ErrKind::NoAuth, "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"));
    }
    if let Some(v) = ver {
        ctx.client.proto = if v == 3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        };
        ctx.client.info.resp.store(v as usize, Ordering::Relaxed);
        ctx.out.proto = ctx.client.proto;
        if v == 3 {
            // A RESP3 client can take pushes (other clients' redirected invalidations):
            // it gets its mailbox now.
            let _ = super::pubsub::subs(ctx);
        }
    }
    let out = &mut *ctx.out;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(crate::REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(if ctx.client.proto == Protocol::Resp3 {
        3
    } else {
        2
    });
    out.bulk(b"id");
    out.int(ctx.client.info.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}

fn container(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Ok(())
}

pub(super) const CONN: u32 = NOSCRIPT | LOADING | STALE;

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("ping", -1, FAST, "connection", ping)
        .doc("Returns the server's liveliness response.", "1.0.0"),
    Cmd::new("echo", 2, FAST | LOADING | STALE, "connection", echo)
        .doc("Returns the given string.", "1.0.0"),
    Cmd::new(
        "quit",
        -1,
        NO_AUTH | CONN | FAST | ALLOW_BUSY,
        "connection",
        quit,
    )
    .doc("Closes the connection.", "1.0.0"),
    Cmd::new("select", 2, LOADING | STALE | FAST, "connection", select)
        .doc("Changes the selected database.", "1.0.0"),
    Cmd::new(
        "auth",
        -2,
        NO_AUTH | CONN | FAST | ALLOW_BUSY,
        "connection",
        auth,
    )
    .doc("Authenticates the connection.", "1.0.0"),
    Cmd::new(
        "hello",
        -1,
        NO_AUTH | CONN | FAST | ALLOW_BUSY,
        "connection",
        hello,
    )
    .doc("Handshakes with the Redis server.", "6.0.0"),
    Cmd::new("client", -2, 0, "connection", container)
        .subs(super::client::SUBS)
        .doc("A container for client connection commands.", "2.4.0"),
];
