//! Lazy freeing (UNLINK, DEL under lazyfree-lazy-user-del, FLUSHALL/FLUSHDB ASYNC): which
//! removals go to the background thread, as `INFO memory` counts them. Runs against ferrokv,
//! or redis-server with `SPEC_TARGET=redis`: the counts are Redis's.

mod support;

use std::time::{Duration, Instant};
use support::client::{RawClient, Reply};
use support::server::{Server, Target};

fn memory_field(c: &mut RawClient, field: &str) -> u64 {
    c.info_field("memory", field).parse().unwrap()
}

/// `lazyfreed_objects` once nothing is pending.
fn freed(c: &mut RawClient) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    while memory_field(c, "lazyfree_pending_objects") != 0 {
        assert!(Instant::now() < deadline, "lazyfree never finished");
        std::thread::sleep(Duration::from_millis(5));
    }
    memory_field(c, "lazyfreed_objects")
}

fn call(c: &mut RawClient, args: &[String]) -> Reply {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    c.call(&refs)
}

fn cmd(head: &[&str], tail: impl IntoIterator<Item = String>) -> Vec<String> {
    head.iter().map(|s| s.to_string()).chain(tail).collect()
}

#[test]
fn large_values_and_async_flushes_are_freed_in_the_background() {
    let server = Server::start(Target::from_env());
    let mut c = RawClient::connect(&server.addr());
    assert_eq!(c.call(&["CONFIG", "RESETSTAT"]), Reply::Status("OK".into()));
    assert_eq!(freed(&mut c), 0);

    // Small values are freed in place, whatever the command.
    c.call(&["SET", "s", "v"]);
    call(
        &mut c,
        &cmd(
            &["HSET", "small"],
            (0..10).flat_map(|i| [format!("f{i}"), "v".into()]),
        ),
    );
    assert_eq!(c.call(&["UNLINK", "s", "small", "missing"]), Reply::Int(2));
    assert_eq!(freed(&mut c), 0);

    // A hash table of 600 fields (past the listpack's 512) is more than 64 allocations: UNLINK hands it off, DEL
    // frees it in place unless lazyfree-lazy-user-del says otherwise.
    let big_hash = cmd(
        &["HSET", "h"],
        (0..600).flat_map(|i| [format!("f{i}"), i.to_string()]),
    );
    assert_eq!(call(&mut c, &big_hash), Reply::Int(600));
    assert_eq!(c.call(&["UNLINK", "h"]), Reply::Int(1));
    assert_eq!(freed(&mut c), 1);
    call(&mut c, &big_hash);
    assert_eq!(c.call(&["DEL", "h"]), Reply::Int(1));
    assert_eq!(freed(&mut c), 1);
    c.call(&["CONFIG", "SET", "lazyfree-lazy-user-del", "yes"]);
    call(&mut c, &big_hash);
    assert_eq!(c.call(&["DEL", "h"]), Reply::Int(1));
    assert_eq!(freed(&mut c), 2);
    c.call(&["CONFIG", "SET", "lazyfree-lazy-user-del", "no"]);

    // A sorted set of 200 members (past its listpack limit), a set of 100 (not integers), a
    // list of 100,000 elements.
    call(
        &mut c,
        &cmd(
            &["ZADD", "z"],
            (0..200).flat_map(|i| [i.to_string(), format!("m{i}")]),
        ),
    );
    call(
        &mut c,
        &cmd(&["SADD", "set"], (0..100).map(|i| format!("m{i}"))),
    );
    call(
        &mut c,
        &cmd(&["RPUSH", "l"], (0..100_000).map(|i| format!("e{i}"))),
    );
    assert_eq!(c.call(&["UNLINK", "z", "set", "l"]), Reply::Int(3));
    assert_eq!(freed(&mut c), 5);

    // A stream of 200 nodes with a group and a pending entry.
    c.call(&["CONFIG", "SET", "stream-node-max-entries", "5"]);
    for i in 0..1000 {
        c.call(&["XADD", "st", "*", "f", &i.to_string()]);
    }
    c.call(&["XGROUP", "CREATE", "st", "g", "0"]);
    c.call(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "COUNT",
        "1",
        "STREAMS",
        "st",
        ">",
    ]);
    assert_eq!(c.call(&["UNLINK", "st"]), Reply::Int(1));
    assert_eq!(freed(&mut c), 6);
    c.call(&["CONFIG", "SET", "stream-node-max-entries", "100"]);

    // An async flush frees every key it removes in the background, small ones too; a plain
    // one does so only under lazyfree-lazy-user-flush.
    for i in 0..10 {
        c.call(&["SET", &format!("k{i}"), "v"]);
    }
    assert_eq!(c.call(&["FLUSHDB", "ASYNC"]), Reply::Status("OK".into()));
    assert_eq!(freed(&mut c), 16);
    c.call(&["SET", "k", "v"]);
    c.call(&["FLUSHALL"]);
    assert_eq!(freed(&mut c), 16);
    c.call(&["CONFIG", "SET", "lazyfree-lazy-user-flush", "yes"]);
    for i in 0..3 {
        c.call(&["SET", &format!("k{i}"), "v"]);
    }
    c.call(&["FLUSHALL"]);
    assert_eq!(freed(&mut c), 19);
    assert_eq!(c.call(&["DBSIZE"]), Reply::Int(0));
    c.call(&["CONFIG", "SET", "lazyfree-lazy-user-flush", "no"]);

    // CONFIG RESETSTAT starts the count again.
    c.call(&["CONFIG", "RESETSTAT"]);
    assert_eq!(freed(&mut c), 0);
}
