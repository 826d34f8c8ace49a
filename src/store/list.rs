//! Lists. Redis 7.0 reports every list as `quicklist`; so do we.

use super::memory::alloc_size;
use std::collections::VecDeque;

/// Bytes of one slot of the deque (a `Vec<u8>` header).
const SLOT: usize = std::mem::size_of::<Vec<u8>>();

/// A list of byte strings with its memory kept incrementally: `bytes` is the sum of the
/// elements' allocations, so measuring a list costs O(1) however long it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    items: VecDeque<Vec<u8>>,
    bytes: usize,
}

impl List {
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn push_front(&mut self, v: Vec<u8>) {
        self.bytes += alloc_size(v.capacity());
        self.items.push_front(v);
    }
    pub fn push_back(&mut self, v: Vec<u8>) {
        self.bytes += alloc_size(v.capacity());
        self.items.push_back(v);
    }
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let v = self.items.pop_front()?;
        self.bytes -= alloc_size(v.capacity());
        Some(v)
    }
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let v = self.items.pop_back()?;
        self.bytes -= alloc_size(v.capacity());
        Some(v)
    }
    pub fn get(&self, i: usize) -> Option<&Vec<u8>> {
        self.items.get(i)
    }
    /// Replace element `i` (which must exist).
    pub fn set(&mut self, i: usize, v: Vec<u8>) {
        let old = std::mem::replace(&mut self.items[i], v);
        self.bytes -= alloc_size(old.capacity());
        self.bytes += alloc_size(self.items[i].capacity());
    }
    /// Insert `v` before position `i` (`i == len` appends).
    pub fn insert(&mut self, i: usize, v: Vec<u8>) {
        self.bytes += alloc_size(v.capacity());
        self.items.insert(i, v);
    }
    /// Keep only positions `start..=end` (nothing when `start > end`).
    pub fn retain_range(&mut self, start: usize, end: usize) {
        if start > end || start >= self.items.len() {
            self.items.clear();
            self.bytes = 0;
            return;
        }
        let end = end.min(self.items.len() - 1);
        for v in self.items.drain(end + 1..) {
            self.bytes -= alloc_size(v.capacity());
        }
        for v in self.items.drain(..start) {
            self.bytes -= alloc_size(v.capacity());
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
        let mut removed = 0;
        if count >= 0 {
            let mut i = 0;
            while i < self.items.len() && removed < limit {
                if self.items[i] == elem {
                    let v = self.items.remove(i).expect("in range");
                    self.bytes -= alloc_size(v.capacity());
                    removed += 1;
                } else {
                    i += 1;
                }
            }
        } else {
            let mut i = self.items.len();
            while i > 0 && removed < limit {
                i -= 1;
                if self.items[i] == elem {
                    let v = self.items.remove(i).expect("in range");
                    self.bytes -= alloc_size(v.capacity());
                    removed += 1;
                }
            }
        }
        removed
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Vec<u8>> + ExactSizeIterator {
        self.items.iter()
    }
    /// Bytes held, by the allocator model in `memory`.
    pub fn mem(&self) -> usize {
        alloc_size(self.items.capacity() * SLOT) + self.bytes
    }
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }
    /// The bytes counted for the elements, recounted (for invariant checks).
    pub fn recount(&self) -> usize {
        self.items.iter().map(|v| alloc_size(v.capacity())).sum()
    }
    pub fn counted(&self) -> usize {
        self.bytes
    }
}
