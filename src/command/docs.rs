//! `COMMAND DOCS` as Redis 7.0 documents its commands: `docs.resp` is redis-server 7.0.15's
//! own `COMMAND DOCS` reply (RESP3; Redis's command documentation, BSD-3-Clause, Redis Ltd.),
//! captured by `scripts/gen_command_docs.py`. Each command ferrokv implements is answered
//! from it, with its subcommands limited to ours; commands Redis 7.0 does not have keep the
//! table's summary.

use crate::resp::{Frame, ReplyBuf};
use std::sync::OnceLock;

static RAW: &[u8] = include_bytes!("docs.resp");

/// A command's documentation: its fields (in Redis's order, `subcommands` left out) and
/// its subcommands' documentation by name.
pub struct Doc {
    pub fields: Vec<(Frame, Frame)>,
    pub subs: Vec<(String, Doc)>,
}

/// The entry for `name` in `docs`.
pub fn find<'a>(docs: &'a [(String, Doc)], name: &str) -> Option<&'a Doc> {
    docs.iter().find(|(n, _)| n == name).map(|(_, d)| d)
}

fn doc_of(body: Frame) -> Doc {
    let mut fields = Vec::new();
    let mut subs = Vec::new();
    if let Frame::Map(pairs) = body {
        for (k, v) in pairs {
            if k == Frame::Bulk(b"subcommands".to_vec()) {
                subs = index(v);
            } else {
                fields.push((k, v));
            }
        }
    }
    Doc { fields, subs }
}

fn index(map: Frame) -> Vec<(String, Doc)> {
    let mut out = Vec::new();
    if let Frame::Map(pairs) = map {
        for (k, v) in pairs {
            if let Frame::Bulk(name) = k {
                out.push((String::from_utf8_lossy(&name).into_owned(), doc_of(v)));
            }
        }
    }
    out
}

/// Redis's documentation of every top-level command (parsed on first use).
pub fn all() -> &'static [(String, Doc)] {
    static DOCS: OnceLock<Vec<(String, Doc)>> = OnceLock::new();
    DOCS.get_or_init(|| Frame::parse(RAW).map(|(f, _)| index(f)).unwrap_or_default())
}

/// Write `f` in the client's protocol (maps and sets become flat arrays in RESP2).
pub fn write(out: &mut ReplyBuf, f: &Frame) {
    match f {
        Frame::Simple(s) => out.simple(s),
        Frame::Error(e) => out.error(e),
        Frame::Integer(n) => out.int(*n),
        Frame::Bulk(b) => out.bulk(b),
        Frame::Null => out.null(),
        Frame::Array(items) => {
            out.array(items.len());
            items.iter().for_each(|i| write(out, i));
        }
        Frame::Set(items) => {
            out.set(items.len());
            items.iter().for_each(|i| write(out, i));
        }
        Frame::Map(pairs) => {
            out.map(pairs.len());
            for (k, v) in pairs {
                write(out, k);
                write(out, v);
            }
        }
        Frame::Double(d) => out.double(*d),
        Frame::Boolean(b) => out.int(*b as i64),
        Frame::Verbatim(_, b) => out.verbatim(b),
    }
}
