//! Raw-protocol versions of the AOF test helpers (no `redis` crate): start ferrokv on a data
//! directory and report a start that fails with its exit code and output, and dump a whole
//! keyspace with the exact absolute expiry of every key (`PEXPIRETIME`).
//!
//! The dump reads collections in full (`LRANGE`, `SMEMBERS`, `HGETALL`, `ZRANGE .. WITHSCORES`)
//! when the server answers those commands, and falls back to their sizes (`LLEN`, `SCARD`,
//! `HLEN`, `ZCARD`) when it replies "unknown command".

use crate::support::client::{RawClient, ReadError, Reply};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A ferrokv process started on a data directory (killed by PID on drop).
pub struct RawProc {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl RawProc {
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
    /// kill -9 and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RawProc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Why a start failed.
#[derive(Debug)]
pub struct StartFailure {
    /// Exit code when the process exited (None: killed after the timeout, or by a signal).
    pub code: Option<i32>,
    pub exited: bool,
    /// Everything the process wrote to stdout and stderr.
    pub output: String,
}

impl std::fmt::Display for StartFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.exited {
            write!(
                f,
                "ferrokv exited during start-up (exit code {:?})",
                self.code
            )?;
        } else {
            write!(f, "ferrokv was not ready in time")?;
        }
        write!(f, "; its output:\n{}", strip_ansi(&self.output).trim_end())
    }
}

/// The text without terminal colour sequences (`ESC [ ... m`).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Start ferrokv on a free port with `--dir dir` and `extra` options; stdout and stderr go
/// to `log`. Waits until it answers (after loading its AOF). A port taken by someone else
/// meanwhile is retried; any other failure is returned.
pub fn start(dir: &Path, extra: &[&str], log: &Path) -> Result<RawProc, StartFailure> {
    let mut last = None;
    for _ in 0..10 {
        let port = crate::support::server::free_port();
        let out = std::fs::File::create(log).unwrap();
        let err = out.try_clone().unwrap();
        let mut child = Command::new(super::ferrokv_bin())
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--loglevel", "warning", "--dir", dir.to_str().unwrap()])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn ferrokv");
        match wait_ready(&mut child, port, Duration::from_secs(20)) {
            Ready::Ours => {
                return Ok(RawProc {
                    child,
                    port,
                    log: log.to_path_buf(),
                })
            }
            Ready::Foreign => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Ready::Exited(code) => {
                let output = std::fs::read_to_string(log).unwrap_or_default();
                let failure = StartFailure {
                    code,
                    exited: true,
                    output,
                };
                if !failure
                    .output
                    .contains("Could not create server TCP listening socket")
                {
                    return Err(failure);
                }
                last = Some(failure);
            }
            Ready::TimedOut => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(StartFailure {
                    code: None,
                    exited: false,
                    output: std::fs::read_to_string(log).unwrap_or_default(),
                });
            }
        }
    }
    Err(last.unwrap_or(StartFailure {
        code: None,
        exited: false,
        output: "no free port".into(),
    }))
}

enum Ready {
    Ours,
    Foreign,
    Exited(Option<i32>),
    TimedOut,
}

/// Wait until the server on `port` answers `INFO server` with our child's PID (it binds
/// before loading the AOF and answers once loaded).
fn wait_ready(child: &mut Child, port: u16, timeout: Duration) -> Ready {
    let deadline = Instant::now() + timeout;
    let addr = format!("127.0.0.1:{port}");
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Ready::Exited(status.code());
        }
        if Instant::now() > deadline {
            return Ready::TimedOut;
        }
        if let Ok(mut c) = RawClient::try_connect(&addr) {
            c.send(&[b"INFO".to_vec(), b"server".to_vec()]);
            if let Ok(Reply::Bulk(b)) | Ok(Reply::Verbatim(_, b)) = c.read() {
                let pid: Option<u32> = String::from_utf8_lossy(&b)
                    .lines()
                    .find_map(|l| l.strip_prefix("process_id:"))
                    .and_then(|v| v.trim().parse().ok());
                return if pid == Some(child.id()) {
                    Ready::Ours
                } else {
                    Ready::Foreign
                };
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A key's contents in a dump.
#[derive(Clone, PartialEq)]
pub enum Contents {
    /// A string's bytes.
    Str(Vec<u8>),
    /// A collection read in full: list in order, zset as `member=score` in range order,
    /// set members and hash `field=value` pairs sorted.
    Items(Vec<Vec<u8>>),
    /// A collection's size (the server cannot read that type back yet).
    Len(i64),
}

/// Byte strings shown escaped (and cut when long), not as lists of numbers.
impl std::fmt::Debug for Contents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = |b: &[u8]| {
            if b.len() > 64 {
                format!("\"{}...\" ({} bytes)", super::show(&b[..56]), b.len())
            } else {
                format!("\"{}\"", super::show(b))
            }
        };
        match self {
            Contents::Str(b) => write!(f, "Str({})", s(b)),
            Contents::Items(items) => {
                let shown: Vec<String> = items.iter().map(|i| s(i)).collect();
                write!(f, "Items[{}]", shown.join(", "))
            }
            Contents::Len(n) => write!(f, "Len({n})"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub kind: String,
    pub contents: Contents,
    /// Absolute expiry in unix ms, exactly as `PEXPIRETIME` reports it.
    pub expire_at: Option<i64>,
}

/// `(db, key)` → entry.
pub type RawDump = BTreeMap<(i64, Vec<u8>), Entry>;

/// Which collection types a dump read in full (the others by size).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Coverage {
    pub list: bool,
    pub set: bool,
    pub hash: bool,
    pub zset: bool,
}

fn args(a: &[&[u8]]) -> Vec<Vec<u8>> {
    a.iter().map(|x| x.to_vec()).collect()
}

fn is_unknown_command(r: &Reply) -> bool {
    matches!(r, Reply::Error(e) if e.starts_with("ERR unknown command"))
}

/// Send `cmds` in one pipeline and read their replies.
pub fn pipeline(c: &mut RawClient, cmds: &[Vec<Vec<u8>>]) -> Result<Vec<Reply>, ReadError> {
    let mut bytes = Vec::new();
    for cmd in cmds {
        bytes.extend_from_slice(&crate::support::client::encode(cmd));
    }
    c.send_raw(&bytes);
    cmds.iter().map(|_| c.read()).collect()
}

fn call(c: &mut RawClient, a: &[&[u8]]) -> Reply {
    c.send(&args(a));
    c.read()
        .unwrap_or_else(|e| panic!("dump: {:?}: {e:?}", show_args(a)))
}

fn show_args(a: &[&[u8]]) -> String {
    a.iter()
        .map(|x| super::show(x))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Ask whether the server has the full-read commands (probing a key that does not exist).
pub fn coverage(c: &mut RawClient) -> Coverage {
    let probe = b"__dump_probe__:none".as_slice();
    let mut has = |a: &[&[u8]]| !is_unknown_command(&call(c, a));
    Coverage {
        list: has(&[b"LRANGE", probe, b"0", b"-1"]),
        set: has(&[b"SMEMBERS", probe]),
        hash: has(&[b"HGETALL", probe]),
        zset: has(&[b"ZRANGE", probe, b"0", b"-1", b"WITHSCORES"]),
    }
}

/// `CONFIG GET databases`.
pub fn databases(c: &mut RawClient) -> i64 {
    match call(c, &[b"CONFIG", b"GET", b"databases"]) {
        Reply::Array(v) if v.len() == 2 => match &v[1] {
            Reply::Bulk(n) => std::str::from_utf8(n).unwrap().parse().unwrap(),
            other => panic!("CONFIG GET databases: {other:?}"),
        },
        Reply::Map(v) if v.len() == 1 => match &v[0].1 {
            Reply::Bulk(n) => std::str::from_utf8(n).unwrap().parse().unwrap(),
            other => panic!("CONFIG GET databases: {other:?}"),
        },
        other => panic!("CONFIG GET databases: {other:?}"),
    }
}

fn bulks(r: &Reply, what: &str) -> Vec<Vec<u8>> {
    match r {
        Reply::Array(v) | Reply::Set(v) => v
            .iter()
            .map(|x| match x {
                Reply::Bulk(b) => b.clone(),
                Reply::Double(d) => d.as_bytes().to_vec(),
                other => panic!("{what}: element {other:?}"),
            })
            .collect(),
        Reply::Map(pairs) => pairs
            .iter()
            .flat_map(|(k, v)| [k, v])
            .map(|x| match x {
                Reply::Bulk(b) => b.clone(),
                other => panic!("{what}: element {other:?}"),
            })
            .collect(),
        other => panic!("{what}: {other:?}"),
    }
}

fn pairs(flat: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    flat.chunks(2)
        .map(|c| {
            let mut e = c[0].clone();
            e.push(b'=');
            e.extend_from_slice(&c[1]);
            e
        })
        .collect()
}

/// Every key of every database (the connection is left in db 0). Keys that expire while the
/// dump runs (TYPE says `none`) are left out.
pub fn dump(c: &mut RawClient, cov: Coverage) -> RawDump {
    let dbs = databases(c);
    let mut out = RawDump::new();
    for db in 0..dbs {
        let db_s = db.to_string();
        assert_eq!(
            call(c, &[b"SELECT", db_s.as_bytes()]),
            Reply::Status("OK".into())
        );
        let keys = bulks(&call(c, &[b"KEYS", b"*"]), "KEYS");
        if keys.is_empty() {
            continue;
        }
        let mut meta = Vec::new();
        for k in &keys {
            meta.push(args(&[b"TYPE", k]));
            meta.push(args(&[b"PEXPIRETIME", k]));
        }
        let meta = pipeline(c, &meta).expect("dump: TYPE/PEXPIRETIME");
        let mut reads = Vec::new();
        let mut kinds = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            let kind = match &meta[2 * i] {
                Reply::Status(s) => s.clone(),
                other => panic!("TYPE {}: {other:?}", super::show(k)),
            };
            let read: Vec<&[u8]> = match kind.as_str() {
                "string" => vec![b"GET", k],
                "list" if cov.list => vec![b"LRANGE", k, b"0", b"-1"],
                "list" => vec![b"LLEN", k],
                "set" if cov.set => vec![b"SMEMBERS", k],
                "set" => vec![b"SCARD", k],
                "hash" if cov.hash => vec![b"HGETALL", k],
                "hash" => vec![b"HLEN", k],
                "zset" if cov.zset => vec![b"ZRANGE", k, b"0", b"-1", b"WITHSCORES"],
                "zset" => vec![b"ZCARD", k],
                // Gone meanwhile (expired): nothing to read.
                _ => vec![b"TYPE", k],
            };
            reads.push(args(&read));
            kinds.push(kind);
        }
        let vals = pipeline(c, &reads).expect("dump: reads");
        for (i, k) in keys.iter().enumerate() {
            let kind = &kinds[i];
            let what = format!("{} of db {db} key {}", kind, super::show(k));
            let contents = match (kind.as_str(), &vals[i]) {
                ("none", _) => continue,
                ("string", Reply::Bulk(b)) => Contents::Str(b.clone()),
                // Expired between TYPE and GET.
                ("string", Reply::NilBulk | Reply::Null) => continue,
                (_, Reply::Int(n)) => Contents::Len(*n),
                ("list", r) => Contents::Items(bulks(r, &what)),
                ("zset", r) => Contents::Items(pairs(bulks(r, &what))),
                ("hash", r) => {
                    let mut p = pairs(bulks(r, &what));
                    p.sort();
                    Contents::Items(p)
                }
                ("set", r) => {
                    let mut m = bulks(r, &what);
                    m.sort();
                    Contents::Items(m)
                }
                (_, r) => panic!("{what}: unexpected {r:?}"),
            };
            let expire_at = match &meta[2 * i + 1] {
                Reply::Int(-1) => None,
                // -2: expired between KEYS and PEXPIRETIME.
                Reply::Int(-2) => continue,
                Reply::Int(t) => Some(*t),
                other => panic!("PEXPIRETIME {}: {other:?}", super::show(k)),
            };
            out.insert(
                (db, k.clone()),
                Entry {
                    kind: kind.clone(),
                    contents,
                    expire_at,
                },
            );
        }
    }
    assert_eq!(call(c, &[b"SELECT", b"0"]), Reply::Status("OK".into()));
    out
}

/// Compare a dump taken before a restart with one taken after it. A key may only be missing
/// afterwards when its expiry (absolute, exact) is at or before `expired_by` (the time the
/// second dump finished); every other key must be identical, expiry included, and no key may
/// appear. Returns one line per difference.
pub fn diff_across_restart(before: &RawDump, after: &RawDump, expired_by: i64) -> Vec<String> {
    let mut out = Vec::new();
    for ((db, k), b) in before {
        match after.get(&(*db, k.clone())) {
            None if b.expire_at.is_some_and(|t| t <= expired_by) => {}
            None => out.push(format!(
                "db {db} key {}: lost by the restart (was {b:?})",
                super::show(k)
            )),
            Some(a) if a != b => out.push(format!(
                "db {db} key {}: before the restart {b:?}, after {a:?}",
                super::show(k)
            )),
            Some(_) => {}
        }
    }
    for ((db, k), a) in after {
        if !before.contains_key(&(*db, k.clone())) {
            out.push(format!(
                "db {db} key {}: appeared after the restart: {a:?}",
                super::show(k)
            ));
        }
    }
    out
}
