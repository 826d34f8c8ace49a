//! x87 `long double` for INCRBYFLOAT and HINCRBYFLOAT, on `rustc_apfloat`.
//!
//! Redis parses both the stored value and the increment with `strtold`, adds
//! them as a C `long double` (the x87 80-bit format on x86-64 Linux: 64-bit
//! mantissa, 15-bit exponent) and replies with `snprintf("%.17Lf")` minus
//! trailing zeros. Seventeen fraction digits show bits that an `f64` does not
//! have (`100000.1` comes back as `100000.10000000000000142`), so a server that
//! wants byte-identical replies has to reproduce the 64-bit rounding of the
//! parse, of the sum and of the decimal print.
//!
//! The parse and the sum are [`X87DoubleExtended`]'s, correctly rounded to
//! nearest with ties to even as glibc and the x87 do by default. What is left
//! here is Redis's part: which strings `string2ld` accepts (a syntax check in
//! front of the crate's more lenient parser) and `ld2string`'s `%.17Lf`
//! formatting, which works on the exact binary value.
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
//! Only the C locale's `.` radix is understood; NaN payloads are not kept
//! (x87 makes `inf + -inf` the negative default NaN, so that prints `-nan`).

use std::fmt::Write;

use rustc_apfloat::ieee::X87DoubleExtended;
use rustc_apfloat::{Float, Round};

/// Redis copies the input into a buffer of this size, NUL included.
const MAX_INPUT_LEN: usize = 5120;
/// The `17` of Redis's `%.17Lf`, and ten to that power.
const FRACTION_DIGITS: usize = 17;
const FRACTION_SCALE: u128 = 100_000_000_000_000_000;
/// Exponent bias, and the mantissa's width less its integer bit.
const EXP_BIAS: i32 = 16383;
const MANT_FRACTION_BITS: i32 = 63;

/// An x87 extended-precision value: 64-bit mantissa, round-to-nearest-even.
#[derive(Clone, Copy, Debug)]
pub struct LongDouble(X87DoubleExtended);

/// Equality of encodings, so `-0 != 0` and a NaN equals itself.
impl PartialEq for LongDouble {
    fn eq(&self, other: &LongDouble) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl LongDouble {
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
        let sign = |v: X87DoubleExtended| LongDouble(if neg { -v } else { v });
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(sign(X87DoubleExtended::INFINITY));
        }
        // strtold reads as much as fits its grammar and string2ld wants all
        // of it read, so the whole body must fit. "0x" without a hex digit
        // is the number 0 followed by junk, which is rejected too.
        let (text, nonzero) = match body {
            [b'0', x, hex @ ..] if *x | 0x20 == b'x' => {
                let (len, nonzero) = mantissa(hex, u8::is_ascii_hexdigit)?;
                // The crate insists on a binary exponent, strtold does not.
                let suffix = if exponent(&hex[len..], b'p')? {
                    ""
                } else {
                    "p0"
                };
                (
                    format!("0x{}{suffix}", std::str::from_utf8(hex).ok()?),
                    nonzero,
                )
            }
            _ => {
                let (len, nonzero) = mantissa(body, u8::is_ascii_digit)?;
                exponent(&body[len..], b'e')?;
                (std::str::from_utf8(body).ok()?.to_string(), nonzero)
            }
        };
        let v = X87DoubleExtended::from_str_r(&text, Round::NearestTiesToEven)
            .ok()?
            .value;
        // string2ld's ERANGE rule: overflow to infinity, or a non-zero input
        // rounding to zero.
        if !v.is_finite() || (v.is_zero() && nonzero) {
            return None;
        }
        Some(sign(v))
    }

    /// Correctly rounded sum (round-to-nearest-even on the exact sum),
    /// overflow -> inf, with IEEE signed-zero and infinity rules.
    #[allow(clippy::should_implement_trait)] // the name is the agreed API
    pub fn add(self, other: LongDouble) -> LongDouble {
        let sum = self.0.add_r(other.0, Round::NearestTiesToEven).value;
        // The x87 answers an invalid operation with its negative default NaN.
        LongDouble(if sum.is_nan() {
            -X87DoubleExtended::NAN
        } else {
            sum
        })
    }

    pub fn is_finite(&self) -> bool {
        self.0.is_finite()
    }

    /// Redis's `ld2string(..., LD_STR_HUMAN)`: `%.17Lf` of the exact binary
    /// value (rounded half to even), trailing fraction zeros and then a bare
    /// `.` removed, and `-0` reported as `0`. Infinity and NaN print as glibc
    /// and Redis do: `inf`, `-inf`, `nan`, `-nan`.
    pub fn to_human_string(&self) -> String {
        let v = self.0;
        let neg = v.is_negative();
        if v.is_nan() {
            return if neg { "-nan" } else { "nan" }.to_string();
        }
        if v.is_infinite() {
            return if neg { "-inf" } else { "inf" }.to_string();
        }
        // The value is mant * 2^exp; subnormals (biased exponent 0) share
        // the smallest normal's scale.
        let bits = v.to_bits();
        let mant = bits as u64;
        let biased = ((bits >> 64) & 0x7fff) as i32;
        let exp = biased.max(1) - EXP_BIAS - MANT_FRACTION_BITS;
        let body = if mant == 0 {
            // glibc gives "-0.000…" for -0, which Redis turns into "0".
            "0".to_string()
        } else if exp >= 0 {
            // An integer: all 17 fraction digits are zeros and get stripped.
            shifted_decimal(mant, exp as u32)
        } else {
            fixed_fraction(mant, exp.unsigned_abs())
        };
        if body == "0" || !neg {
            body
        } else {
            format!("-{body}")
        }
    }
}

#[cfg(test)]
impl LongDouble {
    /// Sign, class and exact value (`mant * 2^exp`, mantissa normalised as
    /// the old implementation keeps it), for the differential test.
    pub(crate) fn key(&self) -> (bool, char, u64, i32) {
        let v = self.0;
        let neg = v.is_negative();
        if v.is_nan() {
            return (neg, 'n', 0, 0);
        }
        if v.is_infinite() {
            return (neg, 'i', 0, 0);
        }
        if v.is_zero() {
            return (neg, 'z', 0, 0);
        }
        let bits = v.to_bits();
        let biased = ((bits >> 64) & 0x7fff) as i32;
        (
            neg,
            'f',
            bits as u64,
            biased.max(1) - EXP_BIAS - MANT_FRACTION_BITS,
        )
    }
}

/// The longest `digits [. digits]` prefix of `s`, which must have a digit:
/// its length and whether any digit is non-zero.
fn mantissa(s: &[u8], is_digit: fn(&u8) -> bool) -> Option<(usize, bool)> {
    let (mut len, mut digits, mut nonzero, mut point) = (0, 0, false, false);
    for c in s {
        if is_digit(c) {
            digits += 1;
            nonzero |= *c != b'0';
        } else if *c == b'.' && !point {
            point = true;
        } else {
            break;
        }
        len += 1;
    }
    (digits > 0).then_some((len, nonzero))
}

/// What follows a mantissa: nothing (`Some(false)`) or a complete exponent
/// `marker[+-]digits` and nothing else (`Some(true)`). strtold would leave
/// an incomplete one unread, which string2ld rejects.
fn exponent(rest: &[u8], marker: u8) -> Option<bool> {
    let Some((&m, tail)) = rest.split_first() else {
        return Some(false);
    };
    if m | 0x20 != marker {
        return None;
    }
    let digits = match tail.first() {
        Some(b'+' | b'-') => &tail[1..],
        _ => tail,
    };
    (!digits.is_empty() && digits.iter().all(u8::is_ascii_digit)).then_some(true)
}

/// `mant * 2^shift` in decimal, for the integers of up to 16384 bits that a
/// long double can hold.
fn shifted_decimal(mant: u64, shift: u32) -> String {
    // Little-endian 32-bit limbs.
    let mut limbs = vec![0u32; (shift / 32) as usize];
    let top = u128::from(mant) << (shift % 32);
    limbs.extend([top as u32, (top >> 32) as u32, (top >> 64) as u32]);
    // Base 10^9 chunks, least significant first.
    let mut chunks = Vec::new();
    loop {
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
        if limbs.is_empty() {
            break;
        }
        let mut rem = 0u64;
        for limb in limbs.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        chunks.push(rem as u32);
    }
    let mut out = chunks.pop().unwrap_or(0).to_string();
    for chunk in chunks.iter().rev() {
        let _ = write!(out, "{chunk:09}");
    }
    out
}

/// `%.17Lf` of `mant * 2^-k` (k >= 1) without trailing fraction zeros: the
/// value times 10^17, rounded half to even, is exactly the digit string
/// printf writes, without its decimal point.
fn fixed_fraction(mant: u64, k: u32) -> String {
    // Below 2^121, so for k >= 128 the scaled value is under 2^-7 and
    // rounds to 0.
    let scaled = u128::from(mant) * FRACTION_SCALE;
    let q = if k >= 128 {
        0
    } else {
        let q = scaled >> k;
        let rem = scaled & ((1u128 << k) - 1);
        let half = 1u128 << (k - 1);
        if rem > half || (rem == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    let digits = format!("{q:0>width$}", width = FRACTION_DIGITS + 1);
    let (int, frac) = digits.split_at(digits.len() - FRACTION_DIGITS);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    }
}
