//! CJSON's parser (`json_next_token`, `json_parse_*_context`), without recursion: a
//! token reader over the text as a C string (a NUL byte ends it), and a loop that keeps
//! the open containers in a Lua table.

use super::{null, Config};
use crate::engine::script::lib::{msg, strtod, LibResult, LUAI_MAXCSTACK};
use mlua::{Lua, Table, Value};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Number,
    Boolean,
    Null,
    Colon,
    Comma,
    End,
    /// A token error, with what went wrong.
    Error(&'static str),
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::ObjBegin => "T_OBJ_BEGIN",
            Kind::ObjEnd => "T_OBJ_END",
            Kind::ArrBegin => "T_ARR_BEGIN",
            Kind::ArrEnd => "T_ARR_END",
            Kind::Str => "T_STRING",
            Kind::Number => "T_NUMBER",
            Kind::Boolean => "T_BOOLEAN",
            Kind::Null => "T_NULL",
            Kind::Colon => "T_COLON",
            Kind::Comma => "T_COMMA",
            Kind::End => "T_END",
            Kind::Error(e) => e,
        }
    }
}

struct Token {
    kind: Kind,
    index: usize,
    number: f64,
    boolean: bool,
}

struct Parser<'a> {
    data: &'a [u8],
    ptr: usize,
    /// The last string token's bytes.
    string: Vec<u8>,
    invalid_numbers: bool,
}

fn hex4(h: &[u8]) -> Option<u32> {
    let mut v = 0;
    for i in 0..4 {
        v = v << 4 | (*h.get(i)? as char).to_digit(16)?;
    }
    Some(v)
}

fn push_utf8(out: &mut Vec<u8>, cp: u32) {
    if cp <= 0x7f {
        out.push(cp as u8);
    } else if cp <= 0x7ff {
        out.extend([(cp >> 6) as u8 | 0xc0, (cp & 0x3f) as u8 | 0x80]);
    } else if cp <= 0xffff {
        out.extend([
            (cp >> 12) as u8 | 0xe0,
            ((cp >> 6) & 0x3f) as u8 | 0x80,
            (cp & 0x3f) as u8 | 0x80,
        ]);
    } else {
        out.extend([
            (cp >> 18) as u8 | 0xf0,
            ((cp >> 12) & 0x3f) as u8 | 0x80,
            ((cp >> 6) & 0x3f) as u8 | 0x80,
            (cp & 0x3f) as u8 | 0x80,
        ]);
    }
}

impl Parser<'_> {
    /// The byte at `i`; the text ends with a NUL as a C string does.
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn token(&self, kind: Kind, index: usize) -> Token {
        Token {
            kind,
            index,
            number: 0.0,
            boolean: false,
        }
    }

    fn error(&self, what: &'static str) -> Token {
        self.token(Kind::Error(what), self.ptr)
    }

    /// CJSON's `json_is_invalid_number`: forms strtod takes but JSON does not (a leading
    /// `+`, hex, leading zeros, inf, nan).
    fn is_invalid_number(&self) -> bool {
        let mut p = self.ptr;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return c2 | 0x20 == b'x' || c2.is_ascii_digit();
        }
        // A signed char in C: bytes from 0x80 compare below '9'.
        if c <= b'9' || c >= 0x80 {
            return false;
        }
        let word = |w: &[u8]| (0..3).all(|i| self.at(p + i).eq_ignore_ascii_case(&w[i]));
        word(b"inf") || word(b"nan")
    }

    fn number(&mut self) -> Token {
        let end = self.data[self.ptr.min(self.data.len())..]
            .iter()
            .position(|&c| c == 0)
            .map_or(self.data.len(), |n| self.ptr + n);
        match strtod(&self.data[self.ptr.min(end)..end]) {
            Some((v, used)) => {
                let mut t = self.token(Kind::Number, self.ptr);
                t.number = v;
                self.ptr += used;
                t
            }
            None => self.error("invalid number"),
        }
    }

    /// A `\uXXXX` escape (a surrogate pair takes two) at `ptr`, appended as UTF-8.
    fn unicode_escape(&mut self) -> bool {
        let hex_at = |i: usize| hex4(&self.data[i.min(self.data.len())..]);
        let Some(mut cp) = hex_at(self.ptr + 2) else {
            return false;
        };
        let mut len = 6;
        if cp & 0xf800 == 0xd800 {
            if cp & 0x400 != 0 || self.at(self.ptr + 6) != b'\\' || self.at(self.ptr + 7) != b'u' {
                return false;
            }
            let Some(low) = hex_at(self.ptr + 8) else {
                return false;
            };
            if low & 0xfc00 != 0xdc00 {
                return false;
            }
            cp = (((cp & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
            len = 12;
        }
        push_utf8(&mut self.string, cp);
        self.ptr += len;
        true
    }

    fn string(&mut self) -> Token {
        let index = self.ptr;
        self.ptr += 1;
        self.string.clear();
        loop {
            let c = self.at(self.ptr);
            if c == b'"' {
                break;
            }
            if c == 0 {
                return self.error("unexpected end of string");
            }
            let mut out = c;
            if c == b'\\' {
                out = match self.at(self.ptr + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 8,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 12,
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape() {
                            continue;
                        }
                        return self.error("invalid unicode escape code");
                    }
                    _ => return self.error("invalid escape code"),
                };
                self.ptr += 1;
            }
            self.string.push(out);
            self.ptr += 1;
        }
        self.ptr += 1;
        self.token(Kind::Str, index)
    }

    fn next(&mut self) -> Token {
        while matches!(self.at(self.ptr), b' ' | b'\t' | b'\n' | b'\r') {
            self.ptr += 1;
        }
        let index = self.ptr;
        let c = self.at(self.ptr);
        let single = match c {
            b'{' => Some(Kind::ObjBegin),
            b'}' => Some(Kind::ObjEnd),
            b'[' => Some(Kind::ArrBegin),
            b']' => Some(Kind::ArrEnd),
            b',' => Some(Kind::Comma),
            b':' => Some(Kind::Colon),
            _ => None,
        };
        if let Some(kind) = single {
            self.ptr += 1;
            return self.token(kind, index);
        }
        if c == 0 {
            return self.token(Kind::End, index);
        }
        if !matches!(
            c,
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'"' | b'+' | b'-' | b'0'..=b'9'
        ) {
            return self.error("invalid token");
        }
        let starts = |w: &[u8]| w.iter().enumerate().all(|(i, &b)| self.at(index + i) == b);
        if c == b'"' {
            self.string()
        } else if c == b'-' || c.is_ascii_digit() {
            if !self.invalid_numbers && self.is_invalid_number() {
                return self.error("invalid number");
            }
            self.number()
        } else if starts(b"true") {
            self.ptr += 4;
            let mut t = self.token(Kind::Boolean, index);
            t.boolean = true;
            t
        } else if starts(b"false") {
            self.ptr += 5;
            self.token(Kind::Boolean, index)
        } else if starts(b"null") {
            self.ptr += 4;
            self.token(Kind::Null, index)
        } else if self.invalid_numbers && self.is_invalid_number() {
            self.number()
        } else {
            self.error("invalid token")
        }
    }
}

fn expected(what: &str, t: &Token) -> crate::engine::script::lib::LibError {
    msg(format!(
        "Expected {what} but found {} at character {}",
        t.kind.name(),
        t.index + 1
    ))
}

/// A container being read; its table is in the decoder's holder at its depth (see `lib`'s
/// note on references).
enum Reading {
    Array { next: i64 },
    Object { key: Vec<u8> },
}

pub(super) fn decode(lua: &Lua, cfg: &Config, data: &[u8]) -> LibResult<Value> {
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(msg("JSON parser does not support UTF-16 or UTF-32"));
    }
    let mut p = Parser {
        data,
        ptr: 0,
        string: Vec::new(),
        invalid_numbers: cfg.decode_invalid_numbers != 0,
    };
    let holder = lua.create_table()?;
    let mut open: Vec<Reading> = Vec::new();
    // The C parser's Lua stack: the argument, then 1 per open array (its table) and 2 per
    // open object (its table and the key).
    let mut top = 1usize;
    let mut tok = p.next();
    loop {
        // `tok` starts a value.
        let mut v = match tok.kind {
            Kind::Str => Value::String(lua.create_string(&p.string)?),
            Kind::Number => Value::Number(tok.number),
            Kind::Boolean => Value::Boolean(tok.boolean),
            Kind::Null => null(),
            Kind::ObjBegin | Kind::ArrBegin => {
                let object = tok.kind == Kind::ObjBegin;
                let depth = open.len() + 1;
                let slots = if object { 3 } else { 2 };
                if depth > cfg.decode_max_depth as usize || top + slots > LUAI_MAXCSTACK {
                    return Err(msg(format!(
                        "Found too many nested data structures ({depth}) at character {}",
                        p.ptr
                    )));
                }
                let t = lua.create_table()?;
                tok = p.next();
                if tok.kind == (if object { Kind::ObjEnd } else { Kind::ArrEnd }) {
                    Value::Table(t)
                } else {
                    holder.raw_set(depth, t)?;
                    if object {
                        let key = object_key(&mut p, &tok)?;
                        tok = p.next();
                        open.push(Reading::Object { key });
                        top += 2;
                    } else {
                        open.push(Reading::Array { next: 1 });
                        top += 1;
                    }
                    continue;
                }
            }
            _ => return Err(expected("value", &tok)),
        };
        // A value is complete: store it, then read on in its container.
        loop {
            let depth = open.len();
            let Some(frame) = open.last_mut() else {
                tok = p.next();
                if tok.kind != Kind::End {
                    return Err(expected("the end", &tok));
                }
                return Ok(v);
            };
            let t: Table = holder.raw_get(depth)?;
            let (end, what) = match frame {
                Reading::Array { next } => {
                    t.raw_set(*next, v)?;
                    *next += 1;
                    (Kind::ArrEnd, "comma or array end")
                }
                Reading::Object { key } => {
                    t.raw_set(lua.create_string(&key)?, v)?;
                    (Kind::ObjEnd, "comma or object end")
                }
            };
            tok = p.next();
            if tok.kind == end {
                top -= if end == Kind::ArrEnd { 1 } else { 2 };
                holder.raw_set(depth, Value::Nil)?;
                open.pop();
                v = Value::Table(t);
                continue;
            }
            if tok.kind != Kind::Comma {
                return Err(expected(what, &tok));
            }
            tok = p.next();
            if let Reading::Object { key } = frame {
                *key = object_key(&mut p, &tok)?;
                tok = p.next();
            }
            break;
        }
    }
}

/// After `{` or `,` in an object: `tok` must be the key, then a colon follows.
fn object_key(p: &mut Parser, tok: &Token) -> LibResult<Vec<u8>> {
    if tok.kind != Kind::Str {
        return Err(expected("object key string", tok));
    }
    let key = p.string.clone();
    let colon = p.next();
    if colon.kind != Kind::Colon {
        return Err(expected("colon", &colon));
    }
    Ok(key)
}
