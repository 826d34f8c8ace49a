//! AOF rewrite (BGREWRITEAOF and the automatic one) while writers are running: the file
//! shrinks, nothing acknowledged is lost when the server dies during or after a rewrite, and
//! the result is a file Redis's own checker accepts.

mod aof_common;
mod support;

use aof_common::writers::Writers;
use aof_common::{connect, info_field, wait_rewrite_done};
use std::path::Path;
use std::time::{Duration, Instant};
use support::server::{Server, Target};

const ALWAYS: &[&str] = &["--appendonly", "yes", "--appendfsync", "always"];

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().len()
}

fn bgrewriteaof(con: &mut redis::Connection) {
    let r: String = redis::cmd("BGREWRITEAOF").query(con).unwrap();
    assert_eq!(r, "Background append only file rewriting started");
}

/// Static data the writers never touch, big enough that writing a rewrite takes a while.
const STATIC_DB: i64 = 5;
const STATIC_KEYS: usize = 8000;

fn static_value(i: usize) -> String {
    format!("{i}:{}", "s".repeat(1000))
}

fn load_static(con: &mut redis::Connection) {
    let _: () = redis::cmd("SELECT").arg(STATIC_DB).query(con).unwrap();
    for chunk in (0..STATIC_KEYS).collect::<Vec<_>>().chunks(500) {
        let mut c = redis::cmd("MSET");
        for &i in chunk {
            c.arg(format!("static:{i}")).arg(static_value(i));
        }
        let _: () = c.query(con).unwrap();
    }
    let _: () = redis::cmd("SELECT").arg(0).query(con).unwrap();
}

fn check_static(con: &mut redis::Connection, context: &str) {
    let _: () = redis::cmd("SELECT").arg(STATIC_DB).query(con).unwrap();
    let n: usize = redis::cmd("DBSIZE").query(con).unwrap();
    assert_eq!(n, STATIC_KEYS, "{context}: static keys");
    for i in (0..STATIC_KEYS).step_by(97) {
        let v: String = redis::cmd("GET")
            .arg(format!("static:{i}"))
            .query(con)
            .unwrap();
        assert_eq!(v, static_value(i), "{context}: static:{i}");
    }
    let _: () = redis::cmd("SELECT").arg(0).query(con).unwrap();
}

#[test]
fn bgrewriteaof_under_load_shrinks_the_file_and_loses_nothing_when_killed_during_or_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let aof = dir.path().join("appendonly.aof");
    let mut server = Server::start_with(Target::Ferrokv, ALWAYS, Some(dir.path().to_path_buf()));
    // Six writers overwriting ~100 keys with 200-byte values: the log grows fast, the data not.
    let mut writers = Writers::new(6, 200);

    // Three rewrites with the writers running.
    let running = writers.start(&server.addr(), 1, Duration::from_secs(15));
    let mut con = connect(&server.addr());
    let mut ratios = Vec::new();
    for round in 1..=3 {
        std::thread::sleep(Duration::from_millis(600));
        let before = file_len(&aof);
        bgrewriteaof(&mut con);
        wait_rewrite_done(&mut con, Duration::from_secs(10));
        let after = file_len(&aof);
        assert_eq!(info_field(&mut con, "aof_rewrites"), round.to_string());
        assert_eq!(info_field(&mut con, "aof_last_bgrewrite_status"), "ok");
        assert!(
            after < before,
            "rewrite {round}: file {before} bytes before, {after} after"
        );
        ratios.push(after as f64 / before as f64);
    }
    assert!(
        ratios[0] < 0.5,
        "many overwrites, yet the first rewrite kept {:.0}% of the file",
        ratios[0] * 100.0
    );
    writers.finish_and_verify(running, &server.addr(), "after three live rewrites");

    // Killed during a rewrite.
    load_static(&mut con);
    let running = writers.start(&server.addr(), 2, Duration::from_secs(15));
    std::thread::sleep(Duration::from_millis(300));
    bgrewriteaof(&mut con);
    let during = info_field(&mut con, "aof_rewrite_in_progress") == "1";
    running.expect_kill();
    let _ = server.child.kill();
    let _ = server.child.wait();
    server.restart();
    writers.finish_and_verify(running, &server.addr(), "after a kill during a rewrite");
    let mut con = connect(&server.addr());
    check_static(&mut con, "after a kill during a rewrite");

    // Killed shortly after a rewrite finished.
    let running = writers.start(&server.addr(), 3, Duration::from_secs(15));
    std::thread::sleep(Duration::from_millis(300));
    bgrewriteaof(&mut con);
    wait_rewrite_done(&mut con, Duration::from_secs(10));
    assert_eq!(info_field(&mut con, "aof_last_bgrewrite_status"), "ok");
    std::thread::sleep(Duration::from_millis(200));
    running.expect_kill();
    let _ = server.child.kill();
    let _ = server.child.wait();
    server.restart();
    writers.finish_and_verify(running, &server.addr(), "after a kill after a rewrite");
    let mut con = connect(&server.addr());
    check_static(&mut con, "after a kill after a rewrite");

    // Quiet: the size INFO reports is the file's, and Redis's checker accepts the file.
    bgrewriteaof(&mut con);
    wait_rewrite_done(&mut con, Duration::from_secs(10));
    let len = file_len(&aof);
    assert_eq!(info_field(&mut con, "aof_current_size"), len.to_string());
    assert_eq!(info_field(&mut con, "aof_base_size"), len.to_string());
    let _: () = redis::cmd("SET")
        .arg("after")
        .arg("rewrite")
        .query(&mut con)
        .unwrap();
    let grown = file_len(&aof);
    assert!(grown > len);
    assert_eq!(info_field(&mut con, "aof_current_size"), grown.to_string());
    match aof_common::redis_check_aof(&aof) {
        Some((ok, text)) => assert!(ok, "redis-check-aof rejects the rewritten file:\n{text}"),
        None => eprintln!("SKIPPED redis-check-aof: not installed"),
    }
    server.restart();
    let mut con = connect(&server.addr());
    check_static(&mut con, "after a restart on the quiet rewritten file");
    let v: String = redis::cmd("GET").arg("after").query(&mut con).unwrap();
    assert_eq!(v, "rewrite");
    let _: () = redis::cmd("DEL").arg("after").query(&mut con).unwrap();
    let running = writers.start(&server.addr(), 4, Duration::from_secs(1));
    writers.finish_and_verify(running, &server.addr(), "after a restart on the quiet file");
    eprintln!(
        "rewrite: {} acknowledged writes; sizes after/before {:?}; kill hit a running rewrite: {during}",
        writers.total_ops, ratios
    );
}

#[test]
fn the_automatic_rewrite_starts_when_the_file_doubles_and_keeps_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let aof = dir.path().join("appendonly.aof");
    let mut server = Server::start_with(Target::Ferrokv, ALWAYS, Some(dir.path().to_path_buf()));
    let mut con = connect(&server.addr());
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("auto-aof-rewrite-percentage")
        .arg(100)
        .arg("auto-aof-rewrite-min-size")
        .arg(64 * 1024)
        .query(&mut con)
        .unwrap();
    assert_eq!(info_field(&mut con, "aof_rewrites"), "0");
    // Overwrite 50 keys until a rewrite has happened (bounded).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut n = 0u64;
    let mut peak = 0;
    let mut last = [0u64; 50];
    while info_field(&mut con, "aof_rewrites") == "0" {
        assert!(
            Instant::now() < deadline,
            "no automatic rewrite after {n} writes"
        );
        let mut p = redis::pipe();
        for _ in 0..50 {
            n += 1;
            last[(n % 50) as usize] = n;
            p.cmd("SET")
                .arg(format!("k{}", n % 50))
                .arg(format!("{n}:{}", "x".repeat(100)))
                .ignore();
        }
        let _: () = p.query(&mut con).unwrap();
        peak = peak.max(file_len(&aof));
    }
    wait_rewrite_done(&mut con, Duration::from_secs(10));
    assert_eq!(info_field(&mut con, "aof_last_bgrewrite_status"), "ok");
    assert!(
        peak >= 64 * 1024,
        "rewrote before reaching the minimum size: {peak}"
    );
    assert!(
        file_len(&aof) < peak / 2,
        "the rewrite did not shrink the file"
    );
    server.restart();
    let mut con = connect(&server.addr());
    for (k, last) in last.iter().enumerate() {
        let v: String = redis::cmd("GET")
            .arg(format!("k{k}"))
            .query(&mut con)
            .unwrap();
        assert_eq!(v, format!("{last}:{}", "x".repeat(100)), "k{k}");
    }
}
