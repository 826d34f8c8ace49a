//! A packed sequence of byte strings in one allocation: the idea of Redis's listpack, for the
//! small encodings (a hash of a few fields costs one buffer, not two allocations per field).
//!
//! # Format
//! Entries follow each other with no gaps: a length as a little-endian base-128 varint (one
//! byte below 128, two below 16384, …; the high bit of a byte says another follows), then the
//! bytes. The entry count (at most 2^32 - 1) is kept beside the buffer. The buffer is always
//! exactly as long as its entries, as a listpack is reallocated on every change: small
//! encodings trade a reallocation per write for having no slack. Positions are byte offsets of an entry's length; walking is linear, which
//! is what the small encodings' limits (`*-max-listpack-entries`) bound.

use super::memory::alloc_size;

#[derive(Clone)]
pub struct Pack {
    /// Exactly sized: a boxed slice is two words where a `Vec` is three, which keeps a small
    /// hash inside its key's entry (see `store::hash`).
    buf: Box<[u8]>,
    n: u32,
    /// The last entry's offset when known ([`NO_LAST`] otherwise), kept in what would be
    /// padding: a list's back is then reached without walking its node (entries cannot be
    /// walked backwards), as Redis's listpack reaches it through its back-lengths.
    last: u32,
}

/// [`Pack::last`] is unknown (it is found by walking).
const NO_LAST: u32 = u32::MAX;

impl Default for Pack {
    fn default() -> Pack {
        Pack {
            buf: Box::default(),
            n: 0,
            last: NO_LAST,
        }
    }
}

impl PartialEq for Pack {
    fn eq(&self, other: &Pack) -> bool {
        self.n == other.n && self.buf == other.buf
    }
}

impl Eq for Pack {}

impl std::fmt::Debug for Pack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pack({} entries, {} bytes)", self.n, self.buf.len())
    }
}

fn varint_len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Write `v` as an entry at the start of `dst` (which has room); returns its encoded size.
fn write_entry(dst: &mut [u8], v: &[u8]) -> usize {
    let (mut n, mut i) = (v.len(), 0);
    while n >= 0x80 {
        dst[i] = (n as u8 & 0x7f) | 0x80;
        n >>= 7;
        i += 1;
    }
    dst[i] = n as u8;
    i += 1;
    dst[i..i + v.len()].copy_from_slice(v);
    i + v.len()
}

/// The entry at `off`: (its bytes' start, its end).
fn entry_at(buf: &[u8], off: usize) -> (usize, usize) {
    let (mut len, mut shift, mut i) = (0usize, 0, off);
    loop {
        let b = buf[i];
        len |= ((b & 0x7f) as usize) << shift;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (i, i + len)
}

/// Entries with their offsets.
pub struct Entries<'a> {
    buf: &'a [u8],
    off: usize,
}

impl<'a> Iterator for Entries<'a> {
    type Item = (usize, &'a [u8]);
    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        if self.off >= self.buf.len() {
            return None;
        }
        let at = self.off;
        let (s, e) = entry_at(self.buf, at);
        self.off = e;
        Some((at, &self.buf[s..e]))
    }
}

impl Pack {
    pub fn len(&self) -> usize {
        self.n as usize
    }
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
    /// Heap bytes held.
    pub fn mem(&self) -> usize {
        alloc_size(self.buf.len())
    }
    /// Edit the buffer as a vector; it is boxed back to its exact length.
    fn edit<R>(&mut self, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        let mut v = std::mem::take(&mut self.buf).into_vec();
        let r = f(&mut v);
        self.buf = v.into_boxed_slice();
        r
    }
    /// Every entry with its offset, in order.
    pub fn entries(&self) -> Entries<'_> {
        Entries {
            buf: &self.buf,
            off: 0,
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.entries().map(|(_, v)| v)
    }
    /// Bytes of the entries (lengths included).
    pub fn byte_len(&self) -> usize {
        self.buf.len()
    }
    /// Offset of entry `i` (the end of the buffer when `i` is the length).
    pub fn offset_of(&self, i: usize) -> usize {
        self.entries().nth(i).map_or(self.buf.len(), |(o, _)| o)
    }
    /// Entry `i`, walking from the start.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.iter().nth(i)
    }
    /// Split off the entries from `i` on.
    pub fn split_off(&mut self, i: usize) -> Pack {
        let off = self.offset_of(i);
        let tail = self.edit(|buf| buf.split_off(off));
        let moved = self.n - i as u32;
        let last = match self.last {
            NO_LAST => NO_LAST,
            l if l as usize >= off => l - off as u32,
            _ => NO_LAST,
        };
        self.n = i as u32;
        self.last = NO_LAST;
        Pack {
            buf: tail.into_boxed_slice(),
            n: moved,
            last,
        }
    }

    /// The last entry's offset, and the one before it when the walk found it.
    fn find_last(&self) -> (usize, Option<usize>) {
        if self.last != NO_LAST {
            return (self.last as usize, None);
        }
        // A tight walk: most entries are shorter than 128 bytes (a one-byte length).
        let buf = &self.buf[..];
        let (mut off, mut at, mut prev) = (0, 0, None);
        while off < buf.len() {
            prev = Some(at);
            at = off;
            let b = buf[off];
            off = if b < 0x80 {
                off + 1 + b as usize
            } else {
                entry_at(buf, off).1
            };
        }
        (at, prev.filter(|_| self.n > 1))
    }

    /// The last entry.
    pub fn last(&self) -> Option<&[u8]> {
        if self.n == 0 {
            return None;
        }
        let (s, e) = entry_at(&self.buf, self.find_last().0);
        Some(&self.buf[s..e])
    }

    /// Remove the last entry and return it.
    pub fn pop_last(&mut self) -> Option<Vec<u8>> {
        if self.n == 0 {
            return None;
        }
        let (at, prev) = self.find_last();
        let (s, e) = entry_at(&self.buf, at);
        let v = self.buf[s..e].to_vec();
        self.edit(|buf| buf.truncate(at));
        self.n -= 1;
        self.last = match prev {
            Some(p) if self.n > 0 => p as u32,
            _ => NO_LAST,
        };
        Some(v)
    }
    /// Append entries.
    pub fn push(&mut self, items: &[&[u8]]) {
        let end = self.buf.len();
        self.insert_at(end, items);
    }
    /// Insert entries before the entry at `off` (or at the end when `off` is the length).
    pub fn insert_at(&mut self, off: usize, items: &[&[u8]]) {
        let need: usize = items.iter().map(|v| varint_len(v.len()) + v.len()).sum();
        let len = self.buf.len();
        self.last = if items.is_empty() {
            self.last
        } else if off == len {
            // Appended: the last is the last of `items`.
            let l = items[items.len() - 1];
            u32::try_from(off + need - varint_len(l.len()) - l.len()).unwrap_or(NO_LAST)
        } else if self.last == NO_LAST {
            NO_LAST
        } else {
            u32::try_from(self.last as usize + need).unwrap_or(NO_LAST)
        };
        self.edit(|buf| {
            // In place, as `lpInsert` does: grow once, move the tail, write the entries (no
            // encoded copy to splice in: LPUSH spends its time here).
            let len = buf.len();
            buf.reserve_exact(need);
            buf.resize(len + need, 0);
            buf.copy_within(off..len, off + need);
            let mut at = off;
            for v in items {
                at += write_entry(&mut buf[at..], v);
            }
        });
        self.n += items.len() as u32;
    }
    /// Replace the entry at `off` with `v`.
    pub fn replace_at(&mut self, off: usize, v: &[u8]) {
        let (_, end) = entry_at(&self.buf, off);
        let new = varint_len(v.len()) + v.len();
        if self.last != NO_LAST && off < self.last as usize {
            self.last = u32::try_from(self.last as usize + new - (end - off)).unwrap_or(NO_LAST);
        }
        self.edit(|buf| {
            let len = buf.len();
            let new_end = off + new;
            if new_end > end {
                buf.reserve_exact(new_end - end);
                buf.resize(len + new_end - end, 0);
            }
            buf.copy_within(end..len, new_end);
            buf.truncate(len + new_end - end);
            write_entry(&mut buf[off..], v);
        });
    }
    /// Remove `count` entries starting at the one at `off`.
    pub fn remove_at(&mut self, off: usize, count: usize) {
        let mut end = off;
        for _ in 0..count {
            end = entry_at(&self.buf, end).1;
        }
        self.edit(|buf| buf.drain(off..end).for_each(drop));
        self.n -= count as u32;
        if self.last != NO_LAST {
            let l = self.last as usize;
            // Removed before the last entry, it moves back; removed with it, it is unknown.
            self.last = if end <= l {
                (l - (end - off)) as u32
            } else {
                NO_LAST
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_edits() {
        let mut p = Pack::default();
        let long = vec![7u8; 300];
        p.push(&[b"a", b"", &long, b"\x00\xff"]);
        assert_eq!(p.len(), 4);
        let got: Vec<&[u8]> = p.iter().collect();
        assert_eq!(got, vec![&b"a"[..], b"", &long[..], b"\x00\xff"]);
        let off = p.entries().nth(2).unwrap().0;
        p.replace_at(off, b"short");
        let off = p.entries().nth(1).unwrap().0;
        p.remove_at(off, 1);
        p.insert_at(0, &[b"first"]);
        let got: Vec<&[u8]> = p.iter().collect();
        assert_eq!(got, vec![&b"first"[..], b"a", b"short", b"\x00\xff"]);
        assert_eq!(p.len(), 4);
        let end = p.buf.len();
        p.insert_at(end, &[b"last"]);
        assert_eq!(p.iter().last(), Some(&b"last"[..]));
        let off = p.entries().next().unwrap().0;
        p.remove_at(off, 5);
        assert!(p.is_empty() && p.iter().next().is_none());
    }

    #[test]
    fn in_place_edits_agree_with_a_vector_model() {
        // Inserts (one or several entries), replaces that grow and shrink across varint
        // sizes, and removes, at every position, checked against a plain vector.
        let (mut p, mut model) = (Pack::default(), Vec::<Vec<u8>>::new());
        let mut seed = 12345u64;
        let mut next = |m: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % m
        };
        for step in 0..2000 {
            let sizes = [0, 1, 5, 127, 128, 300];
            let v = vec![step as u8; sizes[next(sizes.len())]];
            let i = next(model.len() + 1);
            match next(4) {
                0 | 1 => {
                    let w = vec![1u8; sizes[next(sizes.len())]];
                    p.insert_at(p.offset_of(i), &[&v, &w]);
                    model.splice(i..i, [v, w]);
                }
                2 if i < model.len() => {
                    p.replace_at(p.offset_of(i), &v);
                    model[i] = v;
                }
                _ if i < model.len() => {
                    p.remove_at(p.offset_of(i), 1);
                    model.remove(i);
                }
                _ => {}
            }
            assert_eq!(p.len(), model.len());
            assert!(p.iter().eq(model.iter().map(|v| &v[..])), "step {step}");
            assert_eq!(p.last(), model.last().map(|v| &v[..]), "step {step}");
            if next(5) == 0 {
                assert_eq!(p.pop_last(), model.pop(), "step {step}");
                assert_eq!(p.last(), model.last().map(|v| &v[..]), "step {step}");
            }
        }
    }

    #[test]
    fn lengths_of_every_varint_size() {
        for n in [0usize, 127, 128, 16383, 16384, 70000] {
            let v = vec![1u8; n];
            let mut p = Pack::default();
            p.push(&[&v, b"x"]);
            let got: Vec<&[u8]> = p.iter().collect();
            assert_eq!(got, vec![&v[..], b"x"]);
            assert_eq!(p.buf.len(), varint_len(n) + n + 2);
        }
    }
}
