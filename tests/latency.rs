//! The latency monitor with a threshold set, and the per-command latency histograms. Runs
//! against redis-server too with `SPEC_TARGET=redis`.

mod support;

use support::client::{RawClient, Reply};
use support::server::{Server, Target};

/// A script that keeps the server busy for about 30 ms.
const SPIN: &str = "local t = redis.call('time') while true do local n = redis.call('time') if (n[1]-t[1])*1000000 + (n[2]-t[2]) > 30000 then break end end";

#[test]
fn slow_commands_are_sampled_once_the_threshold_is_set() {
    let server = Server::start(Target::from_env());
    let mut c = RawClient::connect(&server.addr());
    c.call(&["EVAL", SPIN, "0"]);
    assert_eq!(c.call(&["LATENCY", "LATEST"]), Reply::Array(vec![]));
    assert_eq!(
        c.call(&["CONFIG", "SET", "latency-monitor-threshold", "10"]),
        Reply::Status("OK".into())
    );
    c.call(&["EVAL", SPIN, "0"]);
    match c.call(&["LATENCY", "LATEST"]) {
        Reply::Array(events) => {
            assert_eq!(events.len(), 1, "{events:?}");
            let Reply::Array(e) = &events[0] else {
                panic!("{events:?}")
            };
            assert_eq!(e[0], Reply::Bulk(b"command".to_vec()));
            let (Reply::Int(latest), Reply::Int(max)) = (&e[2], &e[3]) else {
                panic!("{e:?}")
            };
            assert!(*latest >= 30 && max >= latest, "{e:?}");
        }
        other => panic!("{other:?}"),
    }
    match c.call(&["LATENCY", "HISTORY", "command"]) {
        Reply::Array(samples) => assert_eq!(samples.len(), 1),
        other => panic!("{other:?}"),
    }
    match c.call(&["LATENCY", "DOCTOR"]) {
        Reply::Bulk(t) | Reply::Verbatim(_, t) => {
            assert!(String::from_utf8_lossy(&t).contains("1. command: 1 latency spikes"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.call(&["LATENCY", "RESET", "nosuch"]), Reply::Int(0));
    assert_eq!(c.call(&["LATENCY", "RESET"]), Reply::Int(1));
    assert_eq!(c.call(&["LATENCY", "LATEST"]), Reply::Array(vec![]));
}

#[test]
fn histograms_count_every_call() {
    let server = Server::start(Target::from_env());
    let mut c = RawClient::connect(&server.addr());
    for _ in 0..5 {
        c.call(&["SET", "k", "v"]);
    }
    // RESP2: a flat array of name, then calls and histogram_usec.
    match c.call(&["LATENCY", "HISTOGRAM", "set", "nosuchcommand"]) {
        Reply::Array(v) => {
            assert_eq!(v.len(), 2, "{v:?}");
            assert_eq!(v[0], Reply::Bulk(b"set".to_vec()));
            let Reply::Array(h) = &v[1] else {
                panic!("{v:?}")
            };
            assert_eq!(h[0], Reply::Bulk(b"calls".to_vec()));
            assert_eq!(h[1], Reply::Int(5));
            let Reply::Array(buckets) = &h[3] else {
                panic!("{h:?}")
            };
            // Cumulative counts over rising powers of two, ending at every call.
            assert!(!buckets.is_empty() && buckets.len() % 2 == 0);
            let mut last = (0, 0);
            for pair in buckets.chunks(2) {
                let (Reply::Int(usec), Reply::Int(n)) = (&pair[0], &pair[1]) else {
                    panic!("{buckets:?}")
                };
                assert!(*usec > last.0 && *n > last.1 && (*usec as u64).is_power_of_two());
                last = (*usec, *n);
            }
            assert_eq!(last.1, 5);
        }
        other => panic!("{other:?}"),
    }
}
