//! An incremental parser for client requests, in both forms Redis accepts:
//!
//! - multibulk: `*<argc>\r\n` then `argc` times `$<len>\r\n<bytes>\r\n`;
//! - inline: one line of space-separated words (`PING\r\n`, `SET k "a b"\n`), quoted the way
//!   redis-cli and Redis's `sdssplitargs` quote.
//!
//! "Need more bytes" is `Ok(None)`, not an error. A [`ProtocolError`] means the stream cannot be
//! resynchronised: the caller replies with its text and closes the connection, as Redis does.
//! Completed arguments are split off the read buffer as they arrive, so a request with many
//! arguments or a large bulk is parsed in linear time however it is fragmented.

use bytes::{Buf, Bytes, BytesMut};
use std::fmt;

/// Longest inline request, and longest `*`/`$` header line, Redis accepts (64 KiB).
pub const INLINE_MAX: usize = 64 * 1024;
/// Largest bulk argument (Redis's `proto-max-bulk-len` default, 512 MiB).
pub const MAX_BULK_LEN: i64 = 512 * 1024 * 1024;
/// Most arguments in one multibulk request (Redis: `INT_MAX`).
pub const MAX_MULTIBULK_LEN: i64 = i32::MAX as i64;
/// Before authentication, requests are held to these sizes (as in Redis), so an
/// unauthenticated peer cannot make the server buffer much.
pub const UNAUTH_MULTIBULK_LEN: i64 = 10;
pub const UNAUTH_BULK_LEN: i64 = 16 * 1024;
/// Arguments pre-allocated from a declared count; the rest grow as they arrive, so a huge
/// declared count costs nothing until the data is really sent.
const PREALLOC_ARGS: usize = 1024;

/// A request the connection cannot recover from. `Display` is Redis's exact reply text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    InvalidMultibulkLength,
    InvalidBulkLength,
    UnauthenticatedMultibulkLength,
    UnauthenticatedBulkLength,
    ExpectedDollar(u8),
    TooBigInline,
    TooBigMbulkCount,
    TooBigBulkCount,
    UnbalancedQuotes,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::InvalidMultibulkLength => {
                f.write_str("Protocol error: invalid multibulk length")
            }
            ProtocolError::InvalidBulkLength => f.write_str("Protocol error: invalid bulk length"),
            ProtocolError::UnauthenticatedMultibulkLength => {
                f.write_str("Protocol error: unauthenticated multibulk length")
            }
            ProtocolError::UnauthenticatedBulkLength => {
                f.write_str("Protocol error: unauthenticated bulk length")
            }
            ProtocolError::ExpectedDollar(c) => {
                write!(f, "Protocol error: expected '$', got '{}'", *c as char)
            }
            ProtocolError::TooBigInline => f.write_str("Protocol error: too big inline request"),
            ProtocolError::TooBigMbulkCount => {
                f.write_str("Protocol error: too big mbulk count string")
            }
            ProtocolError::TooBigBulkCount => {
                f.write_str("Protocol error: too big bulk count string")
            }
            ProtocolError::UnbalancedQuotes => {
                f.write_str("Protocol error: unbalanced quotes in request")
            }
        }
    }
}

impl std::error::Error for ProtocolError {}

/// Parser state kept between reads of one connection.
#[derive(Debug, Default)]
pub struct RequestParser {
    /// A multibulk request in progress: arguments still expected, and those complete.
    pending: Option<(usize, Vec<Bytes>)>,
    /// Length of the bulk whose `$` header was consumed but whose data has not all arrived.
    bulk_len: Option<usize>,
    /// Apply the unauthenticated limits.
    pub unauthenticated: bool,
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    memchr(b'\r', buf).and_then(|i| {
        if buf.get(i + 1) == Some(&b'\n') {
            Some(i)
        } else {
            find_crlf_slow(buf)
        }
    })
}

fn find_crlf_slow(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

fn memchr(c: u8, buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == c)
}

/// Parse a header number the way Redis's `string2ll` does (no sign but `-`, no spaces).
fn parse_len(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let (neg, d) = if b[0] == b'-' {
        (true, &b[1..])
    } else {
        (false, b)
    };
    if d.is_empty() || (d.len() > 1 && d[0] == b'0') {
        return None;
    }
    let mut v: i64 = 0;
    for &c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as i64)?;
    }
    Some(if neg { -v } else { v })
}

impl RequestParser {
    pub fn new() -> RequestParser {
        RequestParser::default()
    }

    /// True while a request is partly read (so a closed connection lost a partial request).
    pub fn in_progress(&self) -> bool {
        self.pending.is_some()
    }

    /// The next complete request from `buf`, consuming its bytes. Empty requests (`*0`,
    /// `*-1`, blank inline lines) are skipped, as Redis does.
    pub fn parse(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        loop {
            if self.pending.is_none() {
                if buf.is_empty() {
                    return Ok(None);
                }
                if buf[0] != b'*' {
                    match self.parse_inline(buf)? {
                        Some(args) if args.is_empty() => continue,
                        other => return Ok(other),
                    }
                }
                let Some(end) = find_crlf(buf) else {
                    if buf.len() > INLINE_MAX {
                        return Err(ProtocolError::TooBigMbulkCount);
                    }
                    return Ok(None);
                };
                let n = parse_len(&buf[1..end]).filter(|&n| n <= MAX_MULTIBULK_LEN);
                let Some(n) = n else {
                    return Err(ProtocolError::InvalidMultibulkLength);
                };
                if self.unauthenticated && n > UNAUTH_MULTIBULK_LEN {
                    return Err(ProtocolError::UnauthenticatedMultibulkLength);
                }
                buf.advance(end + 2);
                if n <= 0 {
                    continue;
                }
                let n = n as usize;
                self.pending = Some((n, Vec::with_capacity(n.min(PREALLOC_ARGS))));
            }
            // Read the arguments that are complete.
            let (remaining, args) = self.pending.as_mut().unwrap();
            while *remaining > 0 {
                let len = match self.bulk_len {
                    Some(len) => len,
                    None => {
                        if buf.is_empty() {
                            return Ok(None);
                        }
                        if buf[0] != b'$' {
                            return Err(ProtocolError::ExpectedDollar(buf[0]));
                        }
                        let Some(end) = find_crlf(buf) else {
                            if buf.len() > INLINE_MAX {
                                return Err(ProtocolError::TooBigBulkCount);
                            }
                            return Ok(None);
                        };
                        let len =
                            parse_len(&buf[1..end]).filter(|&l| (0..=MAX_BULK_LEN).contains(&l));
                        let Some(len) = len else {
                            return Err(ProtocolError::InvalidBulkLength);
                        };
                        if self.unauthenticated && len > UNAUTH_BULK_LEN {
                            return Err(ProtocolError::UnauthenticatedBulkLength);
                        }
                        buf.advance(end + 2);
                        let len = len as usize;
                        self.bulk_len = Some(len);
                        // Make room for a large argument in one allocation.
                        if buf.capacity() < len + 2 {
                            buf.reserve(len + 2 - buf.len());
                        }
                        len
                    }
                };
                if buf.len() < len + 2 {
                    return Ok(None);
                }
                // Redis does not check the two bytes after the data; it skips them.
                let arg = buf.split_to(len).freeze();
                buf.advance(2);
                self.bulk_len = None;
                args.push(arg);
                *remaining -= 1;
            }
            let (_, args) = self.pending.take().unwrap();
            return Ok(Some(args));
        }
    }

    fn parse_inline(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let Some(nl) = memchr(b'\n', buf) else {
            if buf.len() > INLINE_MAX {
                return Err(ProtocolError::TooBigInline);
            }
            return Ok(None);
        };
        let mut line_end = nl;
        if line_end > 0 && buf[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        let args = split_inline(&buf[..line_end]).ok_or(ProtocolError::UnbalancedQuotes)?;
        buf.advance(nl + 1);
        Ok(Some(args.into_iter().map(Bytes::from).collect()))
    }
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Split an inline request like Redis's `sdssplitargs`: whitespace separates words; in
/// `"double quotes"` the escapes `\n \r \t \b \a \\ \" \xHH` apply; `'single quotes'` are
/// literal but for `\'`; a closing quote must be followed by whitespace or the end; a NUL
/// ends the line. None means unbalanced quotes.
pub fn split_inline(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // Redis splits a C string: a NUL ends the line (inside quotes, that leaves them open).
    let line = &line[..line.iter().position(|&b| b == 0).unwrap_or(line.len())];
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        // C's isspace: also vertical tab and form feed.
        while i < n && matches!(line[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                if i >= n {
                    return None;
                }
                if line[i] == b'\\' && i + 3 < n && line[i + 1] == b'x' {
                    if let (Some(a), Some(b)) = (hex(line[i + 2]), hex(line[i + 3])) {
                        cur.push(a * 16 + b);
                        i += 4;
                        continue;
                    }
                }
                if line[i] == b'\\' && i + 1 < n {
                    cur.push(match line[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                    i += 2;
                } else if line[i] == b'"' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                    i += 1;
                }
            } else if insq {
                if i >= n {
                    return None;
                }
                if line[i] == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    cur.push(b'\'');
                    i += 2;
                } else if line[i] == b'\'' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                    i += 1;
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
                i += 1;
            }
        }
        out.push(cur);
    }
}

/// Encode arguments as a multibulk request (the inverse of `parse`).
pub fn encode_request(args: &[&[u8]], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(r) = p.parse(&mut buf)? {
            out.push(r.iter().map(|b| b.to_vec()).collect());
        }
        Ok(out)
    }

    fn v(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk_and_inline_requests_parse() {
        assert_eq!(
            all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n").unwrap(),
            vec![v(&["GET", "k"])]
        );
        assert_eq!(
            all(b"PING\r\nSET a \"b c\"\n").unwrap(),
            vec![v(&["PING"]), v(&["SET", "a", "b c"])]
        );
        assert_eq!(
            all(b"*0\r\n*-1\r\n\r\nPING\r\n").unwrap(),
            vec![v(&["PING"])]
        );
        assert_eq!(
            all(b"SET k \"a\\x00\\r\\n\"\r\n").unwrap(),
            vec![vec![b"SET".to_vec(), b"k".to_vec(), b"a\0\r\n".to_vec()]]
        );
    }

    #[test]
    fn nul_bytes_end_an_inline_line_as_in_c() {
        assert_eq!(split_inline(b"\0"), Some(vec![]));
        assert_eq!(
            split_inline(b"SET k\0v"),
            Some(vec![b"SET".to_vec(), b"k".to_vec()])
        );
        assert_eq!(split_inline(b"SET \"k\0v\""), None);
        assert_eq!(split_inline(b"\x0bPING"), Some(vec![b"PING".to_vec()]));
        assert_eq!(all(b"\0\nPING\r\n").unwrap(), vec![v(&["PING"])]);
    }

    #[test]
    fn protocol_errors_have_redis_texts() {
        assert_eq!(
            all(b"*x\r\n").unwrap_err().to_string(),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            all(b"*1\r\n$-1\r\n").unwrap_err().to_string(),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            all(b"*1\r\n$600000000\r\n").unwrap_err(),
            ProtocolError::InvalidBulkLength
        );
        assert_eq!(
            all(b"*1\r\nfoo\r\n").unwrap_err().to_string(),
            "Protocol error: expected '$', got 'f'"
        );
        assert_eq!(
            all(b"SET \"a\r\n").unwrap_err(),
            ProtocolError::UnbalancedQuotes
        );
        assert_eq!(
            all(&vec![b'a'; INLINE_MAX + 1]).unwrap_err(),
            ProtocolError::TooBigInline
        );
    }

    #[test]
    fn any_split_gives_the_same_requests() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nGET k\r\n*1\r\n$4\r\nPING\r\n";
        let whole = all(input).unwrap();
        for cut in 0..input.len() {
            let mut p = RequestParser::new();
            let mut buf = BytesMut::from(&input[..cut]);
            let mut got = Vec::new();
            while let Some(r) = p.parse(&mut buf).unwrap() {
                got.push(r.iter().map(|b| b.to_vec()).collect::<Vec<_>>());
            }
            buf.extend_from_slice(&input[cut..]);
            while let Some(r) = p.parse(&mut buf).unwrap() {
                got.push(r.iter().map(|b| b.to_vec()).collect::<Vec<_>>());
            }
            assert_eq!(got, whole, "split at {cut}");
        }
    }
}
