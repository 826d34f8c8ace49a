//! Replays the fuzzer's stored inputs through the same checks the `resp_parser` fuzz target
//! runs (see `fuzz/README.md`), so `cargo test` catches regressions without a nightly
//! toolchain; and a property test of the parser on well-formed, arbitrarily split requests.

#[path = "../fuzz/fuzz_targets/check.rs"]
mod check;

use std::path::{Path, PathBuf};

use check::{End, Outcome};
use ferrokv::resp::parse::encode_request;
use proptest::prelude::*;

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("read corpus directory").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_stored_fuzz_input_parses_consistently() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let corpus = files_in(&fuzz.join("corpus/resp_parser"));
    assert!(
        !corpus.is_empty(),
        "no seed inputs in fuzz/corpus/resp_parser"
    );
    // Crashes the fuzzer found locally (not under version control) are replayed too.
    let artifacts = files_in(&fuzz.join("artifacts/resp_parser"));
    for path in corpus.iter().chain(&artifacts) {
        let data = std::fs::read(path).expect("read fuzz input");
        let result = std::panic::catch_unwind(|| check::check(&data));
        assert!(result.is_ok(), "fuzz input {} fails", path.display());
    }
}

fn request() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let arg = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..40),
        // Arguments made of protocol characters, to look like headers and line ends.
        proptest::collection::vec(
            proptest::sample::select(b"*$\r\n-0123456789 \"'".to_vec()),
            0..12
        ),
    ];
    proptest::collection::vec(arg, 1..8)
}

proptest! {
    #[test]
    fn encoded_requests_split_anywhere_parse_back_to_their_arguments(
        requests in proptest::collection::vec(request(), 1..5),
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..6),
        unauthenticated in any::<bool>(),
    ) {
        let mut stream = Vec::new();
        for r in &requests {
            let args: Vec<&[u8]> = r.iter().map(|a| a.as_slice()).collect();
            encode_request(&args, &mut stream);
        }
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        at.push(0);
        at.push(stream.len());
        at.sort_unstable();
        let chunks: Vec<&[u8]> = at.windows(2).map(|w| &stream[w[0]..w[1]]).collect();

        let got = check::feed(chunks, unauthenticated);
        let want = Outcome {
            requests: requests
                .iter()
                .map(|r| r.iter().map(|a| bytes::Bytes::copy_from_slice(a)).collect())
                .collect(),
            end: End::NeedMore { in_progress: false },
        };
        prop_assert_eq!(got, want);
    }
}
