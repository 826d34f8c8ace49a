//! `INFO` fields that follow the traffic: pub/sub counts, the instantaneous rates, the reads
//! and writes processed, and the snapshots taken.

mod support;

use std::time::{Duration, Instant};
use support::client::{RawClient, Reply};
use support::server::{Server, Target};

fn stat(c: &mut RawClient, field: &str) -> String {
    c.info_field("stats", field)
}

#[test]
fn pubsub_counts_follow_subscriptions() {
    let server = Server::start(Target::from_env());
    let mut c = RawClient::connect(&server.addr());
    assert_eq!(stat(&mut c, "pubsub_channels"), "0");
    let mut sub = RawClient::connect(&server.addr());
    let _ = sub.call(&["SUBSCRIBE", "a"]);
    let _ = sub.call(&["SUBSCRIBE", "b"]);
    let _ = sub.call(&["PSUBSCRIBE", "x*"]);
    let mut shard = RawClient::connect(&server.addr());
    let _ = shard.call(&["SSUBSCRIBE", "s1", "s2"]);
    assert_eq!(stat(&mut c, "pubsubshard_channels"), "2");
    let mut other = RawClient::connect(&server.addr());
    let _ = other.call(&["SUBSCRIBE", "a"]);
    assert_eq!(stat(&mut c, "pubsub_channels"), "2");
    assert_eq!(stat(&mut c, "pubsub_patterns"), "1");
    drop(sub);
    let deadline = Instant::now() + Duration::from_secs(10);
    while stat(&mut c, "pubsub_channels") != "1" || stat(&mut c, "pubsub_patterns") != "0" {
        assert!(
            Instant::now() < deadline,
            "subscriptions outlived their client"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn snapshots_are_counted() {
    let server = Server::start(Target::from_env());
    let mut c = RawClient::connect(&server.addr());
    let saves = |c: &mut RawClient| c.info_field("persistence", "rdb_saves");
    assert_eq!(saves(&mut c), "0");
    assert_eq!(c.info_field("persistence", "rdb_last_bgsave_status"), "ok");
    let _ = c.call(&["SET", "k", "v"]);
    let _ = c.call(&["SAVE"]);
    assert_eq!(saves(&mut c), "1");
    assert_eq!(
        c.info_field("persistence", "rdb_changes_since_last_save"),
        "0"
    );
}

#[test]
fn rates_and_io_counts_follow_the_traffic() {
    let server = Server::start(Target::from_env());
    let mut c = RawClient::connect(&server.addr());
    let reads_before: u64 = stat(&mut c, "total_reads_processed").parse().unwrap();
    // Commands for most of a second: the rates are sampled ten times a second.
    let start = Instant::now();
    let mut sent = 0u64;
    while start.elapsed() < Duration::from_millis(700) {
        assert_eq!(c.call(&["PING"]), Reply::Status("PONG".into()));
        sent += 1;
    }
    let ops: u64 = stat(&mut c, "instantaneous_ops_per_sec").parse().unwrap();
    assert!(ops > 0, "no rate after {sent} commands");
    let kbps: f64 = stat(&mut c, "instantaneous_input_kbps").parse().unwrap();
    assert!(kbps > 0.0);
    let reads: u64 = stat(&mut c, "total_reads_processed").parse().unwrap();
    let writes: u64 = stat(&mut c, "total_writes_processed").parse().unwrap();
    assert!(
        reads >= reads_before + sent,
        "{reads} reads for {sent} commands"
    );
    assert!(writes >= sent, "{writes} writes for {sent} replies");
}

/// `qbuf` and `qbuf-free` of the client named `name` in `CLIENT LIST`.
fn query_buffer(c: &mut RawClient, name: &str) -> (u64, u64) {
    let list = match c.call(&["CLIENT", "LIST"]) {
        Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    };
    let line = list
        .lines()
        .find(|l| l.contains(&format!("name={name} ")))
        .unwrap_or_else(|| panic!("no {name} in {list}"));
    let field = |f: &str| -> u64 {
        line.split(' ')
            .find_map(|kv| kv.strip_prefix(&format!("{f}=")))
            .unwrap()
            .parse()
            .unwrap()
    };
    (field("qbuf"), field("qbuf-free"))
}

#[test]
fn an_idle_clients_query_buffer_is_released() {
    let server = Server::start(Target::from_env());
    let mut c = RawClient::connect(&server.addr());
    let mut idle = RawClient::connect(&server.addr());
    idle.call(&["CLIENT", "SETNAME", "sleeper"]);
    let (used, free) = query_buffer(&mut c, "sleeper");
    assert!((16384..32768).contains(&(used + free)), "{used} + {free}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while query_buffer(&mut c, "sleeper") != (0, 0) {
        assert!(Instant::now() < deadline, "the idle buffer was kept");
        std::thread::sleep(Duration::from_millis(100));
    }
    // It comes back with the next request.
    assert_eq!(idle.call(&["PING"]), Reply::Status("PONG".into()));
    let (used, free) = query_buffer(&mut c, "sleeper");
    assert!(used + free > 0);
}
