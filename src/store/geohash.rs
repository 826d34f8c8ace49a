//! Geohashes as Redis 7.0 computes them (its `geohash.c` and `geohash_helper.c`): the
//! 52-bit scores a geo set (a sorted set) keeps, their decoding back to a position, the
//! great-circle distance, and the nine-cell cover of a search area that GEOSEARCH scans.
//!
//! A position is encoded by splitting each axis of its range into 2^26 cells and
//! interleaving the two 26-bit cell numbers (longitude in the odd bits, latitude in the even
//! ones), so nearby points get nearby scores and a cell of any coarser step is one contiguous
//! score range. The latitude range stops at ±85.05112878 (the Web Mercator limit): Redis
//! cannot index the poles. Every formula keeps Redis's order of floating-point operations,
//! because the replies (scores, positions printed with 17 decimals, distances) must match it
//! to the last bit.

/// The finest step: 26 bits per axis, 52 bits in all (a double holds them exactly).
pub const STEP_MAX: u8 = 26;
/// The indexable latitudes (EPSG:900913's limits) and longitudes.
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
/// Earth's quadratic mean radius for WGS-84, the one Redis's haversine uses.
pub const EARTH_RADIUS_M: f64 = 6372797.560856;
/// Half the Web Mercator world's width in metres: where the step estimate starts.
const MERCATOR_MAX: f64 = 20037726.37;
/// Degrees to radians, as C computes `M_PI / 180.0`.
const D_R: f64 = std::f64::consts::PI / 180.0;

fn deg_rad(a: f64) -> f64 {
    a * D_R
}
fn rad_deg(a: f64) -> f64 {
    a / D_R
}

/// A hash of `step` bits per axis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bits {
    pub bits: u64,
    pub step: u8,
}

impl Bits {
    /// Redis's "zero" hash marks a neighbour left out of a search.
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
    /// The hash shifted to 52 bits: the score of its cell's first position.
    pub fn align52(&self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

impl Range {
    fn is_zero(&self) -> bool {
        self.min == 0.0 && self.max == 0.0
    }
}

/// The longitudes and latitudes a geo set can index.
pub const LONG_RANGE: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
pub const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// The cell a hash names.
#[derive(Clone, Copy, Debug, Default)]
pub struct Area {
    pub hash: Bits,
    pub longitude: Range,
    pub latitude: Range,
}

/// Spread the low 32 bits of `x` over the even bits and those of `y` over the odd bits.
fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let (mut x, mut y) = (u64::from(xlo), u64::from(ylo));
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

/// The inverse: even bits to the low half, odd bits to the high half.
fn deinterleave64(v: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let (mut x, mut y) = (v, v >> 1);
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// The hash of a position in the given ranges at `step` bits per axis; None outside the
/// indexable area or the ranges.
pub fn encode(lon_r: &Range, lat_r: &Range, lon: f64, lat: f64, step: u8) -> Option<Bits> {
    if step > 32 || step == 0 || lat_r.is_zero() || lon_r.is_zero() {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min) * scale;
    let lon_off = (lon - lon_r.min) / (lon_r.max - lon_r.min) * scale;
    // C converts the offsets to uint32_t by truncation; they lie in [0, 2^step].
    Some(Bits {
        bits: interleave64(lat_off as u32, lon_off as u32),
        step,
    })
}

/// The hash of a position in the geo set's ranges.
pub fn encode_wgs84(lon: f64, lat: f64, step: u8) -> Option<Bits> {
    encode(&LONG_RANGE, &LAT_RANGE, lon, lat, step)
}

/// The cell of `hash` in the given ranges.
pub fn decode(lon_r: Range, lat_r: Range, hash: Bits) -> Option<Area> {
    if hash.is_zero() || lat_r.is_zero() || lon_r.is_zero() {
        return None;
    }
    let sep = deinterleave64(hash.bits);
    let lat_scale = lat_r.max - lat_r.min;
    let lon_scale = lon_r.max - lon_r.min;
    let ilat = sep as u32;
    let ilon = (sep >> 32) as u32;
    let div = (1u64 << hash.step) as f64;
    Some(Area {
        hash,
        latitude: Range {
            min: lat_r.min + (f64::from(ilat) / div) * lat_scale,
            max: lat_r.min + (f64::from(ilat.wrapping_add(1)) / div) * lat_scale,
        },
        longitude: Range {
            min: lon_r.min + (f64::from(ilon) / div) * lon_scale,
            max: lon_r.min + (f64::from(ilon.wrapping_add(1)) / div) * lon_scale,
        },
    })
}

/// The centre of a cell, clamped to the indexable area: `[longitude, latitude]`.
pub fn area_center(a: &Area) -> [f64; 2] {
    let lon = ((a.longitude.min + a.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((a.latitude.min + a.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [lon, lat]
}

/// C's `(uint64_t)` of a double as x86-64 compilers emit it, so that a score that is not a
/// geohash (a plain ZADD) decodes to what Redis shows: negatives wrap, NaN and values out of
/// range give the "integer indefinite" pattern.
fn c_double_to_u64(s: f64) -> u64 {
    const TWO63: f64 = 9223372036854775808.0;
    const INDEFINITE: u64 = 1 << 63;
    if s.is_nan() {
        return INDEFINITE;
    }
    if s < TWO63 {
        if s <= -TWO63 - 1024.0 {
            return INDEFINITE;
        }
        (s as i64) as u64
    } else {
        let v = s - TWO63;
        let low = if v >= TWO63 {
            INDEFINITE
        } else {
            v as i64 as u64
        };
        low ^ INDEFINITE
    }
}

/// The position a sorted-set score stands for: `[longitude, latitude]`.
pub fn decode_score(score: f64) -> Option<[f64; 2]> {
    let hash = Bits {
        bits: c_double_to_u64(score),
        step: STEP_MAX,
    };
    decode(LONG_RANGE, LAT_RANGE, hash).map(|a| area_center(&a))
}

/// The score of a position (which the caller checked is indexable).
pub fn score_of(lon: f64, lat: f64) -> Option<u64> {
    encode_wgs84(lon, lat, STEP_MAX).map(|h| h.align52())
}

/// The standard 11-character geohash of a score: decoded, then encoded again over the
/// standard latitude range ±90 (the geo set's own range is ±85.05), the 11th character
/// being always `0` since only 52 bits exist.
pub fn geohash_string(score: f64) -> Option<[u8; 11]> {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [lon, lat] = decode_score(score)?;
    let std_lon = Range {
        min: -180.0,
        max: 180.0,
    };
    let std_lat = Range {
        min: -90.0,
        max: 90.0,
    };
    // Redis ignores a failed encode here and prints the zeroed hash.
    let bits = encode(&std_lon, &std_lat, lon, lat, 26).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    Some(out)
}

fn move_x(h: &mut Bits, d: i8) {
    if d == 0 || h.step == 0 {
        return;
    }
    let mut x = h.bits & 0xaaaaaaaaaaaaaaaa;
    let y = h.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64 >> (64 - u32::from(h.step) * 2);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaaaaaaaaaaaaaau64 >> (64 - u32::from(h.step) * 2);
    h.bits = x | y;
}

fn move_y(h: &mut Bits, d: i8) {
    if d == 0 || h.step == 0 {
        return;
    }
    let x = h.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = h.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> (64 - u32::from(h.step) * 2);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555555555555555u64 >> (64 - u32::from(h.step) * 2);
    h.bits = x | y;
}

/// The eight cells around one, in Redis's field order.
#[derive(Clone, Copy, Debug, Default)]
pub struct Neighbors {
    pub north: Bits,
    pub east: Bits,
    pub west: Bits,
    pub south: Bits,
    pub north_east: Bits,
    pub south_east: Bits,
    pub north_west: Bits,
    pub south_west: Bits,
}

pub fn neighbors(h: &Bits) -> Neighbors {
    let at = |dx: i8, dy: i8| {
        let mut b = *h;
        move_x(&mut b, dx);
        move_y(&mut b, dy);
        b
    };
    Neighbors {
        east: at(1, 0),
        west: at(-1, 0),
        south: at(0, -1),
        north: at(0, 1),
        north_west: at(-1, 1),
        north_east: at(1, 1),
        south_east: at(1, -1),
        south_west: at(-1, -1),
    }
}

/// The coarsest step whose cells are about as large as the search radius (so the nine
/// cells around the centre cover it), one less towards the poles where cells narrow.
pub fn estimate_steps_by_radius(mut range_m: f64, lat: f64) -> u8 {
    if range_m == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_m < MERCATOR_MAX {
        range_m *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// What a search covers.
#[derive(Clone, Copy, Debug)]
pub enum ShapeKind {
    /// A circle of this radius (in the unit).
    Radius(f64),
    /// An axis-aligned box of this width and height (in the unit).
    Box { width: f64, height: f64 },
}

/// A search area: its centre `[longitude, latitude]`, its kind, and the unit's size in
/// metres.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub xy: [f64; 2],
    pub kind: ShapeKind,
    pub conversion: f64,
}

impl Shape {
    /// `[min_lon, min_lat, max_lon, max_lat]` of the area (Redis's `geohashBoundingBox`).
    pub fn bounds(&self) -> [f64; 4] {
        let [lon, lat] = self.xy;
        let (h, w) = match self.kind {
            ShapeKind::Radius(r) => (r, r),
            ShapeKind::Box { width, height } => (height / 2.0, width / 2.0),
        };
        let height = self.conversion * h;
        let width = self.conversion * w;
        let lat_delta = rad_deg(height / EARTH_RADIUS_M);
        let long_delta_top = rad_deg(width / EARTH_RADIUS_M / deg_rad(lat + lat_delta).cos());
        let long_delta_bottom = rad_deg(width / EARTH_RADIUS_M / deg_rad(lat - lat_delta).cos());
        // The hemispheres bulge opposite ways: the wider edge sets the longitudes.
        let delta = if lat < 0.0 {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [lon - delta, lat - lat_delta, lon + delta, lat + lat_delta]
    }

    /// Whether a position is inside, with its distance from the centre in metres.
    pub fn contains(&self, lon: f64, lat: f64) -> Option<f64> {
        let [x1, y1] = self.xy;
        match self.kind {
            ShapeKind::Radius(r) => {
                let d = distance(x1, y1, lon, lat);
                // As Redis tests it, `d > radius` rejects: a NaN distance is kept.
                match d.partial_cmp(&(r * self.conversion)) {
                    Some(std::cmp::Ordering::Greater) => None,
                    _ => Some(d),
                }
            }
            ShapeKind::Box { width, height } => {
                let (w, h) = (width * self.conversion, height * self.conversion);
                // The latitude distance is cheaper: it is checked first.
                if lat_distance(lat, y1) > h / 2.0 {
                    return None;
                }
                if distance(lon, lat, x1, lat) > w / 2.0 {
                    return None;
                }
                Some(distance(x1, y1, lon, lat))
            }
        }
    }
}

/// The cells a search scans: the centre's and its eight neighbours (some left out as zero).
#[derive(Clone, Copy, Debug)]
pub struct Cover {
    pub hash: Bits,
    pub neighbors: Neighbors,
    pub area: Area,
}

impl Cover {
    /// The nine cells in Redis's scan order: centre, N, S, E, W, NE, NW, SE, SW.
    pub fn cells(&self) -> [Bits; 9] {
        let n = &self.neighbors;
        [
            self.hash,
            n.north,
            n.south,
            n.east,
            n.west,
            n.north_east,
            n.north_west,
            n.south_east,
            n.south_west,
        ]
    }
}

/// The nine cells that cover `shape` (Redis's `geohashCalculateAreasByShapeWGS84`): the step
/// from the radius (a box's half diagonal), one step coarser when a neighbour does not reach
/// the area's edge, and the neighbours that lie wholly outside the area dropped.
pub fn cover(shape: &Shape) -> Cover {
    let [min_lon, min_lat, max_lon, max_lat] = shape.bounds();
    let [lon, lat] = shape.xy;
    let radius_m = match shape.kind {
        ShapeKind::Radius(r) => r,
        ShapeKind::Box { width, height } => {
            ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
        }
    } * shape.conversion;
    let mut steps = estimate_steps_by_radius(radius_m, lat);
    let cell = |steps: u8| {
        let hash = encode(&LONG_RANGE, &LAT_RANGE, lon, lat, steps).unwrap_or_default();
        let area = decode(LONG_RANGE, LAT_RANGE, hash).unwrap_or_default();
        (hash, neighbors(&hash), area)
    };
    let (mut hash, mut nb, mut area) = cell(steps);
    let dec = |b: Bits| decode(LONG_RANGE, LAT_RANGE, b).unwrap_or_default();
    let decrease = dec(nb.north).latitude.max < max_lat
        || dec(nb.south).latitude.min > min_lat
        || dec(nb.east).longitude.max < max_lon
        || dec(nb.west).longitude.min > min_lon;
    if steps > 1 && decrease {
        steps -= 1;
        (hash, nb, area) = cell(steps);
    }
    if steps >= 2 {
        let zero = Bits::default();
        if area.latitude.min < min_lat {
            (nb.south, nb.south_west, nb.south_east) = (zero, zero, zero);
        }
        if area.latitude.max > max_lat {
            (nb.north, nb.north_east, nb.north_west) = (zero, zero, zero);
        }
        if area.longitude.min < min_lon {
            (nb.west, nb.south_west, nb.north_west) = (zero, zero, zero);
        }
        if area.longitude.max > max_lon {
            (nb.east, nb.south_east, nb.north_east) = (zero, zero, zero);
        }
    }
    Cover {
        hash,
        neighbors: nb,
        area,
    }
}

/// The score range `[min, max)` of the positions inside a cell.
pub fn score_range(h: Bits) -> (f64, f64) {
    let min = h.align52();
    let max = Bits {
        bits: h.bits.wrapping_add(1),
        step: h.step,
    }
    .align52();
    (min as f64, max as f64)
}

/// The distance along a meridian between two latitudes, in metres.
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_M * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// The great-circle distance in metres (haversine), as Redis computes it.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    // Same longitude: the cheaper meridian distance (Redis's shortcut, kept for its rounding).
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scores_match_redis_for_known_places() {
        // From Redis's own geo tests (ZRANGE ... WITHSCORES after GEOADD).
        let cases = [
            (-74.0131604, 40.7126674, 1791873972053020u64),
            (-73.9903085, 40.7362513, 1791875485187452),
            (-73.9733487, 40.7648057, 1791875761332224),
            (-73.9564142, 40.7480973, 1791875796750882),
            (-73.9454966, 40.747533, 1791875804419201),
            (-73.9375699, 40.7498929, 1791875830079666),
            (-73.7858139, 40.6428986, 1791895905559723),
        ];
        for (lon, lat, score) in cases {
            assert_eq!(score_of(lon, lat), Some(score));
        }
    }

    #[test]
    fn geohash_string_is_the_standard_one() {
        let s = score_of(-5.6, 42.6).unwrap() as f64;
        assert_eq!(&geohash_string(s).unwrap(), b"ezs42e44yx0");
    }

    #[test]
    fn palermo_to_catania_is_166_km() {
        let a = decode_score(score_of(13.361389, 38.115556).unwrap() as f64).unwrap();
        let b = decode_score(score_of(15.087269, 37.502669).unwrap() as f64).unwrap();
        let d = distance(a[0], a[1], b[0], b[1]);
        assert!(d > 166274.0 && d < 166275.0, "{d}");
    }

    #[test]
    fn positions_out_of_range_have_no_score() {
        assert_eq!(score_of(180.1, 0.0), None);
        assert_eq!(score_of(0.0, 85.06), None);
        assert!(score_of(180.0, 85.05112878).is_some());
    }

    #[test]
    fn neighbours_of_a_cell_touch_it() {
        let h = encode_wgs84(10.0, 20.0, 10).unwrap();
        let a = decode(LONG_RANGE, LAT_RANGE, h).unwrap();
        let n = neighbors(&h);
        let north = decode(LONG_RANGE, LAT_RANGE, n.north).unwrap();
        let east = decode(LONG_RANGE, LAT_RANGE, n.east).unwrap();
        assert!((north.latitude.min - a.latitude.max).abs() < 1e-9);
        assert!((east.longitude.min - a.longitude.max).abs() < 1e-9);
        assert_eq!(north.longitude, a.longitude);
    }

    #[test]
    fn non_geo_scores_decode_like_c() {
        assert_eq!(c_double_to_u64(-1.0), u64::MAX);
        assert_eq!(c_double_to_u64(f64::NAN), 1 << 63);
        assert_eq!(c_double_to_u64(1e19), 10_000_000_000_000_000_000);
        assert!(decode_score(-1.0).is_some());
    }

    proptest! {
        /// Interleaving is a bijection on the low 32 bits of each half.
        #[test]
        fn deinterleave_inverts_interleave(x: u32, y: u32) {
            prop_assert_eq!(deinterleave64(interleave64(x, y)), u64::from(x) | (u64::from(y) << 32));
        }

        /// A position decodes to within half a cell of where it was (about 0.6 m).
        #[test]
        fn decoding_a_score_is_close_to_the_position(lon in -180.0f64..180.0, lat in -85.05f64..85.05) {
            let s = score_of(lon, lat).unwrap();
            prop_assert!(s < 1 << 52);
            let [x, y] = decode_score(s as f64).unwrap();
            prop_assert!(distance(lon, lat, x, y) < 1.0);
        }

        /// Every point of a search's area lies in one of its nine cells (the property the
        /// search relies on; Redis's tests check it the same way, away from the poles).
        #[test]
        fn the_cover_holds_the_area(lon in -180.0f64..180.0, lat in -70.0f64..70.0,
                                    r in 1.0f64..500_000.0, plon in -180.0f64..180.0,
                                    plat in -70.0f64..70.0) {
            let shape = Shape { xy: [lon, lat], kind: ShapeKind::Radius(r), conversion: 1.0 };
            let s = score_of(plon, plat).unwrap() as f64;
            let [x, y] = decode_score(s).unwrap();
            if let Some(d) = shape.contains(x, y) {
                // Skip rounding-level boundary cases.
                prop_assume!(d < r * 0.999);
                let c = cover(&shape);
                let inside = c.cells().iter().any(|h| {
                    let (lo, hi) = score_range(*h);
                    !h.is_zero() && s >= lo && s < hi
                });
                prop_assert!(inside);
            }
        }
    }
}
