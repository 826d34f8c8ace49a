//! Redis loads ferrokv's AOF: a mixed dataset written to ferrokv, its AOF handed to a real
//! `redis-server`, and the two keyspaces compared key by key; the same commands sent straight
//! to a second `redis-server` are the reference for what the data should be.
//! Skipped (with a SKIPPED line) when `redis-server` is not installed.

mod aof_common;
mod support;

use aof_common::{connect, diff_dumps, dump, show, Depth, Dump, Item, Redis, Val};
use std::time::Duration;
use support::client::{RawClient, Reply};
use support::server::{Server, Target};

fn c(args: &[&str]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.as_bytes().to_vec()).collect()
}

/// The dataset: every string form the AOF canonicalises, TTLs of each kind, collections,
/// binary data, several databases, and keyspace commands that move data between them.
fn commands() -> Vec<Vec<Vec<u8>>> {
    let mut v = vec![
        c(&["SET", "str", "hello"]),
        c(&["APPEND", "str", " world"]),
        c(&["SET", "int", "42"]),
        c(&["INCR", "int"]),
        c(&["INCRBY", "int", "10"]),
        c(&["SET", "neg", "-7"]),
        c(&["DECR", "neg"]),
        c(&["DECRBY", "neg", "100"]),
        c(&["INCRBYFLOAT", "fl", "1.5"]),
        c(&["INCRBYFLOAT", "fl", "0.1"]),
        c(&["INCRBYFLOAT", "fl2", "3.0e3"]),
        c(&["INCRBYFLOAT", "fl3", "10.5"]),
        c(&["INCRBYFLOAT", "fl3", "-0.25"]),
        c(&["SET", "ft", "1", "EX", "1000"]),
        c(&["INCRBYFLOAT", "ft", "2.25"]),
        c(&["SET", "ttl_ex", "a", "EX", "1000"]),
        c(&["SET", "ttl_px", "b", "PX", "2000000"]),
        c(&["SETEX", "ttl_setex", "1500", "c"]),
        c(&["PSETEX", "ttl_psetex", "1800000", "d"]),
        c(&["SET", "ttl_expire", "e"]),
        c(&["EXPIRE", "ttl_expire", "1200"]),
        c(&["SET", "ttl_pexpire", "f"]),
        c(&["PEXPIRE", "ttl_pexpire", "900000"]),
        c(&["SET", "persisted", "g", "EX", "100"]),
        c(&["PERSIST", "persisted"]),
        c(&["SET", "overwritten", "h", "EX", "1000"]),
        c(&["SET", "overwritten", "i"]),
        c(&["SET", "kept", "j", "EX", "1000"]),
        c(&["SET", "kept", "k", "KEEPTTL"]),
        c(&["INCR", "kept_n"]),
        c(&["EXPIRE", "kept_n", "1000"]),
        c(&["INCR", "kept_n"]),
        c(&["SET", "getex", "l"]),
        c(&["GETEX", "getex", "EX", "700"]),
        c(&["SET", "getex_persist", "m", "EX", "700"]),
        c(&["GETEX", "getex_persist", "PERSIST"]),
        c(&["SET", "gone", "x"]),
        c(&["EXPIRE", "gone", "-1"]),
        c(&["SET", "gone_at", "x", "PXAT", "1000"]),
        c(&["SET", "soon", "x", "PX", "100"]),
        c(&["SETNX", "nx", "first"]),
        c(&["SETNX", "nx", "second"]),
        c(&["SET", "gs", "old"]),
        c(&["GETSET", "gs", "new"]),
        c(&["SET", "xx_missing", "v", "XX"]),
        c(&["SET", "nx_opt", "v", "NX", "PX", "1600000"]),
        c(&["SET", "nx_opt", "w", "NX"]),
        c(&["SET", "get_opt", "v1"]),
        c(&["SET", "get_opt", "v2", "GET"]),
        c(&["MSET", "m1", "1", "m2", "2"]),
        c(&["MSETNX", "m3", "3", "m4", "4"]),
        c(&["MSETNX", "m4", "x", "m5", "5"]),
        c(&["SETRANGE", "sr", "5", "abc"]),
        c(&["SET", "gd", "1"]),
        c(&["GETDEL", "gd"]),
        c(&["DEL", "m2", "nothing"]),
        c(&["RPUSH", "list", "a", "b", "c"]),
        c(&["LPUSH", "list", "z"]),
        c(&["RPUSH", "tl", "x"]),
        c(&["EXPIRE", "tl", "1000"]),
        c(&["SADD", "set", "a", "b", "c", "a"]),
        c(&["SADD", "set", "d"]),
        c(&["HSET", "hash", "f1", "v1", "f2", "v2"]),
        c(&["HSET", "hash", "f1", "v3"]),
        c(&["ZADD", "z", "1", "a", "2.5", "b", "-3", "c"]),
        c(&["ZADD", "z", "10", "a"]),
        c(&[
            "ZADD", "zf", "0.1", "x", "1e3", "y", "-inf", "lo", "+inf", "hi",
        ]),
        c(&["RENAME", "str", "str2"]),
        c(&["RENAME", "ttl_ex", "ttl_renamed"]),
        c(&["COPY", "int", "int_copy"]),
        c(&["COPY", "ttl_px", "ttl_copy"]),
        c(&["COPY", "int", "int_elsewhere", "DB", "4"]),
        c(&["MOVE", "m1", "3"]),
        c(&["MOVE", "ttl_setex", "3"]),
        c(&["SELECT", "1"]),
        c(&["SET", "a1", "1"]),
        c(&["RPUSH", "l1", "x", "y"]),
        c(&["SET", "t1", "v", "EX", "1300"]),
        c(&["SELECT", "2"]),
        c(&["SET", "a2", "2"]),
        c(&["SADD", "s2", "q"]),
        c(&["SWAPDB", "1", "2"]),
        c(&["SET", "after_swap", "in-2"]),
        c(&["SELECT", "5"]),
        c(&["SET", "f1", "x"]),
        c(&["SET", "f2", "y"]),
        c(&["FLUSHDB"]),
        c(&["SET", "after_flush", "z"]),
        c(&["SELECT", "6"]),
        c(&["SET", "f", "x"]),
        c(&["FLUSHDB"]),
        c(&["SELECT", "7"]),
        c(&["SET", "keep", "1"]),
        c(&["SELECT", "0"]),
    ];
    // Binary key and value, with CR, LF, NUL and high bytes.
    v.push(vec![
        b"SET".to_vec(),
        b"bin\r\n\0key".to_vec(),
        b"v\r\n\0\xff\x80*3\r\n".to_vec(),
    ]);
    v.push(vec![
        b"RPUSH".to_vec(),
        b"binlist".to_vec(),
        b"\0".to_vec(),
        b"\r\n".to_vec(),
        b"".to_vec(),
    ]);
    v
}

fn send_all(addr: &str, cmds: &[Vec<Vec<u8>>]) -> Vec<Reply> {
    let mut c = RawClient::connect(addr);
    cmds.iter()
        .map(|args| {
            c.send(args);
            c.read().expect("reply")
        })
        .collect()
}

fn collection_len(item: &Item) -> Option<i64> {
    match &item.val {
        Val::Len(n) => Some(*n),
        Val::Items(v) => Some(v.len() as i64),
        Val::Str(_) => None,
    }
}

/// ferrokv (lengths for collections) against Redis (full contents): same keys, types,
/// strings, collection sizes, and expiries within `tol` ms.
fn compare_lengths(f: &Dump, r: &Dump, tol: i64) -> Vec<String> {
    let mut out = Vec::new();
    for (k, x) in f {
        let Some(y) = r.get(k) else {
            out.push(format!(
                "db {} key {}: only in ferrokv: {x:?}",
                k.0,
                show(&k.1)
            ));
            continue;
        };
        let same = x.kind == y.kind
            && match (&x.val, &y.val) {
                (Val::Str(a), Val::Str(b)) => a == b,
                _ => collection_len(x) == collection_len(y),
            };
        if !same {
            out.push(format!(
                "db {} key {}: ferrokv {x:?}, redis {y:?}",
                k.0,
                show(&k.1)
            ));
        }
        let ttl_ok = match (x.expire_at, y.expire_at) {
            (None, None) => true,
            (Some(a), Some(b)) => (a - b).abs() <= tol,
            _ => false,
        };
        if !ttl_ok {
            out.push(format!(
                "db {} key {}: expiry ferrokv {:?}, redis {:?}",
                k.0,
                show(&k.1),
                x.expire_at,
                y.expire_at
            ));
        }
    }
    for (k, y) in r {
        if !f.contains_key(k) {
            out.push(format!(
                "db {} key {}: only in redis: {y:?}",
                k.0,
                show(&k.1)
            ));
        }
    }
    out
}

#[test]
fn redis_server_loads_ferrokvs_aof_into_the_same_keyspace() {
    if !aof_common::have("redis-server") {
        eprintln!("SKIPPED redis_server_loads_ferrokvs_aof_into_the_same_keyspace: redis-server not installed");
        return;
    }
    const DBS: i64 = 16;
    const TOL: i64 = 2000;
    let cmds = commands();

    // The reference: the same commands straight to a real Redis.
    let ref_dir = tempfile::tempdir().unwrap();
    let reference = Redis::start(ref_dir.path(), &["--appendonly", "no"]);
    let ref_replies = send_all(&reference.addr(), &cmds);

    let dir = tempfile::tempdir().unwrap();
    let mut ferrokv = Server::start_with(
        Target::Ferrokv,
        &["--appendonly", "yes", "--appendfsync", "always"],
        Some(dir.path().to_path_buf()),
    );
    let replies = send_all(&ferrokv.addr(), &cmds);
    let mismatched: Vec<String> = cmds
        .iter()
        .zip(replies.iter().zip(&ref_replies))
        .filter(|(_, (a, b))| a != b)
        .map(|(cmd, (a, b))| {
            let line: Vec<String> = cmd.iter().map(|x| show(x)).collect();
            format!("{}: ferrokv {a:?}, redis {b:?}", line.join(" "))
        })
        .collect();
    assert!(
        mismatched.is_empty(),
        "ferrokv replied differently from Redis:\n{}",
        mismatched.join("\n")
    );
    // `soon` (PX 100) expires before anything is compared.
    std::thread::sleep(Duration::from_millis(250));
    let live = dump(&mut connect(&ferrokv.addr()), DBS, Depth::Lengths);
    let expected = dump(&mut connect(&reference.addr()), DBS, Depth::Full);
    let d = compare_lengths(&live, &expected, TOL);
    assert!(
        d.is_empty(),
        "ferrokv's data differs from Redis's for the same commands:\n{}",
        d.join("\n")
    );

    // Graceful stop, then ferrokv reloads its own file.
    let mut raw = RawClient::connect(&ferrokv.addr());
    raw.send(&c(&["SHUTDOWN"]));
    let status = ferrokv.child.wait().unwrap();
    assert!(status.success(), "SHUTDOWN exit: {status:?}");
    let aof = std::fs::read(dir.path().join("appendonly.aof")).unwrap();
    ferrokv.restart();
    let reloaded = dump(&mut connect(&ferrokv.addr()), DBS, Depth::Lengths);
    let d = diff_dumps(&live, &reloaded, TOL);
    assert!(
        d.is_empty(),
        "ferrokv reloaded its AOF differently:\n{}",
        d.join("\n")
    );
    drop(ferrokv);

    // Redis loads the same file.
    let copy = tempfile::tempdir().unwrap();
    let copied = copy.path().join("appendonly.aof");
    std::fs::write(&copied, &aof).unwrap();
    if let Some((ok, text)) = aof_common::redis_check_aof(&copied) {
        assert!(ok, "redis-check-aof rejects ferrokv's AOF:\n{text}");
    }
    let loaded = Redis::start(
        copy.path(),
        &["--appendonly", "yes", "--appendfilename", "appendonly.aof"],
    );
    let from_aof = dump(&mut connect(&loaded.addr()), DBS, Depth::Full);
    let log = loaded.log_text();
    let d = compare_lengths(&live, &from_aof, TOL);
    assert!(
        d.is_empty(),
        "redis-server loaded ferrokv's AOF into different data than ferrokv holds:\n{}\nredis log:\n{log}",
        d.join("\n")
    );
    // Full contents: Redis from ferrokv's AOF = Redis from the original commands.
    let d = diff_dumps(&expected, &from_aof, TOL);
    assert!(
        d.is_empty(),
        "redis-server loaded ferrokv's AOF into different data than the commands make:\n{}\nredis log:\n{log}",
        d.join("\n")
    );
    // Spot checks that the comparison saw what was meant.
    let get = |d: &Dump, db: i64, k: &str| d.get(&(db, k.as_bytes().to_vec())).cloned();
    assert_eq!(
        get(&from_aof, 0, "list").map(|i| i.val),
        Some(Val::Items(c(&["z", "a", "b", "c"])))
    );
    assert_eq!(
        get(&from_aof, 0, "fl").map(|i| i.val),
        Some(Val::Str(b"1.6".to_vec()))
    );
    assert!(get(&from_aof, 0, "ft").and_then(|i| i.expire_at).is_some());
    assert!(get(&from_aof, 2, "a1").is_some() && get(&from_aof, 1, "a2").is_some());
    assert!(get(&from_aof, 5, "after_flush").is_some() && get(&from_aof, 5, "f1").is_none());
    assert!(get(&from_aof, 0, "soon").is_none() && get(&from_aof, 0, "gone").is_none());
    assert_eq!(
        from_aof.len(),
        live.len(),
        "key count (ferrokv {}, redis {})",
        live.len(),
        from_aof.len()
    );
    eprintln!(
        "redis compat: {} keys in {} databases agree; {} bytes of AOF",
        live.len(),
        live.keys()
            .map(|k| k.0)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        aof.len()
    );
}
