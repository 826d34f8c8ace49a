//! Sets, in Redis 7.0's two encodings: an `intset` (sorted integers, so small integer sets
//! list in ascending order as in Redis) and a `hashtable` (the store's own chained table, with
//! the resumable cursor `SSCAN` needs). The conversion is one way: on the first member that is
//! not an integer, or past `set-max-intset-entries`.

use super::hash_key;
use super::key::Key;
use super::memory::alloc_size;
use super::table::{node_overhead, Table};
use super::value::EncodingLimits;
use crate::num::parse_i64;

#[derive(Clone, Debug)]
enum Members {
    Ints(Vec<i64>),
    Table(Table<()>),
}

#[derive(Clone, Debug)]
pub struct Set {
    m: Members,
    /// Bytes of the members' own allocations in the table form.
    bytes: usize,
}

impl Default for Set {
    fn default() -> Self {
        Set::intset()
    }
}

impl PartialEq for Set {
    fn eq(&self, o: &Set) -> bool {
        self.len() == o.len() && self.iter().all(|m| o.contains(&m))
    }
}

fn fmt_int(n: i64) -> Vec<u8> {
    n.to_string().into_bytes()
}

impl Set {
    /// An empty `intset` (what `SINTERSTORE` and friends start from, as in Redis).
    pub fn intset() -> Set {
        Set {
            m: Members::Ints(Vec::new()),
            bytes: 0,
        }
    }

    /// An empty set whose first member will be `first`: `intset` when it is an integer.
    pub fn new(first: &[u8]) -> Set {
        if parse_i64(first).is_some() {
            Set::intset()
        } else {
            Set {
                m: Members::Table(Table::default()),
                bytes: 0,
            }
        }
    }

    pub fn len(&self) -> usize {
        match &self.m {
            Members::Ints(v) => v.len(),
            Members::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match &self.m {
            Members::Ints(v) => parse_i64(m).is_some_and(|n| v.binary_search(&n).is_ok()),
            Members::Table(t) => t.get(hash_key(m), m).is_some(),
        }
    }

    fn convert(&mut self) {
        let Members::Ints(v) = &self.m else { return };
        let mut t = Table::default();
        let mut bytes = 0;
        for n in v {
            let m = fmt_int(*n);
            bytes += Key::heap_size(m.len());
            t.insert_new(hash_key(&m), Key::new(&m), ());
        }
        self.m = Members::Table(t);
        self.bytes = bytes;
    }

    /// Add `m`; true when it was not there.
    pub fn insert(&mut self, m: &[u8], l: &EncodingLimits) -> bool {
        if let Members::Ints(v) = &mut self.m {
            match parse_i64(m) {
                Some(n) => {
                    let Err(at) = v.binary_search(&n) else {
                        return false;
                    };
                    v.insert(at, n);
                    if v.len() > l.set_intset {
                        self.convert();
                    }
                    return true;
                }
                None => self.convert(),
            }
        }
        let Members::Table(t) = &mut self.m else {
            unreachable!("converted above")
        };
        let h = hash_key(m);
        if t.get(h, m).is_some() {
            return false;
        }
        t.insert_new(h, Key::new(m), ());
        self.bytes += Key::heap_size(m.len());
        true
    }

    /// Remove `m`; true when it was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.m {
            Members::Ints(v) => match parse_i64(m).map(|n| v.binary_search(&n)) {
                Some(Ok(at)) => {
                    v.remove(at);
                    true
                }
                _ => false,
            },
            Members::Table(t) => match t.remove(hash_key(m), m) {
                Some(_) => {
                    self.bytes -= Key::heap_size(m.len());
                    true
                }
                None => false,
            },
        }
    }

    /// Every member: ascending while an intset, table order once a hashtable.
    pub fn iter(&self) -> Box<dyn Iterator<Item = std::borrow::Cow<'_, [u8]>> + '_> {
        use std::borrow::Cow;
        match &self.m {
            Members::Ints(v) => Box::new(v.iter().map(|n| Cow::Owned(fmt_int(*n)))),
            Members::Table(t) => Box::new(t.iter().map(|(k, _)| Cow::Borrowed(&k[..]))),
        }
    }

    /// One step of `SSCAN`: an intset whole (cursor 0 next, as Redis does), a hashtable a
    /// bucket at a time. Returns the next cursor.
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(&[u8])) -> u64 {
        match &self.m {
            Members::Ints(v) => {
                v.iter().for_each(|n| f(&fmt_int(*n)));
                0
            }
            Members::Table(t) => t.scan_step(cursor, |k, _| f(k)),
        }
    }

    /// A uniformly random member; `rand` yields random numbers.
    pub fn random(&self, mut rand: impl FnMut() -> u64) -> Option<Vec<u8>> {
        match &self.m {
            Members::Ints(v) if v.is_empty() => None,
            Members::Ints(v) => Some(fmt_int(v[(rand() % v.len() as u64) as usize])),
            Members::Table(t) => t.fair_random(rand).map(|(k, _)| k.to_vec()),
        }
    }

    pub fn mem(&self) -> usize {
        match &self.m {
            Members::Ints(v) => alloc_size(v.capacity() * 8),
            Members::Table(t) => t.len() * node_overhead::<()>() + self.bytes,
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self.m {
            Members::Ints(_) => "intset",
            Members::Table(_) => "hashtable",
        }
    }

    pub fn recount(&self) -> usize {
        match &self.m {
            Members::Ints(_) => 0,
            Members::Table(t) => t.iter().map(|(k, _)| Key::heap_size(k.len())).sum(),
        }
    }

    pub fn counted(&self) -> usize {
        self.bytes
    }
}
