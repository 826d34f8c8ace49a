//! `ACL LOG` against the real binary (or redis-server with `SPEC_TARGET=redis`): refused
//! commands, keys and channels, failed logins and script calls are logged newest first with
//! their reason, context, object and user; repeats share an entry; RESET empties it. (The
//! spec scenarios cannot hold these replies: ages and client lines change on every run.)

mod support;

use support::client::{RawClient, Reply};
use support::server::{Server, Target};

/// One entry as (count, reason, context, object, username), with its client line checked.
fn entries(c: &mut RawClient, count: &str) -> Vec<(i64, String, String, String, String)> {
    let Reply::Array(list) = c.call(&["ACL", "LOG", count]) else {
        panic!("ACL LOG is not an array")
    };
    list.into_iter()
        .map(|e| {
            // RESP2: a flat array of 7 name/value pairs.
            let Reply::Array(kv) = e else {
                panic!("an entry is not an array: {e:?}")
            };
            assert_eq!(kv.len(), 14, "{kv:?}");
            let text = |i: usize| match &kv[i] {
                Reply::Bulk(b) => String::from_utf8(b.clone()).unwrap(),
                other => panic!("field {i}: {other:?}"),
            };
            let names: Vec<String> = (0..7).map(|i| text(2 * i)).collect();
            assert_eq!(
                names,
                [
                    "count",
                    "reason",
                    "context",
                    "object",
                    "username",
                    "age-seconds",
                    "client-info"
                ]
            );
            let age: f64 = text(11).parse().unwrap();
            assert!((0.0..60.0).contains(&age), "age {age}");
            assert!(text(13).starts_with("id="), "client-info {}", text(13));
            let Reply::Int(n) = kv[1] else {
                panic!("count: {:?}", kv[1])
            };
            (n, text(3), text(5), text(7), text(9))
        })
        .collect()
}

fn e(
    n: i64,
    reason: &str,
    context: &str,
    object: &str,
    user: &str,
) -> (i64, String, String, String, String) {
    (n, reason.into(), context.into(), object.into(), user.into())
}

#[test]
fn denials_and_failed_logins_are_logged_newest_first() {
    let server = Server::start(Target::from_env());
    let mut admin = RawClient::connect(&server.addr());
    let mut bob = RawClient::connect(&server.addr());
    admin.call(&[
        "ACL", "SETUSER", "bob", "on", ">pw", "+get", "+set", "+eval", "+multi", "+publish", "~k*",
        "&news",
    ]);
    assert_eq!(
        admin.call(&["ACL", "LOG", "RESET"]),
        Reply::Status("OK".into())
    );
    assert_eq!(admin.call(&["ACL", "LOG"]), Reply::Array(vec![]));

    assert!(matches!(
        bob.call(&["AUTH", "bob", "wrong"]),
        Reply::Error(_)
    ));
    assert_eq!(bob.call(&["AUTH", "bob", "pw"]), Reply::Status("OK".into()));
    for _ in 0..3 {
        assert!(matches!(
            bob.call(&["HSET", "k", "f", "v"]),
            Reply::Error(_)
        ));
    }
    assert!(matches!(bob.call(&["GET", "other"]), Reply::Error(_)));
    assert!(matches!(
        bob.call(&["PUBLISH", "sports", "m"]),
        Reply::Error(_)
    ));
    assert!(matches!(
        bob.call(&["EVAL", "return redis.call('get', 'secret')", "0"]),
        Reply::Error(_)
    ));
    assert_eq!(bob.call(&["MULTI"]), Reply::Status("OK".into()));
    assert!(matches!(bob.call(&["SET", "nope", "v"]), Reply::Error(_)));

    assert_eq!(
        entries(&mut admin, "100"),
        vec![
            e(1, "key", "multi", "nope", "bob"),
            e(1, "key", "lua", "secret", "bob"),
            e(1, "channel", "toplevel", "sports", "bob"),
            e(1, "key", "toplevel", "other", "bob"),
            e(3, "command", "toplevel", "hset", "bob"),
            e(1, "auth", "toplevel", "AUTH", "bob"),
        ]
    );
    assert_eq!(entries(&mut admin, "2").len(), 2);
    assert_eq!(entries(&mut admin, "-1").len(), 0);
    assert!(matches!(admin.call(&["ACL", "LOG", "x"]), Reply::Error(_)));
    assert_eq!(
        admin.call(&["ACL", "LOG", "RESET"]),
        Reply::Status("OK".into())
    );
    assert_eq!(admin.call(&["ACL", "LOG"]), Reply::Array(vec![]));
}

#[test]
fn the_log_keeps_acllog_max_len_entries() {
    let server = Server::start(Target::from_env());
    let mut c = RawClient::connect(&server.addr());
    assert_eq!(
        c.call(&["CONFIG", "SET", "acllog-max-len", "3"]),
        Reply::Status("OK".into())
    );
    for user in ["u1", "u2", "u3", "u4", "u5"] {
        assert!(matches!(c.call(&["AUTH", user, "x"]), Reply::Error(_)));
    }
    let users: Vec<String> = entries(&mut c, "10").into_iter().map(|e| e.4).collect();
    assert_eq!(users, ["u5", "u4", "u3"]);
}
