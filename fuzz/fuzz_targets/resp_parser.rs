//! Fuzz the request parser (and, in passing, the reply decoder). The checks live in
//! `check.rs`, which `tests/fuzz_corpus.rs` also includes to replay the stored corpus.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "check.rs"]
mod check;

fuzz_target!(|data: &[u8]| {
    check::check(data);
});
