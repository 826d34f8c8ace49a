//! Number parsing and formatting with Redis's rules, shared by the protocol writer, the store
//! and the commands. Imports nothing of ours.

pub mod longdouble;

/// Parse an integer like Redis's `string2ll`: canonical decimal only (no `+`, no leading
/// zeros, no spaces), within `i64`.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    if b == b"0" {
        return Some(0);
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = (c - b'0') as i64;
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    Some(v)
}

/// Parse a double like Redis's `string2d` (strtod, whole input, no leading space, not NaN),
/// which also refuses what strtod reports out of range: an overflow to ±inf (`1e400`; `inf`
/// itself is fine) and an underflow to zero (`1e-400`; a subnormal result is kept).
pub fn parse_f64(b: &[u8]) -> Option<f64> {
    let v = strtod_whole(b)?;
    let overflow = v.is_infinite() && !b.iter().any(|c| c.eq_ignore_ascii_case(&b'i'));
    let underflow = v == 0.0 && nonzero_mantissa(b);
    (!overflow && !underflow).then_some(v)
}

/// Whether the digits before the exponent of a decimal or `0x` number are not all zero.
fn nonzero_mantissa(b: &[u8]) -> bool {
    let b = b.strip_prefix(b"-").or(b.strip_prefix(b"+")).unwrap_or(b);
    let (digits, exp) = match b.get(..2) {
        Some(p) if p.eq_ignore_ascii_case(b"0x") => (&b[2..], b'p'),
        _ => (b, b'e'),
    };
    digits
        .iter()
        .take_while(|c| c.to_ascii_lowercase() != exp)
        .any(|c| c.is_ascii_hexdigit() && *c != b'0')
}

/// C's `strtod` on `b` read as a C string (up to its first NUL, as Redis's C code reads an
/// argument), which must be used up: the value, and whether strtod reported it out of range
/// (`ERANGE`: an overflow, or an underflow to zero or a subnormal). So "" is 0, leading
/// spaces are skipped, trailing ones are not. glibc's own `strtod` decides, in the C locale
/// Rust programs run in, so every form it reads (hex, `infinity`, `nan(…)`) reads the same.
pub fn c_strtod(b: &[u8]) -> Option<(f64, bool)> {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    // Short values (score bounds, sort weights) are copied to the stack, not allocated.
    let mut short = [0u8; 64];
    let long;
    let text: *const std::ffi::c_char = if end < short.len() {
        short[..end].copy_from_slice(&b[..end]);
        short.as_ptr().cast()
    } else {
        long = std::ffi::CString::new(&b[..end]).expect("cut at the first NUL");
        long.as_ptr()
    };
    let mut stop: *mut std::ffi::c_char = std::ptr::null_mut();
    // SAFETY: `text` is a NUL-terminated string that outlives the call (`short` ends in a NUL
    // past `end`), `stop` points into it; errno is this thread's.
    let (v, used_up, erange) = unsafe {
        *libc::__errno_location() = 0;
        let v = libc::strtod(text, &mut stop);
        (v, *stop == 0, *libc::__errno_location() == libc::ERANGE)
    };
    used_up.then_some((v, erange))
}

/// strtod over the whole input (no leading space, not NaN), out-of-range values as strtod
/// returns them (±inf, 0): how Redis reads score ranges and timeouts, which use `strtod` or
/// `strtold` without looking at `ERANGE`.
pub fn strtod_whole(b: &[u8]) -> Option<f64> {
    if b.is_empty() || b[0].is_ascii_whitespace() {
        return None;
    }
    let s = std::str::from_utf8(b).ok()?;
    let (neg, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let v = if lower == "inf" || lower == "infinity" {
        f64::INFINITY
    } else if lower.starts_with("nan") {
        return None;
    } else if let Some(hex) = lower.strip_prefix("0x") {
        parse_hex_float(hex)?
    } else if body.starts_with(['+', '-']) {
        return None;
    } else {
        body.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// The hexadecimal form strtod accepts after `0x`: hex digits with an optional point, then an
/// optional binary exponent `p[+-]digits`.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = match s.split_once('p') {
        Some((m, e)) => (m, Some(e)),
        None => (s, None),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars().chain(frac.chars()) {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut e: i64 = -4 * frac.len() as i64;
    if let Some(x) = exp {
        let digits = x.strip_prefix(['+', '-']).unwrap_or(x);
        if digits.is_empty() || !digits.bytes().all(|d| d.is_ascii_digit()) {
            return None;
        }
        let n: i64 = digits.parse().unwrap_or(i64::MAX / 8).min(100_000);
        e += if x.starts_with('-') { -n } else { n };
    }
    Some(v * 2f64.powi(e.clamp(-100_000, 100_000) as i32))
}

/// A double formatted as C's `%.17g`, which Redis 7.0 uses for double replies.
pub fn fmt_double(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v.is_nan() {
        // glibc prints the sign of a NaN (0/0 on x86-64 is a negative one).
        return if v.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Integral values below 2^53 print as `%.17g` prints them, without the scientific
    // round trip (scores are usually integers).
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        return (v as i64).to_string();
    }
    let sci = format!("{:.16e}", v);
    let (mant, exp) = sci.split_once('e').unwrap();
    let exp: i32 = exp.parse().unwrap();
    if !(-4..17).contains(&exp) {
        let mant = trim_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (16 - exp).max(0) as usize;
        trim_zeros(&format!("{:.*}", decimals, v)).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_out_of_range_are_refused_like_string2d() {
        assert_eq!(parse_f64(b"1e400"), None);
        assert_eq!(parse_f64(b"-1e400"), None);
        assert_eq!(parse_f64(b"1e-400"), None);
        assert_eq!(parse_f64(b"0x1p-2000"), None);
        assert_eq!(parse_f64(b"0x1p5000"), None);
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"0e-999"), Some(0.0));
        assert_eq!(parse_f64(b"0x0p9"), Some(0.0));
        assert!(parse_f64(b"1e-310").is_some_and(|v| v > 0.0));
        assert_eq!(strtod_whole(b"1e400"), Some(f64::INFINITY));
        assert_eq!(strtod_whole(b"1e-400"), Some(0.0));
    }

    #[test]
    fn c_strtod_reads_a_c_string() {
        assert_eq!(c_strtod(b""), Some((0.0, false)));
        assert_eq!(c_strtod(b" 1"), Some((1.0, false)));
        assert_eq!(c_strtod(b"1 "), None);
        assert_eq!(c_strtod(b"  "), None);
        assert_eq!(c_strtod(b"1\0x"), Some((1.0, false)));
        assert_eq!(c_strtod(b"0x10"), Some((16.0, false)));
        assert_eq!(c_strtod(b"1e400"), Some((f64::INFINITY, true)));
        assert_eq!(c_strtod(b"1e-310").map(|r| r.1), Some(true));
        assert!(c_strtod(b"nan").is_some_and(|r| r.0.is_nan()));
    }

    #[test]
    fn doubles_parse_like_strtod() {
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"0x1p3"), Some(8.0));
        assert_eq!(parse_f64(b"-0x1.8p1"), Some(-3.0));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        for bad in [&b"0x"[..], b"0xg", b"--1", b" 1", b"1 ", b"nan", b"1e", b""] {
            assert_eq!(parse_f64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn doubles_format_like_percent_17g() {
        assert_eq!(fmt_double(1.5), "1.5");
        assert_eq!(fmt_double(0.1), "0.10000000000000001");
        assert_eq!(fmt_double(1e20), "1e+20");
        assert_eq!(fmt_double(123456.0), "123456");
        assert_eq!(fmt_double(-42.0), "-42");
        assert_eq!(fmt_double(9007199254740991.0), "9007199254740991");
        assert_eq!(fmt_double(9007199254740992.0), "9007199254740992");
        assert_eq!(fmt_double(1e17), "1e+17");
        assert_eq!(fmt_double(1e-5), "1.0000000000000001e-05");
        assert_eq!(fmt_double(f64::INFINITY), "inf");
    }
}
