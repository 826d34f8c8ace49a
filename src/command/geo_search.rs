//! The geo searches: GEORADIUS, GEORADIUSBYMEMBER (and their `_RO` forms), GEOSEARCH and
//! GEOSEARCHSTORE, one parser and one search as in Redis's `georadiusGeneric`.
//!
//! A search covers its area with nine geohash cells (`geohash::cover`), reads each cell's
//! score range from the sorted set (two rank searches, then the members in order), keeps the
//! members inside the circle or box, and sorts them by distance when asked (or when COUNT
//! is given without ANY). The order of an unsorted reply is the cells' order, then score
//! order, as in Redis; sorted replies reproduce Redis's sorts (glibc's merge sort, or its
//! own partial quicksort under COUNT), so members at equal distances come in Redis's order
//! too.

use super::error;
use super::geo::{fmt_distance, lonlat, reply_human, unit};
use super::zset::read_in;
use super::zset_ops::store_zset;
use super::{is, Ctx, Outcome};
use crate::engine::notify::Ev;
use crate::engine::CmdError;
use crate::num::{parse_f64, parse_i64};
use crate::store::geohash::{self, Cover, Shape, ShapeKind};
use crate::store::value::ZSet;
use bytes::Bytes;

const NO_MEMBER: CmdError = error::text("ERR could not decode requested zset member");

/// Which command is searching.
#[derive(Clone, Copy, PartialEq)]
enum Form {
    /// GEORADIUS: the centre is `longitude latitude`, then `radius unit`.
    Coords,
    /// GEORADIUSBYMEMBER: the centre is a member, then `radius unit`.
    Member,
    /// GEOSEARCH: FROMMEMBER/FROMLONLAT and BYRADIUS/BYBOX options.
    Search,
    /// GEOSEARCHSTORE: GEOSEARCH into a destination key.
    SearchStore,
}

/// A member found in the area.
struct Point {
    lon: f64,
    lat: f64,
    /// From the centre, in metres until the reply divides it by the unit.
    dist: f64,
    score: f64,
    member: Vec<u8>,
}

/// `radius unit`: the radius and the unit's metres.
fn radius_arg(r: &[u8], u: &[u8]) -> Result<(f64, f64), CmdError> {
    let r = parse_f64(r).ok_or(error::text("ERR need numeric radius"))?;
    if r < 0.0 {
        return Err(error::text("ERR radius cannot be negative"));
    }
    Ok((r, unit(u)?))
}

/// `width height unit`.
fn box_arg(w: &[u8], h: &[u8], u: &[u8]) -> Result<(f64, f64, f64), CmdError> {
    let w = parse_f64(w).ok_or(error::text("ERR need numeric width"))?;
    let h = parse_f64(h).ok_or(error::text("ERR need numeric height"))?;
    if h < 0.0 || w < 0.0 {
        return Err(error::text("ERR height or width cannot be negative"));
    }
    Ok((w, h, unit(u)?))
}

/// The position of member `m` of the geo set.
fn member_pos(z: &ZSet, m: &[u8]) -> Result<[f64; 2], CmdError> {
    z.score(m).and_then(geohash::decode_score).ok_or(NO_MEMBER)
}

/// Append the members of cell `h` that lie in `shape`, stopping once `limit` (0: none) are
/// found.
fn points_in_cell(z: &ZSet, h: geohash::Bits, shape: &Shape, out: &mut Vec<Point>, limit: usize) {
    let (min, max) = geohash::score_range(h);
    let lo = z.partition_point(|s, _| s < min);
    let hi = z.partition_point(|s, _| s < max);
    for (score, member) in z.range(lo, hi, false) {
        if let Some([lon, lat]) = geohash::decode_score(score) {
            if let Some(dist) = shape.contains(lon, lat) {
                out.push(Point {
                    lon,
                    lat,
                    dist,
                    score,
                    member: member.to_vec(),
                });
            }
        }
        if limit > 0 && out.len() >= limit {
            break;
        }
    }
}

/// The members of the nine cells that lie in `shape`. A cell equal to the one scanned just
/// before is skipped (huge radii make neighbours coincide); as in Redis the centre cell
/// never counts as "the one before".
fn points_in_cover(z: &ZSet, cover: &Cover, shape: &Shape, limit: usize) -> Vec<Point> {
    let cells = cover.cells();
    let mut out = Vec::new();
    let mut last = 0;
    for (i, h) in cells.iter().enumerate() {
        if h.is_zero() {
            continue;
        }
        if last != 0 && *h == cells[last] {
            continue;
        }
        if limit > 0 && out.len() >= limit {
            break;
        }
        points_in_cell(z, *h, shape, &mut out, limit);
        last = i;
    }
    out
}

/// The points ordered by distance as Redis orders them: all of them with glibc's `qsort`
/// (a stable merge sort), or only the first `keep` with Redis's partial quicksort, which
/// leaves the rest (and ties) where its partitioning put them. Both use Redis's comparator
/// (`a > b`, `a == b`, else less), so even NaN distances land where Redis puts them.
fn sorted(points: Vec<Point>, keep: usize, desc: bool) -> Vec<Point> {
    let dist: Vec<f64> = points.iter().map(|p| p.dist).collect();
    let cmp = |a: &usize, b: &usize| {
        let (x, y) = (dist[*a], dist[*b]);
        let c = if x > y {
            1
        } else if x == y {
            0
        } else {
            -1
        };
        if desc {
            -c
        } else {
            c
        }
    };
    let mut order: Vec<usize> = (0..points.len()).collect();
    if keep == points.len() {
        let mut tmp = Vec::with_capacity(order.len());
        merge_sort(&mut order, &mut tmp, &cmp);
    } else if keep > 0 {
        pqsort(&mut order, 0, &cmp, (0, keep - 1));
    }
    let mut slots: Vec<Option<Point>> = points.into_iter().map(Some).collect();
    order.iter().filter_map(|&i| slots[i].take()).collect()
}

/// glibc's `msort`: halves of `n / 2` and the rest, merged taking the left element unless
/// it compares greater.
fn merge_sort<T: Copy>(v: &mut [T], tmp: &mut Vec<T>, cmp: &impl Fn(&T, &T) -> i32) {
    if v.len() <= 1 {
        return;
    }
    let n1 = v.len() / 2;
    merge_sort(&mut v[..n1], tmp, cmp);
    merge_sort(&mut v[n1..], tmp, cmp);
    tmp.clear();
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < v.len() {
        if cmp(&v[i], &v[j]) <= 0 {
            tmp.push(v[i]);
            i += 1;
        } else {
            tmp.push(v[j]);
            j += 1;
        }
    }
    tmp.extend_from_slice(&v[i..n1]);
    let done = tmp.len();
    v[..done].copy_from_slice(tmp);
}

/// Redis's `pqsort` (NetBSD's quicksort that only recurses into the parts overlapping the
/// wanted positions `want`), on `v[a..]`. Every index stays in bounds whatever `cmp`
/// answers.
fn pqsort<T>(v: &mut [T], mut a: usize, cmp: &impl Fn(&T, &T) -> i32, want: (usize, usize)) {
    let mut n = v.len() - a;
    // Whether positions [s, s + k) hold any wanted one.
    let overlaps = |s: usize, k: usize| !(want.1 < s || want.0 >= s + k);
    loop {
        if n < 7 {
            for m in a + 1..a + n {
                let mut l = m;
                while l > a && cmp(&v[l - 1], &v[l]) > 0 {
                    v.swap(l, l - 1);
                    l -= 1;
                }
            }
            return;
        }
        let med3 = |v: &[T], x: usize, y: usize, z: usize| {
            if cmp(&v[x], &v[y]) < 0 {
                if cmp(&v[y], &v[z]) < 0 {
                    y
                } else if cmp(&v[x], &v[z]) < 0 {
                    z
                } else {
                    x
                }
            } else if cmp(&v[y], &v[z]) > 0 {
                y
            } else if cmp(&v[x], &v[z]) < 0 {
                x
            } else {
                z
            }
        };
        let mut pm = a + n / 2;
        if n > 7 {
            let (mut pl, mut pn) = (a, a + n - 1);
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d);
                pm = med3(v, pm - d, pm, pm + d);
                pn = med3(v, pn - 2 * d, pn - d, pn);
            }
            pm = med3(v, pl, pm, pn);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let c = cmp(&v[pb], &v[a]);
                if c > 0 {
                    break;
                }
                if c == 0 {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let c = cmp(&v[pc], &v[a]);
                if c < 0 {
                    break;
                }
                if c == 0 {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let vecswap = |v: &mut [T], x: usize, y: usize, k: usize| {
            for i in 0..k {
                v.swap(x + i, y + i);
            }
        };
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && overlaps(a, r) {
            pqsort(&mut v[..a + r], a, cmp, want);
        }
        let r = pd - pc;
        if r > 1 && overlaps(pn - r, r) {
            a = pn - r;
            n = r;
            continue;
        }
        return;
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// Redis's `georadiusGeneric`: `src_at` is the source key's index.
fn search(ctx: &mut Ctx, args: &[Bytes], src_at: usize, form: Form, nostore: bool) -> Outcome {
    let z = read_in(&mut *ctx.keys, ctx.client.db, &args[src_at], ctx.now)?;
    let searching = matches!(form, Form::Search | Form::SearchStore);
    let mut xy = [0.0; 2];
    let mut kind = ShapeKind::Radius(0.0);
    let mut conversion = 1.0;
    let mut store: Option<&Bytes> = None;
    let base = match form {
        Form::Coords => {
            xy = lonlat(&args[2], &args[3])?;
            let (r, c) = radius_arg(&args[4], &args[5])?;
            (kind, conversion) = (ShapeKind::Radius(r), c);
            6
        }
        Form::Member => {
            // Without a source the reply is empty: the member and radius are not even read
            // (the options are still parsed, for their errors).
            if let Some(z) = z {
                xy = member_pos(z, &args[2])?;
                let (r, c) = radius_arg(&args[3], &args[4])?;
                (kind, conversion) = (ShapeKind::Radius(r), c);
            }
            5
        }
        Form::Search => 2,
        Form::SearchStore => {
            store = Some(&args[1]);
            3
        }
    };

    let (mut withdist, mut withhash, mut withcoord, mut any) = (false, false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut storedist = false;
    let mut sort = Sort::None;
    let mut count: i64 = 0;
    let mut i = base;
    while i < args.len() {
        let a = &args[i];
        let left = args.len() - 1 - i;
        if is(a, "withdist") {
            withdist = true;
        } else if is(a, "withhash") {
            withhash = true;
        } else if is(a, "withcoord") {
            withcoord = true;
        } else if is(a, "any") {
            any = true;
        } else if is(a, "asc") {
            sort = Sort::Asc;
        } else if is(a, "desc") {
            sort = Sort::Desc;
        } else if is(a, "count") && left >= 1 {
            count = parse_i64(&args[i + 1]).ok_or(error::NOT_INTEGER)?;
            if count <= 0 {
                return Err(error::text("ERR COUNT must be > 0"));
            }
            i += 1;
        } else if (is(a, "store") || is(a, "storedist")) && left >= 1 && !nostore && !searching {
            store = Some(&args[i + 1]);
            storedist = is(a, "storedist");
            i += 1;
        } else if is(a, "storedist") && form == Form::SearchStore {
            storedist = true;
        } else if is(a, "frommember") && left >= 1 && searching && !fromloc {
            // Without a source the member is not looked up: the reply is empty anyway.
            if let Some(z) = z {
                xy = member_pos(z, &args[i + 1])?;
            }
            frommember = true;
            i += 1;
        } else if is(a, "fromlonlat") && left >= 2 && searching && !frommember {
            xy = lonlat(&args[i + 1], &args[i + 2])?;
            fromloc = true;
            i += 2;
        } else if is(a, "byradius") && left >= 2 && searching && !bybox {
            let (r, c) = radius_arg(&args[i + 1], &args[i + 2])?;
            (kind, conversion) = (ShapeKind::Radius(r), c);
            byradius = true;
            i += 2;
        } else if is(a, "bybox") && left >= 3 && searching && !byradius {
            let (width, height, c) = box_arg(&args[i + 1], &args[i + 2], &args[i + 3])?;
            (kind, conversion) = (ShapeKind::Box { width, height }, c);
            bybox = true;
            i += 3;
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }

    if store.is_some() && (withdist || withhash || withcoord) {
        return Err(error::msg(format!(
            "ERR {} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if form == Form::SearchStore {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            }
        )));
    }
    let name = String::from_utf8_lossy(&args[0]);
    if searching && !(frommember || fromloc) {
        return Err(error::msg(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        )));
    }
    if searching && !(byradius || bybox) {
        return Err(error::msg(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        )));
    }
    if any && count == 0 {
        return Err(error::text("ERR the ANY argument requires COUNT argument"));
    }

    let mut points = match z {
        None => Vec::new(),
        Some(z) => {
            // COUNT without an order means the nearest ones (ANY: the first found).
            if count != 0 && sort == Sort::None && !any {
                sort = Sort::Asc;
            }
            let shape = Shape {
                xy,
                kind,
                conversion,
            };
            let cover = geohash::cover(&shape);
            let limit = if any { count as usize } else { 0 };
            points_in_cover(z, &cover, &shape, limit)
        }
    };
    let returned = if count == 0 {
        points.len()
    } else {
        points.len().min(count as usize)
    };
    if sort != Sort::None {
        points = sorted(points, returned, sort == Sort::Desc);
    }
    points.truncate(returned);
    for p in &mut points {
        p.dist /= conversion;
    }

    if let Some(dst) = store {
        let items: Vec<(f64, Vec<u8>)> = points
            .into_iter()
            .map(|p| (if storedist { p.dist } else { p.score }, p.member))
            .collect();
        let ev = if searching {
            "geosearchstore"
        } else {
            "georadiusstore"
        };
        store_zset(ctx, dst, items, Ev::zset(ev));
        ctx.out.int(returned as i64);
        return Ok(());
    }
    let options = withdist as usize + withhash as usize + withcoord as usize;
    ctx.out.array(points.len());
    for p in &points {
        if options > 0 {
            ctx.out.array(options + 1);
        }
        ctx.out.bulk(&p.member);
        if withdist {
            ctx.out.bulk(fmt_distance(p.dist).as_bytes());
        }
        if withhash {
            ctx.out.int(p.score as i64);
        }
        if withcoord {
            ctx.out.array(2);
            reply_human(ctx, p.lon);
            reply_human(ctx, p.lat);
        }
    }
    Ok(())
}

/// `GEORADIUS key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH]
/// [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key]`
pub(super) fn georadius(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    search(ctx, args, 1, Form::Coords, false)
}
/// `GEORADIUSBYMEMBER key member radius unit [options as GEORADIUS]`
pub(super) fn georadiusbymember(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    search(ctx, args, 1, Form::Member, false)
}
/// GEORADIUS without STORE/STOREDIST.
pub(super) fn georadius_ro(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    search(ctx, args, 1, Form::Coords, true)
}
/// GEORADIUSBYMEMBER without STORE/STOREDIST.
pub(super) fn georadiusbymember_ro(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    search(ctx, args, 1, Form::Member, true)
}
/// `GEOSEARCH key FROMMEMBER member|FROMLONLAT longitude latitude
/// BYRADIUS radius unit|BYBOX width height unit [ASC|DESC] [COUNT count [ANY]]
/// [WITHCOORD] [WITHDIST] [WITHHASH]`
pub(super) fn geosearch(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    search(ctx, args, 1, Form::Search, false)
}
/// `GEOSEARCHSTORE destination source [GEOSEARCH's options] [STOREDIST]`
pub(super) fn geosearchstore(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    search(ctx, args, 2, Form::SearchStore, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c_cmp(a: &i32, b: &i32) -> i32 {
        (a > b) as i32 - (a < b) as i32
    }

    proptest! {
        /// The wanted positions end up holding what a full sort puts there.
        #[test]
        fn pqsort_sorts_the_wanted_prefix(mut v in proptest::collection::vec(0i32..20, 1..200),
                                          keep in 1usize..200) {
            let keep = keep.min(v.len());
            let mut want = v.clone();
            want.sort();
            pqsort(&mut v, 0, &c_cmp, (0, keep - 1));
            prop_assert_eq!(&v[..keep], &want[..keep]);
        }

        /// The merge sort is a stable sort.
        #[test]
        fn merge_sort_is_stable(v in proptest::collection::vec(0i32..10, 0..200)) {
            let mut pairs: Vec<(i32, usize)> = v.iter().copied().zip(0..).collect();
            let mut want = pairs.clone();
            want.sort_by_key(|p| p.0);
            merge_sort(&mut pairs, &mut Vec::new(), &|a: &(i32, usize), b: &(i32, usize)| c_cmp(&a.0, &b.0));
            prop_assert_eq!(pairs, want);
        }
    }
}
