//! A decoded reply, for in-process clients (the engine's `Session`) and for tests.

/// Deepest nesting of aggregates `Frame::parse` accepts (deeper input is refused rather than
/// recursed into, so it cannot exhaust the stack).
pub const MAX_DEPTH: usize = 512;

/// One RESP2/RESP3 reply.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Vec<u8>),
    /// `$-1`, `*-1` or RESP3 `_`.
    Null,
    Array(Vec<Frame>),
    Map(Vec<(Frame, Frame)>),
    Set(Vec<Frame>),
    Double(f64),
    Boolean(bool),
    Verbatim(String, Vec<u8>),
}

fn line(buf: &[u8]) -> Option<(&[u8], usize)> {
    let i = buf.windows(2).position(|w| w == b"\r\n")?;
    Some((&buf[..i], i + 2))
}

impl Frame {
    /// Decode one reply from the start of `buf`: the frame and the bytes it used, or None
    /// when `buf` holds no complete, well-formed reply.
    pub fn parse(buf: &[u8]) -> Option<(Frame, usize)> {
        Frame::parse_nested(buf, 0)
    }

    fn parse_nested(buf: &[u8], depth: usize) -> Option<(Frame, usize)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let kind = *buf.first()?;
        let (l, mut used) = line(&buf[1..])?;
        used += 1;
        let text = std::str::from_utf8(l).ok()?;
        let num = || text.parse::<i64>().ok();
        let frame = match kind {
            b'+' => Frame::Simple(text.to_string()),
            b'-' => Frame::Error(text.to_string()),
            b':' => Frame::Integer(num()?),
            b'_' => Frame::Null,
            b'#' => Frame::Boolean(text == "t"),
            b',' => Frame::Double(match text {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                t => t.parse().ok()?,
            }),
            b'$' | b'=' => {
                let n = num()?;
                if n < 0 {
                    return Some((Frame::Null, used));
                }
                let n = n as usize;
                let data = buf.get(used..used + n)?.to_vec();
                if buf.get(used + n..used + n + 2)? != b"\r\n" {
                    return None;
                }
                used += n + 2;
                if kind == b'=' {
                    if data.len() < 4 {
                        return None;
                    }
                    Frame::Verbatim(
                        String::from_utf8_lossy(&data[..3]).into_owned(),
                        data[4..].to_vec(),
                    )
                } else {
                    Frame::Bulk(data)
                }
            }
            b'*' | b'~' | b'%' => {
                let n = num()?;
                if n < 0 {
                    return Some((Frame::Null, used));
                }
                let count = if kind == b'%' {
                    n as usize * 2
                } else {
                    n as usize
                };
                let mut items = Vec::with_capacity(count.min(1024));
                for _ in 0..count {
                    let (f, u) = Frame::parse_nested(&buf[used..], depth + 1)?;
                    used += u;
                    items.push(f);
                }
                match kind {
                    b'*' => Frame::Array(items),
                    b'~' => Frame::Set(items),
                    _ => {
                        let mut it = items.into_iter();
                        let mut pairs = Vec::new();
                        while let (Some(k), Some(v)) = (it.next(), it.next()) {
                            pairs.push((k, v));
                        }
                        Frame::Map(pairs)
                    }
                }
            }
            _ => return None,
        };
        Some((frame, used))
    }
}
