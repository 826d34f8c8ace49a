//! DUMP and RESTORE: a key's value as Redis's RDB object payload (`store::rdb`).

use super::error;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::notify::{self, Ev};
use crate::num::parse_i64;
use crate::store::rdb::{self, Refused};
use bytes::Bytes;

fn dump(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    let payload = ctx
        .keys
        .shard(ctx.client.db, &args[1])
        .get_read(&args[1], now)
        .map(|e| rdb::dump(&e.value));
    match payload {
        Some(p) => ctx.out.bulk(&p),
        None => ctx.out.null(),
    }
    Ok(())
}

/// `RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]`, checked in Redis's
/// order; propagated with an absolute TTL (`ABSTTL`), as Redis does.
fn restore(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (mut replace, mut absttl, mut idle, mut freq) = (false, false, None, None);
    let mut j = 4;
    while j < args.len() {
        let more = j + 1 < args.len();
        if is(&args[j], "replace") {
            replace = true;
        } else if is(&args[j], "absttl") {
            absttl = true;
        } else if is(&args[j], "idletime") && more && freq.is_none() {
            let v = parse_i64(&args[j + 1]).ok_or(error::NOT_INTEGER)?;
            if v < 0 {
                return Err(error::text("ERR Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(v);
            j += 1;
        } else if is(&args[j], "freq") && more && idle.is_none() {
            let v = parse_i64(&args[j + 1]).ok_or(error::NOT_INTEGER)?;
            if !(0..=255).contains(&v) {
                return Err(error::text(
                    "ERR Invalid FREQ value, must be >= 0 and <= 255",
                ));
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    let key = &args[1];
    let (db, now) = (ctx.client.db, ctx.now);
    if !replace && ctx.keys.shard(db, key).get_write(key, now).is_some() {
        return Err(error::text("BUSYKEY Target key name already exists."));
    }
    let ttl = parse_i64(&args[2]).ok_or(error::NOT_INTEGER)?;
    if ttl < 0 {
        return Err(error::text("ERR Invalid TTL value, must be >= 0"));
    }
    let limits = ctx.engine.hot.limits.read().clone();
    let value = rdb::verify(&args[3])
        .and_then(|body| rdb::restore(body, &limits))
        .map_err(|e| match e {
            Refused::Footer => error::text("ERR DUMP payload version or checksum are wrong"),
            Refused::BadFormat => error::text("ERR Bad data format"),
        })?;
    let at = match ttl {
        0 => 0,
        t if absttl => t as u64,
        t => now.saturating_add(t as u64),
    };
    let shard = ctx.keys.shard(db, key);
    if at != 0 && at <= now {
        // Already expired: only the replaced key goes (logged as a DEL).
        if replace && shard.remove(key, now).is_some() {
            ctx.changed(key, notify::DEL);
            ctx.log_as(|| vec![vec![b"DEL".to_vec(), key.to_vec()]]);
        }
        ctx.out.ok();
        return Ok(());
    }
    shard.set(key, value, at, now);
    if let Some(idle) = idle {
        let secs = (now / 1000).saturating_sub(idle as u64) as u32;
        shard.update(key, now, |e| e.access = secs);
    }
    if let Some(f) = freq {
        shard.update(key, now, |e| e.freq = f as u8);
    }
    ctx.changed(key, Ev::generic("restore"));
    ctx.log_as(|| {
        vec![vec![
            b"RESTORE".to_vec(),
            key.to_vec(),
            at.to_string().into_bytes(),
            args[3].to_vec(),
            b"REPLACE".to_vec(),
            b"ABSTTL".to_vec(),
        ]]
    });
    ctx.out.ok();
    Ok(())
}

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("dump", 2, READONLY, "generic", dump)
        .keys(1, 1, 1)
        .doc(
            "Returns a serialized representation of the value stored at a key.",
            "2.6.0",
        ),
    Cmd::new("restore", -4, WRITE | DENYOOM, "generic", restore)
        .keys(1, 1, 1)
        .doc(
            "Creates a key from the serialized representation of a value.",
            "2.6.0",
        ),
    // What a cluster node's MIGRATE sends; without cluster mode, RESTORE itself.
    Cmd::new(
        "restore-asking",
        -4,
        WRITE | DENYOOM | ASKING,
        "server",
        restore,
    )
    .keys(1, 1, 1)
    .doc(
        "An internal command for migrating keys in a cluster",
        "3.0.0",
    ),
];
