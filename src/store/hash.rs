//! Hashes, in Redis's two encodings: a small hash is a `listpack` (here: a vector of pairs in
//! insertion order, searched linearly, as Redis's listpack is), a large one a `hashtable` (here:
//! the store's own chained table, whose reverse-binary cursor gives `HSCAN` its guarantee).
//! The conversion happens once and one way, at Redis's thresholds (`hash-max-listpack-entries`,
//! `hash-max-listpack-value`).

use super::hash_key;
use super::key::Key;
use super::memory::alloc_size;
use super::table::{node_overhead, Table};
use super::value::EncodingLimits;

/// Bytes of one slot of the small form: two `Vec<u8>` headers.
const PAIR: usize = 2 * std::mem::size_of::<Vec<u8>>();

#[derive(Clone, Debug)]
enum Fields {
    Small(Vec<(Vec<u8>, Vec<u8>)>),
    Large(Table<Vec<u8>>),
}

#[derive(Clone, Debug)]
pub struct Hash {
    fields: Fields,
    /// Bytes of the fields' and values' own allocations, kept as they change.
    bytes: usize,
}

impl Default for Hash {
    fn default() -> Self {
        Hash::new()
    }
}

impl PartialEq for Hash {
    fn eq(&self, o: &Hash) -> bool {
        self.len() == o.len() && self.iter().all(|(f, v)| o.get(f) == Some(v))
    }
}

/// What one field costs besides its node or slot, by encoding.
fn elem_mem(large: bool, field: &[u8], value: &[u8]) -> usize {
    let f = if large {
        Key::heap_size(field.len())
    } else {
        alloc_size(field.len())
    };
    f + alloc_size(value.len())
}

impl Hash {
    pub fn new() -> Hash {
        Hash {
            fields: Fields::Small(Vec::new()),
            bytes: 0,
        }
    }

    pub fn len(&self) -> usize {
        match &self.fields {
            Fields::Small(v) => v.len(),
            Fields::Large(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.fields {
            Fields::Small(v) => v.iter().find(|(f, _)| f == field).map(|(_, x)| &x[..]),
            Fields::Large(t) => t.get(hash_key(field), field).map(|x| &x[..]),
        }
    }

    fn large(&self) -> bool {
        matches!(self.fields, Fields::Large(_))
    }

    /// Convert to the table form (once, for good).
    fn convert(&mut self) {
        let Fields::Small(pairs) = std::mem::replace(&mut self.fields, Fields::Small(Vec::new()))
        else {
            return;
        };
        let mut t = Table::default();
        let mut bytes = 0;
        for (f, v) in pairs {
            bytes += elem_mem(true, &f, &v);
            t.insert_new(hash_key(&f), Key::new(&f), v);
        }
        self.fields = Fields::Large(t);
        self.bytes = bytes;
    }

    /// Set `field` to `value`; true when the field is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8], l: &EncodingLimits) -> bool {
        if !self.large() && (field.len() > l.hash_value || value.len() > l.hash_value) {
            self.convert();
        }
        let large = self.large();
        let new = match &mut self.fields {
            Fields::Small(v) => match v.iter_mut().find(|(f, _)| f == field) {
                Some((_, old)) => {
                    self.bytes -= alloc_size(old.len());
                    *old = value.to_vec();
                    self.bytes += alloc_size(value.len());
                    false
                }
                None => {
                    v.push((field.to_vec(), value.to_vec()));
                    self.bytes += elem_mem(large, field, value);
                    true
                }
            },
            Fields::Large(t) => {
                let h = hash_key(field);
                match t.get_mut(h, field) {
                    Some(old) => {
                        self.bytes -= alloc_size(old.len());
                        *old = value.to_vec();
                        self.bytes += alloc_size(value.len());
                        false
                    }
                    None => {
                        t.insert_new(h, Key::new(field), value.to_vec());
                        self.bytes += elem_mem(large, field, value);
                        true
                    }
                }
            }
        };
        if !self.large() && self.len() > l.hash_entries {
            self.convert();
        }
        new
    }

    /// Remove `field`; true when it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        let large = self.large();
        let gone = match &mut self.fields {
            Fields::Small(v) => v.iter().position(|(f, _)| f == field).map(|i| v.remove(i)),
            Fields::Large(t) => t
                .remove(hash_key(field), field)
                .map(|(k, x)| (k.to_vec(), x)),
        };
        match gone {
            Some((f, v)) => {
                self.bytes -= elem_mem(large, &f, &v);
                true
            }
            None => false,
        }
    }

    /// Every (field, value): insertion order while small, table order once large.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match &self.fields {
            Fields::Small(v) => Box::new(v.iter().map(|(f, x)| (&f[..], &x[..]))),
            Fields::Large(t) => Box::new(t.iter().map(|(f, x)| (&f[..], &x[..]))),
        }
    }

    /// One step of `HSCAN` from `cursor`: a small hash is returned whole (cursor 0 next, as
    /// Redis does for a listpack); a large one a bucket at a time. Returns the next cursor.
    pub fn scan_step<'a>(&'a self, cursor: u64, mut f: impl FnMut(&'a [u8], &'a [u8])) -> u64 {
        match &self.fields {
            Fields::Small(v) => {
                v.iter().for_each(|(k, x)| f(k, x));
                0
            }
            Fields::Large(t) => t.scan_step(cursor, |k, x| f(k, x)),
        }
    }

    /// A random (field, value); `rand` yields random numbers.
    pub fn random(&self, mut rand: impl FnMut() -> u64) -> Option<(&[u8], &[u8])> {
        match &self.fields {
            Fields::Small(v) if v.is_empty() => None,
            Fields::Small(v) => {
                let (f, x) = &v[(rand() % v.len() as u64) as usize];
                Some((f, x))
            }
            Fields::Large(t) => t.fair_random(rand).map(|(f, x)| (&f[..], &x[..])),
        }
    }

    pub fn mem(&self) -> usize {
        match &self.fields {
            Fields::Small(v) => alloc_size(v.capacity() * PAIR) + self.bytes,
            Fields::Large(t) => t.len() * node_overhead::<Vec<u8>>() + self.bytes,
        }
    }

    pub fn encoding(&self) -> &'static str {
        if self.large() {
            "hashtable"
        } else {
            "listpack"
        }
    }

    pub fn recount(&self) -> usize {
        let large = self.large();
        self.iter().map(|(f, v)| elem_mem(large, f, v)).sum()
    }

    pub fn counted(&self) -> usize {
        self.bytes
    }
}
