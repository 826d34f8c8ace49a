//! A small load generator for what redis-benchmark cannot do: MULTI blocks, pub/sub with
//! subscribers that drain their sockets, and publish latency next to a pattern subscriber.
//! Used by `scripts/bench.py --suite pubsub`; works against ferrokv and redis-server alike.
//!
//! Commands are pre-encoded RESP; replies are counted by parsing just enough RESP to find
//! where each one ends. Prints one JSON line with the result (`subscribe-drain` and
//! `psubscribe-many` print `READY` first, once every subscription is confirmed).
//!
//! ```text
//! cargo run --release --example loadgen -- --port 6379 --mode multi-incr --clients 50 --pipeline 16 --duration 2
//! ```
//!
//! Modes:
//! - `multi-incr`: MULTI, 3 x INCR of one shared key, EXEC; one transaction is one op. Every
//!   EXEC reply must hold three consecutive integers (else it counts in `errors`).
//! - `publish`: PUBLISH to `--channel`; `receivers` sums the replies (deliveries the server
//!   claims). `--stop` publishes `__stop__` once done, which ends `subscribe-drain`.
//! - `subscribe-drain`: `--clients` connections SUBSCRIBE to `--channel` and read continuously
//!   until each gets `__stop__` (or `--duration`, a safety cap, runs out).
//! - `publish-latency`: one connection, one PUBLISH at a time; round-trip percentiles.
//! - `psubscribe-many`: one connection PSUBSCRIBEs to `--patterns` patterns (`user:{i}:*`, plus
//!   eight `*`-prefixed ones) and drains until `--duration` runs out or its stdin closes.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const STOP: &[u8] = b"__stop__";

#[derive(Clone, Debug)]
struct Opts {
    host: String,
    port: u16,
    clients: usize,
    pipeline: usize,
    ops: Option<u64>,
    duration: f64,
    mode: String,
    channel: String,
    size: usize,
    patterns: usize,
    threads: usize,
    stop: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: loadgen --mode multi-incr|publish|subscribe-drain|publish-latency|psubscribe-many \
         [--host H] [--port P] [--clients N] [--pipeline D] [--ops N | --duration SECS] \
         [--channel C] [--size BYTES] [--patterns N] [--threads N] [--stop]"
    );
    std::process::exit(2)
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        host: "127.0.0.1".into(),
        port: 6379,
        clients: 50,
        pipeline: 1,
        ops: None,
        duration: 2.0,
        mode: String::new(),
        channel: "bench:chan".into(),
        size: 16,
        patterns: 10_000,
        threads: 1,
        stop: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--stop" {
            o.stop = true;
            continue;
        }
        let v = args.next().unwrap_or_else(|| usage());
        let num = |v: &str| v.parse::<u64>().unwrap_or_else(|_| usage());
        match a.as_str() {
            "--host" => o.host = v,
            "--port" => o.port = num(&v) as u16,
            "--clients" => o.clients = num(&v).max(1) as usize,
            "--pipeline" => o.pipeline = num(&v).max(1) as usize,
            "--ops" => o.ops = Some(num(&v)),
            "--duration" => o.duration = v.parse().unwrap_or_else(|_| usage()),
            "--mode" => o.mode = v,
            "--channel" => o.channel = v,
            "--size" => o.size = num(&v) as usize,
            "--patterns" => o.patterns = num(&v) as usize,
            "--threads" => o.threads = num(&v).max(1) as usize,
            _ => usage(),
        }
    }
    o
}

fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// The top of one RESP value. Arrays carry their length and where their first element starts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Head {
    Simple,
    Error,
    Int(i64),
    Bulk,
    Nil,
    Array(usize, usize),
}

fn line(buf: &[u8], pos: usize) -> Option<(usize, &[u8])> {
    let rest = buf.get(pos..)?;
    let cr = rest.windows(2).position(|w| w == b"\r\n")?;
    Some((pos + cr + 2, &rest[..cr]))
}

fn int(s: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(s)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad integer {:?}", String::from_utf8_lossy(s)))
}

/// Parses the value at `pos`: `Ok(None)` when `buf` does not hold all of it yet, else where it
/// ends and its head. RESP3 types are not expected (the connection stays on RESP2).
fn parse(buf: &[u8], pos: usize) -> Result<Option<(usize, Head)>, String> {
    let Some(&t) = buf.get(pos) else {
        return Ok(None);
    };
    let Some((next, body)) = line(buf, pos + 1) else {
        return Ok(None);
    };
    match t {
        b'+' => Ok(Some((next, Head::Simple))),
        b'-' => Ok(Some((next, Head::Error))),
        b':' => Ok(Some((next, Head::Int(int(body)?)))),
        b'$' => {
            let n = int(body)?;
            if n < 0 {
                return Ok(Some((next, Head::Nil)));
            }
            let end = next + n as usize + 2;
            Ok(if buf.len() >= end {
                Some((end, Head::Bulk))
            } else {
                None
            })
        }
        b'*' => {
            let n = int(body)?;
            if n < 0 {
                return Ok(Some((next, Head::Nil)));
            }
            let mut at = next;
            for _ in 0..n {
                match parse(buf, at)? {
                    Some((end, _)) => at = end,
                    None => return Ok(None),
                }
            }
            Ok(Some((at, Head::Array(n as usize, next))))
        }
        _ => Err(format!("unexpected reply type byte {:?}", t as char)),
    }
}

/// A connection with a read buffer that hands out whole replies.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    pos: usize,
}

impl Conn {
    async fn open(o: &Opts) -> Conn {
        let stream = TcpStream::connect((o.host.as_str(), o.port))
            .await
            .unwrap_or_else(|e| fail(&format!("connect {}:{}: {e}", o.host, o.port)));
        stream.set_nodelay(true).ok();
        Conn {
            stream,
            buf: Vec::with_capacity(64 * 1024),
            pos: 0,
        }
    }

    /// The next reply: its bytes' range in `self.buf` and its head. `None` at end of stream.
    async fn next(&mut self) -> Result<Option<(usize, usize, Head)>, String> {
        loop {
            if let Some((end, head)) = parse(&self.buf, self.pos)? {
                let start = self.pos;
                self.pos = end;
                return Ok(Some((start, end, head)));
            }
            if self.pos > 0 {
                self.buf.drain(..self.pos);
                self.pos = 0;
            }
            if self.buf.capacity() - self.buf.len() < 16 * 1024 {
                self.buf.reserve(64 * 1024);
            }
            let n = self
                .stream
                .read_buf(&mut self.buf)
                .await
                .map_err(|e| e.to_string())?;
            if n == 0 {
                return Ok(None);
            }
        }
    }

    async fn expect(&mut self) -> Result<(usize, usize, Head), String> {
        self.next()
            .await?
            .ok_or_else(|| "server closed the connection".to_string())
    }
}

fn fail(msg: &str) -> ! {
    println!("{{\"error\":{}}}", json_str(msg));
    std::process::exit(1)
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// p50, p99, max of microsecond samples.
fn percentiles(mut v: Vec<u32>) -> (f64, f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    v.sort_unstable();
    let at = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)] as f64;
    (at(0.50), at(0.99), *v.last().unwrap() as f64)
}

/// What one load connection did.
#[derive(Default)]
struct Tally {
    ops: u64,
    errors: u64,
    receivers: i64,
    lat_us: Vec<u32>,
    first_error: Option<String>,
}

impl Tally {
    fn error(&mut self, msg: String) {
        self.errors += 1;
        self.first_error.get_or_insert(msg);
    }
}

/// One load connection: batches of `pipeline` units until its share of `--ops` or the
/// deadline, one latency sample (write to last reply) per batch.
async fn load_client(o: Opts, my_ops: Option<u64>, deadline: Instant) -> Tally {
    let mut c = Conn::open(&o).await;
    let mut unit = Vec::new();
    let per_unit = match o.mode.as_str() {
        "multi-incr" => {
            encode(&mut unit, &[b"MULTI"]);
            for _ in 0..3 {
                encode(&mut unit, &[b"INCR", b"bench:tx:counter"]);
            }
            encode(&mut unit, &[b"EXEC"]);
            5
        }
        _ => {
            let payload = vec![b'x'; o.size];
            encode(&mut unit, &[b"PUBLISH", o.channel.as_bytes(), &payload]);
            1
        }
    };
    let batch = unit.repeat(o.pipeline);
    let mut t = Tally::default();
    loop {
        let n = match my_ops {
            Some(left) if left <= t.ops => break,
            Some(left) => (left - t.ops).min(o.pipeline as u64) as usize,
            None if Instant::now() >= deadline => break,
            None => o.pipeline,
        };
        let sent = Instant::now();
        if let Err(e) = c.stream.write_all(&batch[..unit.len() * n]).await {
            t.error(format!("write: {e}"));
            break;
        }
        for _ in 0..n {
            if let Err(e) = read_unit(&mut c, per_unit, &mut t).await {
                t.error(e);
                return t;
            }
            t.ops += 1;
        }
        t.lat_us
            .push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
    }
    t
}

/// Reads the replies of one unit: a PUBLISH's integer, or MULTI's +OK, three +QUEUED and the
/// EXEC array (which must hold three consecutive integers: the INCRs ran together).
async fn read_unit(c: &mut Conn, per_unit: usize, t: &mut Tally) -> Result<(), String> {
    if per_unit == 1 {
        match c.expect().await? {
            (_, _, Head::Int(n)) => t.receivers += n,
            (s, e, _) => t.error(format!(
                "PUBLISH replied {:?}",
                String::from_utf8_lossy(&c.buf[s..e])
            )),
        }
        return Ok(());
    }
    for i in 0..per_unit {
        let (s, e, head) = c.expect().await?;
        let ok = match (i, head) {
            (0..=3, Head::Simple) => true,
            (4, Head::Array(3, first)) => {
                let mut at = first;
                let mut vals = [0i64; 3];
                let mut all_int = true;
                for v in &mut vals {
                    match parse(&c.buf[..e], at)? {
                        Some((end, Head::Int(n))) => {
                            *v = n;
                            at = end;
                        }
                        _ => all_int = false,
                    }
                }
                all_int && vals[1] == vals[0] + 1 && vals[2] == vals[1] + 1
            }
            _ => false,
        };
        if !ok {
            t.error(format!(
                "transaction reply {i}: {:?}",
                String::from_utf8_lossy(&c.buf[s..e])
            ));
        }
    }
    Ok(())
}

async fn run_load(o: Opts) {
    let deadline = Instant::now() + Duration::from_secs_f64(o.duration);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..o.clients {
        let share = o
            .ops
            .map(|n| n / o.clients as u64 + u64::from((i as u64) < n % o.clients as u64));
        tasks.push(tokio::spawn(load_client(o.clone(), share, deadline)));
    }
    let mut all = Tally::default();
    for task in tasks {
        let t = task.await.expect("client task");
        all.ops += t.ops;
        all.errors += t.errors;
        all.receivers += t.receivers;
        all.lat_us.extend(t.lat_us);
        if all.first_error.is_none() {
            all.first_error = t.first_error;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    if o.stop && o.mode == "publish" {
        let mut c = Conn::open(&o).await;
        let mut cmd = Vec::new();
        encode(&mut cmd, &[b"PUBLISH", o.channel.as_bytes(), STOP]);
        c.stream.write_all(&cmd).await.ok();
        c.expect().await.ok();
    }
    let (p50, p99, max) = percentiles(all.lat_us);
    println!(
        "{{\"mode\":{},\"clients\":{},\"pipeline\":{},\"ops\":{},\"seconds\":{:.4},\"ops_per_sec\":{:.1},\
         \"errors\":{},\"first_error\":{},\"receivers\":{},\"p50_us\":{},\"p99_us\":{},\"max_us\":{}}}",
        json_str(&o.mode),
        o.clients,
        o.pipeline,
        all.ops,
        secs,
        all.ops as f64 / secs,
        all.errors,
        all.first_error.as_deref().map(json_str).unwrap_or("null".into()),
        all.receivers,
        p50,
        p99,
        max
    );
}

/// One PUBLISH at a time on one connection.
async fn run_latency(o: Opts) {
    let mut c = Conn::open(&o).await;
    let payload = vec![b'x'; o.size];
    let mut cmd = Vec::new();
    encode(&mut cmd, &[b"PUBLISH", o.channel.as_bytes(), &payload]);
    let deadline = Instant::now() + Duration::from_secs_f64(o.duration);
    let start = Instant::now();
    let mut t = Tally::default();
    while o.ops.map_or(Instant::now() < deadline, |n| t.ops < n) {
        let sent = Instant::now();
        c.stream
            .write_all(&cmd)
            .await
            .unwrap_or_else(|e| fail(&format!("write: {e}")));
        read_unit(&mut c, 1, &mut t)
            .await
            .unwrap_or_else(|e| fail(&e));
        t.lat_us
            .push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
        t.ops += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let (p50, p99, max) = percentiles(t.lat_us);
    println!(
        "{{\"mode\":\"publish-latency\",\"ops\":{},\"seconds\":{:.4},\"ops_per_sec\":{:.1},\"errors\":{},\
         \"first_error\":{},\"receivers\":{},\"p50_us\":{},\"p99_us\":{},\"max_us\":{}}}",
        t.ops,
        secs,
        t.ops as f64 / secs,
        t.errors,
        t.first_error.as_deref().map(json_str).unwrap_or("null".into()),
        t.receivers,
        p50,
        p99,
        max
    );
}

/// What one subscriber connection got.
struct Drained {
    messages: u64,
    stopped: bool,
    closed: bool,
    first: Option<Instant>,
    last: Option<Instant>,
    error: Option<String>,
}

/// Subscribes (`cmd`), waits for `confirmations` replies, reports readiness on `ready`, then
/// counts `message`/`pmessage` pushes until the stop message, end of stream or the deadline.
async fn subscriber(
    o: Opts,
    cmd: Vec<u8>,
    confirmations: usize,
    ready: tokio::sync::mpsc::Sender<()>,
    deadline: Instant,
    mut quit: tokio::sync::watch::Receiver<bool>,
) -> Drained {
    let mut c = Conn::open(&o).await;
    let mut d = Drained {
        messages: 0,
        stopped: false,
        closed: false,
        first: None,
        last: None,
        error: None,
    };
    if let Err(e) = c.stream.write_all(&cmd).await {
        d.error = Some(format!("write: {e}"));
        return d;
    }
    for _ in 0..confirmations {
        match c.expect().await {
            Ok((_, _, Head::Array(3, _))) => {}
            Ok((s, e, _)) => {
                d.error = Some(format!(
                    "subscribe replied {:?}",
                    String::from_utf8_lossy(&c.buf[s..e])
                ));
                return d;
            }
            Err(e) => {
                d.error = Some(e);
                return d;
            }
        }
    }
    let _ = ready.send(()).await;
    drop(ready);
    let mut stop_frame = Vec::new();
    encode(&mut stop_frame, &[b"message", o.channel.as_bytes(), STOP]);
    loop {
        let next = tokio::select! {
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)) => break,
            _ = quit.changed() => {
                d.stopped = true;
                break;
            }
            r = c.next() => r,
        };
        match next {
            Ok(Some((s, e, Head::Array(_, _)))) => {
                if c.buf[s..e] == stop_frame[..] {
                    d.stopped = true;
                    break;
                }
                let now = Instant::now();
                d.first.get_or_insert(now);
                d.last = Some(now);
                d.messages += 1;
            }
            Ok(Some((s, e, _))) => {
                d.error = Some(format!(
                    "unexpected push {:?}",
                    String::from_utf8_lossy(&c.buf[s..e])
                ));
                break;
            }
            Ok(None) => {
                d.closed = true;
                break;
            }
            Err(e) => {
                d.error = Some(e);
                break;
            }
        }
    }
    d
}

async fn run_subscribers(o: Opts) {
    let deadline = Instant::now() + Duration::from_secs_f64(o.duration);
    let (tx, mut rx) = tokio::sync::mpsc::channel(o.clients.max(1));
    let (quit_tx, quit_rx) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    let (cmd, confirmations, conns) = if o.mode == "psubscribe-many" {
        let mut cmd = Vec::new();
        let mut pats: Vec<Vec<u8>> = (0..o.patterns)
            .map(|i| format!("user:{i}:*").into_bytes())
            .collect();
        for j in 0..8 {
            pats.push(format!("*:audit:{j}").into_bytes());
        }
        let mut args: Vec<&[u8]> = vec![b"PSUBSCRIBE"];
        args.extend(pats.iter().map(|p| p.as_slice()));
        encode(&mut cmd, &args);
        (cmd, pats.len(), 1)
    } else {
        let mut cmd = Vec::new();
        encode(&mut cmd, &[b"SUBSCRIBE", o.channel.as_bytes()]);
        (cmd, 1, o.clients)
    };
    for _ in 0..conns {
        tasks.push(tokio::spawn(subscriber(
            o.clone(),
            cmd.clone(),
            confirmations,
            tx.clone(),
            deadline,
            quit_rx.clone(),
        )));
    }
    drop(tx);
    let mut ready = 0;
    while rx.recv().await.is_some() {
        ready += 1;
    }
    if ready < conns {
        // A subscriber failed before confirming; its error is in the result line.
        eprintln!("loadgen: only {ready} of {conns} subscribers ready");
    }
    println!("READY");
    if o.mode == "psubscribe-many" {
        // Also stop (and report) when the parent closes our stdin.
        std::thread::spawn(move || {
            let mut sink = [0u8; 64];
            let mut stdin = std::io::stdin();
            while matches!(std::io::Read::read(&mut stdin, &mut sink), Ok(n) if n > 0) {}
            let _ = quit_tx.send(true);
        });
    }
    let mut per = Vec::new();
    for task in tasks {
        per.push(task.await.expect("subscriber task"));
    }
    let total: u64 = per.iter().map(|d| d.messages).sum();
    let min = per.iter().map(|d| d.messages).min().unwrap_or(0);
    let max = per.iter().map(|d| d.messages).max().unwrap_or(0);
    let first = per.iter().filter_map(|d| d.first).min();
    let last = per.iter().filter_map(|d| d.last).max();
    let span = match (first, last) {
        (Some(f), Some(l)) => l.duration_since(f).as_secs_f64(),
        _ => 0.0,
    };
    let error = per.iter().find_map(|d| d.error.clone());
    println!(
        "{{\"mode\":{},\"subscribers\":{},\"messages\":{},\"min_per_subscriber\":{},\"max_per_subscriber\":{},\
         \"seconds\":{:.4},\"messages_per_sec\":{:.1},\"stopped\":{},\"closed\":{},\"timed_out\":{},\"error\":{}}}",
        json_str(&o.mode),
        per.len(),
        total,
        min,
        max,
        span,
        if span > 0.0 { total as f64 / span } else { 0.0 },
        per.iter().filter(|d| d.stopped).count(),
        per.iter().filter(|d| d.closed).count(),
        per.iter().filter(|d| !d.stopped && !d.closed && d.error.is_none()).count(),
        error.as_deref().map(json_str).unwrap_or("null".into())
    );
}

fn main() {
    let o = parse_opts();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(o.threads)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        match o.mode.as_str() {
            "multi-incr" | "publish" => run_load(o).await,
            "publish-latency" => run_latency(o).await,
            "subscribe-drain" | "psubscribe-many" => run_subscribers(o).await,
            _ => usage(),
        }
    });
}
