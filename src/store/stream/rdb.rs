//! A stream in Redis's RDB object format (DUMP/RESTORE), as Redis 7.0 writes it (type 19)
//! and as Redis 5-6 did (type 15, read only).
//!
//! # Format
//! The node count, then per node its master ID (16 bytes, big-endian, as an RDB string) and
//! its listpack (an RDB string): `live count, deleted count, master field count, master
//! fields…, 0`, then per entry `flags, ms delta, seq delta, [field count, fields and
//! values | values], element count`. Then the length, last ID, (19:) first ID, max deleted
//! ID, entries added, then the groups: name, last ID, (19:) entries read, the PEL (16-byte
//! ID, delivery time as 8 bytes little-endian, delivery count) and the consumers (name, seen
//! time, their PEL IDs).

use super::node::Node;
use super::{Group, Nack, Stream, StreamId, ENTRIES_READ_INVALID};
use crate::store::rdb::{listpack, put_len, put_str, Reader, Refused, R};
use crate::store::Value;
use std::collections::BTreeMap;

pub const RDB_TYPE_STREAM_LISTPACKS_2: u8 = 19;

/// A listpack being written.
struct Lp {
    buf: Vec<u8>,
    n: usize,
}

impl Lp {
    fn new() -> Lp {
        Lp {
            buf: vec![0; 6],
            n: 0,
        }
    }

    fn backlen(&mut self, start: usize) {
        let l = (self.buf.len() - start) as u64;
        let mut b = [0u8; 5];
        let n = match l {
            0..=127 => {
                b[0] = l as u8;
                1
            }
            128..=16382 => {
                b[0] = (l >> 7) as u8;
                b[1] = (l & 127) as u8 | 128;
                2
            }
            16383..=2097150 => {
                b[0] = (l >> 14) as u8;
                b[1] = ((l >> 7) & 127) as u8 | 128;
                b[2] = (l & 127) as u8 | 128;
                3
            }
            2097151..=268435454 => {
                b[0] = (l >> 21) as u8;
                b[1] = ((l >> 14) & 127) as u8 | 128;
                b[2] = ((l >> 7) & 127) as u8 | 128;
                b[3] = (l & 127) as u8 | 128;
                4
            }
            _ => {
                b[0] = (l >> 28) as u8;
                b[1] = ((l >> 21) & 127) as u8 | 128;
                b[2] = ((l >> 14) & 127) as u8 | 128;
                b[3] = ((l >> 7) & 127) as u8 | 128;
                b[4] = (l & 127) as u8 | 128;
                5
            }
        };
        self.buf.extend_from_slice(&b[..n]);
        self.n += 1;
    }

    fn int(&mut self, v: i64) {
        let start = self.buf.len();
        match v {
            0..=127 => self.buf.push(v as u8),
            -4096..=4095 => {
                let u = (v as u16) & 0x1fff;
                self.buf.push(0xc0 | (u >> 8) as u8);
                self.buf.push(u as u8);
            }
            -32768..=32767 => {
                self.buf.push(0xf1);
                self.buf.extend_from_slice(&(v as i16).to_le_bytes());
            }
            -8388608..=8388607 => {
                self.buf.push(0xf2);
                self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            -2147483648..=2147483647 => {
                self.buf.push(0xf3);
                self.buf.extend_from_slice(&(v as i32).to_le_bytes());
            }
            _ => {
                self.buf.push(0xf4);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
        }
        self.backlen(start);
    }

    fn str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        match s.len() {
            0..=63 => self.buf.push(0x80 | s.len() as u8),
            64..=4095 => {
                self.buf.push(0xe0 | (s.len() >> 8) as u8);
                self.buf.push(s.len() as u8);
            }
            _ => {
                self.buf.push(0xf0);
                self.buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
            }
        }
        self.buf.extend_from_slice(s);
        self.backlen(start);
    }

    fn finish(mut self) -> Vec<u8> {
        self.buf.push(0xff);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let n = self.n.min(65535) as u16;
        self.buf[4..6].copy_from_slice(&n.to_le_bytes());
        self.buf
    }
}

fn node_listpack(master: StreamId, n: &Node) -> Vec<u8> {
    let mut lp = Lp::new();
    lp.int(n.live as i64);
    lp.int(n.deleted as i64);
    let fields: Vec<&[u8]> = n.master_fields().collect();
    lp.int(fields.len() as i64);
    for f in &fields {
        lp.str(f);
    }
    lp.int(0);
    for e in n.entries(master) {
        lp.int((e.deleted as i64) | if e.same { 2 } else { 0 });
        lp.int(e.id.ms.wrapping_sub(master.ms) as i64);
        lp.int(e.id.seq.wrapping_sub(master.seq) as i64);
        let count = e.len();
        if !e.same {
            lp.int(count as i64);
        }
        for (f, v) in e.pairs() {
            if !e.same {
                lp.str(f);
            }
            lp.str(v);
        }
        let extra = if e.same { 3 } else { 3 + count + 1 };
        lp.int((count + extra) as i64);
    }
    lp.finish()
}

fn put_id(out: &mut Vec<u8>, id: StreamId) {
    put_len(out, id.ms as usize);
    put_len(out, id.seq as usize);
}

/// Write the stream's object (after its type byte).
pub fn write(out: &mut Vec<u8>, s: &Stream) {
    let log = &s.log;
    put_len(out, log.node_count());
    for (m, n) in log.nodes() {
        put_str(out, &m.key());
        put_str(out, &node_listpack(*m, n));
    }
    put_len(out, log.length as usize);
    put_id(out, log.last_id);
    put_id(out, log.first_id);
    put_id(out, log.max_deleted);
    put_len(out, log.entries_added as usize);
    put_len(out, s.groups.len());
    for (name, g) in &s.groups {
        put_str(out, name);
        put_id(out, g.last_id);
        put_len(out, g.entries_read as u64 as usize);
        put_len(out, g.pel.len());
        for (id, n) in &g.pel {
            out.extend_from_slice(&id.key());
            out.extend_from_slice(&(n.delivery_time as i64).to_le_bytes());
            put_len(out, n.delivery_count as usize);
        }
        put_len(out, g.consumers.len());
        for (cname, c) in &g.consumers {
            put_str(out, cname);
            out.extend_from_slice(&(c.seen_time as i64).to_le_bytes());
            put_len(out, c.pel.len());
            for id in &c.pel {
                out.extend_from_slice(&id.key());
            }
        }
    }
}

fn id_from_key(k: &[u8]) -> R<StreamId> {
    if k.len() != 16 {
        return Err(Refused::BadFormat);
    }
    let ms = u64::from_be_bytes(k[..8].try_into().map_err(|_| Refused::BadFormat)?);
    let seq = u64::from_be_bytes(k[8..].try_into().map_err(|_| Refused::BadFormat)?);
    Ok(StreamId::new(ms, seq))
}

fn read_id(r: &mut Reader) -> R<StreamId> {
    Ok(StreamId::new(r.len()? as u64, r.len()? as u64))
}

fn ms_time(r: &mut Reader) -> R<u64> {
    let b = r.bytes(8)?;
    Ok(i64::from_le_bytes(b.try_into().map_err(|_| Refused::BadFormat)?) as u64)
}

/// Rebuild one node from its listpack; entries must be in order after `prev`.
fn read_node(master: StreamId, lp: &[u8], prev: &mut Option<StreamId>) -> R<Node> {
    let e = listpack(lp)?;
    let mut i = 0;
    let mut next = || -> R<&Vec<u8>> {
        let v = e.get(i).ok_or(Refused::BadFormat)?;
        i += 1;
        Ok(v)
    };
    let int = |v: &Vec<u8>| crate::num::parse_i64(v).ok_or(Refused::BadFormat);
    let live = int(next()?)?;
    let deleted = int(next()?)?;
    let nf = int(next()?)?;
    if live < 0 || deleted < 0 || nf < 0 || live + deleted == 0 {
        return Err(Refused::BadFormat);
    }
    let mut fields = Vec::new();
    for _ in 0..nf {
        fields.push(next()?.clone());
    }
    if int(next()?)? != 0 {
        return Err(Refused::BadFormat);
    }
    let names: Vec<&[u8]> = fields.iter().map(|f| f.as_slice()).collect();
    let mut node = Node::with_master(master, &names);
    for _ in 0..live + deleted {
        let flags = int(next()?)?;
        let ms = master.ms.wrapping_add(int(next()?)? as u64);
        let seq = master.seq.wrapping_add(int(next()?)? as u64);
        let id = StreamId::new(ms, seq);
        if ms < master.ms || prev.is_some_and(|p| id <= p) {
            return Err(Refused::BadFormat);
        }
        *prev = Some(id);
        let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        if flags & 2 != 0 {
            for f in &fields {
                pairs.push((f.clone(), next()?.clone()));
            }
        } else {
            let n = int(next()?)?;
            if n < 0 {
                return Err(Refused::BadFormat);
            }
            for _ in 0..n {
                let f = next()?.clone();
                pairs.push((f, next()?.clone()));
            }
        }
        int(next()?)?;
        let refs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(f, v)| (&f[..], &v[..])).collect();
        node.push(master, id, flags & 1 != 0, &refs);
    }
    if i != e.len() || node.live as i64 != live {
        return Err(Refused::BadFormat);
    }
    Ok(node)
}

/// Read a stream object (type 15 or, with `v2`, 19).
pub(crate) fn read(r: &mut Reader, v2: bool) -> R<Value> {
    let mut s = Stream::new();
    let nodes = r.len()?;
    let mut prev = None;
    for _ in 0..nodes {
        let master = id_from_key(&r.string()?)?;
        if prev.is_some_and(|p| master <= p) {
            return Err(Refused::BadFormat);
        }
        let mut node = read_node(master, &r.string()?, &mut prev)?;
        node.close();
        s.log.push_node(master, node);
    }
    let log = &mut s.log;
    log.length = r.len()? as u64;
    log.last_id = read_id(r)?;
    if v2 {
        log.first_id = read_id(r)?;
        log.max_deleted = read_id(r)?;
        log.entries_added = r.len()? as u64;
    } else {
        log.entries_added = log.length;
        log.finish_delete(true);
    }
    if log.check().is_err() || prev.is_some_and(|p| p > log.last_id) {
        return Err(Refused::BadFormat);
    }
    for _ in 0..r.len()? {
        let name = r.string()?;
        let last = read_id(r)?;
        let read = if v2 {
            r.len()? as u64 as i64
        } else {
            s.log.estimate_distance(last)
        };
        if read < ENTRIES_READ_INVALID {
            return Err(Refused::BadFormat);
        }
        let mut g = Group::new(last, read);
        let mut pel: BTreeMap<StreamId, (u64, u64)> = BTreeMap::new();
        for _ in 0..r.len()? {
            let id = id_from_key(r.bytes(16)?)?;
            let time = ms_time(r)?;
            let count = r.len()? as u64;
            if pel.insert(id, (time, count)).is_some() {
                return Err(Refused::BadFormat);
            }
        }
        for _ in 0..r.len()? {
            let cname = r.string()?;
            let seen = ms_time(r)?;
            if !g.create_consumer(&cname, seen) {
                return Err(Refused::BadFormat);
            }
            let (c, _) = g.touch_consumer(&cname, seen);
            for _ in 0..r.len()? {
                let id = id_from_key(r.bytes(16)?)?;
                let (time, count) = pel.remove(&id).ok_or(Refused::BadFormat)?;
                g.pel.insert(
                    id,
                    Nack {
                        delivery_time: time,
                        delivery_count: count,
                        consumer: c.clone(),
                    },
                );
                if let Some(cons) = g.consumers.get_mut(&c) {
                    cons.pel.insert(id);
                }
            }
        }
        // Every pending entry must have an owner.
        if !pel.is_empty() || s.groups.insert(name, g).is_some() {
            return Err(Refused::BadFormat);
        }
    }
    Ok(Value::Stream(Box::new(s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::stream::SeqGiven;

    #[test]
    fn dump_then_restore_gives_the_same_stream() {
        let mut s = Stream::new();
        for i in 1..=250u64 {
            let v = i.to_string();
            let pairs: Vec<(&[u8], &[u8])> = if i % 7 == 0 {
                vec![(b"other", v.as_bytes())]
            } else {
                vec![(b"f", v.as_bytes()), (b"g", b"x")]
            };
            s.log
                .append(
                    &pairs,
                    Some((StreamId::new(i * 1000, i), SeqGiven::Yes)),
                    0,
                    4096,
                    100,
                )
                .unwrap();
        }
        s.log.delete(StreamId::new(5000, 5));
        s.log.max_deleted = StreamId::new(5000, 5);
        let mut g = Group::new(StreamId::new(3000, 3), 3);
        let (c, _) = g.touch_consumer(b"alice", 77);
        g.deliver(StreamId::new(1000, 1), &c, 99);
        g.create_consumer(b"bob", 5);
        s.groups.insert(b"g".to_vec(), g);
        let mut out = Vec::new();
        write(&mut out, &s);
        let mut r = Reader { p: &out, at: 0 };
        let Value::Stream(back) = read(&mut r, true).ok().unwrap() else {
            panic!("not a stream")
        };
        assert_eq!(r.at, out.len());
        type Entries = Vec<(StreamId, Vec<(Vec<u8>, Vec<u8>)>)>;
        let all = |s: &Stream| -> Entries {
            s.log
                .range(StreamId::MIN, StreamId::MAX, false)
                .map(|e| {
                    (
                        e.id,
                        e.pairs().map(|(f, v)| (f.to_vec(), v.to_vec())).collect(),
                    )
                })
                .collect()
        };
        assert_eq!(all(&back), all(&s));
        assert_eq!(back.groups, s.groups);
        assert_eq!(
            (
                back.log.length,
                back.log.last_id,
                back.log.first_id,
                back.log.max_deleted
            ),
            (
                s.log.length,
                s.log.last_id,
                s.log.first_id,
                s.log.max_deleted
            )
        );
        assert_eq!(back.log.node_count(), s.log.node_count());
    }
}
