//! `MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw]
//! [KEYS key …]`: keys move to another server as DUMP payloads restored there (`RESTORE`),
//! then go here unless `COPY`.
//!
//! As in Redis, the command waits for the target (up to `timeout` milliseconds for each step)
//! while it holds its keys; unlike Redis, no connection is kept between two MIGRATEs.

use super::error;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::ctx::ReplyError;
use crate::engine::notify;
use crate::engine::table::KeySpec;
use crate::num::parse_i64;
use crate::resp::parse::encode_request;
use crate::store::rdb;
use bytes::Bytes;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Answer the error `text` (counted under its own code, `IOERR` included); keys already
/// moved stay moved.
fn fail(ctx: &mut Ctx, text: String) -> Outcome {
    ctx.out.error(&text);
    ctx.fx.rare().reply_error = Some(ReplyError::Text(text));
    Ok(())
}

fn ioerr(what: &str) -> String {
    format!("IOERR error or timeout {what}")
}

/// One status or error line from the target (Err: the socket failed).
fn reply(r: &mut BufReader<TcpStream>) -> Result<Result<(), String>, String> {
    let mut line = String::new();
    match r.read_line(&mut line) {
        Ok(n) if n > 0 => {}
        _ => return Err(ioerr("reading to target instance")),
    }
    let line = line.trim_end();
    Ok(match line.strip_prefix('-') {
        Some(e) => Err(e.to_string()),
        None => Ok(()),
    })
}

fn migrate(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (mut copy, mut replace) = (false, false);
    let mut auth: Option<(Option<Bytes>, Bytes)> = None;
    let mut keys: Vec<Bytes> = vec![args[3].clone()];
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is(&args[j], "copy") {
            copy = true;
        } else if is(&args[j], "replace") {
            replace = true;
        } else if is(&args[j], "auth") && more >= 1 {
            auth = Some((None, args[j + 1].clone()));
            j += 1;
        } else if is(&args[j], "auth2") && more >= 2 {
            auth = Some((Some(args[j + 1].clone()), args[j + 2].clone()));
            j += 2;
        } else if is(&args[j], "keys") {
            if !args[3].is_empty() {
                return Err(error::text("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"));
            }
            keys = args[j + 1..].to_vec();
            break;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    let timeout = parse_i64(&args[5]).ok_or(error::NOT_INTEGER)?;
    let dbid = parse_i64(&args[4]).ok_or(error::NOT_INTEGER)?;
    let timeout = Duration::from_millis(if timeout <= 0 { 1000 } else { timeout as u64 });
    // The keys that exist, with their payloads and remaining TTLs.
    let (db, now) = (ctx.client.db, ctx.now);
    let mut found = Vec::new();
    for k in keys {
        let Some(e) = ctx.keys.shard(db, &k).get_read(&k, now) else {
            continue;
        };
        let ttl = if e.expire_at == 0 {
            0
        } else {
            e.expire_at.saturating_sub(now).max(1)
        };
        let payload = rdb::dump(&e.value);
        found.push((k, ttl, payload));
    }
    if found.is_empty() {
        ctx.out.simple("NOKEY");
        return Ok(());
    }
    let host = String::from_utf8_lossy(&args[1]).into_owned();
    let port = String::from_utf8_lossy(&args[2]).into_owned();
    // As Redis sees it: a refused connection shows when the commands are written.
    let connect = || -> Result<TcpStream, &'static str> {
        let addr = format!("{host}:{port}")
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or("connecting to the client")?;
        let s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| {
            if e.kind() == std::io::ErrorKind::ConnectionRefused {
                "writing to target instance"
            } else {
                "connecting to the client"
            }
        })?;
        s.set_read_timeout(Some(timeout))
            .and_then(|_| s.set_write_timeout(Some(timeout)))
            .map_err(|_| "connecting to the client")?;
        Ok(s)
    };
    let mut sock = match connect() {
        Ok(s) => s,
        Err(what) => return fail(ctx, ioerr(what)),
    };
    let mut buf = Vec::new();
    if let Some((user, pass)) = &auth {
        match user {
            Some(u) => encode_request(&[b"AUTH", u, pass], &mut buf),
            None => encode_request(&[b"AUTH", pass], &mut buf),
        }
    }
    let db_text = dbid.to_string();
    encode_request(&[b"SELECT", db_text.as_bytes()], &mut buf);
    for (k, ttl, payload) in &found {
        let ttl = ttl.to_string();
        let mut cmd: Vec<&[u8]> = vec![b"RESTORE", k, ttl.as_bytes(), payload];
        if replace {
            cmd.push(b"REPLACE");
        }
        encode_request(&cmd, &mut buf);
    }
    if sock.write_all(&buf).is_err() {
        return fail(ctx, ioerr("writing to target instance"));
    }
    let mut r = BufReader::new(sock);
    let target = |e: String| format!("ERR Target instance replied with error: {e}");
    // AUTH's and SELECT's replies, then one per key.
    for _ in 0..1 + usize::from(auth.is_some()) {
        match reply(&mut r) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return fail(ctx, target(e)),
            Err(e) => return fail(ctx, e),
        }
    }
    let mut failed = None;
    let mut moved = vec![b"DEL".to_vec()];
    for (k, _, _) in &found {
        match reply(&mut r) {
            Ok(Ok(())) if !copy => {
                if ctx.keys.shard(db, k).remove(k, now).is_some() {
                    ctx.changed(k, notify::DEL);
                    moved.push(k.to_vec());
                }
            }
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                failed.get_or_insert(target(e));
            }
            Err(e) => {
                failed.get_or_insert(e);
                break;
            }
        }
    }
    // Propagated as the DEL of the keys that left.
    if moved.len() > 1 {
        ctx.log_as(|| vec![moved]);
    }
    match failed {
        Some(e) => fail(ctx, e),
        None => {
            ctx.out.ok();
            Ok(())
        }
    }
}

static MIGRATE_KEYS: &[KeySpec] = &[KeySpec::range(3, 3, 1), KeySpec::keyword("KEYS", -2, 0)];

pub static COMMANDS: &[Cmd] = &[Cmd::new("migrate", -6, WRITE, "generic", migrate)
    .key_specs(MIGRATE_KEYS)
    .doc(
        "Atomically transfer a key from a Redis instance to another one.",
        "2.6.0",
    )];
