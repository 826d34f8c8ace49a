//! Black-box tests: the real binary on a free port, driven by the `redis` crate and by raw
//! sockets.
//!
//! Every test runs once per server configuration (see `CONFIGS`): as `io_threads_1::<test>`
//! (the default, tokio's current-thread runtime) and as `io_threads_4::<test>` (started with
//! `--io-threads 4`, the multi-thread runtime), so a failure names its configuration.

mod support;

use redis::Commands;
use std::time::Duration;
use support::client::{encode, RawClient, Reply};
use support::server::{Server, Target};

/// Options every server in a test is started with.
#[derive(Clone, Copy, Debug)]
struct Config {
    opts: &'static [&'static str],
}

const IO_THREADS_1: Config = Config { opts: &[] };
const IO_THREADS_4: Config = Config {
    opts: &["--io-threads", "4"],
};

impl Config {
    fn start(&self) -> Server {
        self.start_with(&[])
    }

    /// Start ferrokv with this configuration's options and the test's own.
    fn start_with(&self, extra: &[&str]) -> Server {
        let mut opts = self.opts.to_vec();
        opts.extend_from_slice(extra);
        Server::start_with(Target::Ferrokv, &opts, None)
    }
}

/// One module of `#[test]`s per configuration, each calling the test function with it.
macro_rules! tests_with_config {
    ($module:ident, $config:expr, [$($name:ident),*]) => {
        mod $module {
            $(
                #[test]
                fn $name() {
                    super::$name(&$config);
                }
            )*
        }
    };
}

/// The tests, each run under every configuration.
macro_rules! for_each_config {
    ($($name:ident),* $(,)?) => {
        tests_with_config!(io_threads_1, super::IO_THREADS_1, [$($name),*]);
        tests_with_config!(io_threads_4, super::IO_THREADS_4, [$($name),*]);
    };
}

for_each_config!(
    strings_round_trip_through_the_redis_crate,
    a_pipeline_gets_every_reply_in_order,
    resp3_connections_get_resp3_types,
    many_concurrent_clients_see_every_increment,
    keys_expire_lazily_and_actively,
    scan_returns_every_key_while_the_keyspace_grows,
    malformed_requests_get_redis_errors_and_a_close_without_hurting_others,
    maxclients_refuses_extra_connections_with_redis_error,
    requirepass_demands_auth_before_commands,
    shutdown_command_and_sigterm_exit_cleanly,
);

fn client(server: &Server) -> redis::Connection {
    redis::Client::open(format!("redis://{}/", server.addr()))
        .unwrap()
        .get_connection()
        .unwrap()
}

fn strings_round_trip_through_the_redis_crate(cfg: &Config) {
    let server = cfg.start();
    let mut c = client(&server);
    let _: () = c.set("k", "v").unwrap();
    let v: String = c.get("k").unwrap();
    assert_eq!(v, "v");
    let n: i64 = c.incr("n", 5).unwrap();
    assert_eq!(n, 5);
    let missing: Option<String> = c.get("nope").unwrap();
    assert_eq!(missing, None);
    let bin = b"a\r\nb\x00c".to_vec();
    let _: () = c.set(&bin[..], &bin[..]).unwrap();
    let back: Vec<u8> = c.get(&bin[..]).unwrap();
    assert_eq!(back, bin);
}

fn a_pipeline_gets_every_reply_in_order(cfg: &Config) {
    let server = cfg.start();
    let mut c = client(&server);
    let mut p = redis::pipe();
    for i in 0..1000 {
        p.cmd("SET").arg(format!("k{i}")).arg(i).ignore();
    }
    for i in 0..1000 {
        p.cmd("GET").arg(format!("k{i}"));
    }
    let values: Vec<i64> = p.query(&mut c).unwrap();
    assert_eq!(values, (0..1000).collect::<Vec<_>>());
}

fn resp3_connections_get_resp3_types(cfg: &Config) {
    let server = cfg.start();
    let mut raw = RawClient::connect(&server.addr());
    match raw.call(&["HELLO", "3"]) {
        Reply::Map(pairs) => assert!(pairs
            .iter()
            .any(|(k, v)| *k == Reply::Bulk(b"proto".to_vec()) && *v == Reply::Int(3))),
        other => panic!("HELLO 3 gave {other:?}"),
    }
    assert_eq!(raw.call(&["GET", "missing"]), Reply::Null);
    assert!(matches!(
        raw.call(&["CONFIG", "GET", "maxmemory"]),
        Reply::Map(_)
    ));
    assert!(matches!(raw.call(&["INFO", "server"]), Reply::Verbatim(..)));
    // The redis crate's RESP3 mode works too.
    let url = format!("redis://{}/?protocol=resp3", server.addr());
    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
    let _: () = c.set("x", 1).unwrap();
    let x: i64 = c.get("x").unwrap();
    assert_eq!(x, 1);
}

fn many_concurrent_clients_see_every_increment(cfg: &Config) {
    let server = cfg.start();
    let url = format!("redis://{}/", server.addr());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = redis::Client::open(url).unwrap();
        let mut tasks = Vec::new();
        for t in 0..32 {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                let mut con = client.get_multiplexed_async_connection().await.unwrap();
                for i in 0..200 {
                    let _: i64 = redis::cmd("INCR")
                        .arg("shared")
                        .query_async(&mut con)
                        .await
                        .unwrap();
                    let _: () = redis::cmd("SET")
                        .arg(format!("t{t}:{i}"))
                        .arg(i)
                        .query_async(&mut con)
                        .await
                        .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let mut con = client.get_multiplexed_async_connection().await.unwrap();
        let total: i64 = redis::cmd("GET")
            .arg("shared")
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(total, 32 * 200);
        let keys: i64 = redis::cmd("DBSIZE").query_async(&mut con).await.unwrap();
        assert_eq!(keys, 32 * 200 + 1);
    });
}

fn keys_expire_lazily_and_actively(cfg: &Config) {
    let server = cfg.start();
    let mut c = client(&server);
    let _: () = redis::cmd("SET")
        .arg("soon")
        .arg("v")
        .arg("PX")
        .arg(100)
        .query(&mut c)
        .unwrap();
    for i in 0..500 {
        let _: () = redis::cmd("SET")
            .arg(format!("bulk{i}"))
            .arg("v")
            .arg("PX")
            .arg(50)
            .query(&mut c)
            .unwrap();
    }
    std::thread::sleep(Duration::from_millis(200));
    let v: Option<String> = c.get("soon").unwrap();
    assert_eq!(v, None, "lazy expiry on access");
    // The bulk keys are never touched: only the active cycle can remove them.
    let mut left = i64::MAX;
    for _ in 0..50 {
        left = redis::cmd("DBSIZE").query(&mut c).unwrap();
        if left == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(left, 0, "active expiry removed untouched keys");
    let info: String = redis::cmd("INFO").arg("stats").query(&mut c).unwrap();
    assert!(info.contains("expired_keys:501"), "{info}");
}

fn scan_returns_every_key_while_the_keyspace_grows(cfg: &Config) {
    let server = cfg.start();
    let mut c = client(&server);
    let mut writer = client(&server);
    for i in 0..2000 {
        let _: () = c.set(format!("orig{i}"), i).unwrap();
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = 0u64;
    let mut round = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(50)
            .query(&mut c)
            .unwrap();
        seen.extend(keys);
        for j in 0..100 {
            let _: () = writer.set(format!("new{round}:{j}"), j).unwrap();
        }
        round += 1;
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    for i in 0..2000 {
        assert!(seen.contains(&format!("orig{i}")), "SCAN missed orig{i}");
    }
}

fn malformed_requests_get_redis_errors_and_a_close_without_hurting_others(cfg: &Config) {
    let server = cfg.start();
    let mut bystander = client(&server);
    let cases: &[(&[u8], &str)] = &[
        (b"*1\r\n$-5\r\n", "ERR Protocol error: invalid bulk length"),
        (b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
        (
            b"*1\r\n$600000000\r\n",
            "ERR Protocol error: invalid bulk length",
        ),
        (
            b"*2\r\n$3\r\nGET\r\n:1\r\n",
            "ERR Protocol error: expected '$', got ':'",
        ),
        (
            b"SET a \"b\r\n",
            "ERR Protocol error: unbalanced quotes in request",
        ),
    ];
    for (bytes, want) in cases {
        let mut raw = RawClient::connect(&server.addr());
        raw.send_raw(bytes);
        assert_eq!(raw.read().unwrap(), Reply::Error(want.to_string()));
        assert!(raw.read_eof().is_ok(), "connection closed after {want}");
        let pong: String = redis::cmd("PING").query(&mut bystander).unwrap();
        assert_eq!(pong, "PONG");
    }
    // An inline request longer than 64 KiB without a newline.
    let mut raw = RawClient::connect(&server.addr());
    raw.send_raw(&vec![b'a'; 70_000]);
    assert_eq!(
        raw.read().unwrap(),
        Reply::Error("ERR Protocol error: too big inline request".into())
    );
}

fn maxclients_refuses_extra_connections_with_redis_error(cfg: &Config) {
    let server = cfg.start_with(&["--maxclients", "2"]);
    let mut a = RawClient::connect(&server.addr());
    assert_eq!(a.call(&["PING"]), Reply::Status("PONG".into()));
    // Wait until the start-up probe connection is gone, so exactly one client is counted.
    for _ in 0..200 {
        match a.call(&["INFO", "clients"]) {
            Reply::Bulk(b) if String::from_utf8_lossy(&b).contains("connected_clients:1\r\n") => {
                break
            }
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    let mut b = RawClient::connect(&server.addr());
    assert_eq!(b.call(&["PING"]), Reply::Status("PONG".into()));
    let mut c = RawClient::connect(&server.addr());
    assert_eq!(
        c.read().unwrap(),
        Reply::Error("ERR max number of clients reached".into())
    );
}

fn requirepass_demands_auth_before_commands(cfg: &Config) {
    let server = cfg.start_with(&["--requirepass", "s3cret"]);
    let mut raw = RawClient::connect(&server.addr());
    assert_eq!(
        raw.call(&["GET", "k"]),
        Reply::Error("NOAUTH Authentication required.".into())
    );
    assert_eq!(
        raw.call(&["AUTH", "wrong"]),
        Reply::Error("WRONGPASS invalid username-password pair or user is disabled.".into())
    );
    assert_eq!(raw.call(&["AUTH", "s3cret"]), Reply::Status("OK".into()));
    assert_eq!(raw.call(&["GET", "k"]), Reply::NilBulk);

    // AUTH and a command longer than the unauthenticated limit in one write, as twemproxy's
    // `redis_auth` sends them: the AUTH counts for the request after it.
    let mut piped = RawClient::connect(&server.addr());
    let mget: Vec<Vec<u8>> = std::iter::once(b"MGET".to_vec())
        .chain((0..20).map(|i| format!("k{i}").into_bytes()))
        .collect();
    let mut bytes = encode(&[b"AUTH".to_vec(), b"s3cret".to_vec()]);
    bytes.extend(encode(&mget));
    piped.send_raw(&bytes);
    assert_eq!(piped.read().unwrap(), Reply::Status("OK".into()));
    assert_eq!(
        piped.read().unwrap(),
        Reply::Array(vec![Reply::NilBulk; 20])
    );
}

fn shutdown_command_and_sigterm_exit_cleanly(cfg: &Config) {
    let mut server = cfg.start();
    let mut raw = RawClient::connect(&server.addr());
    raw.send(&[b"SHUTDOWN".to_vec()]);
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");

    let mut server = cfg.start();
    let pid = server.child.id();
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
