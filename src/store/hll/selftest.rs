//! `PFSELFTEST`: Redis's own check of the register packing and of the estimate's error,
//! with its failure texts.

use super::{add, count, dense, is_sparse, new_sparse, DENSE_SIZE, HDR_SIZE, REGISTERS};

/// Rounds of the register read/write test.
const REGISTER_CYCLES: usize = 1000;
/// Elements added in the error test (checked at 1, 10, 100, … of them).
const ELEMENTS: u64 = 10_000_000;

/// A small xorshift generator: the test only needs values that vary between runs.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Run the self test with random values from `seed`; the error text (`ERR TESTFAILED …`) on
/// failure. `sparse_max` is `hll-sparse-max-bytes`: small HLLs must stay sparse below half
/// of it.
pub fn selftest(seed: u64, sparse_max: usize) -> Result<(), String> {
    let mut rng = Rng(seed | 1);
    // 1: every register keeps what was written, without disturbing its neighbours.
    let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
    let mut bytes = vec![0u8; REGISTERS];
    for _ in 0..REGISTER_CYCLES {
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (rng.next() & 63) as u8;
            dense::set(&mut regs, i, *b);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let got = dense::get(&regs, i);
            if got != b {
                return Err(format!(
                    "ERR TESTFAILED Register {i} should be {b} but is {got}"
                ));
            }
        }
    }
    // 2: the estimate stays within 6 standard errors, dense and sparse agree, and a small
    // HLL is still sparse.
    let mut dense_hll = b"HYLL".to_vec();
    dense_hll.resize(DENSE_SIZE, 0);
    let mut hll = new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint = 1u64;
    let salt = rng.next();
    for j in 1..=ELEMENTS {
        let ele = (j ^ salt).to_le_bytes();
        // Neither can fail: both values were made here.
        let _ = add(&mut dense_hll, &ele, sparse_max);
        let _ = add(&mut hll, &ele, sparse_max);
        if j != checkpoint {
            continue;
        }
        if (j as usize) < sparse_max / 2 && !is_sparse(&hll) {
            return Err("ERR TESTFAILED sparse encoding not used".into());
        }
        let card = count(&dense_hll).unwrap_or(0);
        if count(&hll).unwrap_or(0) != card {
            return Err("ERR TESTFAILED dense/sparse disagree".into());
        }
        let abserr = checkpoint.abs_diff(card);
        // Cardinality 10 may well collide; Redis allows an error of 1 there.
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(format!(
                "ERR TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}
