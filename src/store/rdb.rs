//! DUMP/RESTORE payloads in Redis's RDB object format, so values move between ferrokv and
//! Redis 7.0 both ways.
//!
//! # Format (what DUMP writes)
//! `type byte, object, RDB version (u16 LE, 10 as Redis 7.0), CRC-64/Redis (u64 LE) of all
//! before it`. Objects are written in the plain RDB types every Redis since 2.x reads:
//! string (0), list (1), set (2), hash (4), sorted set with binary scores (5), and streams as
//! Redis 7.0 writes them (19, listpacks: `store::stream::rdb`). Lengths use RDB's
//! length encoding; strings are written raw (no integer or LZF forms).
//!
//! RESTORE reads those, and also what Redis 7.0's DUMP writes: integer- and LZF-encoded
//! strings, intsets (11), listpack hashes (16) and sorted sets (17), and quicklists of
//! listpacks (18), and streams of Redis 5-6 (15) and 7.0 (19). Older ziplist encodings are refused with Redis's "Bad data format" error.

use super::value::{EncodingLimits, Hash, List, Set, Value, ZSet};

/// The RDB version Redis 7.0 writes; newer payloads are refused.
pub const RDB_VERSION: u16 = 10;

const CRC: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

pub(crate) fn put_len(out: &mut Vec<u8>, n: usize) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as usize {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_len(out, s.len());
    out.extend_from_slice(s);
}

/// The DUMP payload of `v`.
pub fn dump(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    put_object(&mut out, v);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = CRC.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// `v` as an RDB object: its type byte, then the object (as in DUMP payloads and RDB files).
pub(crate) fn put_object(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str { data, .. } => {
            out.push(0);
            put_str(out, data);
        }
        Value::List(l) => {
            out.push(1);
            put_len(out, l.len());
            l.iter().for_each(|e| put_str(out, e));
        }
        Value::Set(s) => {
            out.push(2);
            put_len(out, s.len());
            s.iter().for_each(|m| put_str(out, &m));
        }
        Value::Hash(h) => {
            out.push(4);
            put_len(out, h.len());
            for (f, x) in h.iter() {
                put_str(out, f);
                put_str(out, x);
            }
        }
        Value::ZSet(z) => {
            out.push(5);
            put_len(out, z.len());
            // Highest first, as Redis writes it (its loader then inserts at the head).
            for (s, m) in z.iter_rev() {
                put_str(out, m);
                out.extend_from_slice(&s.to_le_bytes());
            }
        }
        Value::Stream(x) => {
            out.push(super::stream::rdb::RDB_TYPE_STREAM_LISTPACKS_2);
            super::stream::rdb::write(out, x);
        }
    }
}

/// The RDB opcode of a function library (its code as one string), as `FUNCTION DUMP` and
/// RDB files hold it; `RDB_OPCODE_FUNCTION` is 7.0-rc's older form with separate metadata.
pub(crate) const RDB_OPCODE_FUNCTION2: u8 = 245;
const RDB_OPCODE_FUNCTION: u8 = 246;

/// The `FUNCTION DUMP` payload of the libraries with this code: each as an opcode and its
/// code, then the version and checksum footer of DUMP.
pub fn dump_functions<'a>(codes: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(RDB_OPCODE_FUNCTION2);
        put_str(&mut out, code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = CRC.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The libraries' code in a `FUNCTION RESTORE` payload whose footer `verify` accepted, or
/// Redis's error text.
pub fn function_codes(body: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    let mut r = Reader { p: body, at: 0 };
    let mut codes = Vec::new();
    while r.at < body.len() {
        let op = r.byte().map_err(|_| "ERR can not read data type")?;
        let code = match op {
            RDB_OPCODE_FUNCTION2 => r.string(),
            // 7.0-rc: name, engine, an optional description, then the body.
            RDB_OPCODE_FUNCTION => (|| {
                let name = r.string()?;
                let engine = r.string()?;
                if r.len()? != 0 {
                    r.string()?;
                }
                let blob = r.string()?;
                let mut code = b"#!".to_vec();
                code.extend_from_slice(&engine);
                code.extend_from_slice(b" name=");
                code.extend_from_slice(&name);
                code.push(b'\n');
                code.extend_from_slice(&blob);
                Ok(code)
            })(),
            _ => return Err("ERR given type is not a function"),
        };
        codes.push(code.map_err(|_| "ERR failed loading the given functions payload")?);
    }
    Ok(codes)
}

/// Why a payload was refused, in Redis's words.
pub enum Refused {
    /// Version newer than ours, or the checksum does not match.
    Footer,
    /// The object could not be read.
    BadFormat,
}

/// Check the footer of a DUMP payload; the object bytes when it is sound.
pub fn verify(p: &[u8]) -> Result<&[u8], Refused> {
    if p.len() < 10 {
        return Err(Refused::Footer);
    }
    let (body, crc) = p.split_at(p.len() - 8);
    let version = u16::from_le_bytes([body[body.len() - 2], body[body.len() - 1]]);
    if version > RDB_VERSION || CRC.checksum(body).to_le_bytes() != crc {
        return Err(Refused::Footer);
    }
    Ok(&body[..body.len() - 2])
}

pub(crate) struct Reader<'a> {
    pub(crate) p: &'a [u8],
    pub(crate) at: usize,
}

pub(crate) type R<T> = Result<T, Refused>;

impl<'a> Reader<'a> {
    pub(crate) fn bytes(&mut self, n: usize) -> R<&'a [u8]> {
        let end = self.at.checked_add(n).ok_or(Refused::BadFormat)?;
        let s = self.p.get(self.at..end).ok_or(Refused::BadFormat)?;
        self.at = end;
        Ok(s)
    }
    fn byte(&mut self) -> R<u8> {
        Ok(self.bytes(1)?[0])
    }
    /// A length, or (Err-free) the special string encoding in `Ok(Err(kind))`.
    fn len_or_enc(&mut self) -> R<Result<usize, u8>> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => Ok((b & 0x3f) as usize),
            1 => Ok((((b & 0x3f) as usize) << 8) | self.byte()? as usize),
            2 if b == 0x80 => Ok(u32::from_be_bytes(self.bytes(4)?.try_into().unwrap()) as usize),
            2 if b == 0x81 => {
                let n = u64::from_be_bytes(self.bytes(8)?.try_into().unwrap());
                Ok(usize::try_from(n).map_err(|_| Refused::BadFormat)?)
            }
            2 => return Err(Refused::BadFormat),
            _ => Err(b & 0x3f),
        })
    }
    pub(crate) fn len(&mut self) -> R<usize> {
        self.len_or_enc()?.map_err(|_| Refused::BadFormat)
    }
    pub(crate) fn string(&mut self) -> R<Vec<u8>> {
        match self.len_or_enc()? {
            Ok(n) => Ok(self.bytes(n)?.to_vec()),
            Err(0) => Ok((self.byte()? as i8).to_string().into_bytes()),
            Err(1) => Ok(i16::from_le_bytes(self.bytes(2)?.try_into().unwrap())
                .to_string()
                .into_bytes()),
            Err(2) => Ok(i32::from_le_bytes(self.bytes(4)?.try_into().unwrap())
                .to_string()
                .into_bytes()),
            Err(3) => {
                let clen = self.len()?;
                let len = self.len()?;
                lzf_decompress(self.bytes(clen)?, len)
            }
            Err(_) => Err(Refused::BadFormat),
        }
    }
}

/// LZF (liblzf's format, as Redis compresses long strings).
fn lzf_decompress(input: &[u8], len: usize) -> R<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(len.min(input.len().saturating_mul(256)));
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let run = input.get(i..i + ctrl + 1).ok_or(Refused::BadFormat)?;
            out.extend_from_slice(run);
            i += ctrl + 1;
        } else {
            let mut n = ctrl >> 5;
            if n == 7 {
                n += *input.get(i).ok_or(Refused::BadFormat)? as usize;
                i += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + *input.get(i).ok_or(Refused::BadFormat)? as usize + 1;
            i += 1;
            let from = out.len().checked_sub(back).ok_or(Refused::BadFormat)?;
            for k in 0..n + 2 {
                let b = out[from + k];
                out.push(b);
            }
        }
        if out.len() > len {
            return Err(Refused::BadFormat);
        }
    }
    if out.len() != len {
        return Err(Refused::BadFormat);
    }
    Ok(out)
}

/// The entries of a listpack, as strings (integers in decimal).
pub(crate) fn listpack(lp: &[u8]) -> R<Vec<Vec<u8>>> {
    let mut r = Reader { p: lp, at: 6 };
    let mut out = Vec::new();
    loop {
        let start = r.at;
        let b = r.byte()?;
        let v: Vec<u8> = if b == 0xff {
            return Ok(out);
        } else if b & 0x80 == 0 {
            (b as i64).to_string().into_bytes()
        } else if b & 0xc0 == 0x80 {
            r.bytes((b & 0x3f) as usize)?.to_vec()
        } else if b & 0xe0 == 0xc0 {
            let raw = (((b & 0x1f) as i64) << 8) | r.byte()? as i64;
            let v = if raw >= 1 << 12 { raw - (1 << 13) } else { raw };
            v.to_string().into_bytes()
        } else if b & 0xf0 == 0xe0 {
            let n = (((b & 0x0f) as usize) << 8) | r.byte()? as usize;
            r.bytes(n)?.to_vec()
        } else {
            match b {
                0xf0 => {
                    let n = u32::from_le_bytes(r.bytes(4)?.try_into().unwrap()) as usize;
                    r.bytes(n)?.to_vec()
                }
                0xf1 => i16::from_le_bytes(r.bytes(2)?.try_into().unwrap())
                    .to_string()
                    .into_bytes(),
                0xf2 => {
                    let b3 = r.bytes(3)?;
                    let v = i32::from_le_bytes([0, b3[0], b3[1], b3[2]]) >> 8;
                    v.to_string().into_bytes()
                }
                0xf3 => i32::from_le_bytes(r.bytes(4)?.try_into().unwrap())
                    .to_string()
                    .into_bytes(),
                0xf4 => i64::from_le_bytes(r.bytes(8)?.try_into().unwrap())
                    .to_string()
                    .into_bytes(),
                _ => return Err(Refused::BadFormat),
            }
        };
        // Skip the back-length: one byte per 7 bits of the entry's size.
        let size = r.at - start;
        let back = match size {
            0..=127 => 1,
            128..=16382 => 2,
            16383..=2097150 => 3,
            2097151..=268435454 => 4,
            _ => 5,
        };
        r.bytes(back)?;
        out.push(v);
    }
}

/// The object of a verified payload (`verify`), built with the server's encoding limits.
pub fn restore(body: &[u8], l: &EncodingLimits) -> R<Value> {
    let mut r = Reader { p: body, at: 0 };
    let kind = r.byte()?;
    // A listpack payload converts only when it has too many entries, not for a long one (as
    // Redis loads it); the plain types are built as if written one by one.
    let listpack_limits;
    let l = if matches!(kind, 16 | 17) {
        listpack_limits = EncodingLimits {
            hash_value: usize::MAX,
            zset_value: usize::MAX,
            ..l.clone()
        };
        &listpack_limits
    } else {
        l
    };
    let v = match kind {
        0 => Value::string(r.string()?),
        1 | 18 => {
            let mut list = List::default();
            for _ in 0..r.len()? {
                if kind == 1 {
                    list.push_back(&r.string()?);
                    continue;
                }
                let container = r.len()?;
                let node = r.string()?;
                if container == 1 {
                    list.push_back(&node);
                } else {
                    listpack(&node)?.iter().for_each(|e| list.push_back(e));
                }
            }
            Value::List(Box::new(list))
        }
        2 | 11 => {
            let members: Vec<Vec<u8>> = if kind == 2 {
                (0..r.len()?).map(|_| r.string()).collect::<R<_>>()?
            } else {
                intset(&r.string()?)?
            };
            let mut s = Set::new(members.first().ok_or(Refused::BadFormat)?);
            for m in &members {
                // As Redis: a plain set with a member twice is corrupt.
                if !s.insert(m, l) && kind == 2 {
                    return Err(Refused::BadFormat);
                }
            }
            Value::Set(Box::new(s))
        }
        4 | 16 => {
            let flat: Vec<Vec<u8>> = if kind == 4 {
                (0..r.len()? * 2).map(|_| r.string()).collect::<R<_>>()?
            } else {
                listpack(&r.string()?)?
            };
            let mut h = Hash::default();
            for p in flat.chunks(2) {
                let [f, x] = p else {
                    return Err(Refused::BadFormat);
                };
                h.insert(f, x, l);
            }
            Value::Hash(h)
        }
        3 | 5 | 17 => {
            let pairs: Vec<(Vec<u8>, f64)> = if kind != 17 {
                (0..r.len()?)
                    .map(|_| {
                        let m = r.string()?;
                        let s = if kind == 5 {
                            f64::from_le_bytes(r.bytes(8)?.try_into().unwrap())
                        } else {
                            text_score(&mut r)?
                        };
                        Ok((m, s))
                    })
                    .collect::<R<_>>()?
            } else {
                let flat = listpack(&r.string()?)?;
                flat.chunks(2)
                    .map(|p| match p {
                        [m, s] => crate::num::strtod_whole(s)
                            .map(|s| (m.clone(), s))
                            .ok_or(Refused::BadFormat),
                        _ => Err(Refused::BadFormat),
                    })
                    .collect::<R<_>>()?
            };
            let first = pairs.first().ok_or(Refused::BadFormat)?;
            let mut z = ZSet::new(&first.0, l);
            for (m, s) in &pairs {
                // As Redis: a NaN score, or a member twice outside a listpack, is corrupt.
                if s.is_nan() || (!z.insert(m, *s, l) && kind != 17) {
                    return Err(Refused::BadFormat);
                }
            }
            Value::ZSet(Box::new(z))
        }
        15 | 19 => super::stream::rdb::read(&mut r, kind == 19)?,
        _ => return Err(Refused::BadFormat),
    };
    if r.at != body.len() || v.is_empty_collection() {
        return Err(Refused::BadFormat);
    }
    Ok(v)
}

/// A score of the old `RDB_TYPE_ZSET` (type 3): a length byte and that much text, or 253, 254,
/// 255 for NaN, +inf and -inf (Redis's `rdbLoadDoubleValue`).
fn text_score(r: &mut Reader) -> R<f64> {
    Ok(match r.byte()? {
        253 => f64::NAN,
        254 => f64::INFINITY,
        255 => f64::NEG_INFINITY,
        n => {
            let text = r.bytes(n as usize)?;
            crate::num::c_strtod(text)
                .map(|(v, _)| v)
                .ok_or(Refused::BadFormat)?
        }
    })
}

/// The members of an intset blob.
fn intset(b: &[u8]) -> R<Vec<Vec<u8>>> {
    let mut r = Reader { p: b, at: 0 };
    let width = u32::from_le_bytes(r.bytes(4)?.try_into().unwrap()) as usize;
    let n = u32::from_le_bytes(r.bytes(4)?.try_into().unwrap()) as usize;
    if ![2, 4, 8].contains(&width) {
        return Err(Refused::BadFormat);
    }
    (0..n)
        .map(|_| {
            let x = r.bytes(width)?;
            let v = match width {
                2 => i16::from_le_bytes(x.try_into().unwrap()) as i64,
                4 => i32::from_le_bytes(x.try_into().unwrap()) as i64,
                _ => i64::from_le_bytes(x.try_into().unwrap()),
            };
            Ok(v.to_string().into_bytes())
        })
        .collect()
}
