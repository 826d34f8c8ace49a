//! Consumer groups: the last delivered ID, the read counter, the pending entries list (PEL:
//! every entry delivered and not yet acknowledged, with its consumer, delivery time and
//! count) and the consumers, each with its own view of the PEL.

use super::id::StreamId;
use crate::store::memory::alloc_size;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The read counter is unknown (Redis's `SCG_INVALID_ENTRIES_READ`).
pub const ENTRIES_READ_INVALID: i64 = -1;

/// A pending entry: delivered, not acknowledged.
#[derive(Clone, Debug, PartialEq)]
pub struct Nack {
    /// When it was last delivered (Unix ms).
    pub delivery_time: u64,
    pub delivery_count: u64,
    /// The consumer it was last delivered to (shared with the consumer's key).
    pub consumer: Arc<[u8]>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Consumer {
    /// Last time it read or claimed (Unix ms).
    pub seen_time: u64,
    /// Its pending entries (the details are in the group's PEL).
    pub pel: BTreeSet<StreamId>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub last_id: StreamId,
    /// Entries read by the group so far, or `ENTRIES_READ_INVALID`.
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Arc<[u8]>, Consumer>,
    /// Bytes of the consumers' names and records (the PEL's are counted from its length).
    consumers_mem: usize,
}

/// Estimated bytes per pending entry: its record in the group's tree and its ID in the
/// consumer's.
const PENDING_COST: usize = 64 + 24;
/// Estimated bytes of a consumer's record besides its name.
const CONSUMER_COST: usize = 64;
/// A group's own record.
const GROUP_COST: usize = 96;

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
            consumers_mem: 0,
        }
    }

    /// Heap bytes held by the group (its name is counted by the stream). O(1).
    pub fn mem(&self) -> usize {
        GROUP_COST + self.pel.len() * PENDING_COST + self.consumers_mem
    }

    fn consumer_cost(name: &[u8]) -> usize {
        alloc_size(name.len() + 16) + CONSUMER_COST
    }

    /// Create consumer `name` unless it exists; true when created.
    pub fn create_consumer(&mut self, name: &[u8], now: u64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers_mem += Self::consumer_cost(name);
        self.consumers.insert(
            Arc::from(name),
            Consumer {
                seen_time: now,
                pel: BTreeSet::new(),
            },
        );
        true
    }

    /// The consumer's shared name, creating it when missing (true: created); its seen time
    /// becomes `now` either way (Redis's lookup refreshes it).
    pub fn touch_consumer(&mut self, name: &[u8], now: u64) -> (Arc<[u8]>, bool) {
        let created = self.create_consumer(name, now);
        let c = self.consumers.get_mut(name).expect("created above");
        c.seen_time = now;
        let (k, _) = self.consumers.get_key_value(name).expect("created above");
        (k.clone(), created)
    }

    /// Delete consumer `name` and its pending entries; the number it had, None if missing.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        self.consumers_mem -= Self::consumer_cost(name);
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    /// Acknowledge `id`: true when it was pending.
    /// Whether entry `id` is pending (delivered and not acknowledged).
    pub fn is_pending(&self, id: StreamId) -> bool {
        self.pel.contains_key(&id)
    }

    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(n) => {
                if let Some(c) = self.consumers.get_mut(&n.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Entry `id` was delivered to `consumer` by a read: pending for it from `now`, with a
    /// count of 1 (also when another consumer had it: it is reassigned, as Redis does).
    pub fn deliver(&mut self, id: StreamId, consumer: &Arc<[u8]>, now: u64) {
        if let Some(old) = self.pel.get(&id) {
            let old = old.consumer.clone();
            if let Some(c) = self.consumers.get_mut(&old) {
                c.pel.remove(&id);
            }
        }
        self.pel.insert(
            id,
            Nack {
                delivery_time: now,
                delivery_count: 1,
                consumer: consumer.clone(),
            },
        );
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }

    /// Give pending entry `id` to `consumer` (which exists), moving it from its owner.
    pub fn assign(&mut self, id: StreamId, consumer: &Arc<[u8]>) {
        let Some(n) = self.pel.get_mut(&id) else {
            return;
        };
        if n.consumer != *consumer {
            let old = std::mem::replace(&mut n.consumer, consumer.clone());
            if let Some(c) = self.consumers.get_mut(&old) {
                c.pel.remove(&id);
            }
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }

    /// Bytes the consumers account for, recounted (for the bookkeeping checks).
    pub fn recount_consumers(&self) -> usize {
        self.consumers.keys().map(|k| Self::consumer_cost(k)).sum()
    }

    pub fn counted_consumers(&self) -> usize {
        self.consumers_mem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_reassigns_and_ack_clears_both_lists() {
        let mut g = Group::new(StreamId::MIN, 0);
        let (a, _) = g.touch_consumer(b"a", 1);
        let (b, created) = g.touch_consumer(b"b", 1);
        assert!(created);
        let id = StreamId::new(1, 0);
        g.deliver(id, &a, 5);
        g.deliver(id, &b, 6);
        assert!(g.consumers[&a].pel.is_empty());
        assert!(g.consumers[&b].pel.contains(&id));
        assert!(g.ack(id));
        assert!(g.consumers[&b].pel.is_empty() && g.pel.is_empty());
        assert_eq!(g.delete_consumer(b"a"), Some(0));
        assert_eq!(g.counted_consumers(), g.recount_consumers());
    }
}
