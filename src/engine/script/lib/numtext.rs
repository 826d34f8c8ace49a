//! Numbers as C handles them where Redis's libraries rely on it: `strtod` (glibc's forms,
//! hex included), Lua 5.1's string-to-number rule, `%.<n>g` printing, and double-to-integer
//! casts as x86-64 performs them (out-of-range values included).

/// A double converted to a 64-bit integer as x86-64 does (`cvttsd2si`): truncated, and
/// `i64::MIN` when out of range or NaN.
pub fn c_f64_to_i64(n: f64) -> i64 {
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&n) {
        n as i64
    } else {
        i64::MIN
    }
}

/// A double converted to an unsigned 64-bit integer as x86-64 code from C does.
pub fn c_f64_to_u64(n: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if n >= TWO63 {
        (c_f64_to_i64(n - TWO63) as u64) ^ (1 << 63)
    } else {
        c_f64_to_i64(n) as u64
    }
}

/// A double converted to a 32-bit int as x86-64 does: truncated, `i32::MIN` out of range.
pub fn c_f64_to_i32(n: f64) -> i32 {
    if n > -2_147_483_649.0 && n < 2_147_483_648.0 {
        n as i32
    } else {
        i32::MIN
    }
}

/// Lua 5.1's string-to-number conversion (`luaO_str2d`): `strtod` (hex included), a
/// trailing `x` retried as a hex integer, then only white space may follow. The string is
/// read as C reads it, up to its first NUL.
pub fn str_to_number(s: &[u8]) -> Option<f64> {
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    let (mut v, mut end) = strtod(s)?;
    if matches!(s.get(end), Some(b'x' | b'X')) {
        (v, end) = strtoul_hex(s);
    }
    if s[end..].iter().all(|&c| is_space(c)) {
        Some(v)
    } else {
        None
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `strtoul(s, &end, 16)`: white space, a sign, an optional `0x`, hex digits.
fn strtoul_hex(s: &[u8]) -> (f64, usize) {
    let mut i = s.iter().take_while(|&&c| is_space(c)).count();
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    if matches!(s.get(i), Some(b'0')) && matches!(s.get(i + 1), Some(b'x' | b'X')) {
        if s.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit()) {
            i += 2;
        } else {
            return (0.0, i + 1);
        }
    }
    let start = i;
    let mut v: u64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).and_then(|&c| (c as char).to_digit(16)) {
        match v.checked_mul(16).and_then(|x| x.checked_add(d as u64)) {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return (0.0, 0);
    }
    if overflow {
        v = u64::MAX;
    } else if neg {
        v = v.wrapping_neg();
    }
    (v as f64, i)
}

/// C's `strtod` on the start of `s`: the value and the bytes it used, or None when no
/// number starts there. Accepts what glibc accepts: leading white space, a sign, decimal
/// and hexadecimal (`0x1.8p3`) forms, `inf`/`infinity` and `nan`/`nan(chars)`.
pub fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let ws = s.iter().take_while(|&&c| is_space(c)).count();
    let mut i = ws;
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = |v: f64| if neg { -v } else { v };
    let rest = &s[i..];
    let starts = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    if starts(b"infinity") {
        return Some((sign(f64::INFINITY), i + 8));
    }
    if starts(b"inf") {
        return Some((sign(f64::INFINITY), i + 3));
    }
    if starts(b"nan") {
        let mut end = i + 3;
        if s.get(end) == Some(&b'(') {
            let body = s[end + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            if s.get(end + 1 + body) == Some(&b')') {
                end += body + 2;
            }
        }
        return Some((sign(f64::NAN), end));
    }
    if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((v, used)) = hex_float(&rest[2..]) {
            return Some((sign(v), i + 2 + used));
        }
        // "0x" without hex digits: the "0" alone.
        return Some((sign(0.0), i + 1));
    }
    let digits = |from: usize| s[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(i);
    let mut end = i + int;
    let mut frac = 0;
    if s.get(end) == Some(&b'.') {
        frac = digits(end + 1);
        if int + frac > 0 {
            end += 1 + frac;
        }
    }
    if int + frac == 0 {
        return None;
    }
    if matches!(s.get(end), Some(b'e' | b'E')) {
        let mut j = end + 1;
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let e = digits(j);
        if e > 0 {
            end = j + e;
        }
    }
    let text = std::str::from_utf8(&s[ws..end]).ok()?;
    Some((text.parse::<f64>().ok()?, end))
}

/// The hexadecimal significand and optional binary exponent after `0x`: the value and the
/// bytes used, None without a hex digit. Rounded to nearest, ties to even.
fn hex_float(s: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut any = false;
    let mut seen_point = false;
    loop {
        match s.get(i) {
            Some(&c) if c.is_ascii_hexdigit() => {
                any = true;
                let d = (c as char).to_digit(16).unwrap_or(0) as u64;
                if mant >> 56 == 0 {
                    mant = mant << 4 | d;
                    if seen_point {
                        exp -= 4;
                    }
                } else {
                    sticky |= d != 0;
                    if !seen_point {
                        exp += 4;
                    }
                }
            }
            Some(b'.') if !seen_point => seen_point = true,
            _ => break,
        }
        i += 1;
    }
    if !any {
        return None;
    }
    if matches!(s.get(i), Some(b'p' | b'P')) {
        let mut j = i + 1;
        let neg = match s.get(j) {
            Some(b'-') => {
                j += 1;
                true
            }
            Some(b'+') => {
                j += 1;
                false
            }
            _ => false,
        };
        let start = j;
        let mut e: i64 = 0;
        while let Some(c) = s.get(j).filter(|c| c.is_ascii_digit()) {
            e = (e * 10 + (c - b'0') as i64).min(1 << 20);
            j += 1;
        }
        if j > start {
            exp += if neg { -e } else { e };
            i = j;
        }
    }
    if mant == 0 {
        return Some((0.0, i));
    }
    // Normalise to 64 bits, then keep 53 (fewer for subnormals), rounding half to even.
    let lz = mant.leading_zeros() as i64;
    mant <<= lz;
    exp -= lz;
    // value = mant * 2^exp, mant in [2^63, 2^64): drop the bits a double cannot keep
    // (more of them for subnormals).
    let top = exp + 63;
    let drop: i64 = if top >= -1022 { 11 } else { 11 + (-1022 - top) };
    if drop >= 65 {
        return Some((0.0, i));
    }
    let (kept, half, rest) = if drop == 64 {
        (0u64, true, mant << 1 != 0)
    } else {
        let rem = mant << (64 - drop);
        (mant >> drop, rem >> 63 == 1, rem << 1 != 0)
    };
    let mut kept = kept;
    if half && (rest || sticky || kept & 1 == 1) {
        kept += 1;
    }
    Some((scale(kept as f64, exp + drop), i))
}

/// `v * 2^e` in two exact steps, so that tiny and huge results come out right.
fn scale(v: f64, e: i64) -> f64 {
    let e = e.clamp(-2400, 2400) as i32;
    let half = e / 2;
    v * 2f64.powi(half) * 2f64.powi(e - half)
}

/// C's `%.<prec>g` (glibc): `prec` significant digits, trailing zeros dropped, exponent
/// form when the exponent is below -4 or not below `prec`; `inf`, `nan` with their sign.
pub fn fmt_g(v: f64, prec: usize) -> String {
    let prec = prec.max(1);
    if v.is_nan() {
        return if v.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{:.*e}", prec - 1, v);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let x: i64 = exp.parse().unwrap_or(0);
    if x < -4 || x >= prec as i64 {
        let mant = trim_fraction(mant);
        let sign = if x < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", x.abs())
    } else {
        let decimals = (prec as i64 - 1 - x) as usize;
        trim_fraction(&format!("{:.*}", decimals, v)).to_string()
    }
}

fn trim_fraction(s: &str) -> &str {
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
    fn percent_g_matches_c() {
        assert_eq!(fmt_g(0.1, 14), "0.1");
        assert_eq!(fmt_g(1.0 / 3.0, 14), "0.33333333333333");
        assert_eq!(fmt_g(1e15, 14), "1e+15");
        assert_eq!(fmt_g(123456789012345.0, 14), "1.2345678901234e+14");
        assert_eq!(fmt_g(100.0, 14), "100");
        assert_eq!(fmt_g(0.0001, 14), "0.0001");
        assert_eq!(fmt_g(0.00001, 14), "1e-05");
        assert_eq!(fmt_g(-2.5, 1), "-2");
        assert_eq!(fmt_g(f64::NAN, 14), "nan");
        assert_eq!(fmt_g(-f64::NAN, 14), "-nan");
        assert_eq!(fmt_g(f64::NEG_INFINITY, 14), "-inf");
        assert_eq!(fmt_g(-0.0, 14), "-0");
        assert_eq!(fmt_g(1e300, 14), "1e+300");
    }

    #[test]
    fn strtod_takes_the_longest_number_prefix() {
        assert_eq!(strtod(b"12abc"), Some((12.0, 2)));
        assert_eq!(strtod(b"  -1.5e3,"), Some((-1500.0, 8)));
        assert_eq!(strtod(b"1e"), Some((1.0, 1)));
        assert_eq!(strtod(b"1.e+"), Some((1.0, 2)));
        assert_eq!(strtod(b".5"), Some((0.5, 2)));
        assert_eq!(strtod(b"."), None);
        assert_eq!(strtod(b"-"), None);
        assert_eq!(strtod(b"0x10]"), Some((16.0, 4)));
        assert_eq!(strtod(b"0x"), Some((0.0, 1)));
        assert_eq!(strtod(b"0x1.8p1"), Some((3.0, 7)));
        assert_eq!(strtod(b"0x1p-1074"), Some((f64::from_bits(1), 9)));
        // Halfway between two doubles: to even, as the decimal parser does.
        assert_eq!(
            strtod(b"0x1fffffffffffff8"),
            Some(("144115188075855864".parse().unwrap(), 17))
        );
        assert_eq!(strtod(b"0x1.fffffffffffff8p0"), Some((2.0, 20)));
        assert_eq!(strtod(b"Infinity"), Some((f64::INFINITY, 8)));
        assert_eq!(strtod(b"-inf"), Some((f64::NEG_INFINITY, 4)));
        assert!(strtod(b"nan(123)").is_some_and(|(v, n)| v.is_nan() && n == 8));
        assert_eq!(strtod(b"1e400").map(|x| x.0), Some(f64::INFINITY));
    }

    #[test]
    fn lua_string_numbers() {
        assert_eq!(str_to_number(b" 10 "), Some(10.0));
        assert_eq!(str_to_number(b"0x1F"), Some(31.0));
        assert_eq!(str_to_number(b"5\0junk"), Some(5.0));
        assert_eq!(str_to_number(b"5x"), None);
        assert_eq!(str_to_number(b"abc"), None);
        assert_eq!(str_to_number(b""), None);
    }

    #[test]
    fn c_conversions_follow_x86() {
        assert_eq!(c_f64_to_i64(1e300), i64::MIN);
        assert_eq!(c_f64_to_i64(f64::NAN), i64::MIN);
        assert_eq!(c_f64_to_i64(-3.9), -3);
        assert_eq!(c_f64_to_u64(1e20), 0);
        assert_eq!(c_f64_to_u64(f64::NAN), 1 << 63);
        assert_eq!(c_f64_to_u64(-1.0), u64::MAX);
        assert_eq!(c_f64_to_u64(9_223_372_036_854_777_856.0), (1 << 63) + 2048);
        assert_eq!(c_f64_to_i32(3e9), i32::MIN);
    }
}
