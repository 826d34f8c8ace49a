//! The dense encoding: 2^14 registers of 6 bits packed least significant bit first, so
//! register `i` starts at bit `6i % 8` of byte `6i / 8` and may spill into the next byte:
//!
//! ```text
//! byte:   0          1          2
//!       |11000000| |22221111| |33333322|   (bit 7 on the left)
//! ```
//!
//! The last register ends exactly at the last byte, so the byte "after" it, which Redis reads
//! from the string's terminating zero, never holds any of its bits.

/// Register `i` of `regs` (the bytes after the header).
pub(super) fn get(regs: &[u8], i: usize) -> u8 {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let b0 = regs[byte] as u32;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & 63) as u8
}

/// Set register `i` to `v` (0..=63).
pub(super) fn set(regs: &mut [u8], i: usize, v: u8) {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let v = v as u32;
    regs[byte] = (regs[byte] as u32 & !(63 << fb) | v << fb) as u8;
    if let Some(b) = regs.get_mut(byte + 1) {
        *b = (*b as u32 & !(63 >> (8 - fb)) | v >> (8 - fb)) as u8;
    }
}

/// Raise register `i` to `count` if it is lower; true when it changed.
pub(super) fn raise(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > get(regs, i) {
        set(regs, i, count);
        true
    } else {
        false
    }
}

/// Raise `max[i]` to register `i`, for every register: four registers in every three bytes.
pub(super) fn merge_into(max: &mut [u8], regs: &[u8]) {
    for (m, c) in max.chunks_exact_mut(4).zip(regs.chunks_exact(3)) {
        let r = unpack(c);
        for k in 0..4 {
            m[k] = m[k].max(r[k]);
        }
    }
}

/// The four registers packed in three bytes.
fn unpack(c: &[u8]) -> [u8; 4] {
    let (b0, b1, b2) = (c[0], c[1], c[2]);
    [
        b0 & 63,
        (b0 >> 6 | b1 << 2) & 63,
        (b1 >> 4 | b2 << 4) & 63,
        b2 >> 2,
    ]
}

/// Count the registers by value into `histo`: four registers in every three bytes.
pub(super) fn histogram(regs: &[u8], histo: &mut [u64; 64]) {
    for c in regs.chunks_exact(3) {
        for r in unpack(c) {
            histo[r as usize] += 1;
        }
    }
}
