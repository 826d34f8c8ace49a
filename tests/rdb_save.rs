//! `SAVE` writes an RDB file that Redis's own tools accept: `redis-check-rdb` checks it, and a
//! `redis-server` started on it holds the same dataset (every type, TTLs, other databases
//! and function libraries).

mod support;

use support::client::{format, RawClient};
use support::server::{Server, Target};

/// Commands that build the dataset, in database 0 unless they SELECT.
const DATA: &[&[&str]] = &[
    &["SET", "s", "hello"],
    &["SET", "n", "12345"],
    &["SET", "ttl", "v", "EX", "1000"],
    &["RPUSH", "l", "a", "b", "c"],
    &["SADD", "st", "x", "y", "z"],
    &["SADD", "ints", "1", "2", "3"],
    &["HSET", "h", "f1", "v1", "f2", "v2"],
    &["ZADD", "z", "1", "a", "2.5", "b", "-inf", "c"],
    &["XADD", "x", "1-1", "f", "v"],
    &["XGROUP", "CREATE", "x", "g", "0"],
    &["PFADD", "hll", "a", "b", "c"],
    &[
        "FUNCTION",
        "LOAD",
        "#!lua name=mylib\nredis.register_function('f', function() return 1 end)",
    ],
    &["SELECT", "3"],
    &["SET", "indb3", "yes"],
];

/// Reads whose replies must be the same from ferrokv and from Redis loaded from the file.
const READS: &[&[&str]] = &[
    &["GET", "s"],
    &["GET", "n"],
    &["LRANGE", "l", "0", "-1"],
    &["SORT", "st", "ALPHA"],
    &["SORT", "ints"],
    &["HGET", "h", "f1"],
    &["HGET", "h", "f2"],
    &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    &["XRANGE", "x", "-", "+"],
    &["XINFO", "GROUPS", "x"],
    &["PFCOUNT", "hll"],
    &["FCALL", "f", "0"],
    &["DBSIZE"],
    &["SELECT", "3"],
    &["GET", "indb3"],
];

fn replies(c: &mut RawClient, cmds: &[&[&str]]) -> Vec<String> {
    cmds.iter().map(|cmd| format(&c.call(cmd))).collect()
}

#[test]
fn save_writes_an_rdb_file_that_redis_check_rdb_accepts_and_redis_loads() {
    let dir = tempfile::tempdir().unwrap();
    let fk = Server::start_with(Target::Ferrokv, &[], Some(dir.path().to_path_buf()));
    let mut c = RawClient::connect(&fk.addr());
    for cmd in DATA {
        let r = format(&c.call(cmd));
        assert!(!r.starts_with("(error)"), "{cmd:?}: {r}");
    }
    c.call(&["SELECT", "0"]);
    assert_eq!(format(&c.call(&["SAVE"])).trim(), "OK");
    let path = dir.path().join("dump.rdb");
    assert!(path.exists(), "SAVE wrote {}", path.display());
    let info = format(&c.call(&["INFO", "persistence"]));
    assert!(info.contains("rdb_changes_since_last_save:0"), "{info}");

    let check = std::process::Command::new("redis-check-rdb")
        .arg(&path)
        .output()
        .expect("redis-check-rdb (Debian's redis-tools) runs");
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(out.contains("RDB looks OK"), "redis-check-rdb said:\n{out}");
    assert!(out.contains("11 keys read"), "redis-check-rdb said:\n{out}");

    let expected = replies(&mut c, READS);
    drop(c);
    drop(fk);
    let redis = Server::start_with(
        Target::Redis,
        &["--dbfilename", "dump.rdb"],
        Some(dir.path().to_path_buf()),
    );
    let mut r = RawClient::connect(&redis.addr());
    assert_eq!(replies(&mut r, READS), expected);
    r.call(&["SELECT", "0"]);
    let ttl = format(&r.call(&["TTL", "ttl"]));
    let secs: i64 = ttl.trim().trim_start_matches("(integer) ").parse().unwrap();
    assert!((990..=1000).contains(&secs), "TTL in Redis: {ttl}");
}
