//! Sorted sets: score by member, and members ordered by (score, member). Small ones are
//! `listpack` in Redis, large ones `skiplist`; the encoding converts one way, at Redis's
//! thresholds.

use super::hash_key;
use super::key::Key;
use super::memory::alloc_size;
use super::table::{node_overhead, Table};
use super::value::EncodingLimits;
use std::collections::BTreeSet;

/// Bytes per member besides the member's two copies: its score-table node and its share of
/// a B-tree node (key header, score).
const PER_MEMBER: usize = node_overhead::<f64>() + (std::mem::size_of::<Vec<u8>>() + 8);

/// An `f64` with a total order (scores are never NaN).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score(pub f64);
impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Score {
    /// Numeric order, with -0 equal to 0 (as Redis compares scores); never NaN.
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0
            .partial_cmp(&o.0)
            .unwrap_or(std::cmp::Ordering::Equal)
    }
}

#[derive(Clone, Debug, Default)]
pub struct ZSet {
    /// Score by member: the store's table, whose cursor gives ZSCAN SCAN's guarantee.
    scores: Table<f64>,
    order: BTreeSet<(Score, Vec<u8>)>,
    bytes: usize,
    listpack: bool,
}

impl PartialEq for ZSet {
    fn eq(&self, o: &ZSet) -> bool {
        self.order == o.order
    }
}

fn member_mem(m: &[u8]) -> usize {
    Key::heap_size(m.len()) + alloc_size(m.len()) + PER_MEMBER
}

impl ZSet {
    /// An empty sorted set whose first member will be `first`: `skiplist` at once when the
    /// listpack limits cannot hold it (as Redis decides at creation).
    pub fn new(first: &[u8], l: &EncodingLimits) -> ZSet {
        ZSet {
            listpack: l.zset_entries > 0 && first.len() <= l.zset_value,
            ..ZSet::default()
        }
    }
    pub fn len(&self) -> usize {
        self.scores.len()
    }
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }
    pub fn score(&self, m: &[u8]) -> Option<f64> {
        self.scores.get(hash_key(m), m).copied()
    }
    /// Set the score of `m`; true when the member is new.
    pub fn insert(&mut self, m: &[u8], score: f64, l: &EncodingLimits) -> bool {
        let h = hash_key(m);
        let exists = self.scores.get(h, m).is_some();
        // As Redis: convert before inserting the member that would not fit.
        if self.listpack
            && (m.len() > l.zset_value || (!exists && self.scores.len() + 1 > l.zset_entries))
        {
            self.listpack = false;
        }
        // A listpack stores -0 as the integer 0 (Redis writes the score as text, which then
        // reads as an integer); the skiplist keeps the double.
        let score = if self.listpack && score == 0.0 {
            0.0
        } else {
            score
        };
        match self.scores.get_mut(h, m) {
            Some(old) => {
                let was = *old;
                *old = score;
                let key = (Score(was), m.to_vec());
                self.order.remove(&key);
                self.order.insert((Score(score), key.1));
                false
            }
            None => {
                self.bytes += member_mem(m);
                self.scores.insert_new(h, Key::new(m), score);
                self.order.insert((Score(score), m.to_vec()));
                true
            }
        }
    }
    pub fn remove(&mut self, m: &[u8]) -> Option<f64> {
        let (_, s) = self.scores.remove(hash_key(m), m)?;
        self.order.remove(&(Score(s), m.to_vec()));
        self.bytes -= member_mem(m);
        Some(s)
    }
    /// The 0-based rank of `m` in (score, member) order.
    pub fn rank(&self, m: &[u8]) -> Option<usize> {
        let s = self.score(m)?;
        Some(self.order.range(..(Score(s), m.to_vec())).count())
    }

    /// How many members, in order, satisfy `below` (true for a prefix of the order, then
    /// false): the position where they end.
    pub fn partition_point(&self, mut below: impl FnMut(f64, &[u8]) -> bool) -> usize {
        self.order.iter().take_while(|(s, m)| below(s.0, m)).count()
    }

    /// The members at positions [lo, hi), ascending, or descending with `rev`.
    pub fn range(
        &self,
        lo: usize,
        hi: usize,
        rev: bool,
    ) -> Box<dyn Iterator<Item = (f64, &[u8])> + '_> {
        let it = self.order.iter().skip(lo).take(hi.saturating_sub(lo));
        let it = it.map(|(s, m)| (s.0, &m[..]));
        if rev {
            Box::new(it.rev())
        } else {
            Box::new(it)
        }
    }

    /// Remove the members at positions [lo, hi); how many went.
    pub fn remove_span(&mut self, lo: usize, hi: usize) -> usize {
        let gone: Vec<Vec<u8>> = self.range(lo, hi, false).map(|(_, m)| m.to_vec()).collect();
        for m in &gone {
            self.remove(m);
        }
        gone.len()
    }

    /// Members with a score from `lo` up, in order (callers stop at their upper bound).
    pub fn from_score(&self, lo: f64) -> impl DoubleEndedIterator<Item = (f64, &Vec<u8>)> {
        self.order
            .range((Score(lo), Vec::new())..)
            .map(|(s, m)| (s.0, m))
    }

    /// Visit the members of the table bucket at `cursor` (all of them while `listpack`, as
    /// Redis replies to ZSCAN of a listpack at once); the next cursor, 0 at the end.
    pub fn scan_step<'a>(&'a self, cursor: u64, mut f: impl FnMut(&'a [u8], f64)) -> u64 {
        if self.listpack {
            self.order.iter().for_each(|(s, m)| f(m, s.0));
            return 0;
        }
        self.scores.scan_step(cursor, |m, s| f(m, *s))
    }

    /// A uniformly random (member, score); `rand` yields random numbers.
    pub fn random(&self, rand: impl FnMut() -> u64) -> Option<(&[u8], f64)> {
        self.scores.fair_random(rand).map(|(m, s)| (&m[..], *s))
    }

    /// Members in (score, member) order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (f64, &Vec<u8>)> {
        self.order.iter().map(|(s, m)| (s.0, m))
    }
    pub fn mem(&self) -> usize {
        self.bytes
    }
    pub fn encoding(&self) -> &'static str {
        if self.listpack {
            "listpack"
        } else {
            "skiplist"
        }
    }
    pub fn recount(&self) -> usize {
        self.scores.iter().map(|(m, _)| member_mem(m)).sum()
    }
    pub fn counted(&self) -> usize {
        self.bytes
    }
}
