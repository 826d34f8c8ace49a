//! Software x87 `long double` for INCRBYFLOAT and HINCRBYFLOAT.
//!
//! Redis parses both the stored value and the increment with `strtold`, adds
//! them as a C `long double` (the x87 80-bit format on x86-64 Linux: 64-bit
//! mantissa, 15-bit exponent) and replies with `snprintf("%.17Lf")` minus
//! trailing zeros. Seventeen fraction digits show bits that an `f64` does not
//! have (`100000.1` comes back as `100000.10000000000000142`), so a server that
//! wants byte-identical replies has to reproduce the 64-bit rounding of the
//! parse, of the sum and of the decimal print. Every step here is done exactly
//! with a small private big integer and rounded once, to nearest with ties to
//! even, which is what glibc and the x87 do by default.
//!
//! Behaviour taken from Redis 7.0.15 (checked against the real server), which
//! differs from plain `strtold`/`printf` in two places:
//! - [`LongDouble::parse`] returns `None` where `strtold` reports `ERANGE`
//!   with an infinite or zero result, i.e. a finite decimal that overflows
//!   (`1e5000`) or a non-zero one that rounds to zero (`1e-5000`). Redis
//!   answers "value is not a valid float" there, not an overflow error.
//!   Literal `inf`/`infinity` are accepted and only the sum is rejected.
//! - [`LongDouble::to_human_string`] prints `0`, never `-0`: Redis rewrites
//!   the `-0` that `%.17Lf` gives for negative zero and for tiny negatives.
//!
//! Limits: only the default rounding mode and precision control are modelled;
//! subnormals are exact (not flushed); NaN payloads are not kept (x87 makes
//! `inf + -inf` the negative default NaN, so that prints `-nan`); only the C
//! locale's `.` radix is understood. The slowest inputs (5119 digits, values
//! near 1e±4932) take under half a millisecond optimised, a few in a debug
//! build.

use std::cmp::Ordering;

/// Exponent of the mantissa's lowest bit for subnormals and the smallest
/// normal (2^-16382 == 2^63 * 2^-16445).
const MIN_LSB_EXP: i64 = -16445;
/// Exponent of the mantissa's lowest bit for the largest finite value,
/// (2^64 - 1) * 2^16320.
const MAX_LSB_EXP: i64 = 16320;
/// Redis copies the input into a buffer of this size, NUL included.
const MAX_INPUT_LEN: usize = 5120;
/// Enough quotient bits for 64 mantissa bits, a rounding bit and a spare, so
/// that the division remainder only ever acts as a sticky bit.
const QUOTIENT_BITS: usize = 66;
/// Exponents beyond this are certain overflow or underflow for any input that
/// fits in `MAX_INPUT_LEN`; clamping keeps the arithmetic in range.
const EXP_CLAMP: i64 = 1_000_000_000;
/// The `17` of Redis's `%.17Lf`.
const FRACTION_DIGITS: usize = 17;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Class {
    Zero,
    Finite,
    Inf,
    Nan,
}

/// An x87 extended-precision value: 64-bit mantissa, round-to-nearest-even.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LongDouble {
    neg: bool,
    class: Class,
    /// Finite values are `mant * 2^exp`, kept canonical so derived equality
    /// compares encodings (so `-0 != 0`): normals have bit 63 set,
    /// subnormals have `exp == MIN_LSB_EXP`. Zero, infinity and NaN keep 0 in
    /// both fields.
    mant: u64,
    exp: i32,
}

impl LongDouble {
    fn special(neg: bool, class: Class) -> LongDouble {
        LongDouble {
            neg,
            class,
            mant: 0,
            exp: 0,
        }
    }

    /// Parse like Redis's `string2ld` over glibc `strtold`: the whole input
    /// must be a decimal or hexadecimal float or `inf`/`infinity`, with no
    /// leading whitespace, shorter than 5120 bytes, not NaN, and (unlike
    /// bare `strtold`) not overflowing to infinity or underflowing to zero.
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_INPUT_LEN {
            return None;
        }
        let (neg, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble::special(neg, Class::Inf));
        }
        // "0x" without hex digits is the number 0 followed by junk for
        // strtold, which string2ld rejects; parse_hex rejects it too.
        if body.len() >= 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
            return parse_hex(neg, &body[2..]);
        }
        parse_decimal(neg, body)
    }

    /// Correctly rounded sum (round-to-nearest-even on the exact sum),
    /// overflow -> inf, with IEEE signed-zero and infinity rules.
    #[allow(clippy::should_implement_trait)] // the name is the agreed API
    pub fn add(self, other: LongDouble) -> LongDouble {
        match (self.class, other.class) {
            (Class::Nan, _) => self,
            (_, Class::Nan) => other,
            (Class::Inf, Class::Inf) if self.neg != other.neg => {
                LongDouble::special(true, Class::Nan)
            }
            (Class::Inf, _) => self,
            (_, Class::Inf) => other,
            // An exact zero sum is +0 in round-to-nearest unless both are -0.
            (Class::Zero, Class::Zero) => LongDouble::special(self.neg && other.neg, Class::Zero),
            (Class::Zero, _) => other,
            (_, Class::Zero) => self,
            (Class::Finite, Class::Finite) => {
                let low = self.exp.min(other.exp);
                let a = Big::from_u64(self.mant).shl_bits((self.exp - low) as usize);
                let b = Big::from_u64(other.mant).shl_bits((other.exp - low) as usize);
                let (neg, mag) = if self.neg == other.neg {
                    (self.neg, a.add_big(&b))
                } else {
                    match a.cmp(&b) {
                        Ordering::Equal => return LongDouble::special(false, Class::Zero),
                        Ordering::Greater => (self.neg, a.sub_big(&b)),
                        Ordering::Less => (other.neg, b.sub_big(&a)),
                    }
                };
                round_to_ld(neg, &mag, i64::from(low), false)
            }
        }
    }

    pub fn is_finite(&self) -> bool {
        matches!(self.class, Class::Zero | Class::Finite)
    }

    /// Redis's `ld2string(..., LD_STR_HUMAN)`: `%.17Lf` of the exact binary
    /// value (rounded half to even), trailing fraction zeros and then a bare
    /// `.` removed, and `-0` reported as `0`. Infinity and NaN print as glibc
    /// and Redis do: `inf`, `-inf`, `nan`, `-nan`.
    pub fn to_human_string(&self) -> String {
        let body = match self.class {
            Class::Inf => return if self.neg { "-inf" } else { "inf" }.to_string(),
            Class::Nan => return if self.neg { "-nan" } else { "nan" }.to_string(),
            // glibc gives "-0.000…" for -0, which Redis turns into "0".
            Class::Zero => return "0".to_string(),
            Class::Finite if self.exp >= 0 => {
                // An integer: all 17 fraction digits are zeros and get stripped.
                Big::from_u64(self.mant)
                    .shl_bits(self.exp as usize)
                    .to_decimal()
            }
            Class::Finite => {
                // |v| * 10^17 rounded to an integer is exactly the digit
                // string %.17Lf prints, without its decimal point.
                let k = self.exp.unsigned_abs() as usize;
                let mut scaled = Big::from_u64(self.mant);
                scaled.mul_small(100_000_000);
                scaled.mul_small(1_000_000_000);
                let mut q = scaled.shr_bits(k);
                let odd = q.bit(0);
                if scaled.bit(k - 1) && (odd || scaled.any_bits_below(k - 1)) {
                    q.add_small(1);
                }
                let digits = q.to_decimal();
                let padded = if digits.len() <= FRACTION_DIGITS {
                    format!("{digits:0>width$}", width = FRACTION_DIGITS + 1)
                } else {
                    digits
                };
                let (int, frac) = padded.split_at(padded.len() - FRACTION_DIGITS);
                let frac = frac.trim_end_matches('0');
                if frac.is_empty() {
                    int.to_string()
                } else {
                    format!("{int}.{frac}")
                }
            }
        };
        if body == "0" || !self.neg {
            body
        } else {
            format!("-{body}")
        }
    }
}

#[cfg(test)]
impl LongDouble {
    /// Sign, class and exact value, for the differential test against `ld80`.
    pub(crate) fn key(&self) -> (bool, char, u64, i32) {
        match self.class {
            Class::Zero => (self.neg, 'z', 0, 0),
            Class::Finite => (self.neg, 'f', self.mant, self.exp),
            Class::Inf => (self.neg, 'i', 0, 0),
            Class::Nan => (self.neg, 'n', 0, 0),
        }
    }
}

/// Decimal strtold grammar: digits with at most one `.`, at least one digit,
/// then an optional exponent that must be complete (strtold would leave an
/// incomplete one unconsumed, which string2ld rejects).
fn parse_decimal(neg: bool, s: &[u8]) -> Option<LongDouble> {
    let mut digits: Vec<u8> = Vec::with_capacity(s.len());
    let mut frac_digits: i64 = 0;
    let mut seen_point = false;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            c @ b'0'..=b'9' => {
                digits.push(c - b'0');
                if seen_point {
                    frac_digits += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => break,
        }
        i += 1;
    }
    if digits.is_empty() {
        return None;
    }
    let mut exp10 = 0i64;
    if i < s.len() {
        if s[i] | 0x20 != b'e' {
            return None;
        }
        exp10 = parse_exponent(&s[i + 1..])?;
    }
    let mut exp10 = exp10 - frac_digits;

    let first = digits.iter().position(|&d| d != 0);
    let Some(first) = first else {
        return Some(LongDouble::special(neg, Class::Zero));
    };
    let last = digits.iter().rposition(|&d| d != 0).unwrap_or(first);
    exp10 += (digits.len() - 1 - last) as i64;
    let digits = &digits[first..=last];
    let nd = digits.len() as i64;
    // value is in [10^(nd-1+exp10), 10^(nd+exp10)). The largest finite value
    // is ~1.19e4932 and half the smallest subnormal ~1.82e-4951, so these
    // are certain overflow / underflow-to-zero, which Redis rejects. They
    // also bound the powers of five computed below.
    if nd - 1 + exp10 >= 4933 || nd + exp10 <= -4951 {
        return None;
    }

    let mut mant = Big::zero();
    for chunk in digits.chunks(9) {
        mant.mul_small(10u32.pow(chunk.len() as u32));
        mant.add_small(chunk.iter().fold(0u32, |acc, &d| acc * 10 + u32::from(d)));
    }
    // 10^e == 5^e * 2^e: the factor of two goes into the binary exponent.
    let result = if exp10 >= 0 {
        let mag = mant.mul_big(&Big::pow5(exp10 as u32));
        round_to_ld(neg, &mag, exp10, false)
    } else {
        let den = Big::pow5(exp10.unsigned_abs() as u32);
        let shift = (QUOTIENT_BITS + den.bit_len()).saturating_sub(mant.bit_len());
        let (q, r) = mant.shl_bits(shift).divmod(&den);
        round_to_ld(neg, &q, exp10 - shift as i64, !r.is_zero())
    };
    range_checked(result)
}

/// Hex strtold grammar after the `0x`: hex digits with at most one `.`, at
/// least one digit, optional complete binary exponent `p[+-]digits`.
fn parse_hex(neg: bool, s: &[u8]) -> Option<LongDouble> {
    let mut mant = Big::zero();
    let mut any_digit = false;
    let mut frac_digits: i64 = 0;
    let mut seen_point = false;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if let Some(d) = (c as char).to_digit(16) {
            any_digit = true;
            // Leading zeros would only grow the number with zero limbs.
            if !mant.is_zero() || d != 0 {
                mant.mul_small(16);
                mant.add_small(d);
            }
            if seen_point {
                frac_digits += 1;
            }
        } else if c == b'.' && !seen_point {
            seen_point = true;
        } else {
            break;
        }
        i += 1;
    }
    if !any_digit {
        return None;
    }
    let mut exp2 = 0i64;
    if i < s.len() {
        if s[i] | 0x20 != b'p' {
            return None;
        }
        exp2 = parse_exponent(&s[i + 1..])?;
    }
    if mant.is_zero() {
        return Some(LongDouble::special(neg, Class::Zero));
    }
    range_checked(round_to_ld(neg, &mant, exp2 - 4 * frac_digits, false))
}

/// `[+-]digits`, all of the input, saturating far outside any finite range.
fn parse_exponent(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = digits.iter().fold(0i64, |acc, &d| {
        (acc * 10 + i64::from(d - b'0')).min(EXP_CLAMP)
    });
    Some(if neg { -v } else { v })
}

/// string2ld's ERANGE rule for a non-zero finite input: infinity or zero
/// means strtold overflowed or underflowed, and Redis rejects those.
fn range_checked(v: LongDouble) -> Option<LongDouble> {
    match v.class {
        Class::Finite => Some(v),
        _ => None,
    }
}

/// Rounds `mag * 2^exp` to the nearest long double, ties to even. `sticky`
/// says the true value is a bit more than that, by less than one unit of
/// `mag`'s lowest bit; callers only set it when `mag` has at least
/// `QUOTIENT_BITS` bits, so it always lies below the rounding bit.
fn round_to_ld(neg: bool, mag: &Big, exp: i64, sticky: bool) -> LongDouble {
    if mag.is_zero() {
        return LongDouble::special(neg, Class::Zero);
    }
    let top = mag.bit_len() as i64 - 1 + exp;
    // Below the normal range the unit in the last place stops shrinking,
    // which is what gives subnormals fewer mantissa bits.
    let mut lsb = (top - 63).max(MIN_LSB_EXP);
    if lsb > MAX_LSB_EXP {
        return LongDouble::special(neg, Class::Inf);
    }
    let shift = lsb - exp;
    let mant = if shift <= 0 {
        mag.shl_bits(shift.unsigned_abs() as usize).low_u64()
    } else {
        // Far below the smallest subnormal the shift can be huge; usize
        // saturation keeps it a plain "everything is shifted out".
        let s = usize::try_from(shift).unwrap_or(usize::MAX);
        let kept = mag.shr_bits(s).low_u64();
        let half = mag.bit(s - 1);
        let rest = sticky || mag.any_bits_below(s - 1);
        if !(half && (rest || kept & 1 == 1)) {
            kept
        } else if kept == u64::MAX {
            // Rounding carried out of the 64 bits: 2^64 * 2^lsb.
            lsb += 1;
            if lsb > MAX_LSB_EXP {
                return LongDouble::special(neg, Class::Inf);
            }
            1 << 63
        } else {
            kept + 1
        }
    };
    if mant == 0 {
        return LongDouble::special(neg, Class::Zero);
    }
    LongDouble {
        neg,
        class: Class::Finite,
        mant,
        exp: lsb as i32,
    }
}

/// Minimal unsigned big integer: little-endian 32-bit limbs, no high zero
/// limbs (so derived equality and `is_zero` are by value).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Big {
    limbs: Vec<u32>,
}

impl Ord for Big {
    fn cmp(&self, other: &Big) -> Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, other: &Big) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Big {
    fn zero() -> Big {
        Big { limbs: Vec::new() }
    }

    fn from_u64(v: u64) -> Big {
        let mut b = Big {
            limbs: vec![v as u32, (v >> 32) as u32],
        };
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    fn bit_len(&self) -> usize {
        match self.limbs.last() {
            None => 0,
            Some(top) => self.limbs.len() * 32 - top.leading_zeros() as usize,
        }
    }

    fn bit(&self, i: usize) -> bool {
        self.limbs
            .get(i / 32)
            .is_some_and(|l| (l >> (i % 32)) & 1 == 1)
    }

    /// Whether any of bits `0..n` is set.
    fn any_bits_below(&self, n: usize) -> bool {
        let whole = n / 32;
        if self.limbs.iter().take(whole).any(|&l| l != 0) {
            return true;
        }
        let part = n % 32;
        part != 0
            && self
                .limbs
                .get(whole)
                .is_some_and(|&l| l & ((1u32 << part) - 1) != 0)
    }

    fn low_u64(&self) -> u64 {
        let lo = self.limbs.first().copied().unwrap_or(0);
        let hi = self.limbs.get(1).copied().unwrap_or(0);
        u64::from(lo) | (u64::from(hi) << 32)
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for l in &mut self.limbs {
            let p = u64::from(*l) * u64::from(m) + carry;
            *l = p as u32;
            carry = p >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
        self.trim();
    }

    fn add_small(&mut self, a: u32) {
        let mut carry = a;
        for l in &mut self.limbs {
            if carry == 0 {
                return;
            }
            let (s, over) = l.overflowing_add(carry);
            *l = s;
            carry = u32::from(over);
        }
        if carry != 0 {
            self.limbs.push(carry);
        }
    }

    fn mul_big(&self, other: &Big) -> Big {
        if self.is_zero() || other.is_zero() {
            return Big::zero();
        }
        let mut out = vec![0u32; self.limbs.len() + other.limbs.len()];
        for (i, &a) in self.limbs.iter().enumerate() {
            let mut carry = 0u64;
            for (j, &b) in other.limbs.iter().enumerate() {
                let t = u64::from(a) * u64::from(b) + u64::from(out[i + j]) + carry;
                out[i + j] = t as u32;
                carry = t >> 32;
            }
            out[i + other.limbs.len()] = carry as u32;
        }
        let mut b = Big { limbs: out };
        b.trim();
        b
    }

    fn add_big(&self, other: &Big) -> Big {
        let (long, short) = if self.limbs.len() >= other.limbs.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut out = Vec::with_capacity(long.limbs.len() + 1);
        let mut carry = 0u64;
        for (i, &l) in long.limbs.iter().enumerate() {
            let s = u64::from(l) + u64::from(short.limbs.get(i).copied().unwrap_or(0)) + carry;
            out.push(s as u32);
            carry = s >> 32;
        }
        if carry != 0 {
            out.push(carry as u32);
        }
        Big { limbs: out }
    }

    /// `self - other`; the caller guarantees `self >= other`.
    fn sub_big(&self, other: &Big) -> Big {
        debug_assert!(*self >= *other);
        let mut out = Vec::with_capacity(self.limbs.len());
        let mut borrow = false;
        for (i, &l) in self.limbs.iter().enumerate() {
            let (d1, b1) = l.overflowing_sub(other.limbs.get(i).copied().unwrap_or(0));
            let (d2, b2) = d1.overflowing_sub(u32::from(borrow));
            out.push(d2);
            borrow = b1 || b2;
        }
        let mut b = Big { limbs: out };
        b.trim();
        b
    }

    fn shl_bits(&self, n: usize) -> Big {
        if self.is_zero() {
            return Big::zero();
        }
        let bits = (n % 32) as u32;
        let mut out = vec![0u32; n / 32];
        out.reserve(self.limbs.len() + 1);
        if bits == 0 {
            out.extend_from_slice(&self.limbs);
        } else {
            let mut carry = 0u32;
            for &l in &self.limbs {
                out.push((l << bits) | carry);
                carry = l >> (32 - bits);
            }
            if carry != 0 {
                out.push(carry);
            }
        }
        Big { limbs: out }
    }

    fn shr_bits(&self, n: usize) -> Big {
        let skip = n / 32;
        if skip >= self.limbs.len() {
            return Big::zero();
        }
        let bits = (n % 32) as u32;
        let src = &self.limbs[skip..];
        let limbs = if bits == 0 {
            src.to_vec()
        } else {
            (0..src.len())
                .map(|i| {
                    let hi = src.get(i + 1).map_or(0, |&h| h << (32 - bits));
                    (src[i] >> bits) | hi
                })
                .collect()
        };
        let mut b = Big { limbs };
        b.trim();
        b
    }

    /// Divides in place and returns the remainder.
    fn divmod_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for l in self.limbs.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*l);
            *l = (cur / u64::from(d)) as u32;
            rem = cur % u64::from(d);
        }
        self.trim();
        rem as u32
    }

    /// Long division (Knuth's algorithm D): quotient and remainder.
    fn divmod(&self, d: &Big) -> (Big, Big) {
        assert!(!d.is_zero(), "division by zero");
        if self < d {
            return (Big::zero(), self.clone());
        }
        if d.limbs.len() == 1 {
            let mut q = self.clone();
            let r = q.divmod_small(d.limbs[0]);
            return (q, Big::from_u64(u64::from(r)));
        }
        // Normalising the divisor's top bit makes the two-limb quotient
        // estimate at most two too large.
        let norm = d.limbs[d.limbs.len() - 1].leading_zeros() as usize;
        let v = d.shl_bits(norm).limbs;
        let mut u = self.shl_bits(norm).limbs;
        u.resize(self.limbs.len() + 1, 0);
        let n = v.len();
        let m = u.len() - n;
        let base = 1u64 << 32;
        let (v_top, v_next) = (u64::from(v[n - 1]), u64::from(v[n - 2]));
        let mut q = vec![0u32; m];
        for j in (0..m).rev() {
            let num = (u64::from(u[j + n]) << 32) | u64::from(u[j + n - 1]);
            let mut qhat = num / v_top;
            let mut rhat = num % v_top;
            while qhat >= base
                || u128::from(qhat) * u128::from(v_next)
                    > ((u128::from(rhat) << 32) | u128::from(u[j + n - 2]))
            {
                qhat -= 1;
                rhat += v_top;
                if rhat >= base {
                    break;
                }
            }
            let mut borrow: i64 = 0;
            for i in 0..n {
                let p = qhat * u64::from(v[i]);
                let t = i64::from(u[i + j]) - borrow - (p & 0xFFFF_FFFF) as i64;
                u[i + j] = t as u32;
                borrow = (p >> 32) as i64 - (t >> 32);
            }
            let t = i64::from(u[j + n]) - borrow;
            u[j + n] = t as u32;
            if t < 0 {
                // The estimate was one too large: add one divisor back.
                qhat -= 1;
                let mut carry = 0u64;
                for i in 0..n {
                    let s = u64::from(u[i + j]) + u64::from(v[i]) + carry;
                    u[i + j] = s as u32;
                    carry = s >> 32;
                }
                u[j + n] = u[j + n].wrapping_add(carry as u32);
            }
            q[j] = qhat as u32;
        }
        let mut quot = Big { limbs: q };
        quot.trim();
        u.truncate(n);
        let mut rem = Big { limbs: u };
        rem.trim();
        (quot, rem.shr_bits(norm))
    }

    fn pow5(k: u32) -> Big {
        // 5^13 is the largest power of five that fits a limb.
        const FIVE_13: u32 = 1_220_703_125;
        let mut b = Big::from_u64(1);
        for _ in 0..k / 13 {
            b.mul_small(FIVE_13);
        }
        b.mul_small(5u32.pow(k % 13));
        b
    }

    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".to_string();
        }
        let mut rest = self.clone();
        let mut chunks = Vec::new();
        while !rest.is_zero() {
            chunks.push(rest.divmod_small(1_000_000_000));
        }
        let mut s = String::with_capacity(chunks.len() * 9);
        for (i, c) in chunks.iter().rev().enumerate() {
            if i == 0 {
                s.push_str(&c.to_string());
            } else {
                s.push_str(&format!("{c:09}"));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Redis's reply to INCRBYFLOAT.
    #[derive(Debug)]
    enum Want {
        Reply(&'static str),
        /// Replies too long to paste: length, FNV-1a 64 of the bytes, prefix.
        Digest(usize, u64, &'static str),
        /// "ERR value is not a valid float": some input fails string2ld.
        NotFloat,
        /// "ERR increment would produce NaN or Infinity".
        NanOrInf,
    }
    use Want::*;

    fn fnv1a(s: &str) -> u64 {
        s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    /// INCRBYFLOAT as Redis 7.0 computes it; a missing key counts as 0.
    fn incrbyfloat(cur: Option<&str>, incr: &str) -> Result<String, &'static str> {
        let cur = match cur {
            None => LongDouble::parse(b"0").expect("zero parses"),
            Some(c) => LongDouble::parse(c.as_bytes()).ok_or("not a float")?,
        };
        let incr = LongDouble::parse(incr.as_bytes()).ok_or("not a float")?;
        let sum = cur.add(incr);
        if sum.is_finite() {
            Ok(sum.to_human_string())
        } else {
            Err("nan or inf")
        }
    }

    fn check(cur: Option<&str>, incr: &str, want: &Want) {
        let got = incrbyfloat(cur, incr);
        let what = || format!("{cur:?} + {incr:?}: got {got:?}, Redis {want:?}");
        match (want, &got) {
            (Reply(w), Ok(g)) => assert_eq!(g, w, "{}", what()),
            (Digest(len, hash, prefix), Ok(g)) => {
                assert!(
                    g.len() == *len && fnv1a(g) == *hash && g.starts_with(prefix),
                    "{}",
                    what()
                );
            }
            (NotFloat, Err("not a float")) | (NanOrInf, Err("nan or inf")) => {}
            _ => panic!("{}", what()),
        }
        if matches!(want, NotFloat) {
            let rejected = [cur.unwrap_or("0"), incr]
                .iter()
                .any(|s| LongDouble::parse(s.as_bytes()).is_none());
            assert!(rejected, "{}", what());
        }
    }

    /// (current value or missing key, increment, reply), all from
    /// redis-server 7.0.15 on x86-64 Linux.
    const REDIS_7_0_15: &[(Option<&str>, &str, Want)] = &[
        (Some("10.5"), "0.1", Reply("10.6")),
        (None, "100000.1", Reply("100000.10000000000000142")),
        (None, "123456789.123456789", Reply("123456789.12345678899873747")),
        (None, "1.5e300", Reply("1500000000000000000049800109861472166362379239118673928551219718248973529929812708792854310575830930686530644566050229406926646739311017606984258288377434143937602778196710661234655944195770838513268846826150205418632995547271874827072936230594920013241190363994471886080567336615911694509046614720512")),
        (Some("5.0e3"), "2.0e2", Reply("5200")),
        (None, "1e20", Reply("100000000000000000000")),
        (Some("1"), "-1", Reply("0")),
        (Some("-1"), "1", Reply("0")),
        (Some("-1"), "-1", Reply("-2")),
        (Some("-0"), "-0", Reply("0")),
        (Some("-0"), "0", Reply("0")),
        (None, "-0", Reply("0")),
        (None, "-0.0", Reply("0")),
        (None, "-1e-20", Reply("0")),
        (None, "1e-20", Reply("0")),
        (None, "-5e-18", Reply("0")),
        (None, "-6e-18", Reply("-0.00000000000000001")),
        (None, "1e-17", Reply("0.00000000000000001")),
        (None, "5e-18", Reply("0")),
        (None, "1e-4000", Reply("0")),
        (None, "-1e-4000", Reply("0")),
        (Some("1e-20"), "1e-20", Reply("0")),
        (Some("1e4932"), "1e4932", NanOrInf),
        (Some("1.18973149535723176502e4932"), "0", Digest(4933, 0x142ac37b8a61dfe2, "1189731495357231765021263853030970205169")),
        (Some("1.18973149535723176502e4932"), "1e4912", Digest(4933, 0x142ac37b8a61dfe2, "1189731495357231765021263853030970205169")),
        (Some("1.18973149535723176502e4932"), "4e4912", NanOrInf),
        (Some("-1.18973149535723176502e4932"), "-1.18973149535723176502e4932", NanOrInf),
        (Some("1.18973149535723176502e4932"), "-1.18973149535723176502e4932", Reply("0")),
        (None, "1.18973149535723176509e4932", NotFloat),
        (None, "1e5000", NotFloat),
        (None, "-1e5000", NotFloat),
        (None, "1e-5000", NotFloat),
        (None, "4e-4951", Reply("0")),
        (None, "-4e-4951", Reply("0")),
        (None, "1e-4951", NotFloat),
        (None, "3.3621031431120935063e-4932", Reply("0")),
        (None, "0x1.8p3", Reply("12")),
        (None, "0X1P-2", Reply("0.25")),
        (None, "-0x.8", Reply("-0.5")),
        (None, "0xA.8", Reply("10.5")),
        (None, "0x1p", NotFloat),
        (None, "0x", NotFloat),
        (None, "0x.p1", NotFloat),
        (None, "0x1p-16446", NotFloat),
        (None, "0x1.00001p-16446", Reply("0")),
        (None, "0x1.fffffffffffffffep16383", Digest(4933, 0x142ac37b8a61dfe2, "1189731495357231765021263853030970205169")),
        (None, "0x1.fffffffffffffffe8p16383", Digest(4933, 0x142ac37b8a61dfe2, "1189731495357231765021263853030970205169")),
        (None, "0x1.fffffffffffffffe7p16383", Digest(4933, 0x142ac37b8a61dfe2, "1189731495357231765021263853030970205169")),
        (None, "-0x0p0", Reply("0")),
        (None, "inf", NanOrInf),
        (None, "-Infinity", NanOrInf),
        (Some("inf"), "-inf", NanOrInf),
        (Some("inf"), "1", NanOrInf),
        (Some("1"), "INF", NanOrInf),
        (None, "infin", NotFloat),
        (None, "nan", NotFloat),
        (None, "-nan", NotFloat),
        (None, "3.14159265358979323846264338327950288419716939937510", Reply("3.14159265358979324")),
        (Some("0001.5"), "0", Reply("1.5")),
        (None, "+1.5", Reply("1.5")),
        (None, ".5", Reply("0.5")),
        (None, "5.", Reply("5")),
        (None, "+.5e1", Reply("5")),
        (None, "1e", NotFloat),
        (None, "1e+", NotFloat),
        (None, " 1", NotFloat),
        (None, "1 ", NotFloat),
        (None, "\t1", NotFloat),
        (None, "", NotFloat),
        (None, ".", NotFloat),
        (None, "-", NotFloat),
        (None, "+-1", NotFloat),
        (None, "1.2.3", NotFloat),
        (None, "1e+3", Reply("1000")),
        (None, "1E-3", Reply("0.001")),
        (None, "0.125e1", Reply("1.25")),
        (None, "00000", Reply("0")),
        (None, "0e999999999999999999999", Reply("0")),
        (None, "1e-99999999999999999999", NotFloat),
        (None, "0.000003814697265625", Reply("0.00000381469726562")),
        (None, "0.000011444091796875", Reply("0.00001144409179688")),
        (None, "-0.000003814697265625", Reply("-0.00000381469726562")),
        (Some("0.1"), "0.2", Reply("0.3")),
        (Some("0.1"), "-0.1", Reply("0")),
        (Some("-2.5"), "1.25", Reply("-1.25")),
        (Some("2.5"), "2.5", Reply("5")),
        (Some("100"), "-100.5", Reply("-0.5")),
        (Some("9223372036854775807"), "1", Reply("9223372036854775808")),
        (Some("18446744073709551615"), "1", Reply("18446744073709551616")),
        (Some("18446744073709551616"), "1", Reply("18446744073709551616")),
        (Some("18446744073709551616"), "3", Reply("18446744073709551620")),
        (None, "1.7976931348623157e308", Reply("179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384")),
        (None, "4.9406564584124654e-324", Reply("0")),
        (Some("1e30"), "-1e30", Reply("0")),
        (Some("1e30"), "1", Reply("1000000000000000000024696061952")),
        (None, "12345678901234567890.123", Reply("12345678901234567890")),
        (None, "-123.456e-2", Reply("-1.23456")),
        (None, "123456789012345678901234567890123456789012345678901234567890", Reply("123456789012345678904212663537885431876092564888614510526464")),
        (Some("3.0000000000000000001"), "0", Reply("3")),
        (None, "0.99999999999999999999", Reply("1")),
        (None, "0.999999999999999994", Reply("0.99999999999999999")),
        (Some("abc"), "1", NotFloat),
        (Some("1"), "abc", NotFloat),
        (None, "1.5e-10", Reply("0.00000000015")),
        (None, "-98765.4321", Reply("-98765.43209999999999837")),
        (Some("0.3"), "-0.1", Reply("0.2")),
    ];

    #[test]
    fn incrbyfloat_matches_redis() {
        for (cur, incr, want) in REDIS_7_0_15 {
            check(*cur, incr, want);
        }
    }

    #[test]
    fn input_length_limit_and_long_inputs_match_redis() {
        let cases = [
            ("1.".to_string() + &"0".repeat(5117), Reply("1")),
            ("1.".to_string() + &"0".repeat(5118), NotFloat),
            ("0".repeat(5116) + "1.5", Reply("1.5")),
            (
                "0.".to_string() + &"0".repeat(4940) + &"1".repeat(177),
                Reply("0"),
            ),
            ("1".repeat(5110) + "e-10050", Reply("0")),
            ("-".to_string() + &"1".repeat(5110) + "e-10060", NotFloat),
            (
                "9".repeat(4932) + "." + &"9".repeat(186),
                Digest(
                    4933,
                    0x3a74bb368382c4e9,
                    "1000000000000000000006018949387963891323",
                ),
            ),
            (
                "0.".to_string() + &"3".repeat(5117),
                Reply("0.33333333333333333"),
            ),
            ("7".repeat(4933), NotFloat),
        ];
        for (incr, want) in &cases {
            check(None, incr, want);
        }
    }

    #[test]
    fn rounding_carries_into_the_next_binade() {
        let p = |s: &str| LongDouble::parse(s.as_bytes()).expect(s);
        // 65 significant bits, a tie, odd mantissa: rounds up to 2.
        assert_eq!(p("0x1.ffffffffffffffffp0"), p("2"));
        assert_eq!(p("0x1.fffffffffffffffdp0"), p("0x1.fffffffffffffffcp0"));
        // Largest subnormal plus the smallest one is the smallest normal.
        let sum = p("0x0.fffffffffffffffep-16382").add(p("0x1p-16445"));
        assert_eq!(sum, p("0x1p-16382"));
        assert_eq!((sum.mant, i64::from(sum.exp)), (1 << 63, MIN_LSB_EXP));
        // Half an ulp above the maximum rounds to even, which overflows.
        let max = p("0x1.fffffffffffffffep16383");
        assert!(!max.add(p("0x1p16319")).is_finite());
        assert_eq!(max.add(p("0x1.fffp16318")), max);
    }

    #[test]
    fn infinities_nan_and_signed_zero() {
        let p = |s: &str| LongDouble::parse(s.as_bytes()).expect(s);
        let nan = p("inf").add(p("-inf"));
        assert!(!nan.is_finite());
        assert_eq!(nan.to_human_string(), "-nan");
        assert_eq!(p("-inf").add(p("1")).to_human_string(), "-inf");
        assert_eq!(p("-0").add(p("-0")), p("-0"));
        assert_eq!(p("-0").add(p("0")), p("0"));
        assert_eq!(p("1.5").add(p("-1.5")), p("0"));
        assert_ne!(p("-0"), p("0"));
        assert!(LongDouble::parse(b"nan").is_none());
    }

    #[test]
    fn bigint_divmod_reconstructs_the_dividend() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2000 {
            let mut rand_big = |max_limbs: u64| {
                let n = (next() % max_limbs) as usize + 1;
                // Runs of all-ones and zero limbs hit the estimate corrections.
                let limbs = (0..n)
                    .map(|_| match next() % 4 {
                        0 => u32::MAX,
                        1 => 0,
                        _ => next() as u32,
                    })
                    .collect();
                let mut b = Big { limbs };
                b.trim();
                b
            };
            let a = rand_big(12);
            let d = rand_big(6);
            if d.is_zero() {
                continue;
            }
            let (q, r) = a.divmod(&d);
            assert!(r < d, "{a:?} / {d:?}");
            assert_eq!(q.mul_big(&d).add_big(&r), a, "{a:?} / {d:?}");
            assert_eq!(a.add_big(&d).sub_big(&d), a);
        }
    }
}
