//! A full disk (simulated with the `FERROKV_AOF_FAULT_FILE` hook): writes are refused with
//! MISCONF while reads go on, writes already executed wait for the disk under `always`, and
//! once space is back the server recovers by itself and nothing acknowledged is lost.

mod aof_common;
mod support;

use aof_common::{connect, info_field, restart_ferrokv, start_ferrokv};
use std::time::{Duration, Instant};

const MISCONF: &str =
    "MISCONF Errors writing to the AOF file: No space left on device (os error 28)";

fn set(con: &mut redis::Connection, k: &str, v: &str) -> Result<(), String> {
    redis::cmd("SET")
        .arg(k)
        .arg(v)
        .query::<()>(con)
        .map_err(|e| {
            // Reassemble the wire text: code + detail.
            match (e.code(), e.detail()) {
                (Some(c), Some(d)) => format!("{c} {d}"),
                _ => e.to_string(),
            }
        })
}

fn get(con: &mut redis::Connection, k: &str) -> Option<String> {
    redis::cmd("GET").arg(k).query(con).unwrap()
}

fn wait_status(con: &mut redis::Connection, want: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let got = info_field(con, "aof_last_write_status");
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "aof_last_write_status still {got} after {timeout:?}, wanted {want}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_full_disk_refuses_writes_with_misconf_keeps_reads_and_recovers_without_losing_acknowledged_writes(
) {
    let dir = tempfile::tempdir().unwrap();
    let fault = dir.path().join("disk-full");
    let fault_s = fault.to_str().unwrap().to_string();
    let envs = [("FERROKV_AOF_FAULT_FILE", fault_s.as_str())];
    let args = ["--appendonly", "yes", "--appendfsync", "always"];
    let log = dir.path().join("server.log");
    let mut p = start_ferrokv(dir.path(), &args, &envs, &log);
    let mut c = connect(&p.addr());
    set(&mut c, "before", "1").unwrap();
    assert_eq!(info_field(&mut c, "aof_last_write_status"), "ok");

    // The disk fills up. The next write is executed but cannot reach the file: under
    // `always` its client waits.
    std::fs::write(&fault, b"").unwrap();
    let waiting = {
        let addr = p.addr();
        std::thread::spawn(move || {
            let mut c = connect(&addr);
            let r = set(&mut c, "pending", "2");
            (r, Instant::now())
        })
    };
    wait_status(&mut c, "err", Duration::from_secs(5));
    assert_eq!(set(&mut c, "refused", "3"), Err(MISCONF.to_string()));
    let r: Result<i64, _> = redis::cmd("INCR").arg("before").query(&mut c);
    assert!(r.is_err(), "INCR accepted while the disk is full");
    // Reads go on: old data, and the executed-but-unlogged write is visible (as in Redis).
    assert_eq!(get(&mut c, "before").as_deref(), Some("1"));
    assert_eq!(get(&mut c, "refused"), None);
    let size: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(size, 2);
    let errors: u64 = info_field(&mut c, "aof_write_errors").parse().unwrap();
    assert!(errors >= 1);
    // Still full after a while: the waiting client has no reply yet.
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        !waiting.is_finished(),
        "a write was acknowledged while the disk was full"
    );
    let errors_later: u64 = info_field(&mut c, "aof_write_errors").parse().unwrap();
    assert!(errors_later > errors, "the writer stopped retrying");
    // A rewrite cannot succeed on a full disk, and says so.
    let r: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    assert_eq!(r, "Background append only file rewriting started");
    aof_common::wait_rewrite_done(&mut c, Duration::from_secs(5));
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "err");
    assert!(
        !waiting.is_finished(),
        "a write was acknowledged while the disk was full"
    );

    // Space is back: the writer recovers by itself.
    let freed = Instant::now();
    std::fs::remove_file(&fault).unwrap();
    let (r, acked_at) = waiting.join().unwrap();
    assert_eq!(r, Ok(()));
    let recovery = acked_at.duration_since(freed);
    assert!(
        recovery < Duration::from_secs(2),
        "the waiting write took {recovery:?} after the disk was freed"
    );
    wait_status(&mut c, "ok", Duration::from_secs(2));
    set(&mut c, "after", "4").unwrap();
    let r: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    assert_eq!(r, "Background append only file rewriting started");
    aof_common::wait_rewrite_done(&mut c, Duration::from_secs(5));
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");

    // The same under `everysec`: the write executed before the error is acknowledged at
    // once, stays buffered while the disk is full, and reaches the file afterwards.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendfsync")
        .arg("everysec")
        .query(&mut c)
        .unwrap();
    std::fs::write(&fault, b"").unwrap();
    set(&mut c, "buffered", "5").unwrap();
    wait_status(&mut c, "err", Duration::from_secs(5));
    assert_eq!(set(&mut c, "refused2", "6"), Err(MISCONF.to_string()));
    assert_eq!(get(&mut c, "buffered").as_deref(), Some("5"));
    std::thread::sleep(Duration::from_millis(300));
    std::fs::remove_file(&fault).unwrap();
    wait_status(&mut c, "ok", Duration::from_secs(2));
    set(&mut c, "after2", "7").unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendfsync")
        .arg("always")
        .query(&mut c)
        .unwrap();
    // An `always` write fsyncs everything before it: `buffered` and `after2` are on disk.
    set(&mut c, "last", "8").unwrap();
    let text = p.log_text();
    assert!(
        text.contains("No space left on device"),
        "the error is logged: {text}"
    );

    // Crash and restart (the fault file is gone): everything acknowledged is there, the
    // refused writes are not.
    drop(c);
    restart_ferrokv(&mut p, dir.path(), &args, &envs);
    let mut c = connect(&p.addr());
    for (k, v) in [
        ("before", "1"),
        ("pending", "2"),
        ("after", "4"),
        ("buffered", "5"),
        ("after2", "7"),
        ("last", "8"),
    ] {
        assert_eq!(get(&mut c, k).as_deref(), Some(v), "{k} after the restart");
    }
    assert_eq!(get(&mut c, "refused"), None);
    assert_eq!(get(&mut c, "refused2"), None);
    let size: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(size, 6);
    assert_eq!(info_field(&mut c, "aof_last_write_status"), "ok");
    if let Some((ok, text)) = aof_common::redis_check_aof(&dir.path().join("appendonly.aof")) {
        assert!(ok, "redis-check-aof after the disk-full episode:\n{text}");
    }
}
