//! Sets. Redis 7.0 keeps a set of integers as an `intset` while it is small, and converts it
//! to a `hashtable` (one way) once a non-integer member arrives or it grows past
//! `set-max-intset-entries`.

use super::memory::alloc_size;
use super::value::EncodingLimits;
use std::collections::HashSet;

/// Bytes of one slot of the table: a `Vec<u8>` header and the control byte.
const SLOT: usize = std::mem::size_of::<Vec<u8>>() + 1;

#[derive(Clone, Debug, Default)]
pub struct Set {
    members: HashSet<Vec<u8>, ahash::RandomState>,
    bytes: usize,
    intset: bool,
}

impl PartialEq for Set {
    fn eq(&self, o: &Set) -> bool {
        self.members == o.members
    }
}

impl Set {
    /// An empty set whose first member will be `first`: `intset` when it is an integer.
    pub fn new(first: &[u8]) -> Set {
        Set {
            intset: crate::num::parse_i64(first).is_some(),
            ..Set::default()
        }
    }
    pub fn len(&self) -> usize {
        self.members.len()
    }
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
    pub fn contains(&self, m: &[u8]) -> bool {
        self.members.contains(m)
    }
    /// Add `m`; true when it was not there.
    pub fn insert(&mut self, m: &[u8], l: &EncodingLimits) -> bool {
        if self.members.contains(m) {
            return false;
        }
        if self.intset && crate::num::parse_i64(m).is_none() {
            self.intset = false;
        }
        self.bytes += alloc_size(m.len());
        self.members.insert(m.to_vec());
        if self.intset && self.members.len() > l.set_intset {
            self.intset = false;
        }
        true
    }
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self.members.take(m) {
            Some(v) => {
                self.bytes -= alloc_size(v.len());
                true
            }
            None => false,
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.members.iter()
    }
    pub fn mem(&self) -> usize {
        alloc_size(self.members.capacity() * SLOT) + self.bytes
    }
    pub fn encoding(&self) -> &'static str {
        if self.intset {
            "intset"
        } else {
            "hashtable"
        }
    }
    pub fn recount(&self) -> usize {
        self.members.iter().map(|m| alloc_size(m.len())).sum()
    }
    pub fn counted(&self) -> usize {
        self.bytes
    }
}
