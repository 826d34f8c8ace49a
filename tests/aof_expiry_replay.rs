//! Replaying the AOF after the TTLs in it have passed: the records must rebuild the data the
//! server had, not re-run the commands against a clock that has moved on. Redis does not
//! expire anything while it loads (keys are only expired afterwards), so a key whose TTL was
//! removed or extended before it ran out survives, and a key changed while its TTL was still
//! running is gone once that TTL has passed.

mod aof_common;
mod support;

use aof_common::{connect, dump, restart_ferrokv, start_ferrokv, Depth, Dump, Redis, Val};
use std::time::Duration;

fn run(con: &mut redis::Connection, args: &[&str]) -> redis::Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
        .unwrap_or_else(|e| panic!("{}: {e}", args.join(" ")))
}

/// What the data must be (db, key, value or list length, TTL expected?) — keys not listed
/// must not exist.
fn check(d: &Dump, who: &str) -> Vec<String> {
    let present: &[(i64, &str, &str, bool)] = &[
        // TTL removed or extended before it ran out: the key lives on.
        (0, "persisted", "v", false),
        (0, "extended", "v", true),
        (0, "getex_persisted", "v", false),
        (0, "renamed", "v", false),
        (3, "moved", "v", false),
        (0, "copied", "v", false),
        // Expired, then written again from scratch: the new key, without a TTL.
        (0, "re_append", "x", false),
        (0, "re_incr", "1", false),
        (0, "re_setnx", "w", false),
        (0, "re_list", "#1", false),
    ];
    let mut out = Vec::new();
    for &(db, k, v, ttl) in present {
        match d.get(&(db, k.as_bytes().to_vec())) {
            None => out.push(format!("{who}: db {db} key {k} is missing")),
            Some(item) => {
                let ok = match (&item.val, v.strip_prefix('#')) {
                    (Val::Str(s), None) => s == v.as_bytes(),
                    (Val::Len(n), Some(len)) => n.to_string() == len,
                    (Val::Items(i), Some(len)) => i.len().to_string() == len,
                    _ => false,
                };
                if !ok || item.expire_at.is_some() != ttl {
                    out.push(format!(
                        "{who}: db {db} key {k} is {item:?}, expected {v} {}",
                        if ttl { "with a TTL" } else { "without a TTL" }
                    ));
                }
            }
        }
    }
    for (db, k) in d.keys() {
        if !present
            .iter()
            .any(|&(pdb, pk, _, _)| pdb == *db && pk.as_bytes() == &k[..])
        {
            out.push(format!(
                "{who}: db {db} key {} exists but its TTL has passed",
                aof_common::show(k)
            ));
        }
    }
    out
}

#[test]
fn keys_whose_ttl_was_removed_or_that_were_changed_while_it_ran_replay_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--appendonly", "yes", "--appendfsync", "always"];
    let log = dir.path().join("server.log");
    let mut p = start_ferrokv(dir.path(), &args, &[], &log);
    let mut c = connect(&p.addr());
    // Keys that expire and are then written again.
    for cmd in [
        &["SET", "re_append", "old", "PX", "100"][..],
        &["SET", "re_incr", "41", "PX", "100"],
        &["SET", "re_setnx", "old", "PX", "100"],
        &["RPUSH", "re_list", "old"],
        &["PEXPIRE", "re_list", "100"],
    ] {
        run(&mut c, cmd);
    }
    std::thread::sleep(Duration::from_millis(250));
    for cmd in [
        &["APPEND", "re_append", "x"][..],
        &["INCR", "re_incr"],
        &["SET", "re_setnx", "w", "NX"],
        &["RPUSH", "re_list", "new"],
        // TTLs that are removed or extended while they run (400 ms).
        &["SET", "persisted", "v", "PX", "400"],
        &["PERSIST", "persisted"],
        &["SET", "extended", "v", "PX", "400"],
        &["PEXPIRE", "extended", "100000"],
        &["SET", "getex_persisted", "v", "PX", "400"],
        &["GETEX", "getex_persisted", "PERSIST"],
        &["SET", "to_rename", "v", "PX", "400"],
        &["RENAME", "to_rename", "renamed"],
        &["PERSIST", "renamed"],
        &["SET", "moved", "v", "PX", "400"],
        &["MOVE", "moved", "3"],
        &["SELECT", "3"],
        &["PERSIST", "moved"],
        &["SELECT", "0"],
        &["SET", "to_copy", "v", "PX", "400"],
        &["COPY", "to_copy", "copied"],
        &["PERSIST", "copied"],
        // Keys changed while their TTL runs: the change keeps the TTL, so they expire.
        &["SET", "appended", "v", "PX", "400"],
        &["APPEND", "appended", "x"],
        &["SET", "incremented", "1", "PX", "400"],
        &["INCR", "incremented"],
        &["SET", "float", "1.5", "PX", "400"],
        &["INCRBYFLOAT", "float", "1"],
        &["SET", "ranged", "v", "PX", "400"],
        &["SETRANGE", "ranged", "3", "x"],
        &["RPUSH", "pushed", "a"],
        &["PEXPIRE", "pushed", "400"],
        &["RPUSH", "pushed", "b"],
        &["SADD", "added", "a"],
        &["PEXPIRE", "added", "400"],
        &["SADD", "added", "b"],
    ] {
        run(&mut c, cmd);
    }
    std::thread::sleep(Duration::from_millis(600));
    let mut problems = check(&dump(&mut c, 16, Depth::Lengths), "before the restart");
    drop(c);
    let aof = std::fs::read(dir.path().join("appendonly.aof")).unwrap();

    // Redis loads the same file into the expected data (when it is installed).
    if aof_common::have("redis-server") {
        let copy = tempfile::tempdir().unwrap();
        std::fs::write(copy.path().join("appendonly.aof"), &aof).unwrap();
        let r = Redis::start(
            copy.path(),
            &["--appendonly", "yes", "--appendfilename", "appendonly.aof"],
        );
        problems.extend(check(
            &dump(&mut connect(&r.addr()), 16, Depth::Full),
            "redis-server on the same AOF",
        ));
    } else {
        eprintln!("redis-server not installed: its cross-check is skipped");
    }

    let (code, out) = {
        // A start that fails on the file is a finding of its own.
        let scratch = tempfile::tempdir().unwrap();
        std::fs::write(scratch.path().join("appendonly.aof"), &aof).unwrap();
        aof_common::run_expecting_exit(
            scratch.path(),
            &["--appendonly", "yes"],
            Duration::from_millis(1500),
        )
    };
    if code.is_some() {
        problems.push(format!(
            "ferrokv refuses to start on its own AOF (exit {code:?}): {}",
            out.trim()
        ));
    } else {
        restart_ferrokv(&mut p, dir.path(), &args, &[]);
        let d = dump(&mut connect(&p.addr()), 16, Depth::Lengths);
        problems.extend(check(&d, "after the restart"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
