//! Geo commands: a geo set is a sorted set whose scores are 52-bit geohashes
//! (`store::geohash`), so GEOADD is a ZADD of computed scores (and is propagated as that
//! ZADD, as Redis rewrites it), and ZRANGE & co work on it unchanged. GEODIST, GEOHASH and
//! GEOPOS decode scores; the searches (GEORADIUS and GEOSEARCH families) live in
//! `geo_search`.

use super::error;
use super::geo_search::{
    georadius, georadius_ro, georadiusbymember, georadiusbymember_ro, geosearch, geosearchstore,
};
use super::zset::read_in;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::notify::Ev;
use crate::engine::table::{Begin, Find, KeySpec, Scope};
use crate::engine::CmdError;
use crate::num::parse_f64;
use crate::store::geohash::{self, LAT_MAX, LAT_MIN, LONG_MAX, LONG_MIN};
use crate::store::value::ZSet;
use crate::store::Value;
use bytes::Bytes;

pub(super) const UNIT_ERR: CmdError =
    error::text("ERR unsupported unit provided. please use M, KM, FT, MI");

/// The metres in one `unit` (m, km, ft, mi, any case).
pub(super) fn unit(a: &[u8]) -> Result<f64, CmdError> {
    if is(a, "m") {
        Ok(1.0)
    } else if is(a, "km") {
        Ok(1000.0)
    } else if is(a, "ft") {
        Ok(0.3048)
    } else if is(a, "mi") {
        Ok(1609.34)
    } else {
        Err(UNIT_ERR)
    }
}

/// `longitude latitude`: both must be floats, then an indexable pair (the message shows
/// them as C's `%f`).
pub(super) fn lonlat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], CmdError> {
    let lon = parse_f64(lon).ok_or(error::NOT_FLOAT)?;
    let lat = parse_f64(lat).ok_or(error::NOT_FLOAT)?;
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return Err(error::msg(format!(
            "ERR invalid longitude,latitude pair {lon:.6},{lat:.6}"
        )));
    }
    Ok([lon, lat])
}

/// A distance as Redis prints it (`fixedpoint_d2string` with 4 digits): the value times
/// 10^4 rounded half to even (`llrint`), then split at the point.
pub(super) fn fmt_distance(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".into();
    }
    let scaled = (d * 10000.0).round_ties_even();
    // llrint gives LLONG_MIN for NaN and values out of range.
    let s = if scaled.is_finite() && scaled.abs() < 9.2e18 {
        scaled as i64
    } else {
        i64::MIN
    };
    let v = s.unsigned_abs();
    let sign = if s < 0 { "-" } else { "" };
    format!("{sign}{}.{:04}", v / 10000, v % 10000)
}

/// A coordinate as Redis's `addReplyHumanLongDouble` prints it: `%.17Lf` of the exact
/// value (a double widened to long double loses nothing), trailing zeros and a bare point
/// dropped, `-0` as `0`.
pub(super) fn fmt_human(v: f64) -> String {
    let mut s = format!("{v:.17}");
    if s.contains('.') {
        let keep = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(keep);
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// A coordinate reply: a bulk string in RESP2, a double in RESP3.
pub(super) fn reply_human(ctx: &mut Ctx, v: f64) {
    let s = fmt_human(v);
    if ctx.out.resp3() {
        ctx.out.raw(b",");
        ctx.out.raw(s.as_bytes());
        ctx.out.raw(b"\r\n");
    } else {
        ctx.out.bulk(s.as_bytes());
    }
}

/// `GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]`:
/// a ZADD of the members' geohash scores, propagated as that ZADD.
fn geoadd(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut at = 2;
    while at < args.len() {
        if is(&args[at], "nx") {
            nx = true;
        } else if is(&args[at], "xx") {
            xx = true;
        } else if is(&args[at], "ch") {
            ch = true;
        } else {
            break;
        }
        at += 1;
    }
    let rest = &args[at..];
    if !rest.len().is_multiple_of(3) || (nx && xx) || rest.is_empty() {
        return Err(error::SYNTAX);
    }
    let mut plan: Vec<(u64, &Bytes)> = Vec::with_capacity(rest.len() / 3);
    for t in rest.chunks(3) {
        let [lon, lat] = lonlat(&t[0], &t[1])?;
        let score = geohash::score_of(lon, lat).ok_or(error::SYNTAX)?;
        plan.push((score, &t[2]));
    }
    let key = &args[1];
    let now = ctx.now;
    let limits = ctx.engine.hot.limits.read().clone();
    let shard = ctx.keys.shard(ctx.client.db, key);
    let exists = match shard.get_write(key, now) {
        Some(e) if matches!(e.value, Value::ZSet(_)) => true,
        Some(_) => return Err(error::WRONGTYPE),
        None => false,
    };
    if !exists {
        if xx {
            ctx.out.int(0);
            return Ok(());
        }
        let z = ZSet::new(plan[0].1, &limits);
        shard.set(key, Value::ZSet(Box::new(z)), 0, now);
    }
    // Members are applied in order, so one named twice is compared with its first score.
    let (added, updated) = shard
        .update(key, now, |e| {
            let (mut added, mut updated) = (0i64, 0i64);
            if let Value::ZSet(z) = &mut e.value {
                for (score, member) in &plan {
                    let score = *score as f64;
                    match z.score(member) {
                        Some(_) if nx => {}
                        Some(cur) if cur == score => {}
                        Some(_) => {
                            z.insert(member, score, &limits);
                            updated += 1;
                        }
                        None if xx => {}
                        None => {
                            z.insert(member, score, &limits);
                            added += 1;
                        }
                    }
                }
            }
            (added, updated)
        })
        .unwrap_or((0, 0));
    if added + updated > 0 {
        ctx.changed(key, Ev::zset("zadd"));
        ctx.log_as(|| {
            let mut rec = Vec::with_capacity(at + plan.len() * 2);
            rec.push(b"zadd".to_vec());
            rec.extend(args[1..at].iter().map(|a| a.to_vec()));
            for (score, member) in &plan {
                rec.push(score.to_string().into_bytes());
                rec.push(member.to_vec());
            }
            vec![rec]
        });
    }
    ctx.out.int(added + if ch { updated } else { 0 });
    Ok(())
}

/// `GEODIST key member1 member2 [M|KM|FT|MI]`: null when the key or a member is missing.
fn geodist(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let to_m = match args.len() {
        5 => unit(&args[4])?,
        n if n > 5 => return Err(error::SYNTAX),
        _ => 1.0,
    };
    let z = read_in(&mut *ctx.keys, ctx.client.db, &args[1], ctx.now)?;
    let pos = |m: &[u8]| z.and_then(|z| z.score(m)).map(geohash::decode_score);
    match (pos(&args[2]), pos(&args[3])) {
        (Some(Some(a)), Some(Some(b))) => {
            let d = geohash::distance(a[0], a[1], b[0], b[1]) / to_m;
            ctx.out.bulk(fmt_distance(d).as_bytes());
        }
        _ => ctx.out.null(),
    }
    Ok(())
}

/// `GEOHASH key [member ...]`: each member's standard 11-character geohash, or null.
fn geohash_cmd(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let z = read_in(&mut *ctx.keys, ctx.client.db, &args[1], ctx.now)?;
    ctx.out.array(args.len() - 2);
    for m in &args[2..] {
        match z.and_then(|z| z.score(m)).and_then(geohash::geohash_string) {
            Some(s) => ctx.out.bulk(&s),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// `GEOPOS key [member ...]`: each member's `[longitude, latitude]`, or a null array.
fn geopos(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let z = read_in(&mut *ctx.keys, ctx.client.db, &args[1], ctx.now)?;
    let found: Vec<Option<[f64; 2]>> = args[2..]
        .iter()
        .map(|m| z.and_then(|z| z.score(m)).and_then(geohash::decode_score))
        .collect();
    ctx.out.array(found.len());
    for p in found {
        match p {
            Some([lon, lat]) => {
                ctx.out.array(2);
                reply_human(ctx, lon);
                reply_human(ctx, lat);
            }
            None => ctx.out.null_array(),
        }
    }
    Ok(())
}

/// One key after the last `word` (`STORE`/`STOREDIST` given twice: the last one counts).
const fn store_spec(word: &'static str) -> KeySpec {
    KeySpec {
        begin: Begin::Keyword { word, from: -2 },
        find: Find::Range {
            last: 0,
            step: 1,
            limit: 0,
        },
    }
}

/// GEORADIUS's source, then its STORE or STOREDIST destination. A keyword search can
/// mistake a member or key named `store` for the option, so the commands that may store lock
/// their whole database (`Scope::Db`): the destination is always among the shards held.
const RADIUS_KEYS: &[KeySpec] = &[
    KeySpec::range(1, 1, 1),
    store_spec("store"),
    store_spec("storedist"),
];

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("geoadd", -5, WRITE | DENYOOM, "geo", geoadd).keys(1, 1, 1).doc("Add one or more geospatial items in the geospatial index represented using a sorted set", "3.2.0"),
    Cmd::new("geodist", -4, READONLY, "geo", geodist).keys(1, 1, 1).doc("Returns the distance between two members of a geospatial index", "3.2.0"),
    Cmd::new("geohash", -2, READONLY, "geo", geohash_cmd).keys(1, 1, 1).doc("Returns members of a geospatial index as standard geohash strings", "3.2.0"),
    Cmd::new("geopos", -2, READONLY, "geo", geopos).keys(1, 1, 1).doc("Returns longitude and latitude of members of a geospatial index", "3.2.0"),
    Cmd::new("georadius", -6, WRITE | DENYOOM, "geo", georadius).key_specs(RADIUS_KEYS).scope(Scope::Db).doc("Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point", "3.2.0"),
    Cmd::new("georadiusbymember", -5, WRITE | DENYOOM, "geo", georadiusbymember).key_specs(RADIUS_KEYS).scope(Scope::Db).doc("Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member", "3.2.0"),
    Cmd::new("georadius_ro", -6, READONLY, "geo", georadius_ro).keys(1, 1, 1).doc("A read-only variant for GEORADIUS", "3.2.10"),
    Cmd::new("georadiusbymember_ro", -5, READONLY, "geo", georadiusbymember_ro).keys(1, 1, 1).doc("A read-only variant for GEORADIUSBYMEMBER", "3.2.10"),
    Cmd::new("geosearch", -7, READONLY, "geo", geosearch).keys(1, 1, 1).doc("Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.", "6.2.0"),
    Cmd::new("geosearchstore", -8, WRITE | DENYOOM, "geo", geosearchstore).keys(1, 2, 1).doc("Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.", "6.2.0"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_print_like_fixedpoint_d2string() {
        assert_eq!(fmt_distance(0.0), "0.0000");
        assert_eq!(fmt_distance(0.775), "0.7750");
        assert_eq!(fmt_distance(6.06429515983917e-5), "0.0001");
        assert_eq!(fmt_distance(0.00001), "0.0000");
        assert_eq!(fmt_distance(166274.1516), "166274.1516");
        assert_eq!(fmt_distance(f64::NAN), "-922337203685477.5808");
    }

    #[test]
    fn coordinates_print_like_ld2string_human() {
        assert_eq!(fmt_human(13.361389338970184), "13.36138933897018433");
        assert_eq!(fmt_human(-0.0), "0");
        assert_eq!(fmt_human(10.0), "10");
        assert_eq!(fmt_human(0.5), "0.5");
    }
}
