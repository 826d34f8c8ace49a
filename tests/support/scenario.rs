//! The spec-scenario format and its runner.
//!
//! # Format
//! One scenario per file under `spec/<family>/<name>.txt`, one step per line:
//!
//! - The first line is a comment, `# what this scenario proves`. Other `#` lines are comments.
//! - `SET k v` — a command, split like redis-cli does (whitespace; `"double quotes"` with
//!   `\n \r \t \\ \" \xHH` escapes; `'single quotes'` taken literally). Its reply is recorded.
//! - `c2> GET k` — the same on another connection (`c1` is the default; each is opened lazily).
//! - `@sleep 150ms` — real time passes (`ms` or `s`), so the oracle can replay it too.
//! - `@raw "bytes"` — send exact bytes (same escapes) without reading a reply.
//! - `@read` — read one reply and record it. `@eof` — record whether the server closed.
//! - `@sorted CMD …` — a command whose array reply is recorded in sorted order.
//! - `@shape CMD …` — a command whose reply is recorded by type only (nondeterministic values).
//! - `@ferrokv-only` — the scenario is about ferrokv's own features (METRICS, restarts):
//!   `spec-oracle` leaves it out and counts it.
//! - `@restart` — kill the server and start it again on the same data directory
//!   (ferrokv-only, needs the AOF).
//!
//! The transcript records every step as `> line` followed by the formatted reply.

use super::client::{format, quote, RawClient, ReadError, Reply};
use super::server::Server;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug)]
pub struct Scenario {
    pub description: String,
    pub ferrokv_only: bool,
    pub steps: Vec<Step>,
}

#[derive(Debug)]
pub struct Step {
    pub line: String,
    pub conn: usize,
    pub kind: StepKind,
}

#[derive(Debug)]
pub enum StepKind {
    Command { args: Vec<Vec<u8>>, mode: Mode },
    Sleep(Duration),
    Raw(Vec<u8>),
    Read,
    Eof,
    Restart,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    Plain,
    Sorted,
    Shape,
}

pub fn parse(text: &str) -> Result<Scenario, String> {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    let description = first
        .strip_prefix('#')
        .ok_or("the first line must be `# what this scenario proves`")?
        .trim()
        .to_string();
    let mut scenario = Scenario {
        description,
        ferrokv_only: false,
        steps: Vec::new(),
    };
    for (no, raw) in lines.enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |m: &str| format!("line {}: {m}: {line}", no + 2);
        let (conn, rest) = match line.split_once("> ") {
            Some((c, rest)) if c.starts_with('c') && c[1..].parse::<usize>().is_ok() => {
                (c[1..].parse::<usize>().unwrap(), rest.trim())
            }
            _ => (1, line),
        };
        let kind = if let Some(d) = rest.strip_prefix('@') {
            let (word, arg) = d.split_once(' ').unwrap_or((d, ""));
            match word {
                "ferrokv-only" => {
                    scenario.ferrokv_only = true;
                    continue;
                }
                "sleep" => StepKind::Sleep(parse_duration(arg).ok_or_else(|| err("bad duration"))?),
                "raw" => {
                    let args = split_args(arg).map_err(|e| err(&e))?;
                    StepKind::Raw(args.concat())
                }
                "read" => StepKind::Read,
                "eof" => StepKind::Eof,
                "restart" => {
                    scenario.ferrokv_only = true;
                    StepKind::Restart
                }
                "sorted" | "shape" => {
                    let args = split_args(arg).map_err(|e| err(&e))?;
                    let mode = if word == "sorted" {
                        Mode::Sorted
                    } else {
                        Mode::Shape
                    };
                    StepKind::Command { args, mode }
                }
                _ => return Err(err("unknown directive")),
            }
        } else {
            let args = split_args(rest).map_err(|e| err(&e))?;
            StepKind::Command {
                args,
                mode: Mode::Plain,
            }
        };
        scenario.steps.push(Step {
            line: line.to_string(),
            conn,
            kind,
        });
    }
    Ok(scenario)
}

fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.parse().ok().map(Duration::from_millis);
    }
    s.strip_suffix('s')?.parse().ok().map(Duration::from_secs)
}

/// Split a line into arguments the way redis-cli does (the same quoting rules as Redis's
/// inline requests, so ferrokv's splitter serves).
pub fn split_args(line: &str) -> Result<Vec<Vec<u8>>, String> {
    ferrokv::resp::parse::split_inline(line.as_bytes())
        .ok_or_else(|| "unbalanced quotes".to_string())
}

fn shape(r: &Reply) -> String {
    let t = match r {
        Reply::Status(_) => "(status)",
        Reply::Error(_) => "(error)",
        Reply::Int(_) => "(integer)",
        Reply::Bulk(_) => "(bulk)",
        Reply::NilBulk => "(nil)",
        Reply::NilArray => "(nil array)",
        Reply::Array(_) => "(array)",
        Reply::Null => "(null)",
        Reply::Bool(_) => "(boolean)",
        Reply::Double(_) => "(double)",
        Reply::BigNum(_) => "(big number)",
        Reply::Verbatim(..) => "(verbatim)",
        Reply::Map(_) => "(map)",
        Reply::Set(_) => "(set)",
        Reply::Push(_) => "(push)",
        Reply::Attribute(_) => "(attribute)",
    };
    format!("{t}\n")
}

fn sort_reply(r: Reply) -> Reply {
    let key = |x: &Reply| format(x);
    match r {
        Reply::Array(mut v) => {
            v.sort_by_key(key);
            Reply::Array(v)
        }
        Reply::Set(mut v) => {
            v.sort_by_key(key);
            Reply::Set(v)
        }
        other => other,
    }
}

fn record_read(res: Result<Reply, ReadError>, mode: Mode, out: &mut String) {
    match res {
        Ok(r) => match mode {
            Mode::Plain => out.push_str(&format(&r)),
            Mode::Sorted => out.push_str(&format(&sort_reply(r))),
            Mode::Shape => out.push_str(&shape(&r)),
        },
        Err(ReadError::Closed) => out.push_str("(connection closed)\n"),
        Err(e) => out.push_str(&format!("(read failed: {e:?})\n")),
    }
}

/// Run a scenario against a started server and return its transcript.
pub fn run(scenario: &Scenario, server: &mut Server) -> String {
    let mut conns: BTreeMap<usize, RawClient> = BTreeMap::new();
    let mut out = String::new();
    for step in &scenario.steps {
        out.push_str("> ");
        out.push_str(&step.line);
        out.push('\n');
        let addr = server.addr();
        let conn = conns
            .entry(step.conn)
            .or_insert_with(|| RawClient::connect(&addr));
        match &step.kind {
            StepKind::Command { args, mode } => {
                conn.send(args);
                record_read(conn.read(), *mode, &mut out);
            }
            StepKind::Sleep(d) => std::thread::sleep(*d),
            StepKind::Raw(bytes) => conn.send_raw(bytes),
            StepKind::Read => record_read(conn.read(), Mode::Plain, &mut out),
            StepKind::Eof => match conn.read_eof() {
                Ok(()) => out.push_str("(connection closed)\n"),
                Err(r) => out.push_str(&format!("(still open) {}", format(&r))),
            },
            StepKind::Restart => {
                conns.clear();
                server.restart();
            }
        }
    }
    out
}

/// Used by the fuzz seeds and tests that need to show raw bytes.
pub fn show(bytes: &[u8]) -> String {
    quote(bytes)
}
