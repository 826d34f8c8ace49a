//! Streams: an append-only log of entries (an ID and field-value pairs) plus consumer groups.
//!
//! The log is a B-tree of packed nodes keyed by each node's first (master) ID, as Redis keeps
//! a radix tree of listpacks: a node takes entries until it holds `stream-node-max-entries`
//! or its listpack would reach `stream-node-max-bytes` (see `node`), so a range query is a
//! tree seek (O(log n)) then a walk of the entries it returns. Deleted entries stay in their
//! node as tombstones until the node empties, and `MAXLEN ~`/`MINID ~` trims whole nodes
//! only, with the same node boundaries as Redis, so approximate trimming leaves the same
//! lengths.

pub mod group;
pub mod id;
pub mod node;
pub mod rdb;

pub use group::{Consumer, Group, Nack, ENTRIES_READ_INVALID};
pub use id::{SeqGiven, StreamId};
pub use node::{EntryRef, Node};

use crate::store::memory::alloc_size;
use std::collections::BTreeMap;

/// The largest listpack Redis builds (`STREAM_LISTPACK_MAX_SIZE`, 1 GB): a node never grows
/// past it whatever `stream-node-max-bytes` says, and an entry larger than it is refused.
pub const MAX_NODE_BYTES: usize = 1 << 30;

/// Estimated bytes of a node's place in the tree besides its buffer.
const NODE_COST: usize = 64;

/// How a trim chooses what goes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trim {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Drop entries with IDs below this one.
    MinId(StreamId),
}

#[derive(Clone, Copy, Debug)]
pub struct TrimArgs {
    pub trim: Trim,
    /// `~`: remove whole nodes only.
    pub approx: bool,
    /// At most this many entries removed (0: no limit).
    pub limit: u64,
}

/// Why an entry could not be added.
#[derive(Debug, PartialEq, Eq)]
pub enum AddError {
    /// The ID is not greater than the last one.
    NotGreater,
    /// The fields and values total more than a node can hold.
    TooLarge,
}

/// The entries of a stream and the counters about them.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Log {
    nodes: BTreeMap<StreamId, Node>,
    /// Live entries.
    pub length: u64,
    pub last_id: StreamId,
    /// The first live entry's ID (0-0 when empty).
    pub first_id: StreamId,
    pub max_deleted: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    nodes_mem: usize,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Stream {
    pub log: Log,
    /// Groups by name, in byte order (as Redis's radix tree lists them).
    pub groups: BTreeMap<Vec<u8>, Group>,
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Heap bytes held: the nodes (a running count) and the groups (O(groups)).
    pub fn mem(&self) -> usize {
        self.log.nodes_mem
            + self
                .groups
                .iter()
                .map(|(k, g)| alloc_size(k.len()) + g.mem())
                .sum::<usize>()
    }

    /// The running count of the nodes' bytes and a recount (for the bookkeeping checks).
    pub fn counted(&self) -> usize {
        self.log.nodes_mem
            + self
                .groups
                .values()
                .map(|g| g.counted_consumers())
                .sum::<usize>()
    }

    pub fn recount(&self) -> usize {
        self.log
            .nodes
            .values()
            .map(|n| n.mem() + NODE_COST)
            .sum::<usize>()
            + self
                .groups
                .values()
                .map(|g| g.recount_consumers())
                .sum::<usize>()
    }
}

impl Log {
    /// Add a node rebuilt from a payload (its master ID greater than every node's).
    pub fn push_node(&mut self, master: StreamId, node: Node) {
        self.nodes_mem += node.mem() + NODE_COST;
        self.nodes.insert(master, node);
    }

    /// The nodes with their master IDs, in order.
    pub fn nodes(&self) -> impl Iterator<Item = (&StreamId, &Node)> {
        self.nodes.iter()
    }

    /// Nodes in the tree (`XINFO STREAM`'s `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Add an entry: with a generated ID (`use_id` None: the next after the last), an ID
    /// whose sequence is generated (`ms-*`), or a given one. Nodes fill up as in Redis (see
    /// `Node::is_full`).
    pub fn append(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        use_id: Option<(StreamId, SeqGiven)>,
        now_ms: u64,
        max_bytes: usize,
        max_entries: usize,
    ) -> Result<StreamId, AddError> {
        let id = match use_id {
            Some((id, SeqGiven::Yes)) => id,
            Some((id, SeqGiven::Auto)) => {
                if self.last_id.ms == id.ms {
                    if self.last_id.seq == u64::MAX {
                        // Redis fails here without setting errno, and reports the stale
                        // ERANGE: "Elements are too large to be stored".
                        return Err(AddError::TooLarge);
                    }
                    StreamId::new(id.ms, self.last_id.seq + 1)
                } else {
                    id
                }
            }
            None => {
                if now_ms > self.last_id.ms {
                    StreamId::new(now_ms, 0)
                } else {
                    self.last_id.incr().unwrap_or(StreamId::MIN)
                }
            }
        };
        if id <= self.last_id {
            return Err(AddError::NotGreater);
        }
        let elems: usize = pairs.iter().map(|(f, v)| f.len() + v.len()).sum();
        if elems > MAX_NODE_BYTES {
            return Err(AddError::TooLarge);
        }
        let mut appended = false;
        if let Some((&master, tail)) = self.nodes.iter_mut().next_back() {
            let before = tail.mem();
            if tail.is_full(elems, max_bytes, max_entries) {
                tail.close();
            } else {
                tail.append(master, id, pairs);
                appended = true;
            }
            let after = tail.mem();
            self.nodes_mem = self.nodes_mem + after - before;
        }
        if !appended {
            let n = Node::new(id, pairs);
            self.nodes_mem += n.mem() + NODE_COST;
            self.nodes.insert(id, n);
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Live entries from `start` to `end` (both included), from the end backwards if `rev`.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
    ) -> Box<dyn Iterator<Item = EntryRef<'_>> + '_> {
        if start > end {
            return Box::new(std::iter::empty());
        }
        if !rev {
            let from = self
                .nodes
                .range(..=start)
                .next_back()
                .map(|(k, _)| *k)
                .unwrap_or(StreamId::MIN);
            Box::new(
                self.nodes
                    .range(from..)
                    .flat_map(|(m, n)| n.entries(*m))
                    .skip_while(move |e| e.id < start)
                    .take_while(move |e| e.id <= end)
                    .filter(|e| !e.deleted),
            )
        } else {
            Box::new(
                self.nodes
                    .range(..=end)
                    .rev()
                    .flat_map(|(m, n)| {
                        let v: Vec<EntryRef> = n.entries(*m).collect();
                        v.into_iter().rev()
                    })
                    .skip_while(move |e| e.id > end)
                    .take_while(move |e| e.id >= start)
                    .filter(|e| !e.deleted),
            )
        }
    }

    /// The live entry `id`.
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        self.range(id, id, false).next()
    }

    /// The last live entry's ID.
    pub fn last_valid_id(&self) -> Option<StreamId> {
        // Not the reverse range: that collects a node's entries first, on every `XREADGROUP`.
        self.nodes.iter().rev().find_map(|(m, n)| n.last_live(*m))
    }

    /// The first entry's ID, tombstones included (the maximum ID when there is none), as
    /// Redis's `streamGetEdgeID(s, 1, 0)` gives for rewriting `MINID ~`.
    pub fn first_edge_with_tombstones(&self) -> StreamId {
        self.nodes
            .iter()
            .next()
            .map(|(m, n)| n.first(*m).id)
            .unwrap_or(StreamId::MAX)
    }

    fn refresh_first_id(&mut self) {
        self.first_id = if self.length == 0 {
            StreamId::MIN
        } else {
            self.range(StreamId::MIN, StreamId::MAX, false)
                .next()
                .map(|e| e.id)
                .unwrap_or(StreamId::MIN)
        };
    }

    /// Delete entry `id` (XDEL): true when it was there. The caller updates `max_deleted`
    /// and `first_id` once for all the IDs it deletes (`finish_delete`).
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let Some(at) = node
            .entries(master)
            .find(|e| e.id == id && !e.deleted)
            .map(|e| e.at)
        else {
            return false;
        };
        if node.delete_at(at) {
            let n = self.nodes.remove(&master).expect("found above");
            self.nodes_mem -= n.mem() + NODE_COST;
        }
        self.length -= 1;
        true
    }

    /// After deletions: the first live ID when it may have gone.
    pub fn finish_delete(&mut self, first_gone: bool) {
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if first_gone {
            self.refresh_first_id();
        }
    }

    /// Trim from the oldest entries as Redis's `streamTrim`: whole nodes while they can go,
    /// then (unless approximate) entries of the next node become tombstones. Returns the
    /// number of entries removed.
    pub fn trim(&mut self, args: &TrimArgs) -> u64 {
        let mut deleted = 0u64;
        loop {
            if let Trim::MaxLen(max) = args.trim {
                if self.length <= max {
                    break;
                }
            }
            let Some((&master, node)) = self.nodes.iter_mut().next() else {
                break;
            };
            let entries = node.live as u64;
            if args.limit != 0 && deleted + entries > args.limit {
                break;
            }
            let remove_node = match args.trim {
                Trim::MaxLen(max) => self.length - entries >= max,
                Trim::MinId(min) => node.last < min,
            };
            if remove_node {
                let n = self.nodes.remove(&master).expect("first node");
                self.nodes_mem -= n.mem() + NODE_COST;
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if args.approx {
                break;
            }
            let mut length = self.length;
            let mut marks = Vec::new();
            for e in node.entries(master) {
                let stop = match args.trim {
                    Trim::MaxLen(max) => length <= max,
                    Trim::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                if !e.deleted {
                    marks.push(e.at);
                    length -= 1;
                }
            }
            for at in &marks {
                node.delete_at(*at);
            }
            self.length = length;
            deleted += marks.len() as u64;
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.refresh_first_id();
        }
        deleted
    }

    /// Whether IDs from `start` to `end` may hold a deleted entry (Redis's
    /// `streamRangeHasTombstones`).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted.is_zero() || self.first_id > self.max_deleted {
            return false;
        }
        start <= self.max_deleted && self.max_deleted <= end
    }

    /// The number of entries from the first ever added up to `id`, when it can be known
    /// (Redis's `streamEstimateDistanceFromFirstEverEntry`), else `ENTRIES_READ_INVALID`.
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        } else if id > self.last_id {
            return ENTRIES_READ_INVALID;
        }
        if self.max_deleted.is_zero() || self.max_deleted < self.first_id {
            if id < self.first_id {
                return (self.entries_added - self.length) as i64;
            } else if id == self.first_id {
                return (self.entries_added - self.length + 1) as i64;
            }
        }
        ENTRIES_READ_INVALID
    }

    /// A group's lag: entries not yet delivered to it, when it can be known.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != ENTRIES_READ_INVALID
            && !self.range_has_tombstones(g.last_id, StreamId::MAX)
        {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let read = self.estimate_distance(g.last_id);
        (read != ENTRIES_READ_INVALID).then(|| self.entries_added as i64 - read)
    }

    /// Entry `id` was read by group `g`: advance its last ID and read counter as Redis's
    /// `streamReplyWithRange` does. True when the last ID moved.
    pub fn advance_group(&self, g: &mut Group, id: StreamId) -> bool {
        if id <= g.last_id {
            return false;
        }
        if g.entries_read != ENTRIES_READ_INVALID && !self.range_has_tombstones(id, StreamId::MAX) {
            g.entries_read += 1;
        } else if self.entries_added != 0 {
            g.entries_read = self.estimate_distance(id);
        }
        g.last_id = id;
        true
    }

    /// The nodes Redis's radix tree would have for these node keys (`XINFO STREAM`'s
    /// `radix-tree-nodes`): a compressed radix tree over the 16-byte big-endian IDs.
    pub fn rax_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|k| k.key()).collect();
        if keys.is_empty() {
            return 1;
        }
        rax_count(&keys, 0, true)
    }

    /// Check the nodes' counters against a walk (for tests).
    pub fn check(&self) -> Result<(), String> {
        let mut live = 0u64;
        for (m, n) in &self.nodes {
            let (l, d) = n.recount(*m);
            if (l, d) != (n.live, n.deleted) {
                return Err(format!(
                    "node {m}: counted {:?}, walked {:?}",
                    (n.live, n.deleted),
                    (l, d)
                ));
            }
            live += l as u64;
        }
        if live != self.length {
            return Err(format!("length {} but {live} live entries", self.length));
        }
        Ok(())
    }
}

fn lcp(a: &[u8; 16], b: &[u8; 16]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Nodes of a rax holding `keys` (sorted, sharing their first `depth` bytes) below the point
/// `depth`: the root compresses a prefix all keys share; a branching node has one child per
/// next byte, and an edge longer than one byte adds a compressed node before its child.
fn rax_count(keys: &[[u8; 16]], depth: usize, root: bool) -> usize {
    if depth == 16 {
        return 1;
    }
    let common = lcp(&keys[0], &keys[keys.len() - 1]);
    if root && common > depth {
        return 1 + rax_count(keys, common, false);
    }
    let mut total = 1;
    let mut i = 0;
    while i < keys.len() {
        let b = keys[i][depth];
        let j = i + keys[i..].iter().take_while(|k| k[depth] == b).count();
        let group = &keys[i..j];
        let child = if group.len() == 1 {
            16
        } else {
            lcp(&group[0], &group[group.len() - 1])
        };
        if child - depth >= 2 {
            total += 1;
        }
        total += rax_count(group, child, false);
        i = j;
    }
    total
}

#[cfg(test)]
mod tests;
