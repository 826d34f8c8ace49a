//! Bit algorithms over byte strings, as Redis's bitmap commands see them: bit 0 is the most
//! significant bit of the first byte, bit 8 the most significant of the second, and so on
//! (so an aligned field reads as big endian). Bits past the end of a string read as 0.
//!
//! The scans and the bitwise operations go a 64-bit word at a time (`count_ones` per word
//! for `BITCOUNT`, four words compared per step while `BITPOS` skips bytes with nothing to
//! find, one `&`/`|`/`^` per word for `BITOP`), only the edges byte by byte, so they stay
//! memory-bound on a 512 MB string. The module knows
//! nothing of commands: ranges come in already resolved to inclusive bit positions.

/// The 64-bit word of an 8-byte chunk, in native byte order (for counting and bitwise
/// operations, where the order does not matter).
#[inline(always)]
fn word(chunk: &[u8]) -> u64 {
    u64::from_ne_bytes(chunk.try_into().expect("chunks of 8 bytes"))
}

/// The bit at `offset` (0 past the end).
pub fn get_bit(data: &[u8], offset: u64) -> bool {
    usize::try_from(offset >> 3)
        .ok()
        .and_then(|i| data.get(i))
        .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

/// Set the bit at `offset` (which `data` must cover) to `on`; returns its previous value.
pub fn set_bit(data: &mut [u8], offset: u64, on: bool) -> bool {
    let byte = &mut data[(offset >> 3) as usize];
    let mask = 0x80 >> (offset & 7);
    let old = *byte & mask != 0;
    if on {
        *byte |= mask;
    } else {
        *byte &= !mask;
    }
    old
}

/// The number of set bits in `data`.
pub fn popcount(data: &[u8]) -> u64 {
    let chunks = data.chunks_exact(8);
    let tail: u64 = chunks
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum();
    chunks.map(|c| word(c).count_ones() as u64).sum::<u64>() + tail
}

/// The bits of a byte that lie at or after bit `first & 7` of it.
fn from_mask(first: u64) -> u8 {
    0xFF >> (first & 7)
}

/// The bits of a byte that lie at or before bit `last & 7` of it.
fn to_mask(last: u64) -> u8 {
    0xFF << (7 - (last & 7))
}

/// The number of set bits among bits `first..=last`, which lie within `data`.
pub fn count_range(data: &[u8], first: u64, last: u64) -> u64 {
    debug_assert!(first <= last && last >> 3 < data.len() as u64);
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    // Count whole bytes, then take away the bits of the edge bytes outside the range.
    let outside =
        (data[fb] & !from_mask(first)).count_ones() + (data[lb] & !to_mask(last)).count_ones();
    popcount(&data[fb..=lb]) - outside as u64
}

/// The position of the first bit equal to `bit` among bits `first..=last` (which lie within
/// `data`), or None.
pub fn find_bit(data: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
    debug_assert!(first <= last && last >> 3 < data.len() as u64);
    // Look for a 1 in the bytes as they are (bit = 1) or inverted (bit = 0).
    let flip: u8 = if bit { 0 } else { 0xFF };
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let in_byte = |i: usize, mask: u8| {
        let b = (data[i] ^ flip) & mask;
        (b != 0).then(|| i as u64 * 8 + b.leading_zeros() as u64)
    };
    if fb == lb {
        return in_byte(fb, from_mask(first) & to_mask(last));
    }
    if let Some(p) = in_byte(fb, from_mask(first)) {
        return Some(p);
    }
    // The whole bytes between the edges: skip those with nothing to find, words at a time.
    match first_not(&data[fb + 1..lb], flip) {
        Some(i) => in_byte(fb + 1 + i, 0xFF),
        None => in_byte(lb, to_mask(last)),
    }
}

/// The index of the first byte of `data` that is not `skip`, checking 32 bytes (four words)
/// per step.
fn first_not(data: &[u8], skip: u8) -> Option<usize> {
    let skip_word = u64::from_ne_bytes([skip; 8]);
    let blocks = data.chunks_exact(32);
    let tail = data.len() - blocks.remainder().len();
    for (n, b) in blocks.enumerate() {
        let diff = (b.chunks_exact(8)).fold(0, |d, c| d | (word(c) ^ skip_word));
        if diff != 0 {
            return b.iter().position(|&x| x != skip).map(|i| n * 32 + i);
        }
    }
    data[tail..]
        .iter()
        .position(|&x| x != skip)
        .map(|i| tail + i)
}

/// A `BITOP` operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// Start a `BITOP` result of `len` bytes (the longest source's length) from its first
/// source: `src` zero-padded, inverted for `NOT`.
pub fn seed(op: BitOp, src: &[u8], len: usize) -> Vec<u8> {
    let mut acc = Vec::with_capacity(len);
    acc.extend_from_slice(&src[..src.len().min(len)]);
    acc.resize(len, 0);
    if op == BitOp::Not {
        let mut words = acc.chunks_exact_mut(8);
        for w in &mut words {
            let v = !word(w);
            w.copy_from_slice(&v.to_ne_bytes());
        }
        for b in words.into_remainder() {
            *b = !*b;
        }
    }
    acc
}

/// `acc[i] = f(acc[i], src[i])` over the common length, a word at a time.
#[inline(always)]
fn zip_words(acc: &mut [u8], src: &[u8], f: impl Fn(u64, u64) -> u64) {
    let mut words = acc.chunks_exact_mut(8);
    let mut srcw = src.chunks_exact(8);
    for (a, b) in (&mut words).zip(&mut srcw) {
        let v = f(word(a), word(b));
        a.copy_from_slice(&v.to_ne_bytes());
    }
    for (a, b) in words.into_remainder().iter_mut().zip(srcw.remainder()) {
        *a = f(*a as u64, *b as u64) as u8;
    }
}

/// Fold a further source into a `BITOP` result: `acc = acc op src`, `src` read as
/// zero-padded to `acc`'s length (so `AND` clears what lies past its end).
pub fn fold(op: BitOp, acc: &mut [u8], src: &[u8]) {
    let n = src.len().min(acc.len());
    let (head, rest) = acc.split_at_mut(n);
    let src = &src[..n];
    match op {
        BitOp::And => {
            zip_words(head, src, |a, b| a & b);
            rest.fill(0);
        }
        BitOp::Or => zip_words(head, src, |a, b| a | b),
        BitOp::Xor => zip_words(head, src, |a, b| a ^ b),
        BitOp::Not => {}
    }
}

/// `BITOP op` of `sources` (missing keys are empty slices): as long as the longest.
pub fn bitop(op: BitOp, sources: &[&[u8]]) -> Vec<u8> {
    let len = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    let Some((first, rest)) = sources.split_first() else {
        return Vec::new();
    };
    let mut acc = seed(op, first, len);
    for s in rest {
        fold(op, &mut acc, s);
    }
    acc
}

// ---- BITFIELD integers ------------------------------------------------------------------

/// The bytes a field of up to 64 bits can span (it may start at any bit of its first byte).
const FIELD_SPAN: usize = 9;

/// The `bits`-wide (1..=64) unsigned field at bit `offset`, bits past the end read as 0.
pub fn get_field(data: &[u8], offset: u64, bits: u32) -> u64 {
    debug_assert!((1..=64).contains(&bits));
    let start = usize::try_from(offset >> 3).unwrap_or(usize::MAX);
    let mut window: u128 = 0;
    for i in 0..FIELD_SPAN {
        let b = start.checked_add(i).and_then(|j| data.get(j)).copied();
        window = (window << 8) | b.unwrap_or(0) as u128;
    }
    let shift = (FIELD_SPAN as u32 * 8) - (offset & 7) as u32 - bits;
    (window >> shift) as u64 & mask(bits)
}

/// Write the low `bits` (1..=64) of `value` as the field at bit `offset`; `data` must cover
/// the field.
pub fn set_field(data: &mut [u8], offset: u64, bits: u32, value: u64) {
    debug_assert!((1..=64).contains(&bits));
    let start = (offset >> 3) as usize;
    let end = (start + FIELD_SPAN).min(data.len());
    let mut window: u128 = 0;
    for i in 0..FIELD_SPAN {
        window = (window << 8) | data.get(start + i).copied().unwrap_or(0) as u128;
    }
    let shift = (FIELD_SPAN as u32 * 8) - (offset & 7) as u32 - bits;
    let m = (mask(bits) as u128) << shift;
    window = (window & !m) | (((value & mask(bits)) as u128) << shift);
    for (i, b) in data[start..end].iter_mut().enumerate() {
        *b = (window >> ((FIELD_SPAN - 1 - i) * 8)) as u8;
    }
}

/// The low `bits` set.
fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    }
}

/// A `bits`-wide two's complement field as an i64.
pub fn sign_extend(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// What `BITFIELD … OVERFLOW` does with a result that does not fit the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Keep the low bits (modular arithmetic).
    Wrap,
    /// Clamp to the field's minimum or maximum.
    Sat,
    /// Leave the field as it is and answer null.
    Fail,
}

/// `value + incr` in an unsigned field of `bits` (1..=63), under `ow`; None when it does
/// not fit and `ow` is `Fail`. A SET is `incr` 0 with the value to store: a negative value
/// arrives as its two's complement and so overflows upwards, as in Redis.
pub fn add_unsigned(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max = mask(bits);
    let wrapped = value.wrapping_add(incr as u64) & max;
    let up = value > max || (incr > 0 && incr > max.wrapping_sub(value) as i64);
    let down = !up && incr < 0 && incr < value.wrapping_neg() as i64;
    match (up, down, ow) {
        (false, false, _) => Some(value.wrapping_add(incr as u64)),
        (_, _, Overflow::Fail) => None,
        (_, _, Overflow::Wrap) => Some(wrapped),
        (true, _, Overflow::Sat) => Some(max),
        (_, true, Overflow::Sat) => Some(0),
    }
}

/// `value + incr` in a signed field of `bits` (1..=64), under `ow`; None when it does not
/// fit and `ow` is `Fail`. The range tests are Redis's, including their wrapping
/// intermediate differences: a SET of a value far below an i8's range saturates to the
/// maximum, as Redis 7.0 does.
pub fn add_signed(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max = (mask(bits) >> 1) as i64;
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let narrow = bits != 64;
    let up =
        value > max || (narrow && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr);
    let down = !up
        && (value < min
            || (narrow && incr < min_incr)
            || (value < 0 && incr < 0 && incr < min_incr));
    match (up, down, ow) {
        (false, false, _) => Some(value.wrapping_add(incr)),
        (_, _, Overflow::Fail) => None,
        (_, _, Overflow::Wrap) => {
            let sum = (value as u64).wrapping_add(incr as u64);
            Some(sign_extend(sum & mask(bits), bits))
        }
        (true, _, Overflow::Sat) => Some(max),
        (_, true, Overflow::Sat) => Some(min),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Naive models: one bit at a time.
    fn bit(data: &[u8], i: u64) -> bool {
        data.get((i / 8) as usize)
            .is_some_and(|b| (b >> (7 - i % 8)) & 1 == 1)
    }

    fn naive_bitop(op: BitOp, srcs: &[&[u8]]) -> Vec<u8> {
        let len = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
        let mut out = vec![0u8; len];
        for i in 0..len as u64 * 8 {
            let mut v = bit(srcs[0], i);
            if op == BitOp::Not {
                v = !v;
            }
            for s in &srcs[1..] {
                let b = bit(s, i);
                match op {
                    BitOp::And => v &= b,
                    BitOp::Or => v |= b,
                    BitOp::Xor => v ^= b,
                    BitOp::Not => {}
                }
            }
            if v {
                out[(i / 8) as usize] |= 0x80 >> (i % 8);
            }
        }
        out
    }

    /// Bytes biased towards runs of 0x00 and 0xFF, so word skipping is exercised.
    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![Just(0u8), Just(0xFF), any::<u8>(), Just(0x80), Just(1)],
            0..max,
        )
    }

    fn op() -> impl Strategy<Value = BitOp> {
        prop_oneof![
            Just(BitOp::And),
            Just(BitOp::Or),
            Just(BitOp::Xor),
            Just(BitOp::Not)
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn counts_match_bit_by_bit(data in bytes(80), a in 0u64..700, b in 0u64..700) {
            prop_assert_eq!(popcount(&data), (0..data.len() as u64 * 8).filter(|&i| bit(&data, i)).count() as u64);
            let n = data.len() as u64 * 8;
            if n > 0 {
                let (first, last) = ((a.min(b)) % n, (a.max(b)) % n);
                let (first, last) = (first.min(last), first.max(last));
                let want = (first..=last).filter(|&i| bit(&data, i)).count() as u64;
                prop_assert_eq!(count_range(&data, first, last), want);
            }
        }

        #[test]
        fn find_matches_bit_by_bit(data in bytes(80), a in 0u64..700, b in 0u64..700, on in any::<bool>()) {
            let n = data.len() as u64 * 8;
            if n > 0 {
                let (x, y) = (a % n, b % n);
                let (first, last) = (x.min(y), x.max(y));
                let want = (first..=last).find(|&i| bit(&data, i) == on);
                prop_assert_eq!(find_bit(&data, on, first, last), want);
            }
        }

        #[test]
        fn bitop_matches_bit_by_bit(op in op(), srcs in prop::collection::vec(bytes(70), 1..5)) {
            let srcs: Vec<&[u8]> = srcs.iter().map(|s| &s[..]).collect();
            let srcs = if op == BitOp::Not { &srcs[..1] } else { &srcs[..] };
            prop_assert_eq!(bitop(op, srcs), naive_bitop(op, srcs));
        }

        #[test]
        fn fields_match_bit_by_bit(data in bytes(20), offset in 0u64..200, bits in 1u32..=64, value in any::<u64>()) {
            let want = (0..bits as u64).fold(0u64, |v, i| (v << 1) | bit(&data, offset + i) as u64);
            prop_assert_eq!(get_field(&data, offset, bits), want);
            let mut grown = data.clone();
            let need = ((offset + bits as u64 - 1) / 8 + 1) as usize;
            if grown.len() < need {
                grown.resize(need, 0);
            }
            let before = grown.clone();
            set_field(&mut grown, offset, bits, value);
            for i in 0..grown.len() as u64 * 8 {
                let expect = if (offset..offset + bits as u64).contains(&i) {
                    (value >> (bits as u64 - 1 - (i - offset))) & 1 == 1
                } else {
                    bit(&before, i)
                };
                prop_assert_eq!(bit(&grown, i), expect, "bit {}", i);
            }
            prop_assert_eq!(get_field(&grown, offset, bits), value & mask(bits));
        }

        #[test]
        fn in_range_arithmetic_is_exact(bits in 1u32..=64, v in any::<i64>(), incr in any::<i64>()) {
            // Model: i128 arithmetic, then the overflow policy.
            let smax = (mask(bits) >> 1) as i128;
            let smin = -smax - 1;
            let sv = sign_extend(v as u64 & mask(bits), bits);
            let sum = sv as i128 + incr as i128;
            let fits = (smin..=smax).contains(&sum);
            prop_assert_eq!(add_signed(sv, incr, bits, Overflow::Fail).is_some(), fits);
            let sat = sum.clamp(smin, smax) as i64;
            prop_assert_eq!(add_signed(sv, incr, bits, Overflow::Sat), Some(sat));
            let wrap = sign_extend((sum as u64) & mask(bits), bits);
            prop_assert_eq!(add_signed(sv, incr, bits, Overflow::Wrap), Some(wrap));
            if bits < 64 {
                let umax = mask(bits) as i128;
                let uv = v as u64 & mask(bits);
                let sum = uv as i128 + incr as i128;
                let fits = (0..=umax).contains(&sum);
                prop_assert_eq!(add_unsigned(uv, incr, bits, Overflow::Fail).is_some(), fits);
                prop_assert_eq!(add_unsigned(uv, incr, bits, Overflow::Sat), Some(sum.clamp(0, umax) as u64));
                prop_assert_eq!(add_unsigned(uv, incr, bits, Overflow::Wrap), Some(sum as u64 & mask(bits)));
            }
        }
    }

    #[test]
    fn set_of_a_value_far_below_a_narrow_signed_range_saturates_up_as_in_redis() {
        assert_eq!(add_signed(i64::MIN + 5, 0, 8, Overflow::Sat), Some(127));
        assert_eq!(add_signed(-1000, 0, 8, Overflow::Sat), Some(-128));
        assert_eq!(add_unsigned(-1i64 as u64, 0, 8, Overflow::Sat), Some(255));
        assert_eq!(add_unsigned(-1i64 as u64, 0, 8, Overflow::Wrap), Some(255));
    }

    #[test]
    fn bits_past_the_end_read_as_zero() {
        assert!(!get_bit(b"", u64::MAX));
        assert!(get_bit(b"\x01", 7));
        assert_eq!(get_field(b"\xff", u64::MAX - 70, 64), 0);
        assert_eq!(get_field(b"\xff\xff", 4, 16), 0xFFF0);
    }
}
