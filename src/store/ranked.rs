//! An ordered set with positions: a counted B-tree, the order index of sorted sets.
//!
//! Each child slot carries the element count of its subtree, so rank, select and the start of
//! a range by rank are single root-to-leaf descents.
//!
//! Design choices and why:
//! - A classic B-tree (elements live in inner nodes too), not a B+tree: a B+tree needs copies of
//!   elements as separators, and sorted-set elements own heap bytes (the member), so copies would
//!   cost allocations, memory and a `Clone` bound. Here every element is stored exactly once.
//! - Children are stored inline in the parent's `Vec<Node>`, not boxed: one allocation fewer per
//!   node and one pointer hop fewer per level, and the counts a descent sums lie in one block.
//! - Element buffers grow by a quarter (never doubling) and shrink after removals, so a node's
//!   buffer stays close to its length: memory per element stays near the element's own size
//!   whatever the fill, and a one-element set holds a four-slot buffer, not a full node.
//! - Nodes are searched by a strided forward scan, not a binary search: with 32-byte elements
//!   every probe of a binary search lands on a new cache line and waits for it, while a forward
//!   scan is prefetched (at 1M elements, random inserts and ranks took about half as long).
//! - Rebalancing merges an underfull child with a neighbour and splits the result again when it
//!   overflows. That one path mends any deficit, including the empty leaf that removing a run of
//!   positions can leave, and it evens the pair out instead of moving one element at a time.
//! - `MIN` is a third of `MAX` rather than a half, so alternating inserts and removals at a
//!   boundary do not split and merge the same node back and forth.
//! - No `unsafe`: removal by position, runs and iteration are all index and stack based.

use std::fmt;
use std::mem;

/// Most elements a node holds; one more and it splits.
const MAX: usize = 63;
/// Fewest elements a node other than the root holds.
const MIN: usize = 21;
/// Elements per node when building from sorted input: room to insert before splitting.
const BUILD: usize = 47;
/// Step of the first pass of a node search: one probe per few cache lines.
const STRIDE: usize = 8;

#[derive(Clone)]
struct Node<T> {
    /// Elements in this subtree.
    len: usize,
    keys: Vec<T>,
    /// Empty for a leaf, otherwise `keys.len() + 1` subtrees, all of the same height.
    kids: Vec<Node<T>>,
}

impl<T> Default for Node<T> {
    fn default() -> Self {
        Node::new(Vec::new(), Vec::new())
    }
}

enum Ins<T> {
    Dup,
    Done,
    Split(T, Node<T>),
}

/// Which element a removal descends to.
enum Loc<'a, T> {
    Key(&'a T),
    Index(usize),
}

impl<T: Ord> Loc<'_, T> {
    /// `Ok(k)`: it is `keys[k]` of `n`; `Err(c)`: it is in child `c` (or absent, at a leaf).
    fn find(&mut self, n: &Node<T>) -> Result<usize, usize> {
        match self {
            Loc::Key(v) => search(&n.keys, v),
            Loc::Index(i) => n.find_index(*i).map_err(|(c, j)| {
                *i = j;
                c
            }),
        }
    }
}

/// How many of `keys` satisfy `below`, a predicate true for a prefix.
fn part<T>(keys: &[T], mut below: impl FnMut(&T) -> bool) -> usize {
    let mut i = 0;
    while i + STRIDE <= keys.len() && below(&keys[i + STRIDE - 1]) {
        i += STRIDE;
    }
    i + keys[i..].iter().take_while(|k| below(k)).count()
}

fn search<T: Ord>(keys: &[T], v: &T) -> Result<usize, usize> {
    let p = part(keys, |k| k < v);
    match keys.get(p) {
        Some(k) if k == v => Ok(p),
        _ => Err(p),
    }
}

/// Room for one more item: a quarter more, since doubling would waste up to half of a node.
fn grow<X>(v: &mut Vec<X>, limit: usize) {
    if v.len() == v.capacity() {
        let extra = (v.len() / 4).max(4).min(limit.saturating_sub(v.len()));
        v.reserve_exact(extra.max(1));
    }
}

/// Gives back memory once a third of a buffer is unused, keeping a little slack so that the
/// next insert does not reallocate at once.
fn shrink<X>(v: &mut Vec<X>) {
    if v.capacity() > v.len() + v.len() / 2 + 4 {
        v.shrink_to(v.len() + v.len() / 4);
    }
}

impl<T> Node<T> {
    fn new(keys: Vec<T>, kids: Vec<Node<T>>) -> Self {
        let len = keys.len() + kids.iter().map(|k| k.len).sum::<usize>();
        Node { len, keys, kids }
    }

    fn is_leaf(&self) -> bool {
        self.kids.is_empty()
    }

    /// Elements of this subtree before child `c`, summing from the nearer end.
    fn before(&self, c: usize) -> usize {
        if 2 * c <= self.kids.len() {
            c + self.kids[..c].iter().map(|k| k.len).sum::<usize>()
        } else {
            let after: usize = self.kids[c..].iter().map(|k| k.len).sum();
            self.len - (self.keys.len() - c) - after
        }
    }

    /// Where position `i` (< len) is: `Ok(k)` for `keys[k]`, `Err((c, j))` for position `j`
    /// of child `c`. Scans from the nearer end.
    fn find_index(&self, i: usize) -> Result<usize, (usize, usize)> {
        if self.is_leaf() {
            return Ok(i);
        }
        if 2 * i < self.len {
            let mut start = 0;
            for (c, k) in self.kids.iter().enumerate() {
                let end = start + k.len;
                if i < end {
                    return Err((c, i - start));
                } else if i == end {
                    return Ok(c);
                }
                start = end + 1;
            }
        } else {
            let mut end = self.len;
            for (c, k) in self.kids.iter().enumerate().rev() {
                let start = end - k.len;
                if i >= start {
                    return Err((c, i - start));
                } else if i + 1 == start {
                    return Ok(c - 1);
                }
                end = start - 1;
            }
        }
        unreachable!("position {i} outside a subtree of {}", self.len)
    }

    /// Moves the upper half out: returns the median and the new right sibling.
    fn split(&mut self) -> (T, Node<T>) {
        let mid = self.keys.len() / 2;
        let keys = self.keys.split_off(mid + 1);
        let kids = self.kids.split_off((mid + 1).min(self.kids.len()));
        let m = self.keys.pop().expect("a split node keeps its median");
        let right = Node::new(keys, kids);
        self.len -= right.len + 1;
        self.keys.shrink_to_fit();
        self.kids.shrink_to_fit();
        (m, right)
    }

    /// Mends child `c` after a removal below it: when underfull it merges with a neighbour,
    /// and an overfull merge splits again, evening the pair.
    fn fix(&mut self, c: usize) {
        if self.kids[c].keys.len() >= MIN {
            return;
        }
        let i = c.min(self.kids.len() - 2);
        let sep = self.keys.remove(i);
        let mut right = mem::take(&mut self.kids[i + 1]);
        let left = &mut self.kids[i];
        left.keys.reserve_exact(right.keys.len() + 1);
        left.keys.push(sep);
        left.keys.append(&mut right.keys);
        left.kids.reserve_exact(right.kids.len());
        left.kids.append(&mut right.kids);
        left.len += right.len + 1;
        if left.keys.len() > MAX {
            let (m, r) = left.split();
            self.keys.insert(i, m);
            self.kids[i + 1] = r;
        } else {
            self.kids.remove(i + 1);
            shrink(&mut self.keys);
            shrink(&mut self.kids);
        }
    }

    fn drain_into(self, out: &mut Vec<T>) {
        let mut keys = self.keys.into_iter();
        for kid in self.kids {
            kid.drain_into(out);
            out.extend(keys.next());
        }
        out.extend(keys);
    }

    fn heap_bytes(&self) -> usize {
        self.keys.capacity() * mem::size_of::<T>()
            + self.kids.capacity() * mem::size_of::<Node<T>>()
            + self.kids.iter().map(Node::heap_bytes).sum::<usize>()
    }
}

impl<T: Ord> Node<T> {
    fn insert(&mut self, v: T) -> Ins<T> {
        let i = match search(&self.keys, &v) {
            Ok(_) => return Ins::Dup,
            Err(i) => i,
        };
        if self.is_leaf() {
            grow(&mut self.keys, MAX + 1);
            self.keys.insert(i, v);
        } else {
            match self.kids[i].insert(v) {
                Ins::Dup => return Ins::Dup,
                Ins::Done => {}
                Ins::Split(m, r) => {
                    grow(&mut self.keys, MAX + 1);
                    grow(&mut self.kids, MAX + 2);
                    self.keys.insert(i, m);
                    self.kids.insert(i + 1, r);
                }
            }
        }
        self.len += 1;
        if self.keys.len() > MAX {
            let (m, r) = self.split();
            Ins::Split(m, r)
        } else {
            Ins::Done
        }
    }

    /// Removes the element `loc` leads to and, when that is in a leaf, up to `n - 1` more
    /// after it. Returns how many went (none when absent) and the first of them.
    fn remove(&mut self, loc: &mut Loc<'_, T>, n: usize) -> (usize, Option<T>) {
        let (got, v) = match loc.find(self) {
            Ok(k) if self.is_leaf() => {
                let got = n.min(self.keys.len() - k);
                let v = self.keys.drain(k..k + got).next();
                shrink(&mut self.keys);
                (got, v)
            }
            Err(_) if self.is_leaf() => return (0, None),
            Ok(k) => return (1, Some(self.take_key(k))),
            Err(c) => match self.kids[c].remove(loc, n) {
                (0, _) => return (0, None),
                r => {
                    self.fix(c);
                    r
                }
            },
        };
        self.len -= got;
        (got, v)
    }

    /// Removes inner key `k`, putting its predecessor in its place.
    fn take_key(&mut self, k: usize) -> T {
        let last = self.kids[k].len - 1;
        let (_, pred) = self.kids[k].remove(&mut Loc::Index(last), 1);
        let old = mem::replace(&mut self.keys[k], pred.expect("subtrees are never empty"));
        self.len -= 1;
        self.fix(k);
        old
    }
}

/// Builds a tree from strictly ascending elements, level by level, each node holding about
/// `BUILD` elements with exactly sized buffers.
fn build<T>(items: Vec<T>) -> Node<T> {
    let n = items.len();
    let mut items = items.into_iter();
    let leaves = (n + 1).div_ceil(BUILD + 1);
    let total = n + 1 - leaves;
    let mut level = Vec::with_capacity(leaves);
    let mut seps = Vec::with_capacity(leaves - 1);
    for j in 0..leaves {
        let size = total / leaves + usize::from(j < total % leaves);
        level.push(Node::new(items.by_ref().take(size).collect(), Vec::new()));
        if j + 1 < leaves {
            seps.extend(items.next());
        }
    }
    while level.len() > 1 {
        let count = level.len();
        let groups = count.div_ceil(BUILD + 1);
        let (mut kids_in, mut seps_in) = (level.into_iter(), seps.into_iter());
        level = Vec::with_capacity(groups);
        seps = Vec::with_capacity(groups - 1);
        for j in 0..groups {
            let g = count / groups + usize::from(j < count % groups);
            let kids = kids_in.by_ref().take(g).collect();
            level.push(Node::new(seps_in.by_ref().take(g - 1).collect(), kids));
            if j + 1 < groups {
                seps.extend(seps_in.next());
            }
        }
    }
    level.pop().unwrap_or_default()
}

/// An ordered set of distinct elements that also answers by position.
#[derive(Clone)]
pub struct Ranked<T> {
    root: Node<T>,
}

impl<T> Default for Ranked<T> {
    fn default() -> Self {
        Ranked {
            root: Node::default(),
        }
    }
}

impl<T> fmt::Debug for Ranked<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ranked {{ len: {} }}", self.root.len)
    }
}

/// In-order walk from a position, in either direction. A stack frame is a node and how far
/// through its keys the walk is: the next key to yield going up, the count not yet yielded
/// going down.
struct Iter<'a, T> {
    stack: Vec<(&'a Node<T>, usize)>,
    left: usize,
    back: bool,
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        while let Some((node, i)) = self.stack.last_mut() {
            let node: &'a Node<T> = node;
            // The key to yield and the child beside it that the walk enters next.
            let (k, sub) = match self.back {
                false if *i < node.keys.len() => (*i, *i + 1),
                true if *i > 0 => (*i - 1, *i - 1),
                _ => {
                    self.stack.pop();
                    continue;
                }
            };
            *i = sub;
            let mut n = node.kids.get(sub);
            while let Some(d) = n {
                let (at, next) = match self.back {
                    true => (d.keys.len(), d.kids.last()),
                    false => (0, d.kids.first()),
                };
                self.stack.push((d, at));
                n = next;
            }
            self.left -= 1;
            return Some(&node.keys[k]);
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<T: Ord> Ranked<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.root.len
    }

    pub fn is_empty(&self) -> bool {
        self.root.len == 0
    }

    /// Inserts; false (and no change) when an equal element is present.
    pub fn insert(&mut self, v: T) -> bool {
        match self.root.insert(v) {
            Ins::Dup => false,
            Ins::Done => true,
            Ins::Split(m, r) => {
                let l = mem::take(&mut self.root);
                self.root = Node::new(vec![m], vec![l, r]);
                true
            }
        }
    }

    fn remove_at(&mut self, mut loc: Loc<'_, T>) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let (_, v) = self.root.remove(&mut loc, 1);
        self.settle();
        v
    }

    /// Replaces a root left without keys by its only child, or by nothing once empty (which
    /// frees its buffer).
    fn settle(&mut self) {
        if self.root.keys.is_empty() {
            self.root = self.root.kids.pop().unwrap_or_default();
        }
    }

    /// Removes the element equal to `v`, returning it.
    pub fn remove(&mut self, v: &T) -> Option<T> {
        self.remove_at(Loc::Key(v))
    }

    pub fn pop_first(&mut self) -> Option<T> {
        self.remove_at(Loc::Index(0))
    }

    pub fn pop_last(&mut self) -> Option<T> {
        self.remove_at(Loc::Index(self.len().wrapping_sub(1)))
    }

    /// Number of elements for which `below` is true, `below` being true for a prefix of the
    /// order and false after it. The rank of `v` is `partition_point(|x| x < v)`.
    pub fn partition_point(&self, mut below: impl FnMut(&T) -> bool) -> usize {
        let (mut n, mut acc) = (&self.root, 0);
        loop {
            let p = part(&n.keys, &mut below);
            if n.is_leaf() {
                return acc + p;
            }
            acc += n.before(p);
            n = &n.kids[p];
        }
    }

    /// Walks down to position `i` (< len), handing `path` each node passed and the child
    /// taken; returns the node holding the element and its index there.
    fn descend<'a>(
        &'a self,
        mut i: usize,
        mut path: impl FnMut(&'a Node<T>, usize),
    ) -> (&'a Node<T>, usize) {
        let mut n = &self.root;
        loop {
            match n.find_index(i) {
                Ok(k) => return (n, k),
                Err((c, j)) => {
                    path(n, c);
                    (n, i) = (&n.kids[c], j);
                }
            }
        }
    }

    /// The element at 0-based position `i`.
    pub fn get(&self, i: usize) -> Option<&T> {
        let (n, k) = (i < self.len()).then(|| self.descend(i, |_, _| {}))?;
        n.keys.get(k)
    }

    fn iter_at(&self, i: usize, back: bool) -> Iter<'_, T> {
        let left = match back {
            _ if i >= self.len() => 0,
            true => i + 1,
            false => self.len() - i,
        };
        let mut stack = Vec::with_capacity(if left > 0 { 8 } else { 0 });
        if left > 0 {
            let (n, k) = self.descend(i, |n, c| stack.push((n, c)));
            stack.push((n, k + usize::from(back)));
        }
        Iter { stack, left, back }
    }

    /// Elements from position `i` (inclusive) upward.
    pub fn iter_from(&self, i: usize) -> impl Iterator<Item = &T> + '_ {
        self.iter_at(i, false)
    }

    /// Elements from position `i` (inclusive, clamped to the last) downward to position 0.
    pub fn iter_back_from(&self, i: usize) -> impl Iterator<Item = &T> + '_ {
        self.iter_at(i.min(self.len().saturating_sub(1)), true)
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.iter_at(0, false)
    }

    pub fn first(&self) -> Option<&T> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&T> {
        self.get(self.len().checked_sub(1)?)
    }

    /// Removes the elements at positions `[start, end)` (clamped), returning how many.
    /// A leaf's share of the run goes in one step, so the cost is about the run's length plus
    /// a descent per leaf touched; a run of a quarter or more of the set rebuilds it instead.
    pub fn remove_range(&mut self, start: usize, end: usize) -> usize {
        let len = self.len();
        let end = end.min(len);
        if start >= end {
            return 0;
        }
        let k = end - start;
        if k == len {
            self.root = Node::default();
        } else if k * 4 >= len {
            let mut all = Vec::with_capacity(len);
            mem::take(&mut self.root).drain_into(&mut all);
            all.drain(start..end);
            self.root = build(all);
        } else {
            let mut left = k;
            while left > 0 {
                left -= self.root.remove(&mut Loc::Index(start), left).0;
                self.settle();
            }
        }
        k
    }

    /// Heap bytes of the tree's own buffers (element slots and child slots, as allocated),
    /// not counting heap owned by the elements.
    pub fn heap_bytes(&self) -> usize {
        self.root.heap_bytes()
    }
}

impl<T: Ord> FromIterator<T> for Ranked<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut v: Vec<T> = iter.into_iter().collect();
        // Stable, so of equal elements the first stays, as repeated inserts would keep it.
        v.sort();
        v.dedup();
        Ranked { root: build(v) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// Checks counts, order, equal leaf depth, fill bounds and buffer slack.
    fn check<T: Ord>(t: &Ranked<T>) {
        type Bound<'a, T> = Option<&'a T>;
        fn walk<T: Ord>(n: &Node<T>, lo: Bound<T>, hi: Bound<T>, d: usize) -> (usize, usize) {
            let keys = &n.keys;
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "keys out of order");
            assert!(lo.zip(keys.first()).is_none_or(|(lo, f)| lo < f));
            assert!(hi.zip(keys.last()).is_none_or(|(hi, l)| l < hi));
            assert!(keys.len() <= MAX && (d == 0 || keys.len() >= MIN), "fill");
            let tight = |len: usize, cap: usize| cap <= len + len / 2 + 4;
            assert!(tight(keys.len(), keys.capacity()) && tight(n.kids.len(), n.kids.capacity()));
            let (mut total, mut depth) = (keys.len(), d);
            if !n.is_leaf() {
                assert_eq!(n.kids.len(), keys.len() + 1);
                let depths: Vec<usize> = (n.kids.iter().enumerate())
                    .map(|(c, k)| {
                        let lo = if c == 0 { lo } else { Some(&keys[c - 1]) };
                        let (len, depth) = walk(k, lo, keys.get(c).or(hi), d + 1);
                        total += len;
                        depth
                    })
                    .collect();
                assert!(depths.iter().all(|&x| x == depths[0]), "uneven leaves");
                depth = depths[0];
            }
            assert_eq!(n.len, total, "stale count");
            (total, depth)
        }
        assert!(t.root.is_leaf() || !t.root.keys.is_empty(), "keyless root");
        walk(&t.root, None, None, 0);
    }

    /// Compares everything observable with the model.
    fn same(t: &Ranked<u32>, m: &BTreeSet<u32>, probes: &[u32]) {
        check(t);
        let v: Vec<u32> = m.iter().copied().collect();
        let n = v.len();
        assert_eq!(t.len(), n);
        assert_eq!(t.is_empty(), n == 0);
        assert_eq!(t.iter().copied().collect::<Vec<_>>(), v);
        for (i, x) in v.iter().enumerate() {
            assert_eq!(t.get(i), Some(x));
        }
        assert_eq!(t.get(n), None);
        assert_eq!(t.first(), v.first());
        assert_eq!(t.last(), v.last());
        for &p in probes {
            assert_eq!(t.partition_point(|x| *x < p), m.range(..p).count());
            assert_eq!(t.partition_point(|x| *x <= p), m.range(..=p).count());
            let i = p as usize % (n + 3);
            let up: Vec<u32> = t.iter_from(i).copied().collect();
            assert_eq!(up, v[i.min(n)..]);
            assert_eq!(t.iter_from(i).size_hint().0, up.len());
            let down: Vec<u32> = t.iter_back_from(i).copied().collect();
            let want: Vec<u32> = v[..(i + 1).min(n)].iter().rev().copied().collect();
            assert_eq!(down, want);
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u32),
        Run(u32, u16, u32),
        Remove(u32),
        PopFirst,
        PopLast,
        RemoveRange(u16, u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0..6000u32).prop_map(Op::Insert),
            1 => (0..6000u32, 0..2500u16, 1..4u32).prop_map(|(a, n, s)| Op::Run(a, n, s)),
            4 => (0..6000u32).prop_map(Op::Remove),
            1 => Just(Op::PopFirst),
            1 => Just(Op::PopLast),
            2 => (any::<u16>(), 0..400u16).prop_map(|(s, n)| Op::RemoveRange(s, n)),
            1 => (any::<u16>(), any::<u16>()).prop_map(|(s, n)| Op::RemoveRange(s, n)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn matches_btreeset(ops in prop::collection::vec(op(), 1..60),
                            probes in prop::collection::vec(0..6100u32, 4)) {
            let (mut t, mut m) = (Ranked::new(), BTreeSet::new());
            for op in ops {
                match op {
                    Op::Insert(x) => assert_eq!(t.insert(x), m.insert(x)),
                    Op::Run(a, n, s) => {
                        for x in (a..a + u32::from(n) * s).step_by(s as usize) {
                            assert_eq!(t.insert(x), m.insert(x));
                        }
                    }
                    Op::Remove(x) => assert_eq!(t.remove(&x), m.take(&x)),
                    Op::PopFirst => assert_eq!(t.pop_first(), m.pop_first()),
                    Op::PopLast => assert_eq!(t.pop_last(), m.pop_last()),
                    Op::RemoveRange(s, n) => {
                        let start = usize::from(s) % (m.len() + 2);
                        let end = start + usize::from(n);
                        let gone: Vec<u32> = m.iter().skip(start).take(n.into()).copied().collect();
                        for x in &gone {
                            m.remove(x);
                        }
                        assert_eq!(t.remove_range(start, end), gone.len());
                    }
                }
                same(&t, &m, &probes);
            }
        }

        #[test]
        fn collects_like_btreeset(v in prop::collection::vec(0..20000u32, 0..6000)) {
            let t: Ranked<u32> = v.iter().copied().collect();
            same(&t, &v.into_iter().collect(), &[0, 77, 5000, 19999]);
        }
    }

    #[test]
    fn empty_and_clamping() {
        let mut t: Ranked<u32> = Ranked::new();
        assert_eq!((t.get(0), t.first(), t.last()), (None, None, None));
        assert_eq!(t.iter_from(0).count() + t.iter_back_from(9).count(), 0);
        assert_eq!(
            (t.pop_first(), t.pop_last(), t.remove(&1)),
            (None, None, None)
        );
        assert_eq!(t.remove_range(0, 9) + t.partition_point(|_| true), 0);
        assert_eq!((t.len(), t.heap_bytes()), (0, 0));
        assert!(t.insert(5) && !t.insert(5));
        assert!(t.heap_bytes() <= 4 * 4, "one element holds a small buffer");
        assert_eq!(format!("{t:?}"), "Ranked { len: 1 }");
        for x in 0..100 {
            t.insert(x);
        }
        assert_eq!(t.iter_back_from(usize::MAX).next(), Some(&99));
        assert_eq!((t.iter_from(100).next(), t.get(100)), (None, None));
        assert_eq!((t.remove_range(50, 10), t.remove_range(200, 300)), (0, 0));
        assert_eq!(t.remove_range(90, usize::MAX), 10);
        assert!(t.iter().copied().eq(0..90));
        assert_eq!(t.remove_range(0, usize::MAX), 90);
        assert_eq!((t.len(), t.heap_bytes()), (0, 0));
    }

    #[test]
    fn builds_valid_trees_at_level_boundaries() {
        let sizes = [
            0, 1, 47, 48, 49, 95, 96, 97, 2303, 2304, 2305, 110_591, 110_592,
        ];
        for n in sizes.into_iter().chain([110_593, 300_000]) {
            let t: Ranked<u32> = (0..n).rev().chain(0..n).collect();
            check(&t);
            assert_eq!(t.len(), n as usize);
            assert!(t.iter().copied().eq(0..n));
        }
    }

    #[test]
    fn large_random_churn_then_drain_from_both_ends() {
        let mut x = 1u64;
        let mut rnd = move |m: usize| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as usize % m
        };
        let (mut t, mut m) = (Ranked::new(), BTreeSet::new());
        for step in 1..=200_000 {
            let v = rnd(200_000) as u32;
            if rnd(9) < 5 {
                assert_eq!(t.insert(v), m.insert(v));
            } else {
                assert_eq!(t.remove(&v), m.take(&v));
            }
            if step % 1000 == 0 {
                let (s, n) = (rnd(m.len() + 1), rnd(200));
                let gone: Vec<u32> = m.iter().skip(s).take(n).copied().collect();
                gone.iter().for_each(|g| assert!(m.remove(g)));
                assert_eq!(t.remove_range(s, s + n), gone.len());
            }
            if step % 50_000 == 0 {
                same(&t, &m, &[v, v / 2]);
            }
        }
        let (mut u, n) = (t.clone(), m.len());
        for (i, (a, b)) in m.iter().zip(m.iter().rev()).enumerate() {
            assert_eq!((t.pop_first(), u.pop_last()), (Some(*a), Some(*b)));
            if i % 10_000 == 0 || i + 1 == n {
                check(&t);
                check(&u);
            }
        }
        assert_eq!((t.pop_first(), u.pop_last()), (None, None));
        assert_eq!(t.heap_bytes() + u.heap_bytes(), 0);
    }
}
