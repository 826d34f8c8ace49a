//! Stream entry IDs: `<ms>-<seq>`, two unsigned 64-bit halves ordered as one 128-bit number.

use std::fmt;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

/// How an ID argument was written: a full `ms-seq` (or `-`/`+`), or `ms-*` (XADD only: the
/// sequence is to be generated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqGiven {
    Yes,
    Auto,
}

/// An ID argument is longer than Redis's parse buffer allows (127 bytes): refused.
const MAX_ID_ARG: usize = 127;

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// The next ID, None past the maximum.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID, None below 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// The ID as a 16-byte big-endian key (the order Redis's radix tree sorts by).
    pub fn key(self) -> [u8; 16] {
        let mut k = [0; 16];
        k[..8].copy_from_slice(&self.ms.to_be_bytes());
        k[8..].copy_from_slice(&self.seq.to_be_bytes());
        k
    }

    pub fn to_bytes(self) -> Vec<u8> {
        self.to_string().into_bytes()
    }

    /// Parse an ID argument as Redis's `streamGenericParseIDOrReply`: `-` and `+` (unless
    /// `strict`), `ms` alone (the sequence is `missing_seq`), `ms-seq`, and, when `seq_star`,
    /// `ms-*`. The halves are read like `strtoull` (see [`parse_u64`]). None: invalid.
    pub fn parse(
        a: &[u8],
        missing_seq: u64,
        strict: bool,
        seq_star: bool,
    ) -> Option<(StreamId, SeqGiven)> {
        if a.len() > MAX_ID_ARG {
            return None;
        }
        match a {
            b"-" if !strict => return Some((StreamId::MIN, SeqGiven::Yes)),
            b"+" if !strict => return Some((StreamId::MAX, SeqGiven::Yes)),
            b"-" | b"+" => return None,
            _ => {}
        }
        // Redis works on a C string: a NUL ends it.
        let a = match a.iter().position(|&b| b == 0) {
            Some(i) => &a[..i],
            None => a,
        };
        match a.iter().position(|&b| b == b'-') {
            None => Some((StreamId::new(parse_u64(a)?, missing_seq), SeqGiven::Yes)),
            Some(i) => {
                let ms = parse_u64(&a[..i])?;
                let rest = &a[i + 1..];
                if seq_star && rest == b"*" {
                    return Some((StreamId::new(ms, 0), SeqGiven::Auto));
                }
                Some((StreamId::new(ms, parse_u64(rest)?), SeqGiven::Yes))
            }
        }
    }

    /// A strict ID (no `-`/`+`, no `*`), missing sequence 0: what most commands take.
    pub fn parse_strict(a: &[u8]) -> Option<StreamId> {
        Self::parse(a, 0, true, false).map(|(id, _)| id)
    }
}

/// Redis's `string2ull`: a canonical non-negative 64-bit integer, or else what C's `strtoull`
/// accepts in full (leading spaces, a sign — a minus negates, wrapping —, leading zeros, no
/// overflow). A canonical negative number is refused.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if let Some(v) = crate::num::parse_i64(s) {
        return (v >= 0).then_some(v as u64);
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let digits = &s[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_redis_does() {
        let p = |s: &str| StreamId::parse(s.as_bytes(), 0, false, false).map(|x| x.0);
        assert_eq!(p("5"), Some(StreamId::new(5, 0)));
        assert_eq!(p("5-3"), Some(StreamId::new(5, 3)));
        assert_eq!(p("-"), Some(StreamId::MIN));
        assert_eq!(p("+"), Some(StreamId::MAX));
        assert_eq!(p("007-1"), Some(StreamId::new(7, 1)));
        assert_eq!(p("-1"), None);
        assert_eq!(p("1-"), None);
        assert_eq!(p("a"), None);
        assert_eq!(p("18446744073709551616"), None);
        assert_eq!(
            p("18446744073709551615-18446744073709551615"),
            Some(StreamId::MAX)
        );
        assert_eq!(StreamId::parse_strict(b"-"), None);
        assert_eq!(
            StreamId::parse(b"5-*", 0, true, true),
            Some((StreamId::new(5, 0), SeqGiven::Auto))
        );
        assert_eq!(StreamId::parse(b"5-*", 0, true, false), None);
    }

    #[test]
    fn incr_and_decr_carry_between_halves() {
        assert_eq!(StreamId::new(1, u64::MAX).incr(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(StreamId::new(2, 0).decr(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.decr(), None);
    }
}
