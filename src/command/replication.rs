//! The replication commands of a master that has no replicas, which is what a ferrokv
//! server always is: `ROLE`, `WAIT` (nothing ever acknowledges, so it waits out its timeout
//! and answers 0, as Redis does without replicas), `REPLICAOF`/`SLAVEOF NO ONE` (already
//! so), and `FAILOVER`, which needs a replica. Becoming a replica (`REPLICAOF host port`)
//! is not supported and says so.

use super::error;
use super::{flags::*, Cmd, Ctx, Outcome};
use crate::engine::ctx::{Block, TimeoutReply};
use crate::num::parse_i64;
use bytes::Bytes;

/// `ROLE`: a master at replication offset 0 with no replicas.
fn role(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.out.array(3);
    ctx.out.bulk(b"master");
    ctx.out.int(0);
    ctx.out.array(0);
    Ok(())
}

/// `WAIT numreplicas timeout` (milliseconds; 0 = for ever).
fn wait(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let want = parse_i64(&args[1]).ok_or(error::NOT_INTEGER)?;
    let timeout =
        parse_i64(&args[2]).ok_or(error::text("ERR timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(error::text("ERR timeout is negative"));
    }
    // No replica acknowledges: enough only when none is asked for, and a transaction does
    // not wait (Redis's rules).
    if want <= 0 || !ctx.can_block() {
        ctx.out.int(0);
        return Ok(());
    }
    ctx.fx.rare().block = Some(Block {
        keys: Vec::new(),
        timeout_ms: timeout as u64,
        on_timeout: TimeoutReply::Zero,
        retry_args: None,
    });
    Ok(())
}

/// `REPLICAOF host port` / `REPLICAOF NO ONE`.
fn replicaof(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if args[1].eq_ignore_ascii_case(b"no") && args[2].eq_ignore_ascii_case(b"one") {
        ctx.out.ok();
        return Ok(());
    }
    parse_i64(&args[2])
        .filter(|p| (0..=65535).contains(p))
        .ok_or(error::text("ERR Invalid master port"))?;
    Err(error::text(
        "ERR ferrokv does not support replication: it cannot become a replica",
    ))
}

/// `FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]`: Redis's argument checks, then
/// the errors of a master without replicas (no failover is ever in progress).
fn failover(_ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if args.len() == 2 && args[1].eq_ignore_ascii_case(b"abort") {
        return Err(error::text("ERR No failover in progress."));
    }
    let (mut to, mut force, mut timeout) = (false, false, 0);
    let mut j = 1;
    while j < args.len() {
        let a = &args[j];
        if a.eq_ignore_ascii_case(b"timeout") && j + 1 < args.len() && timeout == 0 {
            timeout = parse_i64(&args[j + 1]).ok_or(error::NOT_INTEGER)?;
            if timeout <= 0 {
                return Err(error::text("ERR FAILOVER timeout must be greater than 0"));
            }
            j += 1;
        } else if a.eq_ignore_ascii_case(b"to") && j + 2 < args.len() && !to {
            parse_i64(&args[j + 2]).ok_or(error::NOT_INTEGER)?;
            to = true;
            j += 2;
        } else if a.eq_ignore_ascii_case(b"force") && !force {
            force = true;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    Err(error::text("ERR FAILOVER requires connected replicas."))
}

const REPLICAOF_FLAGS: u32 = ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING;

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("role", 1, NOSCRIPT | LOADING | STALE | FAST, "server", role).doc(
        "Return the role of the instance in the context of replication",
        "2.8.12",
    ),
    Cmd::new("wait", 3, NOSCRIPT, "generic", wait).doc(
        "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
        "3.0.0",
    ),
    Cmd::new("replicaof", 3, REPLICAOF_FLAGS, "server", replicaof).doc(
        "Make the server a replica of another instance, or promote it as master.",
        "5.0.0",
    ),
    Cmd::new("slaveof", 3, REPLICAOF_FLAGS, "server", replicaof).doc(
        "Make the server a replica of another instance, or promote it as master.",
        "1.0.0",
    ),
    Cmd::new("failover", -1, ADMIN | NOSCRIPT | STALE, "server", failover).doc(
        "Start a coordinated failover between this server and one of its replicas.",
        "6.2.0",
    ),
];
