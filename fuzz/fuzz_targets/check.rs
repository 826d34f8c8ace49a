//! The properties the `resp_parser` fuzz target checks, shared with the plain test that
//! replays the stored corpus (`tests/fuzz_corpus.rs` includes this file with `#[path]`), so
//! there is one copy of the logic. It may use only `ferrokv`, `bytes` and `std`: both crates
//! that include it have those and nothing else in common.

use bytes::{Bytes, BytesMut};
use ferrokv::resp::parse::{encode_request, ProtocolError, INLINE_MAX};
use ferrokv::resp::{Frame, RequestParser};

/// How feeding a byte stream to one parser went: the requests it returned, in order, and how
/// it stopped.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub requests: Vec<Vec<Bytes>>,
    pub end: End,
}

#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// Every byte was fed and the parser wants more; `in_progress` is whether it holds part
    /// of a multibulk request.
    NeedMore { in_progress: bool },
    /// A protocol error, after which the connection is closed: the rest is never parsed.
    Error(ProtocolError),
}

/// Feed `chunks` one after another to a fresh parser, taking every complete request after
/// each chunk, as a connection does after each read.
pub fn feed<'a>(chunks: impl IntoIterator<Item = &'a [u8]>, unauthenticated: bool) -> Outcome {
    let mut parser = RequestParser::new();
    parser.unauthenticated = unauthenticated;
    let mut buf = BytesMut::new();
    let mut requests = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match parser.parse(&mut buf) {
                Ok(Some(request)) => {
                    assert!(!request.is_empty(), "an empty request was returned");
                    requests.push(request);
                }
                Ok(None) => break,
                Err(e) => {
                    return Outcome {
                        requests,
                        end: End::Error(e),
                    }
                }
            }
        }
    }
    let in_progress = parser.in_progress();
    Outcome {
        requests,
        end: End::NeedMore { in_progress },
    }
}

fn is_too_big(end: &End) -> bool {
    matches!(
        end,
        End::Error(
            ProtocolError::TooBigInline
                | ProtocolError::TooBigMbulkCount
                | ProtocolError::TooBigBulkCount
        )
    )
}

/// `split` must be what `whole` is. Above `INLINE_MAX` bytes there is one allowed
/// difference: a line longer than the limit whose end is already buffered is accepted, while
/// the same line read in pieces is refused once more than the limit is buffered without its
/// end (as in Redis, the outcome then depends on how the bytes arrive). So for large inputs
/// `split` may instead stop early with a "too big" error after a prefix of `whole`'s requests.
fn assert_same(data: &[u8], whole: &Outcome, split: &Outcome, how: &str) {
    if split == whole {
        return;
    }
    if data.len() > INLINE_MAX
        && is_too_big(&split.end)
        && whole.requests.starts_with(&split.requests)
    {
        return;
    }
    panic!(
        "fed {how}, the parser disagrees with the whole input fed at once\n\
         input ({} bytes): {:?}\nwhole: {whole:?}\n{how}: {split:?}",
        data.len(),
        Bytes::copy_from_slice(data),
    );
}

/// Everything the fuzzer checks about one input.
pub fn check(data: &[u8]) {
    for unauthenticated in [false, true] {
        check_parser(data, unauthenticated);
    }
    check_frames(data);
}

fn check_parser(data: &[u8], unauthenticated: bool) {
    let n = data.len();
    // (a) no panic, and the reference result.
    let whole = feed([data], unauthenticated);

    // (b) the same requests and end, however the bytes arrive.
    let first = data.first().copied().unwrap_or(0) as usize;
    let mut cuts = vec![first % (n + 1), n - first % (n + 1), n * first / 255];
    if n < 64 {
        cuts.extend(0..=n);
    }
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts {
        let (a, b) = data.split_at(cut);
        let split = feed([a, b], unauthenticated);
        assert_same(data, &whole, &split, &format!("split at {cut}"));
    }
    if n < 512 {
        let bytewise = feed(data.chunks(1), unauthenticated);
        assert_same(data, &whole, &bytewise, "byte by byte");
    }

    // (c) each request, re-encoded as multibulk, parses back to the same arguments (with
    // the authenticated limits: an inline request has no argument-count limit).
    for request in &whole.requests {
        let args: Vec<&[u8]> = request.iter().map(|a| a.as_ref()).collect();
        let mut encoded = Vec::new();
        encode_request(&args, &mut encoded);
        let again = feed([encoded.as_slice()], false);
        let expected = Outcome {
            requests: vec![request.clone()],
            end: End::NeedMore { in_progress: false },
        };
        assert_eq!(
            again, expected,
            "re-encoded request did not parse back: {encoded:?}"
        );
    }
}

/// The reply decoder only has to not panic, and to report sizes within the input.
fn check_frames(data: &[u8]) {
    let mut rest = data;
    while let Some((_frame, used)) = Frame::parse(rest) {
        assert!(
            used > 0 && used <= rest.len(),
            "Frame::parse used {used} of {} bytes",
            rest.len()
        );
        rest = &rest[used..];
    }
}
