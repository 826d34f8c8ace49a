//! Helpers shared by the `aof_*` durability tests: a deterministic PRNG, starting ferrokv
//! with an environment or expecting it to fail, reading `INFO persistence`, full dumps of a
//! server's keyspace, and a tiny RESP encoder for hand-built AOF files.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// splitmix64: tiny, deterministic, good enough to pick operations and sleep times.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo)
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Encode one request as a RESP multibulk array, as it appears in an AOF.
pub fn resp(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// `resp` for string arguments.
pub fn resp_str(args: &[&str]) -> Vec<u8> {
    let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    resp(&v)
}

pub fn ferrokv_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ferrokv"))
}

/// A ferrokv process started by these tests (killed by PID on drop), with its output in a
/// log file so tests can look for warnings.
pub struct Proc {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Proc {
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn ferrokv_command(
    port: u16,
    dir: &Path,
    extra: &[&str],
    envs: &[(&str, &str)],
    log: &Path,
) -> Command {
    let mut c = Command::new(ferrokv_bin());
    c.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--loglevel",
        "warning",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    c.args(extra);
    for (k, v) in envs {
        c.env(k, v);
    }
    let out = std::fs::File::create(log).unwrap();
    let err = out.try_clone().unwrap();
    c.stdin(Stdio::null()).stdout(out).stderr(err);
    c
}

/// Wait until `port` accepts connections; false if the child exited or time ran out.
pub fn wait_listening(child: &mut Child, port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        // A bare connect is not proof: another test's server may hold the port we picked,
        // and a connect to a free ephemeral port can connect the socket to itself.
        if let Some(pid) = answering_pid(port) {
            return pid == child.id();
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

/// The `process_id` the server on `port` reports in `INFO server`.
pub fn answering_pid(port: u16) -> Option<u32> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).ok()?;
    let mut con = client
        .get_connection_with_timeout(Duration::from_secs(5))
        .ok()?;
    con.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let info: String = redis::cmd("INFO").arg("server").query(&mut con).ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Start ferrokv on a free port with `--dir dir` and `extra` options and environment; the
/// log goes to `log`. Retries when the port was taken meanwhile.
pub fn start_ferrokv(dir: &Path, extra: &[&str], envs: &[(&str, &str)], log: &Path) -> Proc {
    let mut last_log = String::new();
    for _ in 0..10 {
        let port = crate::support::server::free_port();
        let mut child = ferrokv_command(port, dir, extra, envs, log)
            .spawn()
            .expect("spawn ferrokv");
        if wait_listening(&mut child, port, Duration::from_secs(10)) {
            return Proc {
                child,
                port,
                log: log.to_path_buf(),
            };
        }
        let _ = child.kill();
        let _ = child.wait();
        last_log = std::fs::read_to_string(log).unwrap_or_default();
    }
    panic!("ferrokv did not start; last log:\n{last_log}");
}

/// Start ferrokv again on the same port, directory and options (after a kill).
pub fn restart_ferrokv(p: &mut Proc, dir: &Path, extra: &[&str], envs: &[(&str, &str)]) {
    p.kill();
    for _ in 0..100 {
        let mut child = ferrokv_command(p.port, dir, extra, envs, &p.log)
            .spawn()
            .expect("spawn ferrokv");
        if wait_listening(&mut child, p.port, Duration::from_secs(10)) {
            p.child = child;
            return;
        }
        let _ = child.kill();
        let _ = child.wait();
        // The port may still be held for a moment; try again shortly.
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("ferrokv did not come back; log:\n{}", p.log_text());
}

/// Run ferrokv expecting it to exit by itself (a start that must fail): its exit code and
/// output. A server that is still running after `timeout` is killed and reported as `None`.
pub fn run_expecting_exit(dir: &Path, extra: &[&str], timeout: Duration) -> (Option<i32>, String) {
    let port = crate::support::server::free_port();
    let log = dir.join("failed-start.log");
    let mut child = ferrokv_command(port, dir, extra, &[], &log)
        .spawn()
        .expect("spawn ferrokv");
    let deadline = Instant::now() + timeout;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    (code, text)
}

pub fn connect(addr: &str) -> redis::Connection {
    let client = redis::Client::open(format!("redis://{addr}/")).unwrap();
    let con = client
        .get_connection_with_timeout(Duration::from_secs(5))
        .unwrap();
    con.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    con.set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    con
}

/// One field of `INFO persistence`.
pub fn info_field(con: &mut redis::Connection, field: &str) -> String {
    let info: String = redis::cmd("INFO").arg("persistence").query(con).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in INFO persistence:\n{info}"))
        .trim()
        .to_string()
}

/// Wait (bounded) until no rewrite is running.
pub fn wait_rewrite_done(con: &mut redis::Connection, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while info_field(con, "aof_rewrite_in_progress") != "0" {
        assert!(
            Instant::now() < deadline,
            "rewrite still in progress after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// What a dump knows about one key.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// A string's bytes.
    Str(Vec<u8>),
    /// A collection, by its length (ferrokv cannot read collections back yet).
    Len(i64),
    /// A collection read in full, normalised: list in order, sets/hashes/zsets sorted.
    Items(Vec<Vec<u8>>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub kind: String,
    pub val: Val,
    /// Absolute expiry in unix ms (estimated from PTTL), or None without a TTL.
    pub expire_at: Option<i64>,
}

/// `(db, key)` → item.
pub type Dump = BTreeMap<(i64, Vec<u8>), Item>;

/// How to read collections in a dump.
#[derive(Clone, Copy, PartialEq)]
pub enum Depth {
    /// TYPE and LLEN/SCARD/HLEN/ZCARD (all ferrokv can answer).
    Lengths,
    /// Full contents (Redis).
    Full,
}

/// Everything in databases `0..dbs` (the connection is left in db 0).
pub fn dump(con: &mut redis::Connection, dbs: i64, depth: Depth) -> Dump {
    let mut out = Dump::new();
    for db in 0..dbs {
        let _: () = redis::cmd("SELECT").arg(db).query(con).unwrap();
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(con).unwrap();
        if keys.is_empty() {
            continue;
        }
        let mut p = redis::pipe();
        for k in &keys {
            p.cmd("TYPE").arg(&k[..]).cmd("PTTL").arg(&k[..]);
        }
        let at = now_ms();
        let meta: Vec<redis::Value> = p.query(con).unwrap();
        let mut p = redis::pipe();
        let mut kinds = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            let kind: String = redis::from_redis_value_ref(&meta[2 * i]).unwrap();
            let c = match (kind.as_str(), depth) {
                ("string", _) => "GET",
                ("list", Depth::Lengths) => "LLEN",
                ("set", Depth::Lengths) => "SCARD",
                ("hash", Depth::Lengths) => "HLEN",
                ("zset", Depth::Lengths) => "ZCARD",
                ("list", Depth::Full) => "LRANGE",
                ("set", Depth::Full) => "SMEMBERS",
                ("hash", Depth::Full) => "HGETALL",
                ("zset", Depth::Full) => "ZRANGE",
                // Expired between KEYS and TYPE: read nothing useful, recorded as such.
                _ => "TYPE",
            };
            let cmd = p.cmd(c).arg(&k[..]);
            if c == "LRANGE" || c == "ZRANGE" {
                cmd.arg(0).arg(-1);
            }
            if c == "ZRANGE" {
                cmd.arg("WITHSCORES");
            }
            kinds.push(kind);
        }
        let vals: Vec<redis::Value> = p.query(con).unwrap();
        for (i, k) in keys.iter().enumerate() {
            let pttl: i64 = redis::from_redis_value_ref(&meta[2 * i + 1]).unwrap();
            let v = &vals[i];
            let val = match (kinds[i].as_str(), depth) {
                ("string", _) => Val::Str(redis::from_redis_value_ref(v).unwrap()),
                (_, Depth::Lengths) if kinds[i] != "none" => {
                    Val::Len(redis::from_redis_value_ref(v).unwrap())
                }
                ("list", Depth::Full) => Val::Items(redis::from_redis_value_ref(v).unwrap()),
                ("hash", Depth::Full) | ("zset", Depth::Full) => {
                    let flat: Vec<Vec<u8>> = redis::from_redis_value_ref(v).unwrap();
                    let mut pairs: Vec<Vec<u8>> = flat
                        .chunks(2)
                        .map(|c| {
                            let mut e = c[0].clone();
                            e.push(b'=');
                            e.extend_from_slice(&c[1]);
                            e
                        })
                        .collect();
                    if kinds[i] == "hash" {
                        pairs.sort();
                    }
                    Val::Items(pairs)
                }
                ("set", Depth::Full) => {
                    let mut m: Vec<Vec<u8>> = redis::from_redis_value_ref(v).unwrap();
                    m.sort();
                    Val::Items(m)
                }
                _ => Val::Len(-1),
            };
            let expire_at = (pttl >= 0).then(|| at + pttl);
            out.insert(
                (db, k.clone()),
                Item {
                    kind: kinds[i].clone(),
                    val,
                    expire_at,
                },
            );
        }
    }
    let _: () = redis::cmd("SELECT").arg(0).query(con).unwrap();
    out
}

/// Differences between two dumps (empty when they agree); expiries may differ by `ttl_tol`.
pub fn diff_dumps(a: &Dump, b: &Dump, ttl_tol: i64) -> Vec<String> {
    let mut out = Vec::new();
    for (k, x) in a {
        match b.get(k) {
            None => out.push(format!(
                "db {} key {}: only in the first: {x:?}",
                k.0,
                show(&k.1)
            )),
            Some(y) => {
                if x.kind != y.kind || x.val != y.val {
                    out.push(format!("db {} key {}: {x:?} vs {y:?}", k.0, show(&k.1)));
                }
                let ttl_ok = match (x.expire_at, y.expire_at) {
                    (None, None) => true,
                    (Some(p), Some(q)) => (p - q).abs() <= ttl_tol,
                    _ => false,
                };
                if !ttl_ok {
                    out.push(format!(
                        "db {} key {}: expiry {:?} vs {:?}",
                        k.0,
                        show(&k.1),
                        x.expire_at,
                        y.expire_at
                    ));
                }
            }
        }
    }
    for (k, y) in b {
        if !a.contains_key(k) {
            out.push(format!(
                "db {} key {}: only in the second: {y:?}",
                k.0,
                show(&k.1)
            ));
        }
    }
    out
}

pub fn show(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

/// `redis-check-aof` on `path`: Some((ok, output)) or None when the tool is not installed.
pub fn redis_check_aof(path: &Path) -> Option<(bool, String)> {
    let out = Command::new("redis-check-aof").arg(path).output().ok()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success() && text.contains("is valid"), text))
}

pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool} >/dev/null 2>&1")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Split a well-formed AOF into the byte offsets where its records end (0 first).
pub fn record_boundaries(data: &[u8]) -> Vec<usize> {
    let mut bounds = vec![0];
    let mut pos = 0;
    let line = |pos: &mut usize| -> usize {
        let rel = data[*pos..].windows(2).position(|w| w == b"\r\n").unwrap();
        let n: usize = std::str::from_utf8(&data[*pos + 1..*pos + rel])
            .unwrap()
            .parse()
            .unwrap();
        *pos += rel + 2;
        n
    };
    while pos < data.len() {
        assert_eq!(data[pos], b'*', "record at {pos}");
        let argc = line(&mut pos);
        for _ in 0..argc {
            assert_eq!(data[pos], b'$');
            let len = line(&mut pos);
            pos += len + 2;
        }
        bounds.push(pos);
    }
    bounds
}

/// A real `redis-server` started by a test, killed by PID on drop.
pub struct Redis {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Redis {
    pub fn start(dir: &Path, extra: &[&str]) -> Redis {
        let log = dir.join("redis.log");
        for _ in 0..10 {
            let port = crate::support::server::free_port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--dir", dir.to_str().unwrap(), "--save", ""])
                .args(["--daemonize", "no", "--loglevel", "notice"])
                .args(["--logfile", log.to_str().unwrap()])
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            if wait_listening(&mut child, port, Duration::from_secs(10)) {
                let mut r = Redis { child, port, log };
                r.wait_loaded();
                return r;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "redis-server did not start:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// PING answers PONG once the data is loaded (LOADING before).
    fn wait_loaded(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut c = crate::support::client::RawClient::connect(&self.addr());
        loop {
            match c.call(&["PING"]) {
                crate::support::client::Reply::Status(s) if s == "PONG" => return,
                other => {
                    assert!(
                        Instant::now() < deadline,
                        "redis-server not ready: {other:?}\n{}",
                        self.log_text()
                    );
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub mod raw;
pub mod writers;
