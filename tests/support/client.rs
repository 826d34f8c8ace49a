//! A raw RESP client for tests: sends arbitrary bytes, reads RESP2/RESP3 replies, and formats
//! them in a redis-cli-like transcript that keeps every type distinction visible.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One reply as it arrived on the wire.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    NilBulk,
    NilArray,
    Array(Vec<Reply>),
    Null,
    Bool(bool),
    Double(String),
    BigNum(String),
    Verbatim(String, Vec<u8>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Push(Vec<Reply>),
    Attribute(Vec<(Reply, Reply)>),
}

pub struct RawClient {
    stream: TcpStream,
    buf: Vec<u8>,
}

#[derive(Debug)]
pub enum ReadError {
    Closed,
    Io(std::io::Error),
    Bad(String),
}

impl RawClient {
    /// Field `field` of `INFO section` (as text).
    pub fn info_field(&mut self, section: &str, field: &str) -> String {
        match self.call(&["INFO", section]) {
            Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8(b)
                .unwrap()
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
                .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
                .trim()
                .to_string(),
            other => panic!("{other:?}"),
        }
    }

    pub fn connect(addr: &str) -> RawClient {
        RawClient::try_connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"))
    }

    pub fn try_connect(addr: &str) -> std::io::Result<RawClient> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_nodelay(true)?;
        Ok(RawClient {
            stream,
            buf: Vec::new(),
        })
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        // A server that already closed may reset the connection: later reads report it.
        let _ = self.stream.write_all(bytes);
    }

    pub fn send(&mut self, args: &[Vec<u8>]) {
        self.send_raw(&encode(args));
    }

    pub fn call(&mut self, args: &[&str]) -> Reply {
        let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        self.send(&args);
        self.read().expect("reply")
    }

    pub fn read(&mut self) -> Result<Reply, ReadError> {
        loop {
            let mut pos = 0;
            match parse(&self.buf, &mut pos) {
                Ok(Some(reply)) => {
                    self.buf.drain(..pos);
                    return Ok(reply);
                }
                Ok(None) => {}
                Err(e) => return Err(ReadError::Bad(e)),
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(ReadError::Closed),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return Err(ReadError::Closed),
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    /// True when the server has closed the connection (after any pending replies are read).
    pub fn read_eof(&mut self) -> Result<(), Reply> {
        match self.read() {
            Err(ReadError::Closed) => Ok(()),
            Ok(r) => Err(r),
            Err(e) => panic!("expected EOF, got {e:?}"),
        }
    }
}

pub fn encode(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn line(buf: &[u8], pos: &mut usize) -> Option<String> {
    let start = *pos;
    let rel = buf[start..].windows(2).position(|w| w == b"\r\n")?;
    *pos = start + rel + 2;
    Some(String::from_utf8_lossy(&buf[start..start + rel]).into_owned())
}

fn parse(buf: &[u8], pos: &mut usize) -> Result<Option<Reply>, String> {
    if *pos >= buf.len() {
        return Ok(None);
    }
    let kind = buf[*pos];
    *pos += 1;
    let Some(l) = line(buf, pos) else {
        return Ok(None);
    };
    let num = |l: &str| l.parse::<i64>().map_err(|_| format!("bad number {l:?}"));
    let agg = |n: i64, buf: &[u8], pos: &mut usize| -> Result<Option<Vec<Reply>>, String> {
        let mut items = Vec::new();
        for _ in 0..n {
            match parse(buf, pos)? {
                Some(r) => items.push(r),
                None => return Ok(None),
            }
        }
        Ok(Some(items))
    };
    let reply = match kind {
        b'+' => Reply::Status(l),
        b'-' => Reply::Error(l),
        b':' => Reply::Int(num(&l)?),
        b'_' => Reply::Null,
        b'#' => Reply::Bool(l == "t"),
        b',' => Reply::Double(l),
        b'(' => Reply::BigNum(l),
        b'$' | b'=' => {
            let n = num(&l)?;
            if n < 0 {
                return Ok(Some(Reply::NilBulk));
            }
            let n = n as usize;
            if buf.len() < *pos + n + 2 {
                return Ok(None);
            }
            let data = buf[*pos..*pos + n].to_vec();
            *pos += n + 2;
            if kind == b'=' {
                let fmt = String::from_utf8_lossy(&data[..3.min(data.len())]).into_owned();
                Reply::Verbatim(fmt, data[4.min(data.len())..].to_vec())
            } else {
                Reply::Bulk(data)
            }
        }
        b'*' | b'~' | b'>' => {
            let n = num(&l)?;
            if n < 0 {
                return Ok(Some(Reply::NilArray));
            }
            let Some(items) = agg(n, buf, pos)? else {
                return Ok(None);
            };
            match kind {
                b'*' => Reply::Array(items),
                b'~' => Reply::Set(items),
                _ => Reply::Push(items),
            }
        }
        b'%' | b'|' => {
            let n = num(&l)?;
            let Some(items) = agg(n * 2, buf, pos)? else {
                return Ok(None);
            };
            let mut pairs = Vec::new();
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            if kind == b'%' {
                Reply::Map(pairs)
            } else {
                // An attribute precedes the real reply.
                let Some(inner) = parse(buf, pos)? else {
                    return Ok(None);
                };
                let _ = inner;
                Reply::Attribute(pairs)
            }
        }
        other => return Err(format!("unknown reply type byte {:?}", other as char)),
    };
    Ok(Some(reply))
}

/// Quote bytes the way redis-cli does: printable ASCII as is, common escapes, else `\xHH`.
pub fn quote(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x07 => s.push_str("\\a"),
            0x08 => s.push_str("\\b"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}

/// Format a reply as transcript lines.
pub fn format(reply: &Reply) -> String {
    let mut out = String::new();
    format_into(reply, "", &mut out);
    out
}

fn format_items(items: &[Reply], indent: &str, out: &mut String) {
    let width = items.len().to_string().len();
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("{:>width$}) ", i + 1);
        out.push_str(&prefix);
        let inner_indent = format!("{indent}{}", " ".repeat(prefix.len()));
        format_into(item, &inner_indent, out);
        if i + 1 < items.len() {
            out.push_str(indent);
        }
    }
}

fn format_into(reply: &Reply, indent: &str, out: &mut String) {
    match reply {
        Reply::Status(s) => out.push_str(&format!("{s}\n")),
        Reply::Error(s) => out.push_str(&format!("(error) {s}\n")),
        Reply::Int(i) => out.push_str(&format!("(integer) {i}\n")),
        Reply::Bulk(b) => out.push_str(&format!("{}\n", quote(b))),
        Reply::NilBulk => out.push_str("(nil)\n"),
        Reply::NilArray => out.push_str("(nil array)\n"),
        Reply::Null => out.push_str("(null)\n"),
        Reply::Bool(b) => out.push_str(&format!("({b})\n")),
        Reply::Double(d) => out.push_str(&format!("(double) {d}\n")),
        Reply::BigNum(d) => out.push_str(&format!("(big number) {d}\n")),
        Reply::Verbatim(f, b) => out.push_str(&format!("(verbatim {f}) {}\n", quote(b))),
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
            let tag = match reply {
                Reply::Set(_) => "(set) ",
                Reply::Push(_) => "(push) ",
                _ => "",
            };
            if items.is_empty() {
                out.push_str(&format!(
                    "{tag}(empty {})\n",
                    if tag.is_empty() { "array" } else { "aggregate" }
                ));
                return;
            }
            out.push_str(tag);
            if !tag.is_empty() {
                out.push('\n');
                out.push_str(indent);
            }
            format_items(items, indent, out);
        }
        Reply::Map(pairs) | Reply::Attribute(pairs) => {
            let tag = if matches!(reply, Reply::Map(_)) {
                "(map)"
            } else {
                "(attribute)"
            };
            if pairs.is_empty() {
                out.push_str(&format!("{tag} (empty)\n"));
                return;
            }
            out.push_str(&format!("{tag}\n"));
            let width = pairs.len().to_string().len();
            for (i, (k, v)) in pairs.iter().enumerate() {
                let prefix = format!("{:>width$}# ", i + 1);
                out.push_str(indent);
                out.push_str(&prefix);
                let key = format(k);
                out.push_str(key.trim_end());
                out.push_str(" => ");
                let inner_indent = format!("{indent}{}", " ".repeat(prefix.len() + 4));
                format_into(v, &inner_indent, out);
            }
        }
    }
}
