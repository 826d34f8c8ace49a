//! `aof-load-truncated no`: as in Redis, a torn last record then stops the start (exit code
//! 1, file untouched, the message points at the option) instead of being cut off.

mod aof_common;
mod support;

use aof_common::{resp_str, run_expecting_exit};
use std::time::Duration;

#[test]
fn with_aof_load_truncated_no_a_torn_last_record_stops_the_start_and_keeps_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let aof = dir.path().join("appendonly.aof");
    let mut file = [resp_str(&["SELECT", "0"]), resp_str(&["SET", "a", "1"])].concat();
    let torn = resp_str(&["SET", "b", "2"]);
    file.extend_from_slice(&torn[..torn.len() - 4]);
    std::fs::write(&aof, &file).unwrap();
    let (code, out) = run_expecting_exit(
        dir.path(),
        &["--appendonly", "yes", "--aof-load-truncated", "no"],
        Duration::from_secs(3),
    );
    let mut problems = Vec::new();
    if code != Some(1) {
        problems.push(format!(
            "exit code {code:?} (None: it started), expected 1; output: {out}"
        ));
    }
    if !out.contains("aof-load-truncated") {
        problems.push(format!(
            "the message does not point at aof-load-truncated: {out}"
        ));
    }
    if std::fs::read(&aof).unwrap() != file {
        problems.push("the file was truncated although aof-load-truncated is no".into());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
