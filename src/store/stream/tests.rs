//! The log against a naive model (a `BTreeMap` of IDs to entries): ranges both ways, deletes
//! and trims, with small nodes so entries cross node boundaries.

use super::*;
use proptest::prelude::*;

type Model = BTreeMap<StreamId, Vec<(Vec<u8>, Vec<u8>)>>;

#[derive(Clone, Debug)]
enum Op {
    Add {
        gap_ms: u64,
        seq: u64,
        fields: u8,
    },
    Del(usize),
    Range {
        a: usize,
        b: usize,
        rev: bool,
        count: usize,
    },
    TrimLen {
        max: u64,
        approx: bool,
    },
    TrimId {
        at: usize,
        approx: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u64..3, 0u64..3, 0u8..3).prop_map(|(gap_ms, seq, fields)| Op::Add { gap_ms, seq, fields }),
        2 => (0usize..64).prop_map(Op::Del),
        3 => (0usize..64, 0usize..64, any::<bool>(), 0usize..6)
            .prop_map(|(a, b, rev, count)| Op::Range { a, b, rev, count }),
        1 => (0u64..40, any::<bool>()).prop_map(|(max, approx)| Op::TrimLen { max, approx }),
        1 => (0usize..64, any::<bool>()).prop_map(|(at, approx)| Op::TrimId { at, approx }),
    ]
}

fn entry_pairs(e: &EntryRef) -> Vec<(Vec<u8>, Vec<u8>)> {
    e.pairs().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()
}

/// An ID near the model's keys (so ranges hit and miss entries).
fn pick(model: &Model, last: StreamId, i: usize) -> StreamId {
    let ids: Vec<StreamId> = model.keys().copied().collect();
    if ids.is_empty() || i % 5 == 4 {
        return StreamId::new(last.ms.saturating_sub(1) + (i as u64 % 3), i as u64 % 2);
    }
    ids[i % ids.len()]
}

proptest! {
    #[test]
    fn log_matches_a_btreemap_model(ops in proptest::collection::vec(op(), 1..120), node in 1usize..5) {
        let mut log = Log::default();
        let mut model: Model = BTreeMap::new();
        let mut n = 0u32;
        for op in ops {
            match op {
                Op::Add { gap_ms, seq, fields } => {
                    n += 1;
                    let value = n.to_string().into_bytes();
                    let names: [&[u8]; 3] = [b"a", b"b", b"c"];
                    let pairs: Vec<(&[u8], &[u8])> = names[..=fields as usize]
                        .iter()
                        .map(|f| (*f, &value[..]))
                        .collect();
                    let want = StreamId::new(log.last_id.ms + gap_ms, seq);
                    let r = log.append(&pairs, Some((want, SeqGiven::Yes)), 0, 0, node);
                    if want > log.last_id || r.is_ok() {
                        prop_assert_eq!(r, Ok(want));
                        model.insert(want, pairs.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect());
                    } else {
                        prop_assert_eq!(r, Err(AddError::NotGreater));
                    }
                }
                Op::Del(i) => {
                    let id = pick(&model, log.last_id, i);
                    let gone = log.delete(id);
                    prop_assert_eq!(gone, model.remove(&id).is_some());
                    log.finish_delete(true);
                }
                Op::Range { a, b, rev, count } => {
                    let (a, b) = (pick(&model, log.last_id, a), pick(&model, log.last_id, b));
                    let got: Vec<_> = log
                        .range(a, b, rev)
                        .take(if count == 0 { usize::MAX } else { count })
                        .map(|e| (e.id, entry_pairs(&e)))
                        .collect();
                    let mut want: Vec<_> = if a <= b {
                        model.range(a..=b).map(|(k, v)| (*k, v.clone())).collect()
                    } else {
                        Vec::new()
                    };
                    if rev {
                        want.reverse();
                    }
                    want.truncate(if count == 0 { usize::MAX } else { count });
                    prop_assert_eq!(got, want);
                }
                Op::TrimLen { max, approx } => {
                    let before = log.length;
                    let gone = log.trim(&TrimArgs { trim: Trim::MaxLen(max), approx, limit: 0 });
                    prop_assert_eq!(before - gone, log.length);
                    if !approx {
                        prop_assert_eq!(log.length, before.min(max));
                    } else {
                        prop_assert!(log.length >= before.min(max));
                    }
                    while model.len() as u64 > log.length {
                        let k = *model.keys().next().unwrap();
                        model.remove(&k);
                    }
                }
                Op::TrimId { at, approx } => {
                    let min = pick(&model, log.last_id, at);
                    let gone = log.trim(&TrimArgs { trim: Trim::MinId(min), approx, limit: 0 });
                    let below = model.range(..min).count() as u64;
                    if approx {
                        prop_assert!(gone <= below);
                    } else {
                        prop_assert_eq!(gone, below);
                    }
                    for _ in 0..gone {
                        let k = *model.keys().next().unwrap();
                        model.remove(&k);
                    }
                }
            }
            prop_assert_eq!(log.length, model.len() as u64);
            prop_assert_eq!(log.first_id, model.keys().next().copied().unwrap_or(StreamId::MIN));
            prop_assert_eq!(log.check(), Ok(()));
            prop_assert_eq!(log.last_valid_id(), model.keys().next_back().copied());
            let recount: usize = log.nodes.values().map(|n| n.mem() + NODE_COST).sum();
            prop_assert_eq!(log.nodes_mem, recount);
        }
    }
}

#[test]
fn approximate_trim_removes_whole_nodes_only() {
    let mut log = Log::default();
    for i in 1..=1000u64 {
        log.append(
            &[(b"x", b"1")],
            Some((StreamId::new(i, 0), SeqGiven::Yes)),
            0,
            4096,
            100,
        )
        .unwrap();
    }
    let gone = log.trim(&TrimArgs {
        trim: Trim::MaxLen(555),
        approx: true,
        limit: 10_000,
    });
    assert_eq!((gone, log.length), (400, 600));
    assert_eq!(log.first_id, StreamId::new(401, 0));
}

#[test]
fn radix_node_count_follows_the_compressed_tree() {
    let mut log = Log::default();
    log.append(
        &[(b"x", b"1")],
        Some((StreamId::new(1, 0), SeqGiven::Yes)),
        0,
        4096,
        1,
    )
    .unwrap();
    assert_eq!(log.rax_nodes(), 2);
}
