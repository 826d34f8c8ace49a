//! Sorted sets: score by member, and members ordered by (score, member). Small ones are
//! `listpack` in Redis, large ones `skiplist`; the encoding converts one way, at Redis's
//! thresholds.
//!
//! Two indexes, as Redis's skiplist encoding has: the store's chained table maps a member to
//! its score (O(1) ZSCORE, and the resumable cursor ZSCAN needs), and an order-statistic
//! B-tree (`ranked`) keeps (score, member) in order with subtree counts, so rank, the start
//! of a range by rank, score or lex, and the count of a range are O(log n).

use super::hash_key;
use super::key::Key;
use super::ranked::Ranked;
use super::table::{node_overhead, Table};
use super::value::EncodingLimits;

/// Bytes per member besides its heap copies: its score-table node, and its slot in the
/// order tree (the element plus the tree's measured node overhead, about 15%).
const PER_MEMBER: usize = node_overhead::<f64>() + std::mem::size_of::<(Score, Key)>() * 115 / 100;

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
    order: Ranked<(Score, Key)>,
    bytes: usize,
    listpack: bool,
}

impl PartialEq for ZSet {
    fn eq(&self, o: &ZSet) -> bool {
        self.len() == o.len() && self.iter().eq(o.iter())
    }
}

/// A member's heap copies (one per index when longer than a key kept inline) and slots.
fn member_mem(m: &[u8]) -> usize {
    2 * Key::heap_size(m.len()) + PER_MEMBER
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
                let (_, k) = self
                    .order
                    .remove(&(Score(was), Key::new(m)))
                    .expect("member in both indexes");
                self.order.insert((Score(score), k));
                false
            }
            None => {
                self.bytes += member_mem(m);
                self.scores.insert_new(h, Key::new(m), score);
                self.order.insert((Score(score), Key::new(m)));
                true
            }
        }
    }
    pub fn remove(&mut self, m: &[u8]) -> Option<f64> {
        let (_, s) = self.scores.remove(hash_key(m), m)?;
        self.order.remove(&(Score(s), Key::new(m)));
        self.bytes -= member_mem(m);
        Some(s)
    }
    /// The 0-based rank of `m` in (score, member) order.
    pub fn rank(&self, m: &[u8]) -> Option<usize> {
        let s = Score(self.score(m)?);
        Some(
            self.order
                .partition_point(|(x, k)| (*x, k.as_bytes()) < (s, m)),
        )
    }

    /// How many members, in order, satisfy `below` (true for a prefix of the order, then
    /// false): the position where they end. O(log n).
    pub fn partition_point(&self, mut below: impl FnMut(f64, &[u8]) -> bool) -> usize {
        self.order.partition_point(|(s, m)| below(s.0, m))
    }

    /// The members at positions [lo, hi), ascending, or descending with `rev`.
    pub fn range(
        &self,
        lo: usize,
        hi: usize,
        rev: bool,
    ) -> Box<dyn Iterator<Item = (f64, &[u8])> + '_> {
        let n = hi.min(self.len()).saturating_sub(lo);
        if n == 0 {
            return Box::new(std::iter::empty());
        }
        fn pair((s, m): &(Score, Key)) -> (f64, &[u8]) {
            (s.0, m.as_bytes())
        }
        if rev {
            Box::new(self.order.iter_back_from(lo + n - 1).take(n).map(pair))
        } else {
            Box::new(self.order.iter_from(lo).take(n).map(pair))
        }
    }

    /// Remove the members at positions [lo, hi); how many went.
    pub fn remove_span(&mut self, lo: usize, hi: usize) -> usize {
        let gone: Vec<Vec<u8>> = self.range(lo, hi, false).map(|(_, m)| m.to_vec()).collect();
        for m in &gone {
            self.scores.remove(hash_key(m), m);
            self.bytes -= member_mem(m);
        }
        self.order.remove_range(lo, lo + gone.len());
        gone.len()
    }

    /// Visit the members of the table bucket at `cursor` (all of them while `listpack`, as
    /// Redis replies to ZSCAN of a listpack at once); the next cursor, 0 at the end.
    pub fn scan_step<'a>(&'a self, cursor: u64, mut f: impl FnMut(&'a [u8], f64)) -> u64 {
        if self.listpack {
            self.iter().for_each(|(s, m)| f(m, s));
            return 0;
        }
        self.scores.scan_step(cursor, |m, s| f(m, *s))
    }

    /// A uniformly random (member, score); `rand` yields random numbers.
    pub fn random(&self, mut rand: impl FnMut() -> u64) -> Option<(&[u8], f64)> {
        if self.is_empty() {
            return None;
        }
        let (s, m) = self.order.get((rand() % self.len() as u64) as usize)?;
        Some((m.as_bytes(), s.0))
    }

    /// Members in (score, member) order.
    pub fn iter(&self) -> impl Iterator<Item = (f64, &[u8])> {
        self.order.iter().map(|(s, m)| (s.0, m.as_bytes()))
    }
    /// Members from the highest down.
    pub fn iter_rev(&self) -> Box<dyn Iterator<Item = (f64, &[u8])> + '_> {
        self.range(0, self.len(), true)
    }
    pub fn mem(&self) -> usize {
        self.bytes
    }
    /// The one-way conversion to `skiplist` (SORT makes it, as in Redis).
    pub fn to_skiplist(&mut self) {
        self.listpack = false;
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
