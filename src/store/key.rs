//! Keys as the tables store them.
//!
//! Most keys are short (`user:1234`, `session:ab12…`). A key of up to [`INLINE_MAX`] bytes
//! lives inside the table node itself: no allocation of its own, and comparing it during a
//! lookup touches no other cache line. Longer keys get one exact-size allocation.

use super::memory::alloc_size;
use std::fmt;
use std::ops::Deref;

/// Longest key stored inline (the node reserves this many bytes plus a length byte).
pub const INLINE_MAX: usize = 22;

#[derive(Clone)]
pub enum Key {
    Inline { len: u8, buf: [u8; INLINE_MAX] },
    Heap(Box<[u8]>),
}

impl Key {
    pub fn new(b: &[u8]) -> Key {
        if b.len() <= INLINE_MAX {
            let mut buf = [0u8; INLINE_MAX];
            buf[..b.len()].copy_from_slice(b);
            Key::Inline {
                len: b.len() as u8,
                buf,
            }
        } else {
            Key::Heap(b.into())
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, buf } => &buf[..*len as usize],
            Key::Heap(b) => b,
        }
    }

    /// Heap bytes a key of `len` bytes costs beyond its node (0 when stored inline).
    pub const fn heap_size(len: usize) -> usize {
        if len <= INLINE_MAX {
            0
        } else {
            alloc_size(len)
        }
    }
}

impl Deref for Key {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for Key {
    fn eq(&self, o: &Key) -> bool {
        self.as_bytes() == o.as_bytes()
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Key) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
/// Byte order (sorted-set members tie-break on it).
impl Ord for Key {
    fn cmp(&self, o: &Key) -> std::cmp::Ordering {
        self.as_bytes().cmp(o.as_bytes())
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_bytes().escape_ascii().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_are_inline_and_long_ones_on_the_heap() {
        let k = Key::new(b"user:1234");
        assert!(matches!(k, Key::Inline { .. }));
        assert_eq!(&*k, b"user:1234");
        let long = vec![b'x'; INLINE_MAX + 1];
        let k = Key::new(&long);
        assert!(matches!(k, Key::Heap(_)));
        assert_eq!(&*k, &long[..]);
        assert_eq!(&*Key::new(b""), b"");
        assert!(std::mem::size_of::<Key>() <= 24);
    }
}
