//! HyperLogLog values, in Redis 7.0's exact representation, so the bytes `GET` returns (and
//! `SET` accepts) move freely between Redis and ferrokv.
//!
//! An HLL is an ordinary string value:
//!
//! ```text
//! +------+-----+-------+-------------------------+--------------------------+
//! | HYLL | enc | 0 0 0 | cached cardinality (LE) | registers (dense/sparse) |
//! +------+-----+-------+-------------------------+--------------------------+
//!   4 B    1 B   3 B     8 B                        12288 B, or sparse opcodes
//! ```
//!
//! `enc` is 0 (dense) or 1 (sparse). The most significant bit of the cardinality's last byte
//! marks the cached value as stale: every change sets it, `PFCOUNT` recomputes and clears it.
//!
//! There are 2^14 registers of 6 bits. An element is hashed with MurmurHash64A (seed
//! `0xadc83b19`, as Redis); the low 14 bits pick the register, and the run of zeros above
//! them (plus one) is the value the register keeps the maximum of. The dense encoding packs
//! the registers least significant bit first (see [`dense`]); the sparse one run-length
//! encodes them with three opcodes (see [`sparse`]) and is promoted to dense when a register
//! exceeds 32 or the value would outgrow `hll-sparse-max-bytes`.
//!
//! The cardinality is Otmar Ertl's improved estimator over the register histogram
//! ("New cardinality estimation algorithms for HyperLogLog sketches", arXiv:1702.01284), as
//! Redis 7.0 computes it, to the same bit.

mod dense;
mod selftest;
mod sparse;

pub use selftest::selftest;
pub use sparse::decode;

/// Index bits: 2^14 registers, a standard error of 1.04/sqrt(16384) = 0.81%.
pub const P: u32 = 14;
/// The hash bits left for the run of zeros.
const Q: usize = 64 - P as usize;
pub const REGISTERS: usize = 1 << P;
/// Bits per dense register: runs up to 63.
const BITS: usize = 6;
/// The header: magic, encoding, three unused bytes, the cached cardinality.
pub const HDR_SIZE: usize = 16;
/// The whole length of a dense HLL (a dense value of any other length is not an HLL).
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;
const MAGIC: &[u8; 4] = b"HYLL";
/// Redis's seed for MurmurHash64A.
const SEED: u64 = 0xadc83b19;
/// 0.5 / ln 2, the estimator's constant for an infinite number of registers.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
/// Offset of the byte holding the stale-cache flag (its most significant bit).
const CARD_LAST: usize = 15;

/// The value is an HLL whose registers do not decode (Redis's `INVALIDOBJ`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// Whether `data` passes Redis's check for an HLL: magic, a known encoding, and a dense one
/// of exactly the dense size. A sparse body is only checked when it is decoded.
pub fn is_hll(data: &[u8]) -> bool {
    data.len() >= HDR_SIZE
        && &data[..4] == MAGIC
        && data[4] <= SPARSE
        && (data[4] != DENSE || data.len() == DENSE_SIZE)
}

pub fn is_sparse(hll: &[u8]) -> bool {
    hll[4] == SPARSE
}

/// A new, empty HLL: sparse, all registers zero (one XZERO opcode), cache valid at 0.
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR_SIZE + 2);
    v.extend_from_slice(MAGIC);
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    sparse::push_zeros(&mut v, REGISTERS);
    v
}

/// MurmurHash2, 64-bit version (MurmurHash64A), reading words little-endian as Redis's
/// endian-neutral variant does.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register `ele` falls in and the value it offers: the length of the `0…01` pattern
/// above the index bits (1 to Q+1).
pub fn pattern(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    // The bit past the hash's top makes the run end by Q+1 at the latest.
    let rest = (hash >> P) | (1 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Add `ele`: true when a register grew. A sparse HLL may be promoted to dense on the way
/// (`sparse_max` is `hll-sparse-max-bytes`). The cache is not touched for a dense HLL (the
/// caller invalidates it once, after the last element), as in Redis.
pub fn add(hll: &mut Vec<u8>, ele: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = pattern(ele);
    set_register(hll, index, count, sparse_max)
}

/// Raise register `index` to `count` if it is lower; true when it changed.
pub fn set_register(
    hll: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<bool, Corrupt> {
    if is_sparse(hll) {
        sparse::set(hll, index, count, sparse_max)
    } else {
        Ok(dense::raise(&mut hll[HDR_SIZE..], index, count))
    }
}

/// Convert a sparse HLL to dense in place (the header, cache included, is kept); false when
/// it was dense already. A sparse body that does not cover exactly every register is corrupt
/// and the value is left as it was.
pub fn to_dense(hll: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if !is_sparse(hll) {
        return Ok(false);
    }
    let mut d = Vec::with_capacity(DENSE_SIZE);
    d.extend_from_slice(&hll[..HDR_SIZE]);
    d[4] = DENSE;
    d.resize(DENSE_SIZE, 0);
    let regs = &mut d[HDR_SIZE..];
    sparse::for_each_run(&hll[HDR_SIZE..], |at, value, len| {
        for i in at..at + len {
            dense::set(regs, i, value);
        }
    })?;
    *hll = d;
    Ok(true)
}

/// The cached cardinality, unless it is marked stale.
pub fn cached(hll: &[u8]) -> Option<u64> {
    if hll[CARD_LAST] & 0x80 != 0 {
        return None;
    }
    Some(u64::from_le_bytes(hll[8..16].try_into().ok()?))
}

pub fn set_cache(hll: &mut [u8], card: u64) {
    hll[8..16].copy_from_slice(&card.to_le_bytes());
}

pub fn invalidate(hll: &mut [u8]) {
    hll[CARD_LAST] |= 0x80;
}

/// The estimated cardinality of one HLL (Corrupt for a sparse body that does not cover
/// exactly every register).
pub fn count(hll: &[u8]) -> Result<u64, Corrupt> {
    let mut histo = [0u64; 64];
    if is_sparse(hll) {
        sparse::histogram(&hll[HDR_SIZE..], &mut histo)?;
    } else {
        dense::histogram(&hll[HDR_SIZE..], &mut histo);
    }
    Ok(estimate(&histo))
}

/// Raise `max[i]` to every register `i` of `hll` (a union).
pub fn merge_into(max: &mut [u8; REGISTERS], hll: &[u8]) -> Result<(), Corrupt> {
    if is_sparse(hll) {
        sparse::for_each_run(&hll[HDR_SIZE..], |at, value, len| {
            for m in &mut max[at..at + len] {
                *m = (*m).max(value);
            }
        })
    } else {
        dense::merge_into(max, &hll[HDR_SIZE..]);
        Ok(())
    }
}

/// The estimated cardinality of registers held one per byte (a union being computed).
pub fn count_registers(max: &[u8; REGISTERS]) -> u64 {
    let mut histo = [0u64; 64];
    for &r in max {
        histo[(r & 63) as usize] += 1;
    }
    estimate(&histo)
}

/// Every register, one per byte (`PFDEBUG GETREG`; the HLL must be dense).
pub fn registers(hll: &[u8]) -> Vec<u8> {
    let regs = &hll[HDR_SIZE..];
    (0..REGISTERS).map(|i| dense::get(regs, i)).collect()
}

/// Ertl's estimator over the register histogram, with Redis's arithmetic: doubles, then
/// `llroundl`. A sum that vanishes (only hand-made registers at 51 and above) gives an
/// infinite or out-of-range estimate, which `llroundl` turns into `i64::MIN`, so the result
/// is then 2^63, as Redis replies it.
fn estimate(histo: &[u64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histo[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    let e = (ALPHA_INF * m * m / z).round();
    // 2^63: the first value past i64's range (NaN and the infinities fail the test too).
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if (-LIMIT..LIMIT).contains(&e) {
        e as i64 as u64
    } else {
        1 << 63
    }
}

/// Ertl's sigma(x) = x + sum_k x^(2^k) 2^(k-1), to convergence.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

/// Ertl's tau(x) = (1 - x - sum_k (1 - x^(2^-k))^2 2^-k) / 3, to convergence.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        // Redis writes pow(1 - x, 2), which compilers turn into this product.
        z -= (1.0 - x) * (1.0 - x) * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// Rebuild `hll` from a union `max`, as `PFMERGE` writes its destination: register by
/// register in index order through the encoding's own set (so a sparse destination has
/// Redis's exact opcodes, and is promoted where Redis promotes it). Errors from a sparse set
/// are ignored, as Redis ignores them (the destination was checked while merging).
pub fn write_union(hll: &mut Vec<u8>, max: &[u8; REGISTERS], sparse_max: usize) {
    for (i, &m) in max.iter().enumerate() {
        if m != 0 {
            let _ = set_register(hll, i, m, sparse_max);
        }
    }
}

#[cfg(test)]
mod tests;
