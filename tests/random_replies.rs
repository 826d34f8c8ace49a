//! Random picks and collection scans, checked as properties (their values are random, their
//! rules are not): SRANDMEMBER, HRANDFIELD and ZRANDMEMBER with positive counts give distinct
//! elements (at most the whole collection), with negative counts exactly -count elements
//! with repeats; SPOP with a count removes what it returns; HSCAN, SSCAN and ZSCAN return
//! every element present for the whole scan even while the collection grows. Each property
//! runs on a small (listpack/intset) and a large (hashtable/skiplist) collection.
//! `SPEC_TARGET=redis` runs the same checks against redis-server.

mod support;

use std::collections::{HashMap, HashSet};
use support::client::{RawClient, Reply};
use support::server::{Server, Target};

fn bulks(r: Reply) -> Vec<Vec<u8>> {
    match r {
        Reply::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Reply::Bulk(b) => b,
                other => panic!("not a bulk: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

fn call(c: &mut RawClient, args: &[String]) -> Reply {
    let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    c.call(&refs)
}

/// Fill `key` with `n` elements of its type; returns member -> value (score for zsets).
fn fill(c: &mut RawClient, kind: &str, key: &str, n: usize) -> HashMap<Vec<u8>, Vec<u8>> {
    let mut all = HashMap::new();
    for i in 0..n {
        let m = format!("m{i}");
        let v = format!("{}", i * 3);
        let args: Vec<String> = match kind {
            "set" => vec!["SADD".into(), key.into(), m.clone()],
            "hash" => vec!["HSET".into(), key.into(), m.clone(), v.clone()],
            _ => vec!["ZADD".into(), key.into(), v.clone(), m.clone()],
        };
        call(c, &args);
        all.insert(m.into_bytes(), v.into_bytes());
    }
    all
}

fn random_cmd(kind: &str) -> &'static str {
    match kind {
        "set" => "SRANDMEMBER",
        "hash" => "HRANDFIELD",
        _ => "ZRANDMEMBER",
    }
}

fn check_random(c: &mut RawClient, kind: &str, n: usize) {
    let key = format!("{kind}{n}");
    let all = fill(c, kind, &key, n);
    let cmd = random_cmd(kind);
    for count in [1i64, 3, n as i64 - 1, n as i64, n as i64 + 5, 1000] {
        if count <= 0 {
            continue;
        }
        let got = bulks(call(c, &[cmd.into(), key.clone(), count.to_string()]));
        assert_eq!(got.len(), (count as usize).min(n), "{cmd} {count} of {n}");
        let distinct: HashSet<_> = got.iter().collect();
        assert_eq!(distinct.len(), got.len(), "{cmd} {count}: repeats");
        assert!(got.iter().all(|m| all.contains_key(m)), "{cmd}: stranger");
    }
    let cover = -30 * n as i64;
    for count in [-1i64, -3, -(n as i64) - 5, cover] {
        let got = bulks(call(c, &[cmd.into(), key.clone(), count.to_string()]));
        assert_eq!(got.len(), count.unsigned_abs() as usize, "{cmd} {count}");
        assert!(got.iter().all(|m| all.contains_key(m)), "{cmd}: stranger");
        if count == cover {
            // 30n draws miss a given element with probability (1-1/n)^(30n) < e^-29.
            let seen: HashSet<_> = got.iter().collect();
            assert_eq!(seen.len(), n, "{cmd} {count} left elements out");
        }
    }
    assert_eq!(
        bulks(call(c, &[cmd.into(), key.clone(), "0".into()])).len(),
        0
    );
    // With values or scores: the pairs are the collection's own.
    if kind != "set" {
        let opt = if kind == "hash" {
            "WITHVALUES"
        } else {
            "WITHSCORES"
        };
        for count in [5i64, -7] {
            let flat = bulks(call(
                c,
                &[cmd.into(), key.clone(), count.to_string(), opt.into()],
            ));
            let picks = if count > 0 {
                (count as usize).min(n)
            } else {
                count.unsigned_abs() as usize
            };
            assert_eq!(flat.len(), 2 * picks, "{cmd} {count} {opt}");
            for p in flat.chunks(2) {
                assert_eq!(all.get(&p[0]), Some(&p[1]), "{cmd} {opt}: wrong pair");
            }
        }
    }
    match call(c, &[cmd.into(), key.clone()]) {
        Reply::Bulk(m) => assert!(all.contains_key(&m)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn random_picks_follow_the_count_rules() {
    let server = Server::start(Target::from_env());
    let mut c = RawClient::connect(&server.addr());
    for kind in ["set", "hash", "zset"] {
        // 10: listpack/intset-sized; 200: past every default listpack limit.
        for n in [10, 200] {
            check_random(&mut c, kind, n);
        }
    }
}

#[test]
fn spop_with_a_count_removes_what_it_returns() {
    let server = Server::start(Target::from_env());
    let mut c = RawClient::connect(&server.addr());
    for n in [10usize, 300] {
        let key = format!("s{n}");
        let mut left: HashSet<Vec<u8>> = fill(&mut c, "set", &key, n).into_keys().collect();
        for count in [1usize, 4, 25] {
            let got = bulks(call(
                &mut c,
                &["SPOP".into(), key.clone(), count.to_string()],
            ));
            assert_eq!(got.len(), count.min(left.len()));
            for m in &got {
                assert!(left.remove(m), "SPOP returned {m:?} twice or a stranger");
            }
            assert_eq!(
                call(&mut c, &["SCARD".into(), key.clone()]),
                Reply::Int(left.len() as i64)
            );
        }
        let rest = bulks(call(&mut c, &["SPOP".into(), key.clone(), "1000".into()]));
        assert_eq!(rest.len(), left.len());
        assert_eq!(call(&mut c, &["EXISTS".into(), key.clone()]), Reply::Int(0));
    }
}

/// One SCAN-family walk with COUNT 5, adding `grow` new elements after every call.
fn scan_all(c: &mut RawClient, kind: &str, key: &str, grow: usize) -> HashSet<Vec<u8>> {
    let cmd = match kind {
        "set" => "SSCAN",
        "hash" => "HSCAN",
        _ => "ZSCAN",
    };
    let step = if kind == "set" { 1 } else { 2 };
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    let mut added = 0;
    loop {
        let r = call(
            c,
            &[
                cmd.into(),
                key.into(),
                cursor.clone(),
                "COUNT".into(),
                "5".into(),
            ],
        );
        let Reply::Array(mut parts) = r else {
            panic!("{r:?}")
        };
        let items = bulks(parts.pop().unwrap());
        let Reply::Bulk(next) = parts.pop().unwrap() else {
            panic!()
        };
        for m in items.iter().step_by(step) {
            seen.insert(m.clone());
        }
        for _ in 0..grow {
            let m = format!("new{added}");
            added += 1;
            let args: Vec<String> = match kind {
                "set" => vec!["SADD".into(), key.into(), m],
                "hash" => vec!["HSET".into(), key.into(), m, "v".into()],
                _ => vec!["ZADD".into(), key.into(), "7".into(), m],
            };
            call(c, &args);
        }
        cursor = String::from_utf8(next).unwrap();
        if cursor == "0" {
            return seen;
        }
    }
}

#[test]
fn scans_return_every_element_present_throughout_while_the_collection_grows() {
    let server = Server::start(Target::from_env());
    let mut c = RawClient::connect(&server.addr());
    for kind in ["set", "hash", "zset"] {
        for n in [10usize, 500] {
            let key = format!("scan-{kind}{n}");
            let before: HashSet<Vec<u8>> = fill(&mut c, kind, &key, n).into_keys().collect();
            let seen = scan_all(&mut c, kind, &key, 3);
            let missing: Vec<_> = before.difference(&seen).collect();
            assert!(missing.is_empty(), "{kind} {n}: scan missed {missing:?}");
        }
    }
}
