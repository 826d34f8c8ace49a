//! Hashes, in Redis's two encodings: a small hash is a `listpack` (here: field, value, field,
//! value … packed in one buffer in insertion order, searched linearly, as Redis's listpack is),
//! a large one a `hashtable` (here: the store's own chained table, whose reverse-binary cursor
//! gives `HSCAN` its guarantee; short values live inside the node like short keys do).
//! The conversion happens once and one way, at Redis's thresholds (`hash-max-listpack-entries`,
//! `hash-max-listpack-value`).

use super::hash_key;
use super::key::Key;
use super::memory::alloc_size;
use super::pack::Pack;
use super::table::{node_overhead, Table};
use super::value::EncodingLimits;

/// Three words, so a hash lives in its key's `Value` without a box of its own: a small hash
/// costs its entry plus one packed buffer.
#[derive(Clone, Debug)]
enum Fields {
    Small(Pack),
    Large(Box<Large>),
}

#[derive(Clone, Debug)]
struct Large {
    table: Table<Key>,
    /// Heap bytes of the fields and values kept out of their nodes, kept as they change.
    bytes: usize,
}

#[derive(Clone, Debug)]
pub struct Hash {
    fields: Fields,
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

/// Heap bytes one field of a large hash costs besides its node.
fn elem_mem(field: &[u8], value: &[u8]) -> usize {
    Key::heap_size(field.len()) + Key::heap_size(value.len())
}

impl Hash {
    pub fn new() -> Hash {
        Hash {
            fields: Fields::Small(Pack::default()),
        }
    }

    pub fn len(&self) -> usize {
        match &self.fields {
            Fields::Small(p) => p.len() / 2,
            Fields::Large(l) => l.table.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A small hash's field at its offset, with its value's offset and bytes.
    fn find<'p>(p: &'p Pack, field: &[u8]) -> Option<(usize, usize, &'p [u8])> {
        let mut it = p.entries();
        while let (Some((fo, f)), Some((vo, v))) = (it.next(), it.next()) {
            if f == field {
                return Some((fo, vo, v));
            }
        }
        None
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.fields {
            Fields::Small(p) => Hash::find(p, field).map(|(_, _, v)| v),
            Fields::Large(l) => l.table.get(hash_key(field), field).map(|x| &x[..]),
        }
    }

    fn large(&self) -> bool {
        matches!(self.fields, Fields::Large(_))
    }

    /// Convert to the table form (once, for good).
    fn convert(&mut self) {
        let Fields::Small(p) = std::mem::replace(&mut self.fields, Fields::Small(Pack::default()))
        else {
            return;
        };
        let mut t = Table::default();
        let mut bytes = 0;
        let mut it = p.iter();
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            bytes += elem_mem(f, v);
            t.insert_new(hash_key(f), Key::new(f), Key::new(v));
        }
        self.fields = Fields::Large(Box::new(Large { table: t, bytes }));
    }

    /// Set `field` to `value`; true when the field is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8], l: &EncodingLimits) -> bool {
        if !self.large() && (field.len() > l.hash_value || value.len() > l.hash_value) {
            self.convert();
        }
        let new = match &mut self.fields {
            Fields::Small(p) => match Hash::find(p, field) {
                Some((_, vo, _)) => {
                    p.replace_at(vo, value);
                    false
                }
                None => {
                    p.push(&[field, value]);
                    true
                }
            },
            Fields::Large(l) => {
                let h = hash_key(field);
                match l.table.get_mut(h, field) {
                    Some(old) => {
                        l.bytes -= Key::heap_size(old.len());
                        *old = Key::new(value);
                        l.bytes += Key::heap_size(value.len());
                        false
                    }
                    None => {
                        l.table.insert_new(h, Key::new(field), Key::new(value));
                        l.bytes += elem_mem(field, value);
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
        match &mut self.fields {
            Fields::Small(p) => match Hash::find(p, field) {
                Some((fo, _, _)) => {
                    p.remove_at(fo, 2);
                    true
                }
                None => false,
            },
            Fields::Large(l) => match l.table.remove(hash_key(field), field) {
                Some((k, v)) => {
                    l.bytes -= elem_mem(&k, &v);
                    true
                }
                None => false,
            },
        }
    }

    /// Every (field, value): insertion order while small, table order once large.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match &self.fields {
            Fields::Small(p) => {
                let mut it = p.iter();
                Box::new(std::iter::from_fn(move || Some((it.next()?, it.next()?))))
            }
            Fields::Large(l) => Box::new(l.table.iter().map(|(f, x)| (&f[..], &x[..]))),
        }
    }

    /// One step of `HSCAN` from `cursor`: a small hash is returned whole (cursor 0 next, as
    /// Redis does for a listpack); a large one a bucket at a time. Returns the next cursor.
    pub fn scan_step<'a>(&'a self, cursor: u64, mut f: impl FnMut(&'a [u8], &'a [u8])) -> u64 {
        match &self.fields {
            Fields::Small(_) => {
                self.iter().for_each(|(k, x)| f(k, x));
                0
            }
            Fields::Large(l) => l.table.scan_step(cursor, |k, x| f(k, x)),
        }
    }

    /// A random (field, value); `rand` yields random numbers.
    pub fn random(&self, mut rand: impl FnMut() -> u64) -> Option<(&[u8], &[u8])> {
        match &self.fields {
            Fields::Small(_) if self.is_empty() => None,
            Fields::Small(_) => self.iter().nth((rand() % self.len() as u64) as usize),
            Fields::Large(l) => l.table.fair_random(rand).map(|(f, x)| (&f[..], &x[..])),
        }
    }

    pub fn mem(&self) -> usize {
        match &self.fields {
            Fields::Small(p) => p.mem(),
            Fields::Large(l) => {
                alloc_size(std::mem::size_of::<Large>())
                    + l.table.len() * node_overhead::<Key>()
                    + l.bytes
            }
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
        match &self.fields {
            Fields::Small(p) => p.mem(),
            Fields::Large(_) => self.iter().map(|(f, v)| elem_mem(f, v)).sum(),
        }
    }

    pub fn counted(&self) -> usize {
        match &self.fields {
            Fields::Small(p) => p.mem(),
            Fields::Large(l) => l.bytes,
        }
    }
}
