//! The value stored under a key. Strings are implemented now; the collection variants exist
//! so `TYPE`, `WRONGTYPE` and memory accounting already cover them.

use super::memory::alloc_size;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

/// How a string is encoded, as `OBJECT ENCODING` reports it. Redis picks `int` for canonical
/// integers and `embstr` for short strings when a value is created, and `raw` once a string is
/// modified in place (`APPEND`, `SETRANGE`); we record the same decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrEnc {
    Int,
    Embstr,
    Raw,
}

/// Strings up to this length are `embstr` in Redis 7.0.
pub const EMBSTR_MAX: usize = 44;

/// The `*-max-*` encoding settings that decide `OBJECT ENCODING` of collections.
#[derive(Clone, Debug)]
pub struct EncodingLimits {
    pub hash_entries: usize,
    pub hash_value: usize,
    pub set_intset: usize,
    pub zset_entries: usize,
    pub zset_value: usize,
}

impl Default for EncodingLimits {
    /// Redis 7.0's defaults (as Debian's build reports them).
    fn default() -> Self {
        EncodingLimits {
            hash_entries: 512,
            hash_value: 64,
            set_intset: 512,
            zset_entries: 128,
            zset_value: 64,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str { data: Vec<u8>, enc: StrEnc },
    List(VecDeque<Vec<u8>>),
    // The larger collections are boxed so a `Value` (and so every key's entry) stays small:
    // most keys are strings.
    Hash(Box<HashMap<Vec<u8>, Vec<u8>>>),
    Set(Box<HashSet<Vec<u8>>>),
    ZSet(Box<ZSet>),
}

/// A sorted set: score by member, and members ordered by (score, member).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSet {
    pub scores: HashMap<Vec<u8>, f64>,
    pub order: BTreeSet<(Score, Vec<u8>)>,
}

/// An `f64` with a total order (scores are never NaN).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score(pub f64);
impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Score {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

impl ZSet {
    pub fn insert(&mut self, member: Vec<u8>, score: f64) -> bool {
        let new = match self.scores.insert(member.clone(), score) {
            Some(old) => {
                self.order.remove(&(Score(old), member.clone()));
                false
            }
            None => true,
        };
        self.order.insert((Score(score), member));
        new
    }
}

pub use crate::num::parse_i64 as parse_canonical_i64;

impl Value {
    /// A string value with the encoding Redis's `tryObjectEncoding` would choose.
    pub fn string(data: Vec<u8>) -> Value {
        let enc = Value::string_encoding(&data);
        Value::Str { data, enc }
    }

    /// The encoding Redis's `tryObjectEncoding` picks for a new string.
    pub fn string_encoding(data: &[u8]) -> StrEnc {
        if parse_canonical_i64(data).is_some() {
            StrEnc::Int
        } else if data.len() <= EMBSTR_MAX {
            StrEnc::Embstr
        } else {
            StrEnc::Raw
        }
    }

    /// A string created without encoding detection (`embstr` when short, else `raw`).
    pub fn plain_string(data: Vec<u8>) -> Value {
        let enc = if data.len() <= EMBSTR_MAX {
            StrEnc::Embstr
        } else {
            StrEnc::Raw
        };
        Value::Str { data, enc }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str { .. } => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// `OBJECT ENCODING` under Redis's default limits.
    pub fn encoding(&self) -> &'static str {
        self.encoding_under(&EncodingLimits::default())
    }

    /// `OBJECT ENCODING` under the given (configured) limits. The collections here decide it
    /// from their current contents; they only grow for now, so this matches Redis's one-way
    /// conversions.
    pub fn encoding_under(&self, l: &EncodingLimits) -> &'static str {
        match self {
            Value::Str {
                enc: StrEnc::Int, ..
            } => "int",
            Value::Str {
                enc: StrEnc::Embstr,
                ..
            } => "embstr",
            Value::Str {
                enc: StrEnc::Raw, ..
            } => "raw",
            Value::List(_) => "quicklist",
            Value::Hash(h)
                if h.len() <= l.hash_entries
                    && h.iter()
                        .all(|(k, v)| k.len() <= l.hash_value && v.len() <= l.hash_value) =>
            {
                "listpack"
            }
            Value::Hash(_) => "hashtable",
            Value::Set(s)
                if s.len() <= l.set_intset
                    && s.iter().all(|m| parse_canonical_i64(m).is_some()) =>
            {
                "intset"
            }
            Value::Set(_) => "hashtable",
            Value::ZSet(z)
                if z.scores.len() <= l.zset_entries
                    && z.scores.keys().all(|m| m.len() <= l.zset_value) =>
            {
                "listpack"
            }
            Value::ZSet(_) => "skiplist",
        }
    }

    /// Heap bytes held by the value, by the allocator model in `memory`.
    pub fn mem_size(&self) -> usize {
        match self {
            Value::Str { data, .. } => alloc_size(data.capacity()),
            Value::List(l) => {
                alloc_size(l.capacity() * 24)
                    + l.iter().map(|e| alloc_size(e.capacity())).sum::<usize>()
            }
            Value::Hash(h) => {
                alloc_size(64)
                    + alloc_size(h.capacity() * 49)
                    + h.iter()
                        .map(|(k, v)| alloc_size(k.capacity()) + alloc_size(v.capacity()))
                        .sum::<usize>()
            }
            Value::Set(s) => {
                alloc_size(64)
                    + alloc_size(s.capacity() * 25)
                    + s.iter().map(|m| alloc_size(m.capacity())).sum::<usize>()
            }
            Value::ZSet(z) => {
                alloc_size(96)
                    + alloc_size(z.scores.capacity() * 33)
                    + z.scores
                        .keys()
                        .map(|m| 2 * alloc_size(m.capacity()) + 48)
                        .sum::<usize>()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_integers_follow_string2ll() {
        assert_eq!(parse_canonical_i64(b"123"), Some(123));
        assert_eq!(parse_canonical_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_canonical_i64(b"9223372036854775808"), None);
        for bad in [&b"+1"[..], b"01", b" 1", b"1 ", b"-0", b"", b"-", b"1a"] {
            assert_eq!(parse_canonical_i64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn encodings_match_redis_thresholds() {
        assert_eq!(Value::string(b"12".to_vec()).encoding(), "int");
        assert_eq!(Value::string(vec![b'a'; 44]).encoding(), "embstr");
        assert_eq!(Value::string(vec![b'a'; 45]).encoding(), "raw");
    }
}
