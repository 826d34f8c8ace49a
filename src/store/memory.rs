//! Byte-level memory accounting.
//!
//! `used_memory` is kept incrementally: every mutation adds the size difference of the entry it
//! touched to one global counter. Sizes follow a model of glibc's malloc (16-byte size classes,
//! 8 bytes of chunk header, 32-byte minimum), so the figure tracks what the process really
//! holds for its data rather than just payload bytes.

/// The bytes the allocator reserves for a request of `n` bytes.
pub const fn alloc_size(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let c = (n + 8 + 15) & !15;
    if c < 32 {
        32
    } else {
        c
    }
}
