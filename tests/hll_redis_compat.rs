//! HyperLogLog values move between Redis and ferrokv: HLLs built with the same PFADDs in a
//! real `redis-server` and in ferrokv have the same bytes, and bytes taken from one (GET) and
//! SET into the other count, grow and merge the same there.
//! Skipped (with a SKIPPED line) when `redis-server` is not installed.

mod support;

use support::client::{RawClient, Reply};
use support::server::{Server, Target};

fn have_redis() -> bool {
    std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A small deterministic generator for the elements.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn call(c: &mut RawClient, args: &[&[u8]]) -> Reply {
    c.send(&args.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
    c.read().expect("reply")
}

fn bytes(c: &mut RawClient, key: &str) -> Vec<u8> {
    match call(c, &[b"GET", key.as_bytes()]) {
        Reply::Bulk(b) => b,
        other => panic!("GET {key}: {other:?}"),
    }
}

/// Send the same command to both servers and check that they reply the same.
fn both(r: &mut RawClient, f: &mut RawClient, args: &[&[u8]]) -> Reply {
    let (a, b) = (call(r, args), call(f, args));
    let line: Vec<String> = args
        .iter()
        .take(4)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    assert_eq!(b, a, "ferrokv (left) and redis (right) differ on {line:?}");
    a
}

#[test]
fn hll_bytes_move_between_redis_and_ferrokv() {
    if !have_redis() {
        eprintln!("SKIPPED hll_bytes_move_between_redis_and_ferrokv: redis-server not installed");
        return;
    }
    let redis = Server::start(Target::Redis);
    let ferrokv = Server::start(Target::Ferrokv);
    let mut r = RawClient::connect(&format!("127.0.0.1:{}", redis.port));
    let mut f = RawClient::connect(&format!("127.0.0.1:{}", ferrokv.port));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Sizes on both sides of the sparse/dense promotion (about 1500 elements by default).
    for (round, size) in [0usize, 1, 7, 90, 600, 1400, 2500, 20_000]
        .into_iter()
        .enumerate()
    {
        let key = format!("h{round}");
        both(&mut r, &mut f, &[b"PFADD", key.as_bytes()]);
        let mut added = 0;
        while added < size {
            let n = (rng.next() % 300 + 1).min((size - added) as u64) as usize;
            let elements: Vec<Vec<u8>> = (0..n)
                .map(|_| format!("{:x}", rng.next() % 1_000_000).into_bytes())
                .collect();
            let mut args: Vec<&[u8]> = vec![b"PFADD", key.as_bytes()];
            args.extend(elements.iter().map(|e| &e[..]));
            both(&mut r, &mut f, &args);
            added += n;
        }
        assert_eq!(bytes(&mut f, &key), bytes(&mut r, &key), "{key} bytes");
        both(&mut r, &mut f, &[b"PFCOUNT", key.as_bytes()]);
        assert_eq!(bytes(&mut f, &key), bytes(&mut r, &key), "{key} cached");

        // Redis's bytes into ferrokv and ferrokv's into Redis, as stale-cache copies.
        let mut from_redis = bytes(&mut r, &key);
        from_redis[15] |= 0x80;
        let mut from_ferrokv = bytes(&mut f, &key);
        from_ferrokv[15] |= 0x80;
        for (c, v) in [(&mut f, &from_redis), (&mut r, &from_ferrokv)] {
            assert_eq!(call(c, &[b"SET", b"moved", v]), Reply::Status("OK".into()));
        }
        both(&mut r, &mut f, &[b"PFCOUNT", b"moved"]);
        both(
            &mut r,
            &mut f,
            &[b"PFADD", b"moved", b"one", b"more", b"element"],
        );
        both(
            &mut r,
            &mut f,
            &[b"PFMERGE", b"merged", b"moved", key.as_bytes()],
        );
        both(
            &mut r,
            &mut f,
            &[b"PFCOUNT", b"merged", b"h0", key.as_bytes()],
        );
        for k in ["moved", "merged"] {
            assert_eq!(bytes(&mut f, k), bytes(&mut r, k), "{k} after {key}");
        }
    }
}
