//! Fixtures captured from redis-server 7.0.15 (`PFADD`, then `GET`), property tests against
//! exact counts and between the two encodings.

use super::*;
use proptest::prelude::*;

/// The default `hll-sparse-max-bytes`.
const SPARSE_MAX: usize = 3000;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// FNV-1a, to compare a dense value with a fixture without storing its 12304 bytes.
fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
        (h ^ x as u64).wrapping_mul(0x100_0000_01b3)
    })
}

fn build(elements: impl IntoIterator<Item = String>) -> Vec<u8> {
    let mut h = new_sparse();
    for e in elements {
        add(&mut h, e.as_bytes(), SPARSE_MAX).unwrap();
    }
    invalidate(&mut h);
    h
}

/// Registers one per byte, whatever the encoding.
fn regs(h: &[u8]) -> Vec<u8> {
    let mut max = [0u8; REGISTERS];
    merge_into(&mut max, h).unwrap();
    max.to_vec()
}

#[test]
fn an_empty_hll_is_redis_s_bytes() {
    let mut h = new_sparse();
    invalidate(&mut h);
    assert_eq!(h, hex("48594c4c0100000000000000000000807fff"));
    assert_eq!(count(&h), Ok(0));
}

#[test]
fn small_adds_give_redis_s_sparse_bytes_and_cache() {
    let mut h = build(["a", "b", "c"].map(String::from));
    assert_eq!(
        h,
        hex("48594c4c01000000000000000000008060f38050b1844bfb80425a")
    );
    assert_eq!(cached(&h), None);
    let c = count(&h).unwrap();
    set_cache(&mut h, c);
    assert_eq!(
        h,
        hex("48594c4c01000000030000000000000060f38050b1844bfb80425a")
    );
    assert_eq!(cached(&h), Some(3));
}

#[test]
fn a_hundred_adds_give_redis_s_sparse_bytes() {
    let h = build((0..100).map(|i| format!("e{i}")));
    let want = "48594c4c01000000000000000000008036843c8040a9a40e88409084406c9c048840e28041358840d380411d8840898041168c419080098040e08040948041578440a280408384405d8440e1844199844081803c844047840780404e80408f840984405184268441258440d38042638040a280404b8c406f80420b8c41798041478041638040668440f98c0184218811804182844062803088407984228040de8440d3884045800a88420090118440c184018041138440848c1684228040a88440e180422a84410384168041178441658c414e802680058040598040ec882e88413c880380405b841b803f80409b802184412e88408f90407e80408480415f8033844079844193844058902e80406a840d8039801380409a882880408c";
    assert_eq!(h, hex(want));
    assert_eq!(count(&h), Ok(100));
}

#[test]
fn large_adds_match_redis_s_bytes_and_counts() {
    // (elements, length, encoding, FNV-1a of the value, PFCOUNT) as redis-server gave them.
    let cases = [
        (1_000, 1906, SPARSE, 0x5935_de02_3280_6824u64, 1008),
        (10_000, DENSE_SIZE, DENSE, 0x7378_cbab_5ab5_c44b, 9973),
        (100_000, DENSE_SIZE, DENSE, 0xafbf_1713_dc5b_a3c8, 100_853),
    ];
    for (n, len, enc, digest, card) in cases {
        let h = build((0..n).map(|i| format!("e{i}")));
        assert_eq!((h.len(), h[4], fnv(&h)), (len, enc, digest), "{n} elements");
        assert_eq!(count(&h), Ok(card), "{n} elements");
    }
}

#[test]
fn a_union_written_to_a_new_key_is_redis_s_sparse_bytes() {
    let mut max = [0u8; REGISTERS];
    merge_into(&mut max, &build(["a", "b", "c"].map(String::from))).unwrap();
    merge_into(&mut max, &build(["c", "d", "e"].map(String::from))).unwrap();
    let mut h = new_sparse();
    write_union(&mut h, &max, SPARSE_MAX);
    invalidate(&mut h);
    assert_eq!(
        h,
        hex("48594c4c0100000000000000000000805c7b8044768050b184498c80426d80425a")
    );
    assert_eq!(count_registers(&max), 5);
}

#[test]
fn the_estimate_is_within_three_standard_errors() {
    let sigma = 1.04 / (REGISTERS as f64).sqrt();
    let mut h = build(std::iter::empty());
    let mut n = 0u64;
    for target in [100u64, 1_000, 10_000, 100_000, 1_000_000] {
        while n < target {
            add(&mut h, format!("{n}:x").as_bytes(), SPARSE_MAX).unwrap();
            n += 1;
        }
        let c = count(&h).unwrap() as f64;
        let err = (c - n as f64).abs() / n as f64;
        assert!(err < 3.0 * sigma, "{n} elements estimated {c}");
    }
}

#[test]
fn a_vanishing_sum_estimates_2_pow_63_as_redis_replies_it() {
    // Every register at 63 (only a hand-made value has that): Redis replies i64::MIN.
    let mut h = b"HYLL".to_vec();
    h.resize(DENSE_SIZE, 0xff);
    h[4..16].fill(0);
    assert_eq!(count(&h), Ok(1 << 63));
}

#[test]
fn corrupt_sparse_bodies_are_detected() {
    let good = build(["a", "b", "c"].map(String::from));
    // One register too many, one too few, and a run past the end followed by more.
    let mut long = good.clone();
    long.push(0x00);
    let mut short = good.clone();
    short.pop();
    let mut max = [0u8; REGISTERS];
    for bad in [&long, &short] {
        assert_eq!(count(bad), Err(Corrupt));
        assert_eq!(merge_into(&mut max, bad), Err(Corrupt));
        assert_eq!(to_dense(&mut bad.clone()), Err(Corrupt));
    }
    // Adding to a body that ends early fails for registers past its end.
    let mut h = new_sparse();
    h.truncate(HDR_SIZE);
    h.extend_from_slice(&[0x40, 0x09]); // XZERO of 10 registers only
    assert_eq!(set_register(&mut h, 5000, 1, SPARSE_MAX), Err(Corrupt));
    assert_eq!(set_register(&mut h, 3, 1, SPARSE_MAX), Ok(true));
}

#[test]
fn the_header_check_is_redis_s() {
    let h = new_sparse();
    assert!(is_hll(&h));
    assert!(!is_hll(&h[..HDR_SIZE - 1]));
    let mut bad = h.clone();
    bad[0] = b'h';
    assert!(!is_hll(&bad));
    bad = h.clone();
    bad[4] = 2;
    assert!(!is_hll(&bad));
    bad = h.clone();
    bad[4] = DENSE;
    assert!(!is_hll(&bad));
    bad.resize(DENSE_SIZE, 0);
    assert!(is_hll(&bad));
}

#[test]
fn registers_pack_without_disturbing_neighbours() {
    let mut r = vec![0u8; DENSE_SIZE - HDR_SIZE];
    let want: Vec<u8> = (0..REGISTERS).map(|i| ((i * 37 + 11) % 64) as u8).collect();
    for (i, &v) in want.iter().enumerate() {
        dense::set(&mut r, i, v);
    }
    let got: Vec<u8> = (0..REGISTERS).map(|i| dense::get(&r, i)).collect();
    assert_eq!(got, want);
}

#[test]
fn murmur_hashes_the_tail_bytes_as_redis() {
    // Lengths 0 to 9 cover the empty, tail-only, whole-word and word-plus-tail cases; each
    // must differ from the others, and be stable.
    let hashes: Vec<u64> = (0..10)
        .map(|n| murmur64a(&b"abcdefghij"[..n], SEED))
        .collect();
    let mut sorted = hashes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 10);
    // `a`, `b` and `c` land where Redis's bytes for them put them (`Z:8436 v:1,1 Z:4274
    // v:2,1 Z:3068 v:1,1 Z:603`).
    let mut got = [pattern(b"a"), pattern(b"b"), pattern(b"c")];
    got.sort();
    assert_eq!(got, [(8436, 1), (12711, 2), (15780, 1)]);
    assert_eq!(
        decode(&build(["a", "b", "c"].map(String::from))),
        "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Sparse and dense HLLs fed the same elements hold the same registers and estimates,
    /// and converting the sparse one gives the dense one's registers.
    #[test]
    fn sparse_and_dense_agree(elements in proptest::collection::vec(any::<Vec<u8>>(), 0..400)) {
        let mut sparse = new_sparse();
        let mut dense = new_sparse();
        to_dense(&mut dense).unwrap();
        for e in &elements {
            let a = add(&mut sparse, e, SPARSE_MAX).unwrap();
            let b = add(&mut dense, e, SPARSE_MAX).unwrap();
            prop_assert_eq!(a, b);
        }
        prop_assert_eq!(regs(&sparse), regs(&dense));
        prop_assert_eq!(count(&sparse).unwrap(), count(&dense).unwrap());
        prop_assert_eq!(count(&sparse).unwrap(), count_registers(&regs(&dense).try_into().unwrap()));
        let mut converted = sparse.clone();
        to_dense(&mut converted).unwrap();
        prop_assert_eq!(&converted[HDR_SIZE..], &dense[HDR_SIZE..]);
    }

    /// A union rebuilt into a sparse value holds the union's registers.
    #[test]
    fn a_written_union_round_trips(
        a in proptest::collection::vec(any::<u32>(), 0..300),
        b in proptest::collection::vec(any::<u32>(), 0..300),
        limit in prop_oneof![Just(40usize), Just(300), Just(SPARSE_MAX)],
    ) {
        let ha = build(a.iter().map(|x| x.to_string()));
        let hb = build(b.iter().map(|x| x.to_string()));
        let mut max = [0u8; REGISTERS];
        merge_into(&mut max, &ha).unwrap();
        merge_into(&mut max, &hb).unwrap();
        let mut h = new_sparse();
        write_union(&mut h, &max, limit);
        prop_assert!(is_sparse(&h) || h.len() == DENSE_SIZE);
        prop_assert!(!is_sparse(&h) || h.len() <= limit.max(HDR_SIZE + 2));
        prop_assert_eq!(regs(&h), max.to_vec());
    }

    /// Random bytes after a sparse header never panic, whatever is done with them.
    #[test]
    fn corrupt_values_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200), ele in any::<Vec<u8>>()) {
        let mut h = new_sparse();
        h.truncate(HDR_SIZE);
        h.extend_from_slice(&body);
        let _ = count(&h);
        let _ = merge_into(&mut [0u8; REGISTERS], &h);
        let _ = decode(&h);
        let _ = add(&mut h.clone(), &ele, 60);
        for i in [0, 1, 63, 64, 65, 8000, REGISTERS - 1] {
            let _ = set_register(&mut h.clone(), i, 5, SPARSE_MAX);
            let _ = set_register(&mut h.clone(), i, 40, SPARSE_MAX);
        }
        let _ = to_dense(&mut h);
    }
}
