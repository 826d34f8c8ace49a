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
        (None, "0x1", Reply("1")),
        (None, "0xA", Reply("10")),
        (None, "0x.8p1", Reply("1")),
        (None, "0x1.p1", Reply("2")),
        (None, "-0x1.8p-1", Reply("-0.75")),
        (None, "1.e2", Reply("100")),
        (None, "0x1p-16445", Reply("0")),
        (Some("0x1p-16445"), "-0x1p-16445", Reply("0")),
        (Some("0x1p16383"), "0x1p16383", NanOrInf),
        (Some("1e308"), "1e308", Digest(309, 0x6d0d_b09b_5520_5fb7, "1999999999999999999933717593116912913211")),
        (None, "+inf", NanOrInf),
        (None, "infinit", NotFloat),
        (None, "1\n", NotFloat),
        (None, "1\0", NotFloat),
        (None, "\0", NotFloat),
        (None, "0.000000000000000015", Reply("0.00000000000000002")),
        (None, "0.000000000000000035", Reply("0.00000000000000004")),
        // An exact tie at the 17th fraction digit rounds to even.
        (None, "2910383.045673370361328125", Reply("2910383.04567337036132812")),
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
        // Biased exponent 1, explicit integer bit set.
        assert_eq!(sum.0.to_bits(), 1 << 64 | 1 << 63);
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

    /// `%.17Lf` without trailing zeros, from Rust's own exact formatting of
    /// an `f64` (which rounds half to even, like glibc).
    fn human_f64(x: f64) -> String {
        let s = format!("{x:.17}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".to_string()
        } else {
            s.to_string()
        }
    }

    /// An `f64`'s exact value as a hex float.
    fn hex_f64(x: f64) -> String {
        let bits = x.to_bits();
        let sign = if bits >> 63 == 1 { "-" } else { "" };
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1 << 52) - 1);
        let (m, e) = if biased == 0 {
            (frac, -1074)
        } else {
            (frac | 1 << 52, biased - 1075)
        };
        format!("{sign}0x{m:x}p{e}")
    }

    #[test]
    fn exact_ties_round_to_even() {
        // 5^17 / 2^18: the 18th fraction digit is a 5 with nothing after it.
        let x = 762_939_453_125.0 / 262_144.0;
        let ld = LongDouble::parse(hex_f64(x).as_bytes()).unwrap();
        assert_eq!(ld.to_human_string(), "2910383.04567337036132812");
        assert_eq!(human_f64(x), "2910383.04567337036132812");
    }

    proptest::proptest! {
        /// Every finite `f64` is a long double; printed from its exact hex
        /// form it must read as Rust prints the same value.
        #[test]
        fn f64_values_print_like_rust(bits in proptest::num::u64::ANY) {
            let x = f64::from_bits(bits);
            proptest::prop_assume!(x.is_finite());
            let ld = LongDouble::parse(hex_f64(x).as_bytes()).unwrap();
            proptest::prop_assert!(ld.is_finite());
            proptest::prop_assert_eq!(ld.to_human_string(), human_f64(x));
        }

        /// Short dyadic decimals (i / 2^j, written out exactly, plain or with
        /// an exponent) parse exactly and add exactly in both formats, so
        /// INCRBYFLOAT must give the f64 sum printed the same way.
        #[test]
        fn short_decimal_sums_match_f64(
            i in -(1i64 << 40)..(1i64 << 40),
            j in 0i32..=12,
            k in -(1i64 << 40)..(1i64 << 40),
            l in 0i32..=12,
            sci in proptest::bool::ANY,
        ) {
            let x = i as f64 / 2f64.powi(j);
            let y = k as f64 / 2f64.powi(l);
            let text = |v: f64| if sci { format!("{v:.30e}") } else { format!("{v:.12}") };
            let sum = incrbyfloat(Some(&text(x)), &text(y));
            proptest::prop_assert_eq!(sum, Ok(human_f64(x + y)), "{} + {}", text(x), text(y));
        }
    }
}
