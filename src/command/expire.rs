//! Expiry commands: setting, reading and removing TTLs.

use super::error;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::notify::{self, Ev};
use crate::num::parse_i64;
use bytes::Bytes;

#[derive(Default)]
struct Cond {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

/// The one EXPIRE path: `base` is the time the argument is relative to (now, or 0 for the
/// `*AT` forms) and `seconds` its unit.
fn expire_generic(ctx: &mut Ctx, args: &[Bytes], base: u64, seconds: bool, name: &str) -> Outcome {
    let mut c = Cond::default();
    for a in &args[3..] {
        if is(a, "nx") {
            c.nx = true;
        } else if is(a, "xx") {
            c.xx = true;
        } else if is(a, "gt") {
            c.gt = true;
        } else if is(a, "lt") {
            c.lt = true;
        } else {
            return Err(error::msg(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(a)
            )));
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        return Err(error::text(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if c.gt && c.lt {
        return Err(error::text(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    let Some(mut when) = parse_i64(&args[2]) else {
        return Err(error::NOT_INTEGER);
    };
    if seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Err(error::invalid_expire(name));
        }
        when *= 1000;
    }
    if when > i64::MAX - base as i64 {
        return Err(error::invalid_expire(name));
    }
    when += base as i64;
    let key = &args[1];
    let now = ctx.now;
    let shard = ctx.keys.shard(ctx.client.db, key);
    let Some(current) = shard.get_write(key, now).map(|e| e.expire_at) else {
        {
            ctx.out.int(0);
            return Ok(());
        }
    };
    let has = current != 0;
    let refused = (c.nx && has)
        || (c.xx && !has)
        || (c.gt && (!has || when <= current as i64))
        || (c.lt && has && when >= current as i64);
    if refused {
        {
            ctx.out.int(0);
            return Ok(());
        }
    }
    let (record, ev) = if when <= now as i64 {
        shard.remove(key, now);
        (vec![b"DEL".to_vec(), key.to_vec()], notify::DEL)
    } else {
        shard.set_expire(key, when as u64, now);
        let r = vec![
            b"PEXPIREAT".to_vec(),
            key.to_vec(),
            when.to_string().into_bytes(),
        ];
        (r, notify::EXPIRE)
    };
    ctx.changed(key, ev);
    ctx.log_as(|| vec![record]);
    ctx.out.int(1);
    Ok(())
}

fn expire(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    expire_generic(ctx, args, now, true, "expire")
}
fn pexpire(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    expire_generic(ctx, args, now, false, "pexpire")
}
fn expireat(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    expire_generic(ctx, args, 0, true, "expireat")
}
fn pexpireat(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    expire_generic(ctx, args, 0, false, "pexpireat")
}

/// The key's absolute expiry: None when missing, Some(0) when it has no TTL.
fn expiry_of(ctx: &mut Ctx, key: &[u8]) -> Option<u64> {
    let now = ctx.now;
    let shard = ctx.keys.shard(ctx.client.db, key);
    shard.get(key, now).map(|e| e.expire_at)
}

fn ttl_generic(ctx: &mut Ctx, args: &[Bytes], ms: bool) -> Outcome {
    let now = ctx.now;
    match expiry_of(ctx, &args[1]) {
        None => ctx.out.int(-2),
        Some(0) => ctx.out.int(-1),
        Some(at) => {
            let left = at.saturating_sub(now) as i64;
            ctx.out.int(if ms { left } else { (left + 500) / 1000 })
        }
    }
    Ok(())
}

fn ttl(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    ttl_generic(ctx, args, false)
}
fn pttl(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    ttl_generic(ctx, args, true)
}

fn expiretime_generic(ctx: &mut Ctx, args: &[Bytes], ms: bool) -> Outcome {
    match expiry_of(ctx, &args[1]) {
        None => ctx.out.int(-2),
        Some(0) => ctx.out.int(-1),
        Some(at) => ctx.out.int(if ms {
            at as i64
        } else {
            ((at + 500) / 1000) as i64
        }),
    }
    Ok(())
}

fn expiretime(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    expiretime_generic(ctx, args, false)
}
fn pexpiretime(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    expiretime_generic(ctx, args, true)
}

/// `PERSIST key`
fn persist(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let key = &args[1];
    let now = ctx.now;
    let shard = ctx.keys.shard(ctx.client.db, key);
    let had = shard.get_write(key, now).is_some_and(|e| e.expire_at != 0);
    if had {
        shard.set_expire(key, 0, now);
    }
    if had {
        ctx.changed(key, Ev::generic("persist"));
    }
    ctx.out.int(had as i64);
    Ok(())
}

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("expire", -3, WRITE | FAST, "generic", expire)
        .keys(1, 1, 1)
        .doc("Sets the expiration time of a key in seconds.", "1.0.0"),
    Cmd::new("pexpire", -3, WRITE | FAST, "generic", pexpire)
        .keys(1, 1, 1)
        .doc(
            "Sets the expiration time of a key in milliseconds.",
            "2.6.0",
        ),
    Cmd::new("expireat", -3, WRITE | FAST, "generic", expireat)
        .keys(1, 1, 1)
        .doc(
            "Sets the expiration time of a key to a Unix timestamp.",
            "1.2.0",
        ),
    Cmd::new("pexpireat", -3, WRITE | FAST, "generic", pexpireat)
        .keys(1, 1, 1)
        .doc(
            "Sets the expiration time of a key to a Unix milliseconds timestamp.",
            "2.6.0",
        ),
    Cmd::new("ttl", 2, READONLY | FAST, "generic", ttl)
        .keys(1, 1, 1)
        .doc("Returns the expiration time in seconds of a key.", "1.0.0"),
    Cmd::new("pttl", 2, READONLY | FAST, "generic", pttl)
        .keys(1, 1, 1)
        .doc(
            "Returns the expiration time in milliseconds of a key.",
            "2.6.0",
        ),
    Cmd::new("expiretime", 2, READONLY | FAST, "generic", expiretime)
        .keys(1, 1, 1)
        .doc(
            "Returns the expiration time of a key as a Unix timestamp.",
            "7.0.0",
        ),
    Cmd::new("pexpiretime", 2, READONLY | FAST, "generic", pexpiretime)
        .keys(1, 1, 1)
        .doc(
            "Returns the expiration time of a key as a Unix milliseconds timestamp.",
            "7.0.0",
        ),
    Cmd::new("persist", 2, WRITE | FAST, "generic", persist)
        .keys(1, 1, 1)
        .doc("Removes the expiration time of a key.", "2.2.0"),
];
