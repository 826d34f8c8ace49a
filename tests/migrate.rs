//! MIGRATE between two servers of the same kind (ferrokv, or redis-server with
//! `SPEC_TARGET=redis`): keys, TTLs, COPY, REPLACE, KEYS, NOKEY and the target's errors.

mod support;

use support::client::{RawClient, Reply};
use support::server::{Server, Target};

fn ok() -> Reply {
    Reply::Status("OK".into())
}

#[test]
fn keys_move_to_the_target() {
    let (a, b) = (
        Server::start(Target::from_env()),
        Server::start(Target::from_env()),
    );
    let mut src = RawClient::connect(&a.addr());
    let mut dst = RawClient::connect(&b.addr());
    let port = b.port.to_string();
    src.call(&["SET", "k", "v"]);
    src.call(&["RPUSH", "l", "x", "y"]);
    src.call(&["SET", "t", "ttl", "PX", "100000"]);
    assert_eq!(
        src.call(&["MIGRATE", "127.0.0.1", &port, "k", "3", "1000"]),
        ok()
    );
    assert_eq!(src.call(&["EXISTS", "k"]), Reply::Int(0));
    dst.call(&["SELECT", "3"]);
    assert_eq!(dst.call(&["GET", "k"]), Reply::Bulk(b"v".to_vec()));
    // COPY leaves the keys here; a missing key is skipped.
    assert_eq!(
        src.call(&[
            "MIGRATE",
            "127.0.0.1",
            &port,
            "",
            "3",
            "1000",
            "COPY",
            "KEYS",
            "l",
            "t",
            "nosuch"
        ]),
        ok()
    );
    assert_eq!(src.call(&["EXISTS", "l", "t"]), Reply::Int(2));
    match dst.call(&["PTTL", "t"]) {
        Reply::Int(ms) => assert!(ms > 90_000 && ms <= 100_000, "{ms}"),
        other => panic!("{other:?}"),
    }
    // A key the target has: its error, and the key stays; REPLACE overwrites it.
    assert_eq!(
        src.call(&["MIGRATE", "127.0.0.1", &port, "l", "3", "1000"]),
        Reply::Error(
            "ERR Target instance replied with error: BUSYKEY Target key name already exists."
                .into()
        )
    );
    assert_eq!(src.call(&["EXISTS", "l"]), Reply::Int(1));
    assert_eq!(
        src.call(&["MIGRATE", "127.0.0.1", &port, "l", "3", "1000", "REPLACE"]),
        ok()
    );
    assert_eq!(src.call(&["EXISTS", "l"]), Reply::Int(0));
    assert_eq!(
        src.call(&["MIGRATE", "127.0.0.1", &port, "nosuch", "3", "1000"]),
        Reply::Status("NOKEY".into())
    );
    assert_eq!(
        src.call(&["MIGRATE", "127.0.0.1", &port, "t", "3", "1000", "KEYS", "t"]),
        Reply::Error(
            "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
                .into()
        )
    );
}
