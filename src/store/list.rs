//! Lists, as Redis 7.0's quicklist: a deque of packed nodes (`store::pack`), each holding up
//! to [`NODE_ENTRIES`] elements and about [`NODE_BYTES`] bytes, so an element costs its bytes
//! plus a length byte or two instead of an allocation of its own. Ends are O(1) amortised
//! (a push or pop edits one small node); an index walks nodes from the nearer end, as
//! Redis's quicklist does. Redis 7.0 reports every list as `quicklist`; so do we.

use super::pack::Pack;
use std::collections::VecDeque;

/// Most elements in one node.
pub const NODE_ENTRIES: usize = 128;
/// A node stops taking elements at its ends once it holds this many bytes (Redis's default
/// `list-max-listpack-size -2` is 8 KB; smaller nodes make each edit's copy cheaper).
pub const NODE_BYTES: usize = 4096;

/// Bytes of one node slot in the deque.
const SLOT: usize = std::mem::size_of::<Pack>();

#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    nodes: VecDeque<Pack>,
    len: usize,
    /// The nodes' heap bytes, kept as they change (so measuring a list is O(1)).
    bytes: usize,
}

fn full(p: &Pack) -> bool {
    p.len() >= NODE_ENTRIES || p.byte_len() >= NODE_BYTES
}

impl List {
    /// Edit node `n`, keeping `bytes` up to date.
    fn with_node<R>(&mut self, n: usize, f: impl FnOnce(&mut Pack) -> R) -> R {
        let before = self.nodes[n].mem();
        let r = f(&mut self.nodes[n]);
        self.bytes = self.bytes + self.nodes[n].mem() - before;
        r
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn push_front(&mut self, v: &[u8]) {
        if self.nodes.front().is_none_or(full) {
            self.nodes.push_front(Pack::default());
        }
        self.with_node(0, |p| p.insert_at(0, &[v]));
        self.len += 1;
    }
    pub fn push_back(&mut self, v: &[u8]) {
        if self.nodes.back().is_none_or(full) {
            self.nodes.push_back(Pack::default());
        }
        let last = self.nodes.len() - 1;
        self.with_node(last, |p| p.push(&[v]));
        self.len += 1;
    }
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let v = self.nodes.front()?.get(0)?.to_vec();
        self.with_node(0, |p| p.remove_at(0, 1));
        if self.nodes[0].is_empty() {
            self.nodes.pop_front();
        }
        self.len -= 1;
        Some(v)
    }
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let last = self.nodes.len().checked_sub(1)?;
        let v = self.with_node(last, |p| p.pop_last())?;
        if self.nodes[last].is_empty() {
            self.nodes.pop_back();
        }
        self.len -= 1;
        Some(v)
    }

    /// The node holding position `i` and the position within it (walking from the nearer end).
    fn locate(&self, i: usize) -> Option<(usize, usize)> {
        if i >= self.len {
            return None;
        }
        if i < self.len / 2 {
            let mut i = i;
            for (n, p) in self.nodes.iter().enumerate() {
                if i < p.len() {
                    return Some((n, i));
                }
                i -= p.len();
            }
        } else {
            let mut back = self.len - 1 - i;
            for (n, p) in self.nodes.iter().enumerate().rev() {
                if back < p.len() {
                    return Some((n, p.len() - 1 - back));
                }
                back -= p.len();
            }
        }
        None
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i + 1 == self.len {
            // The back, without walking its node (`LINDEX key -1`).
            return self.nodes.back()?.last();
        }
        let (n, j) = self.locate(i)?;
        self.nodes[n].get(j)
    }
    /// Replace element `i` (which must exist).
    pub fn set(&mut self, i: usize, v: &[u8]) {
        if let Some((n, j)) = self.locate(i) {
            self.with_node(n, |p| p.replace_at(p.offset_of(j), v));
        }
    }
    /// Insert `v` before position `i` (`i == len` appends).
    pub fn insert(&mut self, i: usize, v: &[u8]) {
        if i >= self.len {
            return self.push_back(v);
        }
        let (n, j) = self.locate(i).expect("i < len");
        self.with_node(n, |p| p.insert_at(p.offset_of(j), &[v]));
        self.len += 1;
        // A node grown past twice the limits by inserts in its middle is halved.
        let p = &self.nodes[n];
        if p.len() >= 2 * NODE_ENTRIES || p.byte_len() >= 2 * NODE_BYTES {
            let half = p.len() / 2;
            let tail = self.with_node(n, |p| p.split_off(half));
            self.bytes += tail.mem();
            self.nodes.insert(n + 1, tail);
        }
    }
    /// Keep only positions `start..=end` (nothing when `start > end`).
    pub fn retain_range(&mut self, start: usize, end: usize) {
        if start > end || start >= self.len {
            *self = List::default();
            return;
        }
        let end = end.min(self.len - 1);
        let kept: Vec<Vec<u8>> = self.range(start, end + 1).map(|v| v.to_vec()).collect();
        *self = List::default();
        for v in &kept {
            self.push_back(v);
        }
    }
    /// Remove elements equal to `elem`: the first `count` from the head (count > 0), from the
    /// tail (count < 0), or all (0). Returns how many went.
    pub fn remove_matching(&mut self, elem: &[u8], count: i64) -> usize {
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs() as usize
        };
        // Positions to drop, then one rebuild of the nodes that lost elements.
        let mut drop: Vec<usize> = Vec::new();
        if count >= 0 {
            for (i, v) in self.iter().enumerate() {
                if drop.len() >= limit {
                    break;
                }
                if v == elem {
                    drop.push(i);
                }
            }
        } else {
            for (i, v) in self.iter_rev().enumerate() {
                if drop.len() >= limit {
                    break;
                }
                if v == elem {
                    drop.push(self.len - 1 - i);
                }
            }
            drop.reverse();
        }
        if drop.is_empty() {
            return 0;
        }
        let kept: Vec<Vec<u8>> = self
            .iter()
            .enumerate()
            .filter(|(i, _)| drop.binary_search(i).is_err())
            .map(|(_, v)| v.to_vec())
            .collect();
        *self = List::default();
        for v in &kept {
            self.push_back(v);
        }
        drop.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.nodes.iter().flat_map(|p| p.iter())
    }
    /// From the tail to the head.
    pub fn iter_rev(&self) -> impl Iterator<Item = &[u8]> {
        self.nodes
            .iter()
            .rev()
            .flat_map(|p| p.iter().collect::<Vec<_>>().into_iter().rev())
    }
    /// Positions [start, end), starting at the node that holds `start`.
    pub fn range(&self, start: usize, end: usize) -> impl Iterator<Item = &[u8]> {
        let end = end.min(self.len);
        let (first, skip) = self.locate(start).unwrap_or((self.nodes.len(), 0));
        self.nodes
            .iter()
            .skip(first)
            .flat_map(|p| p.iter())
            .skip(skip)
            .take(end.saturating_sub(start))
    }
    /// Bytes held, by the allocator model in `memory`.
    pub fn mem(&self) -> usize {
        super::memory::alloc_size(self.nodes.capacity() * SLOT) + self.counted()
    }
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }
    /// The nodes' bytes, recounted (for invariant checks).
    pub fn recount(&self) -> usize {
        self.nodes.iter().map(|p| p.mem()).sum()
    }
    pub fn counted(&self) -> usize {
        self.bytes
    }
}
