//! Bookkeeping checks of a shard against a recount, and the random-operation test that runs
//! them (also used by the hostile-commands integration test).

use super::*;

impl Shard {
    /// Check the shard's bookkeeping against a recount: every entry's accounted bytes equal
    /// its value's measure (and a collection's running count equals its elements' sum), and
    /// the TTL table holds exactly the keys that have an expiry. Returns the bytes the shard's
    /// entries account for, for comparison with `used_memory`.
    pub fn check_invariants(&self) -> Result<usize, String> {
        let mut total = 0;
        let mut with_ttl = 0;
        for (k, e) in self.keys.iter() {
            if e.mem != e.value.mem_size() {
                return Err(format!(
                    "{:?}: accounted {} bytes, measured {}",
                    String::from_utf8_lossy(k),
                    e.mem,
                    e.value.mem_size()
                ));
            }
            let (counted, recount) = match &e.value {
                Value::Str { .. } => (0, 0),
                Value::List(l) => (l.counted(), l.recount()),
                Value::Hash(h) => (h.counted(), h.recount()),
                Value::Set(s) => (s.counted(), s.recount()),
                Value::ZSet(z) => (z.counted(), z.recount()),
                Value::Stream(x) => (x.counted(), x.recount()),
            };
            if counted != recount {
                return Err(format!(
                    "{:?}: collection counts {counted} bytes, recount {recount}",
                    String::from_utf8_lossy(k)
                ));
            }
            if e.value.is_empty_collection() {
                return Err(format!(
                    "{:?}: empty collection kept",
                    String::from_utf8_lossy(k)
                ));
            }
            let in_ttls = self.ttls.get_key_value(hash_key(k), k).is_some();
            if in_ttls != (e.expire_at != 0) {
                return Err(format!(
                    "{:?}: expire_at {} but TTL table membership {in_ttls}",
                    String::from_utf8_lossy(k),
                    e.expire_at
                ));
            }
            with_ttl += (e.expire_at != 0) as usize;
            total += entry_mem(k, e);
        }
        if with_ttl != self.ttls.len() {
            return Err(format!(
                "TTL table has {} keys, {with_ttl} keys have a TTL",
                self.ttls.len()
            ));
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use crate::store::value::{EncodingLimits, Set, ZSet};
    use crate::store::{ManualClock, Store};

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn bytes(r: &mut Rng) -> Vec<u8> {
        let len = match r.below(4) {
            0 => r.below(4),
            1 => r.below(30),
            2 => 40 + r.below(100),
            _ => r.below(2000),
        } as usize;
        if r.below(3) == 0 {
            return r.below(1000).to_string().into_bytes();
        }
        (0..len).map(|_| b'a' + r.below(26) as u8).collect()
    }

    /// Random operations of every kind on a two-database store, with time moving so keys
    /// expire lazily and actively; after each step the accounted memory equals a recount and
    /// the TTL tables match the keys that have a TTL.
    #[test]
    fn accounted_memory_and_ttl_index_match_a_recount_after_random_operations() {
        let limits = EncodingLimits {
            hash_entries: 8,
            hash_value: 16,
            set_intset: 8,
            zset_entries: 8,
            zset_value: 16,
            ..EncodingLimits::default()
        };
        for seed in 1..=20u64 {
            let clock = Arc::new(ManualClock::new(1_000_000));
            let store = Store::with_clock(2, clock.clone());
            let mut r = Rng(seed);
            for step in 0..3000 {
                let now = store.now();
                let db = r.below(2) as usize;
                let key = format!("k{}", r.below(40)).into_bytes();
                let mut g = store.db(db).lock(&key);
                let ttl = if r.below(4) == 0 {
                    now + 1 + r.below(50)
                } else {
                    0
                };
                match r.below(14) {
                    0 => {
                        g.set(&key, Value::string(bytes(&mut r)), ttl, now);
                    }
                    1 => g.set_string(&key, &bytes(&mut r), ttl, now, true),
                    2 => {
                        g.remove(&key, now);
                    }
                    3 => {
                        g.set_expire(&key, ttl, now);
                    }
                    4..=7 => {
                        let kind = r.below(5);
                        let item = bytes(&mut r);
                        let other = bytes(&mut r);
                        let exists = g.get(&key, now).map(|e| std::mem::discriminant(&e.value));
                        let fresh = match kind {
                            0 => Value::List(Box::default()),
                            1 => Value::Hash(crate::store::value::Hash::default()),
                            2 => Value::Set(Box::new(Set::new(&item))),
                            3 => Value::Stream(Box::default()),
                            _ => Value::ZSet(Box::new(ZSet::new(&item, &limits))),
                        };
                        if exists.is_some() && exists != Some(std::mem::discriminant(&fresh)) {
                            continue;
                        }
                        if exists.is_none() {
                            g.set(&key, fresh, ttl, now);
                        }
                        let remove = r.below(3) == 0;
                        g.update(&key, now, |e| match &mut e.value {
                            Value::List(l) => {
                                if remove {
                                    l.pop_front();
                                } else {
                                    l.push_back(&item);
                                }
                            }
                            Value::Hash(h) => {
                                if remove {
                                    h.remove(&item);
                                } else {
                                    h.insert(&item, &other, &limits);
                                }
                            }
                            Value::Set(s) => {
                                if remove {
                                    s.remove(&item);
                                } else {
                                    s.insert(&item, &limits);
                                }
                            }
                            Value::ZSet(z) => {
                                if remove {
                                    z.remove(&item);
                                } else {
                                    z.insert(&item, other.len() as f64, &limits);
                                }
                            }
                            Value::Stream(x) => {
                                if remove {
                                    let first = x.log.first_id;
                                    x.log.delete(first);
                                    x.log.finish_delete(true);
                                } else {
                                    let _ = x.log.append(&[(&item, &other)], None, now, 64, 3);
                                    let (c, _) = x
                                        .groups
                                        .entry(b"g".to_vec())
                                        .or_insert_with(|| {
                                            crate::store::stream::Group::new(Default::default(), 0)
                                        })
                                        .touch_consumer(&other, now);
                                    let id = x.log.last_id;
                                    if let Some(g) = x.groups.get_mut(&b"g"[..]) {
                                        g.deliver(id, &c, now);
                                    }
                                }
                            }
                            Value::Str { .. } => {}
                        });
                    }
                    8 => {
                        // RENAME/MOVE-like: the entry moves as it is.
                        let dst = format!("k{}", r.below(40)).into_bytes();
                        if dst != key && Db::shard_index(&dst) == Db::shard_index(&key) {
                            if let Some(e) = g.remove(&key, now) {
                                g.put_entry(&dst, e, now);
                            }
                        }
                    }
                    9 => {
                        g.update(&key, now, |e| {
                            if let Value::Str { data, .. } = &mut e.value {
                                data.extend_from_slice(b"appended");
                            }
                        });
                    }
                    10 => {
                        g.expire_sample(5, now);
                    }
                    11 => {
                        g.get_read(&key, now);
                    }
                    12 => {
                        if r.below(200) == 0 {
                            g.clear();
                        }
                    }
                    _ => clock.advance(r.below(20)),
                }
                drop(g);
                let mut total = 0;
                for d in 0..2 {
                    for i in 0..SHARDS {
                        total += store
                            .db(d)
                            .lock_shard(i)
                            .check_invariants()
                            .unwrap_or_else(|e| panic!("seed {seed} step {step}: {e}"));
                    }
                }
                let used = store.counters().used_memory.load(Ordering::Relaxed);
                assert_eq!(
                    used, total as i64,
                    "seed {seed} step {step}: used_memory {used} but the entries recount {total}"
                );
            }
        }
    }
}
