//! A chained hash table whose iteration cursor survives resizing.
//!
//! `std`'s `HashMap` cannot resume an iteration between calls, but `SCAN` must: every key
//! present for the whole scan is returned at least once, even when the table grows or shrinks
//! between calls. The table is a power-of-two array of buckets, each a singly linked chain,
//! and the cursor walks buckets in *reverse-binary* order (increment the reversed bits of the
//! index). Doubling the table splits bucket `i` into `i` and `i + size`, which sit next to each
//! other in that order, so buckets already visited stay visited; halving merges them the same
//! way. This is the classic technique Redis uses for `SCAN`; the code here is our own.
//!
//! The table also supports sampling a random entry (for `RANDOMKEY`, active expiry and
//! eviction) by probing random buckets.
//!
//! Resizing is done at once (not incrementally); a keyspace is split over many shards so a
//! single resize moves a bounded share of the keys.

use super::key::Key;

/// No stored hash: a key that fits inline compares as cheaply as a hash would, and the hash
/// is recomputed (`store::hash_key`) only when the table resizes. That keeps a keyspace node
/// in a smaller allocator class. Every caller hashes with `store::hash_key`.
struct Node<V> {
    key: Key,
    value: V,
    next: Option<Box<Node<V>>>,
}

/// Smallest non-empty bucket array.
const MIN_BUCKETS: usize = 4;

/// Heap bytes one entry of a `Table<V>` costs beyond its key and value bytes: the boxed node
/// (hash, key handle, value, next pointer) in the allocator's size class, plus its share of
/// the bucket array (load factor between 1/2 and 1: about 1.5 pointers per entry).
pub const fn node_overhead<V>() -> usize {
    crate::store::memory::alloc_size(std::mem::size_of::<Node<V>>()) + 12
}

/// The node overhead of a key-table entry, for reports such as `MEMORY STATS`.
pub const NODE_OVERHEAD: usize = node_overhead::<crate::store::Entry>();

/// What `Table::probe` found.
pub enum Probe<'a, V> {
    Missing,
    Found(&'a Key, &'a mut V),
    Removed(Key, V),
}

pub struct Table<V> {
    buckets: Vec<Option<Box<Node<V>>>>,
    len: usize,
}

impl<V: Clone> Clone for Table<V> {
    /// A table with the same entries (`COPY` of a large collection).
    fn clone(&self) -> Self {
        let mut t = Table::default();
        for b in &self.buckets {
            let mut cur = b.as_deref();
            while let Some(n) = cur {
                t.insert_new(super::hash_key(&n.key), n.key.clone(), n.value.clone());
                cur = n.next.as_deref();
            }
        }
        t
    }
}

impl<V> std::fmt::Debug for Table<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Table({} entries)", self.len)
    }
}

impl<V> Default for Table<V> {
    fn default() -> Self {
        Table {
            buckets: Vec::new(),
            len: 0,
        }
    }
}

impl<V> Table<V> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    fn index(&self, hash: u64) -> usize {
        (hash as usize) & self.mask()
    }

    pub fn get(&self, hash: u64, key: &[u8]) -> Option<&V> {
        if self.len == 0 {
            return None;
        }
        let mut cur = self.buckets[self.index(hash)].as_deref();
        while let Some(n) = cur {
            if n.key[..] == *key {
                return Some(&n.value);
            }
            cur = n.next.as_deref();
        }
        None
    }

    pub fn get_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut V> {
        if self.len == 0 {
            return None;
        }
        let i = self.index(hash);
        let mut cur = self.buckets[i].as_deref_mut();
        while let Some(n) = cur {
            if n.key[..] == *key {
                return Some(&mut n.value);
            }
            cur = n.next.as_deref_mut();
        }
        None
    }

    /// The stored key handle (shares the allocation of the key in the table).
    pub fn get_key_value(&self, hash: u64, key: &[u8]) -> Option<(&Key, &V)> {
        if self.len == 0 {
            return None;
        }
        let mut cur = self.buckets[self.index(hash)].as_deref();
        while let Some(n) = cur {
            if n.key[..] == *key {
                return Some((&n.key, &n.value));
            }
            cur = n.next.as_deref();
        }
        None
    }

    /// Find `key`; when `remove_if` holds for its value, unlink it instead. One walk of the
    /// chain serves both (lookups with lazy expiry are the hot path).
    pub fn probe(
        &mut self,
        hash: u64,
        key: &[u8],
        remove_if: impl FnOnce(&V) -> bool,
    ) -> Probe<'_, V> {
        if self.len == 0 {
            return Probe::Missing;
        }
        let i = self.index(hash);
        // Find the node's depth in its chain first, so the mutable walk below borrows
        // nothing else.
        let mut depth = 0;
        let mut cur = self.buckets[i].as_deref();
        let remove = loop {
            match cur {
                None => return Probe::Missing,
                Some(n) if n.key[..] == *key => break remove_if(&n.value),
                Some(n) => {
                    depth += 1;
                    cur = n.next.as_deref();
                }
            }
        };
        if remove {
            let (k, v) = self.unlink(i, depth);
            self.maybe_shrink();
            return Probe::Removed(k, v);
        }
        let mut n = self.buckets[i].as_deref_mut().expect("found above");
        for _ in 0..depth {
            n = n.next.as_deref_mut().expect("found above");
        }
        Probe::Found(&n.key, &mut n.value)
    }

    fn unlink(&mut self, bucket: usize, depth: usize) -> (Key, V) {
        let mut link = &mut self.buckets[bucket];
        for _ in 0..depth {
            link = &mut link.as_mut().expect("depth within chain").next;
        }
        let mut node = link.take().expect("depth within chain");
        *link = node.next.take();
        self.len -= 1;
        (node.key, node.value)
    }

    /// Insert a key known to be absent (skips the existence check of `insert`).
    pub fn insert_new(&mut self, hash: u64, key: Key, value: V) {
        if self.len >= self.buckets.len() {
            self.resize((self.buckets.len() * 2).max(MIN_BUCKETS));
        }
        let i = self.index(hash);
        let next = self.buckets[i].take();
        self.buckets[i] = Some(Box::new(Node { key, value, next }));
        self.len += 1;
    }

    /// Insert or replace; returns the previous value.
    pub fn insert(&mut self, hash: u64, key: Key, value: V) -> Option<V> {
        if let Some(slot) = self.get_mut(hash, &key) {
            return Some(std::mem::replace(slot, value));
        }
        self.insert_new(hash, key, value);
        None
    }

    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<(Key, V)> {
        if self.len == 0 {
            return None;
        }
        let i = self.index(hash);
        let mut link = &mut self.buckets[i];
        loop {
            match link {
                None => return None,
                Some(n) if n.key[..] == *key => {
                    let mut node = link.take().unwrap();
                    *link = node.next.take();
                    self.len -= 1;
                    self.maybe_shrink();
                    return Some((node.key, node.value));
                }
                Some(n) => link = &mut n.next,
            }
        }
    }

    fn maybe_shrink(&mut self) {
        let n = self.buckets.len();
        if self.len == 0 {
            self.buckets = Vec::new();
        } else if n > MIN_BUCKETS && self.len * 8 < n {
            self.resize((self.len.next_power_of_two()).max(MIN_BUCKETS));
        }
    }

    fn resize(&mut self, size: usize) {
        let old = std::mem::replace(&mut self.buckets, (0..size).map(|_| None).collect());
        let mask = size - 1;
        for mut head in old {
            while let Some(mut node) = head {
                head = node.next.take();
                let i = (super::hash_key(&node.key) as usize) & mask;
                node.next = self.buckets[i].take();
                self.buckets[i] = Some(node);
            }
        }
    }

    pub fn clear(&mut self) {
        // Unlink chains iteratively: dropping a long chain recursively could overflow the stack.
        for head in self.buckets.iter_mut() {
            let mut cur = head.take();
            while let Some(mut n) = cur {
                cur = n.next.take();
            }
        }
        self.buckets = Vec::new();
        self.len = 0;
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &V)> {
        self.buckets.iter().flat_map(|b| {
            let mut cur = b.as_deref();
            std::iter::from_fn(move || {
                let n = cur?;
                cur = n.next.as_deref();
                Some((&n.key, &n.value))
            })
        })
    }

    /// Visit every entry of the bucket at `cursor` (and, after a shrink, the buckets merged
    /// into it), then return the next cursor; 0 means the walk is complete.
    pub fn scan_step<'a>(&'a self, cursor: u64, mut f: impl FnMut(&'a Key, &'a V)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = self.mask() as u64;
        let mut cur = self.buckets[(cursor & mask) as usize].as_deref();
        while let Some(n) = cur {
            f(&n.key, &n.value);
            cur = n.next.as_deref();
        }
        // Set the unmasked bits so the increment of the reversed cursor carries into the
        // masked ones, then reverse back.
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// A uniformly random entry (for `HRANDFIELD`, `SRANDMEMBER`, `SPOP`): a random bucket and
    /// a random position below `FAIR_CHAIN`, kept only when the chain is that long, so every
    /// entry in a chain of up to `FAIR_CHAIN` entries is equally likely (longer chains do not
    /// occur at this table's load factor; after 64 misses it settles for `random`).
    pub fn fair_random(&self, mut rand: impl FnMut() -> u64) -> Option<(&Key, &V)> {
        const FAIR_CHAIN: u64 = 8;
        if self.len == 0 {
            return None;
        }
        let mask = self.mask() as u64;
        for _ in 0..64 {
            let pos = rand() % FAIR_CHAIN;
            let mut cur = self.buckets[(rand() & mask) as usize].as_deref();
            for _ in 0..pos {
                cur = cur.and_then(|n| n.next.as_deref());
            }
            if let Some(n) = cur {
                return Some((&n.key, &n.value));
            }
        }
        self.random(rand)
    }

    /// A random entry, chosen by probing random buckets (`rand` yields random numbers).
    pub fn random(&self, mut rand: impl FnMut() -> u64) -> Option<(&Key, &V)> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask() as u64;
        loop {
            let i = (rand() & mask) as usize;
            if let Some(head) = self.buckets[i].as_deref() {
                let mut chain = 0;
                let mut cur = Some(head);
                while let Some(n) = cur {
                    chain += 1;
                    cur = n.next.as_deref();
                }
                let pick = (rand() % chain) as usize;
                let mut n = head;
                for _ in 0..pick {
                    n = n.next.as_deref().unwrap();
                }
                return Some((&n.key, &n.value));
            }
        }
    }
}

impl<V> Drop for Table<V> {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(k: &[u8]) -> u64 {
        crate::store::hash_key(k)
    }

    #[test]
    fn insert_get_remove_round_trip() {
        let mut t = Table::default();
        for i in 0..1000u32 {
            let k = Key::new(i.to_string().as_bytes());
            assert!(t.insert(h(&k), k, i).is_none());
        }
        assert_eq!(t.len(), 1000);
        for i in 0..1000u32 {
            assert_eq!(
                t.get(h(i.to_string().as_bytes()), i.to_string().as_bytes()),
                Some(&i)
            );
        }
        for i in 0..990u32 {
            let k = i.to_string();
            assert_eq!(
                t.remove(h(k.as_bytes()), k.as_bytes()).map(|x| x.1),
                Some(i)
            );
        }
        assert_eq!(t.len(), 10);
        assert!(t.buckets.len() <= 64, "table shrank");
    }

    #[test]
    fn scan_returns_every_key_present_throughout_while_table_grows_and_shrinks() {
        let mut t = Table::default();
        for i in 0..500u32 {
            let k = Key::new(format!("stable{i}").as_bytes());
            t.insert(h(&k), k, 0u8);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut round = 0u32;
        loop {
            cursor = t.scan_step(cursor, |k, _| {
                seen.insert(k.to_vec());
            });
            // Grow heavily, then shrink, between steps.
            round += 1;
            if round < 40 {
                for j in 0..200u32 {
                    let k = Key::new(format!("extra{round}-{j}").as_bytes());
                    t.insert(h(&k), k, 1);
                }
            } else if round < 80 {
                for j in 0..200u32 {
                    let k = format!("extra{}-{j}", round - 39);
                    t.remove(h(k.as_bytes()), k.as_bytes());
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..500u32 {
            assert!(
                seen.contains(format!("stable{i}").as_bytes()),
                "missed stable{i}"
            );
        }
    }

    #[test]
    fn random_finds_entries() {
        let mut t = Table::default();
        let k = Key::new(b"only");
        t.insert(h(&k), k, 7);
        let mut x = 12345u64;
        let r = t.random(|| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            x >> 11
        });
        assert_eq!(r.map(|(k, v)| (&k[..], *v)), Some((&b"only"[..], 7)));
    }
}
