//! Reply encoding for RESP2 and RESP3.
//!
//! Handlers write replies straight into the connection's output buffer through [`ReplyBuf`];
//! the protocol version decides how nulls, maps, sets, doubles and booleans look on the wire.
//! RESP2 downgrades: maps become flat arrays, sets arrays, doubles bulk strings, booleans
//! integers, null a nil bulk (or a nil array where Redis sends one).

use bytes::{BufMut, BytesMut};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}

pub struct ReplyBuf {
    pub buf: BytesMut,
    pub proto: Protocol,
}

impl ReplyBuf {
    pub fn new(proto: Protocol) -> ReplyBuf {
        ReplyBuf {
            buf: BytesMut::with_capacity(16 * 1024),
            proto,
        }
    }

    pub fn resp3(&self) -> bool {
        self.proto == Protocol::Resp3
    }

    fn int_line(&mut self, prefix: u8, n: i64) {
        self.buf.put_u8(prefix);
        let mut tmp = [0u8; 24];
        self.buf.put_slice(fmt_i64(n, &mut tmp));
        self.buf.put_slice(b"\r\n");
    }

    pub fn ok(&mut self) {
        self.buf.put_slice(b"+OK\r\n");
    }

    pub fn simple(&mut self, s: &str) {
        self.buf.put_u8(b'+');
        self.buf.put_slice(s.as_bytes());
        self.buf.put_slice(b"\r\n");
    }

    /// An error reply; `msg` starts with its code (`ERR`, `WRONGTYPE`, …). Newlines would break
    /// the protocol, so they are replaced by spaces, as Redis does.
    pub fn error(&mut self, msg: &str) {
        self.buf.put_u8(b'-');
        for &b in msg.as_bytes() {
            self.buf
                .put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.put_slice(b"\r\n");
    }

    pub fn int(&mut self, n: i64) {
        self.int_line(b':', n);
    }

    pub fn bulk(&mut self, data: &[u8]) {
        self.int_line(b'$', data.len() as i64);
        self.buf.put_slice(data);
        self.buf.put_slice(b"\r\n");
    }

    /// The null reply for a missing string: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        if self.resp3() {
            self.buf.put_slice(b"_\r\n");
        } else {
            self.buf.put_slice(b"$-1\r\n");
        }
    }

    /// The null reply where Redis sends a nil array in RESP2 (`*-1`).
    pub fn null_array(&mut self) {
        if self.resp3() {
            self.buf.put_slice(b"_\r\n");
        } else {
            self.buf.put_slice(b"*-1\r\n");
        }
    }

    pub fn array(&mut self, len: usize) {
        self.int_line(b'*', len as i64);
    }

    /// A map of `len` pairs (RESP2: an array of `2 * len` items).
    pub fn map(&mut self, len: usize) {
        if self.resp3() {
            self.int_line(b'%', len as i64);
        } else {
            self.int_line(b'*', 2 * len as i64);
        }
    }

    /// An out-of-band push of `len` items (pub/sub; RESP2: an array).
    pub fn push(&mut self, len: usize) {
        if self.resp3() {
            self.int_line(b'>', len as i64);
        } else {
            self.int_line(b'*', len as i64);
        }
    }

    pub fn set(&mut self, len: usize) {
        if self.resp3() {
            self.int_line(b'~', len as i64);
        } else {
            self.int_line(b'*', len as i64);
        }
    }

    pub fn boolean(&mut self, v: bool) {
        if self.resp3() {
            self.buf.put_slice(if v { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(v as i64);
        }
    }

    /// A double: RESP3 `,` type, RESP2 a bulk string, both in Redis's `%.17g` style.
    pub fn double(&mut self, v: f64) {
        let s = crate::num::fmt_double(v);
        if self.resp3() {
            self.buf.put_u8(b',');
            self.buf.put_slice(s.as_bytes());
            self.buf.put_slice(b"\r\n");
        } else {
            self.bulk(s.as_bytes());
        }
    }

    /// Text that RESP3 sends as a verbatim string (`INFO`, `CLIENT INFO`), RESP2 as bulk.
    pub fn verbatim(&mut self, text: &[u8]) {
        if self.resp3() {
            self.int_line(b'=', text.len() as i64 + 4);
            self.buf.put_slice(b"txt:");
            self.buf.put_slice(text);
            self.buf.put_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// Already-encoded RESP bytes.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.put_slice(bytes);
    }
}

/// Decimal text of an integer, written into `tmp` without allocating.
pub fn fmt_i64(n: i64, tmp: &mut [u8; 24]) -> &[u8] {
    let mut i = tmp.len();
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        tmp[i] = b'-';
    }
    &tmp[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp2_and_resp3_nulls_and_maps_differ() {
        let mut r = ReplyBuf::new(Protocol::Resp2);
        r.null();
        r.map(1);
        r.boolean(true);
        assert_eq!(&r.buf[..], b"$-1\r\n*2\r\n:1\r\n");
        let mut r = ReplyBuf::new(Protocol::Resp3);
        r.null();
        r.map(1);
        r.boolean(true);
        assert_eq!(&r.buf[..], b"_\r\n%1\r\n#t\r\n");
    }
}
