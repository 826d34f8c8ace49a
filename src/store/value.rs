//! The value stored under a key: a string, or one of the collections (each a module of its
//! own, keeping its memory and encoding as it changes).

pub use super::hash::Hash;
pub use super::list::List;
use super::memory::alloc_size;
pub use super::set::Set;
pub use super::stream::Stream;
pub use super::zset::{Score, ZSet};

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
    /// `stream-node-max-bytes` and `stream-node-max-entries`: when a stream starts a node.
    pub stream_node_bytes: usize,
    pub stream_node_entries: usize,
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
            stream_node_bytes: 4096,
            stream_node_entries: 100,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str {
        data: Vec<u8>,
        enc: StrEnc,
    },
    // Collections are boxed so a `Value` (and so every key's entry) stays small: most keys
    // are strings.
    List(Box<List>),
    /// Not boxed: a `Hash` is three words and boxes its large form itself.
    Hash(Hash),
    Set(Box<Set>),
    ZSet(Box<ZSet>),
    /// May be empty: a stream stays when its last entry goes (its IDs and groups remain).
    Stream(Box<Stream>),
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
            Value::Stream(_) => "stream",
        }
    }

    /// `OBJECT ENCODING`: strings as decided when written, collections as they were
    /// converted (one way) while they grew.
    pub fn encoding(&self) -> &'static str {
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
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// Heap bytes held by the value, by the allocator model in `memory`. O(1): collections
    /// keep their own count as they change.
    pub fn mem_size(&self) -> usize {
        match self {
            Value::Str { data, .. } => alloc_size(data.capacity()),
            Value::List(l) => alloc_size(std::mem::size_of::<List>()) + l.mem(),
            Value::Hash(h) => h.mem(),
            Value::Set(s) => alloc_size(std::mem::size_of::<Set>()) + s.mem(),
            Value::ZSet(z) => alloc_size(std::mem::size_of::<ZSet>()) + z.mem(),
            Value::Stream(x) => alloc_size(std::mem::size_of::<Stream>()) + x.mem(),
        }
    }

    /// True for a collection with no elements left (the key must then be deleted).
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Value::Str { .. } => false,
            Value::List(l) => l.is_empty(),
            Value::Hash(h) => h.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
            Value::Stream(_) => false,
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
