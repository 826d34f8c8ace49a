//! Hashes. Small ones are `listpack` in Redis, large ones `hashtable`; the encoding is kept as
//! state and converts one way only, at the thresholds Redis uses.

use super::memory::alloc_size;
use super::value::EncodingLimits;
use std::collections::HashMap;

/// Bytes of one slot of the table: two `Vec<u8>` headers and the control byte.
const SLOT: usize = 2 * std::mem::size_of::<Vec<u8>>() + 1;

#[derive(Clone, Debug, Default)]
pub struct Hash {
    map: HashMap<Vec<u8>, Vec<u8>, ahash::RandomState>,
    /// Sum of the fields' and values' allocations.
    bytes: usize,
    /// Still `listpack` (small); false once converted to `hashtable`.
    listpack: bool,
}

impl PartialEq for Hash {
    fn eq(&self, o: &Hash) -> bool {
        self.map == o.map
    }
}

fn pair_mem(k: &[u8], v: &[u8]) -> usize {
    alloc_size(k.len()) + alloc_size(v.len())
}

impl Hash {
    /// An empty hash about to receive `fields` (field, value) pairs: `hashtable` at once when
    /// any of them is too long for a listpack, as Redis decides at creation.
    pub fn new() -> Hash {
        Hash {
            listpack: true,
            ..Hash::default()
        }
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn get(&self, field: &[u8]) -> Option<&Vec<u8>> {
        self.map.get(field)
    }
    /// Set `field` to `value`; true when the field is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8], l: &EncodingLimits) -> bool {
        if self.listpack && (field.len() > l.hash_value || value.len() > l.hash_value) {
            self.listpack = false;
        }
        let new = match self.map.get_mut(field) {
            Some(old) => {
                self.bytes -= alloc_size(old.len());
                *old = value.to_vec();
                self.bytes += alloc_size(value.len());
                false
            }
            None => {
                self.bytes += pair_mem(field, value);
                self.map.insert(field.to_vec(), value.to_vec());
                true
            }
        };
        if self.listpack && self.map.len() > l.hash_entries {
            self.listpack = false;
        }
        new
    }
    pub fn remove(&mut self, field: &[u8]) -> Option<Vec<u8>> {
        let (k, v) = self.map.remove_entry(field)?;
        self.bytes -= pair_mem(&k, &v);
        Some(v)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&Vec<u8>, &Vec<u8>)> {
        self.map.iter()
    }
    pub fn mem(&self) -> usize {
        alloc_size(self.map.capacity() * SLOT) + self.bytes
    }
    pub fn encoding(&self) -> &'static str {
        if self.listpack {
            "listpack"
        } else {
            "hashtable"
        }
    }
    pub fn recount(&self) -> usize {
        self.map.iter().map(|(k, v)| pair_mem(k, v)).sum()
    }
    pub fn counted(&self) -> usize {
        self.bytes
    }
}
