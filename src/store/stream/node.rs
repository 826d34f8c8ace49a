//! One node of a stream: up to `stream-node-max-entries` entries packed in one buffer, as
//! Redis keeps a listpack per radix-tree node.
//!
//! # Format
//! The node's key (in the stream's tree) is its *master ID*, the ID of the first entry added
//! to it. The buffer starts with the *master fields*, the field names of that first entry
//! (a varint count, then each name as varint length + bytes), stored once. Entries follow,
//! each:
//!
//! `flags (1 byte) | ms delta (varint) | seq delta (zigzag varint) | fields`
//!
//! The deltas are from the master ID. When the entry's field names are the master fields
//! (flag `SAME_FIELDS`) only the values follow (varint length + bytes each); otherwise a
//! varint count of pairs, then field, value, field, value. Deleting an entry only sets its
//! `DELETED` flag (a tombstone, as Redis does); the node goes when its last live entry does.
//! Entries are appended in ID order, so a node is sorted and walking it is linear in its
//! (bounded) size.

use super::id::StreamId;
use crate::store::memory::alloc_size;

const DELETED: u8 = 1;
const SAME_FIELDS: u8 = 2;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(buf: &[u8], at: &mut usize) -> u64 {
    let (mut v, mut shift) = (0u64, 0);
    loop {
        let b = buf[*at];
        *at += 1;
        v |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            return v;
        }
        shift += 7;
    }
}

fn put_bytes(out: &mut Vec<u8>, s: &[u8]) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s);
}

fn get_bytes<'a>(buf: &'a [u8], at: &mut usize) -> &'a [u8] {
    let n = get_varint(buf, at) as usize;
    let s = &buf[*at..*at + n];
    *at += n;
    s
}

/// Bytes a listpack integer entry takes in Redis (encoding, data, back-length), so nodes fill
/// up (`stream-node-max-bytes`) where Redis's do.
fn lp_int_size(v: i64) -> usize {
    match v {
        0..=127 => 2,
        -4096..=4095 => 3,
        -32768..=32767 => 4,
        -8388608..=8388607 => 5,
        -2147483648..=2147483647 => 6,
        _ => 10,
    }
}

/// Bytes a listpack string entry takes in Redis (a canonical integer is stored as one).
fn lp_str_size(s: &[u8]) -> usize {
    if s.len() <= 20 {
        if let Some(v) = crate::num::parse_i64(s) {
            return lp_int_size(v);
        }
    }
    let head = match s.len() {
        0..=63 => 1,
        64..=4095 => 2,
        _ => 5,
    };
    let l = head + s.len();
    let back = match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    };
    l + back
}

/// Listpack header (total bytes, count) and end marker.
const LP_OVERHEAD: usize = 7;

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    buf: Vec<u8>,
    /// Where the first entry starts (after the master fields).
    entries_at: u32,
    master_count: u32,
    /// Live entries and tombstones.
    pub live: u32,
    pub deleted: u32,
    /// The size Redis's listpack for this node would have, without the two counters (see
    /// `lp_bytes`).
    lp_body: u32,
    /// The last entry's ID (a tombstone's included).
    pub last: StreamId,
    /// Where the last entry's flags are (0: no entry yet), so the stream's last live ID is
    /// found without walking the node.
    last_at: u32,
}

/// One entry of a node, as found while walking it.
#[derive(Clone, Copy, Debug)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    pub deleted: bool,
    node: &'a Node,
    /// Offset of the flags byte.
    pub at: usize,
    /// Offset of the fields (after the IDs).
    body: usize,
    /// The entry's field names are the node's master fields.
    pub same: bool,
}

impl<'a> EntryRef<'a> {
    /// The number of field-value pairs.
    pub fn len(&self) -> usize {
        if self.same {
            self.node.master_count as usize
        } else {
            let mut at = self.body;
            get_varint(&self.node.buf, &mut at) as usize
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The field-value pairs, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let buf: &'a [u8] = &self.node.buf;
        let n = self.len();
        let same = self.same;
        let mut at = self.body;
        if !same {
            get_varint(buf, &mut at);
        }
        let mut master_at = 0usize;
        if same {
            get_varint(buf, &mut master_at);
        }
        (0..n).map(move |_| {
            let f = if same {
                get_bytes(buf, &mut master_at)
            } else {
                get_bytes(buf, &mut at)
            };
            let v = get_bytes(buf, &mut at);
            (f, v)
        })
    }
}

impl Node {
    /// A node for an entry `id` whose fields become the master fields.
    pub fn new(id: StreamId, pairs: &[(&[u8], &[u8])]) -> Node {
        let mut buf = Vec::new();
        put_varint(&mut buf, pairs.len() as u64);
        let mut lp_body = LP_OVERHEAD + lp_int_size(pairs.len() as i64) + lp_int_size(0);
        for (f, _) in pairs {
            put_bytes(&mut buf, f);
            lp_body += lp_str_size(f);
        }
        let mut n = Node {
            entries_at: buf.len() as u32,
            buf,
            master_count: pairs.len() as u32,
            live: 0,
            deleted: 0,
            lp_body: lp_body as u32,
            last: id,
            last_at: 0,
        };
        n.append(id, id, pairs);
        n
    }

    /// A node with these master fields and no entries yet (entries are then added with
    /// `push`): how a node read from an RDB payload is rebuilt.
    pub fn with_master(master: StreamId, fields: &[&[u8]]) -> Node {
        let mut buf = Vec::new();
        put_varint(&mut buf, fields.len() as u64);
        let mut lp_body = LP_OVERHEAD + lp_int_size(fields.len() as i64) + lp_int_size(0);
        for f in fields {
            put_bytes(&mut buf, f);
            lp_body += lp_str_size(f);
        }
        Node {
            entries_at: buf.len() as u32,
            buf,
            master_count: fields.len() as u32,
            live: 0,
            deleted: 0,
            lp_body: lp_body as u32,
            last: master,
            last_at: 0,
        }
    }

    /// Add entry `id` (not below the master ID), deleted (a tombstone) or not.
    pub fn push(
        &mut self,
        master: StreamId,
        id: StreamId,
        deleted: bool,
        pairs: &[(&[u8], &[u8])],
    ) {
        let flags_at = self.buf.len();
        self.append(master, id, pairs);
        if deleted {
            self.buf[flags_at] |= DELETED;
            self.live -= 1;
            self.deleted += 1;
        }
    }

    pub fn master_fields(&self) -> impl Iterator<Item = &[u8]> {
        let mut at = 0;
        let n = get_varint(&self.buf, &mut at);
        (0..n).map(move |_| get_bytes(&self.buf, &mut at))
    }

    /// The size Redis's listpack for this node would have.
    pub fn lp_bytes(&self) -> usize {
        self.lp_body as usize + lp_int_size(self.live as i64) + lp_int_size(self.deleted as i64)
    }

    /// Append entry `id` (greater than every ID in the node) to the node keyed `master`.
    pub fn append(&mut self, master: StreamId, id: StreamId, pairs: &[(&[u8], &[u8])]) {
        let same = pairs.len() == self.master_count as usize
            && self.master_fields().zip(pairs).all(|(m, (f, _))| m == *f);
        let ms_delta = id.ms - master.ms;
        let seq_delta = id.seq.wrapping_sub(master.seq) as i64;
        self.last_at = self.buf.len() as u32;
        self.buf.push(if same { SAME_FIELDS } else { 0 });
        put_varint(&mut self.buf, ms_delta);
        put_varint(&mut self.buf, ((seq_delta << 1) ^ (seq_delta >> 63)) as u64);
        let mut lp = lp_int_size(0) + lp_int_size(ms_delta as i64) + lp_int_size(seq_delta);
        let mut lp_count = pairs.len() + 3;
        if !same {
            put_varint(&mut self.buf, pairs.len() as u64);
            lp += lp_int_size(pairs.len() as i64);
            lp_count += pairs.len() + 1;
        }
        for (f, v) in pairs {
            if !same {
                put_bytes(&mut self.buf, f);
                lp += lp_str_size(f);
            }
            put_bytes(&mut self.buf, v);
            lp += lp_str_size(v);
        }
        lp += lp_int_size(lp_count as i64);
        self.lp_body += lp as u32;
        self.live += 1;
        self.last = id;
    }

    /// Whether an entry whose fields and values total `elems` bytes starts a new node, as
    /// Redis decides: the listpack would reach `max_bytes` (0 or above 1 GB: 1 GB), or the
    /// node holds `max_entries` entries, tombstones included (0: no limit).
    pub fn is_full(&self, elems: usize, max_bytes: usize, max_entries: usize) -> bool {
        let max_bytes = if max_bytes == 0 || max_bytes > super::MAX_NODE_BYTES {
            super::MAX_NODE_BYTES
        } else {
            max_bytes
        };
        if self.lp_bytes() + elems >= max_bytes {
            return true;
        }
        max_entries != 0 && (self.live + self.deleted) as usize >= max_entries
    }

    /// The node will not grow any more: drop the buffer's slack (Redis's `lpShrinkToFit`).
    pub fn close(&mut self) {
        self.buf.shrink_to_fit();
    }

    /// Heap bytes of the buffer.
    pub fn mem(&self) -> usize {
        alloc_size(self.buf.capacity())
    }

    fn entry_at(&self, master: StreamId, at: usize) -> (EntryRef<'_>, usize) {
        let buf = &self.buf;
        let flags = buf[at];
        let mut p = at + 1;
        let ms = master.ms + get_varint(buf, &mut p);
        let z = get_varint(buf, &mut p);
        let seq_delta = ((z >> 1) as i64) ^ -((z & 1) as i64);
        let seq = master.seq.wrapping_add(seq_delta as u64);
        let e = EntryRef {
            id: StreamId::new(ms, seq),
            deleted: flags & DELETED != 0,
            node: self,
            at,
            body: p,
            same: flags & SAME_FIELDS != 0,
        };
        // Skip the fields to find the next entry.
        let mut q = p;
        let (n, per) = if e.same {
            (self.master_count as u64, 1)
        } else {
            (get_varint(buf, &mut q), 2)
        };
        for _ in 0..n * per {
            let l = get_varint(buf, &mut q) as usize;
            q += l;
        }
        (e, q)
    }

    /// Every entry, tombstones included, in ID order.
    pub fn entries(&self, master: StreamId) -> impl Iterator<Item = EntryRef<'_>> + '_ {
        let mut at = self.entries_at as usize;
        std::iter::from_fn(move || {
            if at >= self.buf.len() {
                return None;
            }
            let (e, next) = self.entry_at(master, at);
            at = next;
            Some(e)
        })
    }

    /// The last live entry's ID.
    pub fn last_live(&self, master: StreamId) -> Option<StreamId> {
        if self.live == 0 {
            return None;
        }
        if self.buf[self.last_at as usize] & DELETED == 0 {
            return Some(self.last);
        }
        self.entries(master)
            .filter(|e| !e.deleted)
            .last()
            .map(|e| e.id)
    }

    /// The first entry, tombstones included.
    pub fn first(&self, master: StreamId) -> EntryRef<'_> {
        self.entry_at(master, self.entries_at as usize).0
    }

    /// Mark the live entry whose flags are at `at` as deleted. True when it was the node's
    /// last live entry (the caller removes the node).
    pub fn delete_at(&mut self, at: usize) -> bool {
        debug_assert_eq!(self.buf[at] & DELETED, 0);
        self.buf[at] |= DELETED;
        self.live -= 1;
        self.deleted += 1;
        self.live == 0
    }

    /// Recount the node's entries (for the bookkeeping checks).
    pub fn recount(&self, master: StreamId) -> (u32, u32) {
        let (mut live, mut deleted) = (0, 0);
        for e in self.entries(master) {
            if e.deleted {
                deleted += 1;
            } else {
                live += 1;
            }
        }
        (live, deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_with_and_without_master_fields() {
        let m = StreamId::new(10, 5);
        let mut n = Node::new(m, &[(b"a", b"1"), (b"b", b"2")]);
        n.append(m, StreamId::new(10, 6), &[(b"a", b"3"), (b"b", b"4")]);
        n.append(m, StreamId::new(11, 0), &[(b"x", b"")]);
        type Pairs = Vec<(Vec<u8>, Vec<u8>)>;
        let got: Vec<(StreamId, Pairs)> = n
            .entries(m)
            .map(|e| {
                (
                    e.id,
                    e.pairs().map(|(f, v)| (f.to_vec(), v.to_vec())).collect(),
                )
            })
            .collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].0, StreamId::new(10, 6));
        assert_eq!(got[1].1[1], (b"b".to_vec(), b"4".to_vec()));
        assert_eq!(got[2].0, StreamId::new(11, 0));
        assert_eq!(got[2].1, vec![(b"x".to_vec(), vec![])]);
        let at = n.entries(m).nth(1).unwrap().at;
        assert!(!n.delete_at(at));
        assert_eq!(n.recount(m), (2, 1));
    }
}
