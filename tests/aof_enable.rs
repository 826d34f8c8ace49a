//! Switching the AOF on at runtime (`CONFIG SET appendonly yes`) while clients write: the
//! snapshot it starts from and the records after it together hold every acknowledged write.

mod aof_common;
mod support;

use aof_common::writers::Writers;
use aof_common::{connect, info_field, restart_ferrokv, start_ferrokv};
use std::time::Duration;

#[test]
fn config_set_appendonly_yes_under_load_captures_every_write_before_and_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let mut p = start_ferrokv(dir.path(), &["--appendfsync", "always"], &[], &log);
    let mut con = connect(&p.addr());
    assert_eq!(info_field(&mut con, "aof_enabled"), "0");
    let mut writers = Writers::new(6, 20);
    let running = writers.start(&p.addr(), 7, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(400));
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendonly")
        .arg("yes")
        .query(&mut con)
        .unwrap();
    assert_eq!(info_field(&mut con, "aof_enabled"), "1");
    std::thread::sleep(Duration::from_millis(400));
    running.expect_kill();
    p.kill();
    restart_ferrokv(
        &mut p,
        dir.path(),
        &["--appendonly", "yes", "--appendfsync", "always"],
        &[],
    );
    writers.finish_and_verify(running, &p.addr(), "after switching the AOF on and a kill");
    // And it keeps logging after the restart.
    let running = writers.start(&p.addr(), 8, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    running.expect_kill();
    p.kill();
    restart_ferrokv(
        &mut p,
        dir.path(),
        &["--appendonly", "yes", "--appendfsync", "always"],
        &[],
    );
    writers.finish_and_verify(running, &p.addr(), "after a second kill");
    assert!(writers.total_ops > 200, "only {} writes", writers.total_ops);
}
