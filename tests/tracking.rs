//! Client-side caching (`CLIENT TRACKING`) against the real binary: invalidation pushes in
//! RESP3, redirection to a RESP2 subscriber, BCAST prefixes, NOLOOP, OPTIN, flushes, and the
//! introspection commands. Runs against redis-server too with `SPEC_TARGET=redis`.

mod support;

use support::client::{RawClient, Reply};
use support::server::{Server, Target};

fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

fn ok() -> Reply {
    Reply::Status("OK".into())
}

fn invalidate(keys: &[&str]) -> Reply {
    Reply::Push(vec![
        bulk("invalidate"),
        Reply::Array(keys.iter().map(|k| bulk(k)).collect()),
    ])
}

fn resp3(addr: &str) -> RawClient {
    let mut c = RawClient::connect(addr);
    assert!(matches!(c.call(&["HELLO", "3"]), Reply::Map(_)));
    c
}

fn id(c: &mut RawClient) -> String {
    match c.call(&["CLIENT", "ID"]) {
        Reply::Int(n) => n.to_string(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn resp3_clients_get_invalidations_after_their_reply() {
    let server = Server::start(Target::from_env());
    let addr = server.addr();
    let mut c = resp3(&addr);
    let mut w = RawClient::connect(&addr);
    assert_eq!(c.call(&["CLIENT", "TRACKING", "on"]), ok());
    w.call(&["SET", "k", "1"]);
    assert_eq!(c.call(&["GET", "k"]), bulk("1"));
    w.call(&["SET", "k", "2"]);
    assert_eq!(c.read().unwrap(), invalidate(&["k"]));
    // The key is forgotten once invalidated: a second change sends nothing, so the next
    // thing read is the reply to PING.
    w.call(&["SET", "k", "3"]);
    assert_eq!(c.call(&["PING"]), Reply::Status("PONG".into()));
    // Its own change: the reply first, then the invalidation.
    assert_eq!(c.call(&["GET", "k"]), bulk("3"));
    assert_eq!(c.call(&["DEL", "k"]), Reply::Int(1));
    assert_eq!(c.read().unwrap(), invalidate(&["k"]));
    // NOLOOP: its own changes are not reported, others' are.
    assert_eq!(c.call(&["CLIENT", "TRACKING", "on", "NOLOOP"]), ok());
    c.call(&["GET", "k"]);
    c.call(&["SET", "k", "mine"]);
    c.call(&["GET", "k"]);
    w.call(&["SET", "k", "theirs"]);
    assert_eq!(c.read().unwrap(), invalidate(&["k"]));
    // A flush invalidates everything: a null.
    c.call(&["GET", "k"]);
    w.call(&["FLUSHALL"]);
    assert_eq!(
        c.read().unwrap(),
        Reply::Push(vec![bulk("invalidate"), Reply::Null])
    );
    assert_eq!(c.call(&["CLIENT", "TRACKING", "off"]), ok());
    assert_eq!(c.call(&["CLIENT", "GETREDIR"]), Reply::Int(-1));
}

#[test]
fn resp2_redirection_to_a_subscriber_and_bcast_prefixes() {
    let server = Server::start(Target::from_env());
    let addr = server.addr();
    let mut sub = RawClient::connect(&addr);
    let sub_id = id(&mut sub);
    sub.call(&["SUBSCRIBE", "__redis__:invalidate"]);
    let mut c = RawClient::connect(&addr);
    let mut w = RawClient::connect(&addr);
    assert_eq!(
        c.call(&["CLIENT", "TRACKING", "on", "REDIRECT", &sub_id]),
        ok()
    );
    assert_eq!(
        c.call(&["CLIENT", "GETREDIR"]),
        Reply::Int(sub_id.parse().unwrap())
    );
    c.call(&["MGET", "a", "b"]);
    w.call(&["MSET", "a", "1", "b", "2"]);
    let mut keys = Vec::new();
    while keys.len() < 2 {
        match sub.read().unwrap() {
            Reply::Array(m) => {
                assert_eq!(m[0], bulk("message"));
                assert_eq!(m[1], bulk("__redis__:invalidate"));
                match &m[2] {
                    Reply::Array(k) => keys.extend(k.clone()),
                    other => panic!("{other:?}"),
                }
            }
            other => panic!("{other:?}"),
        }
    }
    keys.sort_by_key(|k| format!("{k:?}"));
    assert_eq!(keys, vec![bulk("a"), bulk("b")]);

    // BCAST: the keys changed under each prefix by one command, in one message each.
    assert_eq!(c.call(&["CLIENT", "TRACKING", "off"]), ok());
    assert_eq!(
        c.call(&[
            "CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", &sub_id, "PREFIX", "x:", "PREFIX",
            "y:"
        ]),
        ok()
    );
    w.call(&["MSET", "x:2", "1", "x:1", "1", "y:1", "1", "z:1", "1"]);
    let mut got = Vec::new();
    for _ in 0..2 {
        match sub.read().unwrap() {
            Reply::Array(m) => got.push(m[2].clone()),
            other => panic!("{other:?}"),
        }
    }
    got.sort_by_key(|k| format!("{k:?}"));
    assert_eq!(
        got,
        vec![
            Reply::Array(vec![bulk("x:1"), bulk("x:2")]),
            Reply::Array(vec![bulk("y:1")])
        ]
    );
    match c.call(&["CLIENT", "TRACKINGINFO"]) {
        Reply::Array(v) => {
            assert_eq!(v[1], Reply::Array(vec![bulk("on"), bulk("bcast")]));
            assert_eq!(v[3], Reply::Int(sub_id.parse().unwrap()));
            assert_eq!(v[5], Reply::Array(vec![bulk("x:"), bulk("y:")]));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn optin_and_the_errors_redis_gives() {
    let server = Server::start(Target::from_env());
    let addr = server.addr();
    let mut c = resp3(&addr);
    let mut w = RawClient::connect(&addr);
    let err = |c: &mut RawClient, args: &[&str]| match c.call(args) {
        Reply::Error(e) => e,
        other => panic!("{args:?}: {other:?}"),
    };
    assert_eq!(
        err(&mut c, &["CLIENT", "CACHING", "yes"]),
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"
    );
    assert_eq!(
        err(&mut c, &["CLIENT", "TRACKING", "on", "PREFIX", "a"]),
        "ERR PREFIX option requires BCAST mode to be enabled"
    );
    assert_eq!(
        err(&mut c, &["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"]),
        "ERR You can't specify both OPTIN mode and OPTOUT mode"
    );
    assert_eq!(
        err(&mut c, &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "a"]),
        "ERR Prefix 'ab' overlaps with another provided prefix 'a'. Prefixes for a single client must not overlap."
    );
    assert_eq!(
        err(&mut c, &["CLIENT", "TRACKING", "on", "REDIRECT", "999999"]),
        "ERR The client ID you want redirect to does not exist"
    );
    assert_eq!(c.call(&["CLIENT", "TRACKING", "on", "OPTIN"]), ok());
    assert_eq!(
        err(&mut c, &["CLIENT", "TRACKING", "on", "OPTOUT"]),
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
    );
    assert_eq!(
        err(&mut c, &["CLIENT", "CACHING", "no"]),
        "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
    );
    // OPTIN: only the command right after CLIENT CACHING yes is tracked.
    c.call(&["GET", "untracked"]);
    assert_eq!(c.call(&["CLIENT", "CACHING", "yes"]), ok());
    c.call(&["GET", "tracked"]);
    w.call(&["SET", "untracked", "1"]);
    w.call(&["SET", "tracked", "1"]);
    assert_eq!(c.read().unwrap(), invalidate(&["tracked"]));
    assert_eq!(c.call(&["PING"]), Reply::Status("PONG".into()));
    // RESET turns tracking off.
    assert_eq!(c.call(&["RESET"]), Reply::Status("RESET".into()));
    assert_eq!(c.call(&["CLIENT", "GETREDIR"]), Reply::Int(-1));
}
