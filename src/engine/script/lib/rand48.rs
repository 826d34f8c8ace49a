//! `math.random` and `math.randomseed` as Redis 7.0 replaces them: Lua 5.1's own functions
//! drawing from Redis's `redisLrand48` instead of C's `rand()`, so that a script that seeds
//! the generator draws the numbers it would draw on Redis.
//!
//! The generator is POSIX `lrand48`'s: a 48-bit linear congruential generator, X' = (a·X + c)
//! mod 2^48 with a = 0x5DEECE66D and c = 0xB, returning the top 31 bits. As in Redis its state
//! is one for the whole process, starts at lrand48's default (0x1234ABCD330E) and is not reset
//! between scripts; `math.randomseed(n)` sets it to `n << 16 | 0x330E`.

use super::{arg_err, check_integer, msg, LibResult};
use mlua::{Lua, MultiValue, Table, Value};
use std::sync::atomic::{AtomicU64, Ordering};

const A: u64 = 0x5_DEEC_E66D;
const C: u64 = 0xB;
const MASK: u64 = (1 << 48) - 1;
/// Redis's `REDIS_LRAND48_MAX` (`INT32_MAX`).
const LRAND48_MAX: i64 = i32::MAX as i64;

static STATE: AtomicU64 = AtomicU64::new(0x1234_ABCD_330E);

fn step(x: u64) -> u64 {
    x.wrapping_mul(A).wrapping_add(C) & MASK
}

/// `redisLrand48`: the next 31-bit number.
fn lrand48() -> i64 {
    let old = STATE
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |x| Some(step(x)))
        .unwrap_or_else(|x| x);
    (step(old) >> 17) as i64
}

/// `redisSrand48`.
fn srand48(seed: i32) {
    STATE.store(((seed as u32 as u64) << 16) | 0x330E, Ordering::Relaxed);
}

/// `luaL_checkint`: `luaL_checkinteger` cut to a C `int`.
fn check_int(args: &[Value], i: usize) -> LibResult<i32> {
    check_integer(args, i).map(|n| n as i32)
}

fn random(args: &[Value]) -> LibResult<f64> {
    // The `%` keeps r below 1 (Lua's own comment: "avoids the (rare) case of r==1").
    let r = (lrand48() % LRAND48_MAX) as f64 / LRAND48_MAX as f64;
    match args.len() {
        0 => Ok(r),
        1 => {
            let u = check_int(args, 1)?;
            if u < 1 {
                return Err(arg_err(1, "interval is empty"));
            }
            Ok((r * u as f64).floor() + 1.0)
        }
        2 => {
            let l = check_int(args, 1)?;
            let u = check_int(args, 2)?;
            if l > u {
                return Err(arg_err(2, "interval is empty"));
            }
            // In C `int` arithmetic, as Lua computes it.
            let span = u.wrapping_sub(l).wrapping_add(1);
            Ok((r * span as f64).floor() + l as f64)
        }
        _ => Err(msg("wrong number of arguments")),
    }
}

/// Replace `math.random` and `math.randomseed` in `math`.
pub fn install(lua: &Lua, math: &Table) -> mlua::Result<()> {
    let one =
        |v: f64| -> LibResult<MultiValue> { Ok(MultiValue::from_vec(vec![Value::Number(v)])) };
    math.raw_set(
        "random",
        super::lib_fn(lua, move |_, a| random(&a).and_then(one))?,
    )?;
    math.raw_set(
        "randomseed",
        super::lib_fn(lua, |_, a| {
            srand48(check_int(&a, 1)?);
            Ok(MultiValue::new())
        })?,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_as_lrand48() {
        // glibc's lrand48 after srand48(1): 89400484, 976015093, 1792756325 (the values C's
        // `srand48(1); lrand48()` prints).
        srand48(1);
        assert_eq!(
            [lrand48(), lrand48(), lrand48()],
            [89400484, 976015093, 1792756325]
        );
    }
}
