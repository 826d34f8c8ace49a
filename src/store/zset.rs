//! Sorted sets: score by member, and members ordered by (score, member). Small ones are
//! `listpack` in Redis, large ones `skiplist`; the encoding converts one way, at Redis's
//! thresholds.

use super::memory::alloc_size;
use super::value::EncodingLimits;
use std::collections::{BTreeSet, HashMap};

/// Bytes per member besides the member's two copies: its score-table slot (header, score,
/// control byte) and its share of a B-tree node (key header, score).
const PER_MEMBER: usize =
    (std::mem::size_of::<Vec<u8>>() + 8 + 1) + (std::mem::size_of::<Vec<u8>>() + 8);

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
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

#[derive(Clone, Debug, Default)]
pub struct ZSet {
    scores: HashMap<Vec<u8>, f64, ahash::RandomState>,
    order: BTreeSet<(Score, Vec<u8>)>,
    bytes: usize,
    listpack: bool,
}

impl PartialEq for ZSet {
    fn eq(&self, o: &ZSet) -> bool {
        self.scores == o.scores
    }
}

fn member_mem(m: &[u8]) -> usize {
    2 * alloc_size(m.len()) + PER_MEMBER
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
        self.scores.get(m).copied()
    }
    /// Set the score of `m`; true when the member is new.
    pub fn insert(&mut self, m: &[u8], score: f64, l: &EncodingLimits) -> bool {
        let new = match self.scores.get_mut(m) {
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
                self.scores.insert(m.to_vec(), score);
                self.order.insert((Score(score), m.to_vec()));
                true
            }
        };
        if self.listpack && (m.len() > l.zset_value || self.scores.len() > l.zset_entries) {
            self.listpack = false;
        }
        new
    }
    pub fn remove(&mut self, m: &[u8]) -> Option<f64> {
        let (k, s) = self.scores.remove_entry(m)?;
        self.order.remove(&(Score(s), k));
        self.bytes -= member_mem(m);
        Some(s)
    }
    /// The 0-based rank of `m` in (score, member) order.
    pub fn rank(&self, m: &[u8]) -> Option<usize> {
        let s = self.score(m)?;
        Some(self.order.range(..(Score(s), m.to_vec())).count())
    }

    /// Members with a score from `lo` up, in order (callers stop at their upper bound).
    pub fn from_score(&self, lo: f64) -> impl DoubleEndedIterator<Item = (f64, &Vec<u8>)> {
        self.order
            .range((Score(lo), Vec::new())..)
            .map(|(s, m)| (s.0, m))
    }

    /// Members in (score, member) order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (f64, &Vec<u8>)> {
        self.order.iter().map(|(s, m)| (s.0, m))
    }
    pub fn mem(&self) -> usize {
        alloc_size(self.scores.capacity() * (std::mem::size_of::<Vec<u8>>() + 9)) + self.bytes
    }
    pub fn encoding(&self) -> &'static str {
        if self.listpack {
            "listpack"
        } else {
            "skiplist"
        }
    }
    pub fn recount(&self) -> usize {
        self.scores.keys().map(|m| member_mem(m)).sum()
    }
    pub fn counted(&self) -> usize {
        self.bytes
    }
}
