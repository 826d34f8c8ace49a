//! `aof_current_size` (which drives the automatic rewrite) must be the file's real length,
//! also when records are appended while a rewrite hands over to the new file. (Under
//! `everysec` the writer thread loops fastest, which makes the hand-over race likely.)

mod aof_common;
mod support;

use aof_common::writers::Writers;
use aof_common::{connect, info_field, start_ferrokv};
use std::time::Duration;

#[test]
fn aof_current_size_matches_the_file_after_each_rewrite_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let aof = dir.path().join("appendonly.aof");
    let mut p = start_ferrokv(
        dir.path(),
        &["--appendonly", "yes", "--appendfsync", "everysec"],
        &[],
        &log,
    );
    let mut con = connect(&p.addr());
    let mut writers = Writers::new(6, 50);
    let mut wrong = Vec::new();
    for round in 0..30 {
        let running = writers.start(&p.addr(), 20 + round, Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(40));
        let _: String = redis::cmd("BGREWRITEAOF").query(&mut con).unwrap();
        aof_common::wait_rewrite_done(&mut con, Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
        writers.finish_and_verify(running, &p.addr(), &format!("after rewrite {round}"));
        // Quiet now: compare.
        let len = std::fs::metadata(&aof).unwrap().len();
        let reported: u64 = info_field(&mut con, "aof_current_size").parse().unwrap();
        if reported != len {
            wrong.push(format!(
                "after rewrite {round}: aof_current_size {reported}, file {len} bytes"
            ));
        }
    }
    // The file itself is right: a restart rebuilds exactly what the writers know.
    let running = writers.start(&p.addr(), 99, Duration::from_millis(100));
    running.expect_kill();
    aof_common::restart_ferrokv(
        &mut p,
        dir.path(),
        &["--appendonly", "yes", "--appendfsync", "everysec"],
        &[],
    );
    writers.finish_and_verify(running, &p.addr(), "after a restart");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
