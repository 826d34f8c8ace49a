//! Every command in the table, called in-process with thousands of random argument lists
//! (option words, numbers at and past every limit, keys of every type), must reply — never
//! panic — and must never fail after changing data (the dispatcher's debug assertion), never
//! touch a key its key specs did not lock (the lock view's check), and keep the store's
//! memory accounting exact.

use ferrokv::config::Config;
use ferrokv::engine::Session;
use ferrokv::resp::Frame;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "k1",
    "k2",
    "k3",
    "list",
    "hash",
    "set",
    "zset",
    "str",
    "num",
    "NX",
    "XX",
    "GT",
    "LT",
    "CH",
    "INCR",
    "EX",
    "PX",
    "EXAT",
    "PXAT",
    "KEEPTTL",
    "PERSIST",
    "GET",
    "DB",
    "REPLACE",
    "COUNT",
    "MATCH",
    "TYPE",
    "SAMPLES",
    "ID",
    "ADDR",
    "SKIPME",
    "yes",
    "no",
    "*",
    "k*",
    "0",
    "1",
    "-1",
    "2",
    "15",
    "16",
    "100",
    "-100",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "1.5",
    "-0.0",
    "inf",
    "-inf",
    "+inf",
    "nan",
    "1e308",
    "1e5000",
    "0x10",
    "",
    " ",
    "abc",
    "\u{0}",
    "4294967296",
    "2147483648",
    "512mb",
    "maxmemory",
    "maxmemory-policy",
    "allkeys-lru",
    "hz",
    "lfu-log-factor",
    "slowlog-log-slower-than",
    "notify-keyspace-events",
    "KEA",
];

fn names(session: &mut Session) -> Vec<String> {
    let Frame::Array(cmds) = session.execute(&[b"COMMAND", b"LIST"]) else {
        panic!("COMMAND LIST")
    };
    cmds.into_iter()
        .filter_map(|f| match f {
            Frame::Bulk(b) => Some(String::from_utf8(b).unwrap()),
            _ => None,
        })
        // Stopping the in-process engine or changing where it writes would end the test.
        .filter(|n| !n.starts_with("shutdown") && n != "config|rewrite")
        .collect()
}

#[test]
fn every_command_survives_random_arguments() {
    let engine = ferrokv::command::engine(Config::default());
    let mut s = Session::new(engine.clone());
    let cmds = names(&mut s);
    assert!(cmds.len() > 80, "{} commands", cmds.len());
    let mut rng = Rng(7);
    let mut calls = 0;
    for _round in 0..40 {
        // Keys of every type, so WRONGTYPE paths run too.
        for setup in [
            "SET str hello",
            "SET num 10",
            "RPUSH list a b c",
            "HSET hash f v",
            "SADD set 1 2 x",
            "ZADD zset 1 a 2 b",
        ] {
            let a: Vec<&[u8]> = setup.split(' ').map(|w| w.as_bytes()).collect();
            s.execute(&a);
        }
        for name in &cmds {
            let mut args: Vec<String> = name.split('|').map(|p| p.to_string()).collect();
            let extra = (rng.next() % 7) as usize;
            for _ in 0..extra {
                args.push(rng.pick(WORDS).to_string());
            }
            let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            // Any reply will do; a panic or a wrong lock fails the test.
            s.execute(&argv);
            calls += 1;
            // Undo settings that would make every later command fail or crawl.
            s.execute(&[b"CONFIG", b"SET", b"maxmemory", b"0"]);
            s.execute(&[b"SELECT", b"0"]);
        }
    }
    assert!(calls > 3000, "{calls} calls");
    // The accounting is still exact after all of it.
    let mut total = 0;
    for db in 0..engine.store.databases() {
        for i in 0..ferrokv::store::SHARDS {
            total += engine
                .store
                .db(db)
                .lock_shard(i)
                .check_invariants()
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let used = engine
        .store
        .counters()
        .used_memory
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(used, total as i64);
}
