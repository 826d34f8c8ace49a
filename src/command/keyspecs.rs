//! Redis's own description of each command's keys and tips (`meta`, generated from the
//! oracle), for `COMMAND INFO` (its tips and key specs, elements 8 and 9) and `COMMAND
//! GETKEYSANDFLAGS`. The dispatcher locks by the table's own key specs
//! (`engine::table`); these only describe them as Redis does.

use crate::engine::table::{Begin, Cmd, Find, KeySpec};
use crate::resp::ReplyBuf;
use bytes::Bytes;

/// Where a key spec's search begins, as Redis reports it.
pub enum BeginMeta {
    Index(i64),
    /// A keyword, searched from an index (negative: backwards from the end).
    Keyword(&'static str, i64),
    /// Found by the command's own code (SORT's BY/STORE).
    Unknown,
}

/// How keys are found from there.
pub enum FindMeta {
    /// (last key relative to the beginning, negative from the end; step; limit).
    Range(i64, i64, i64),
    /// (index of the key count, first key, step), all relative to the beginning.
    KeyNum(i64, i64, i64),
    Unknown,
}

pub struct SpecMeta {
    pub notes: Option<&'static str>,
    pub flags: &'static [&'static str],
    pub begin: BeginMeta,
    pub find: FindMeta,
}

/// Tips and key specs of the command named `fullname` (`get`, `object|encoding`).
pub fn lookup(fullname: &str) -> (&'static [&'static str], &'static [SpecMeta]) {
    let meta = super::meta::META;
    match meta.binary_search_by(|(n, _, _)| n.cmp(&fullname)) {
        Ok(i) => (meta[i].1, meta[i].2),
        Err(_) => (&[], &[]),
    }
}

/// Element 9 of `COMMAND INFO`: a map per key spec.
pub fn write_specs(out: &mut ReplyBuf, specs: &[SpecMeta]) {
    // A set in RESP3, as Redis's `addReplyCommandKeySpecs` writes it.
    out.set(specs.len());
    for s in specs {
        out.map(if s.notes.is_some() { 4 } else { 3 });
        if let Some(n) = s.notes {
            out.bulk(b"notes");
            out.bulk(n.as_bytes());
        }
        out.bulk(b"flags");
        out.set(s.flags.len());
        for f in s.flags {
            out.simple(f);
        }
        out.bulk(b"begin_search");
        out.map(2);
        out.bulk(b"type");
        match s.begin {
            BeginMeta::Index(i) => {
                out.bulk(b"index");
                out.bulk(b"spec");
                out.map(1);
                out.bulk(b"index");
                out.int(i);
            }
            BeginMeta::Keyword(word, from) => {
                out.bulk(b"keyword");
                out.bulk(b"spec");
                out.map(2);
                out.bulk(b"keyword");
                out.bulk(word.as_bytes());
                out.bulk(b"startfrom");
                out.int(from);
            }
            BeginMeta::Unknown => {
                out.bulk(b"unknown");
                out.bulk(b"spec");
                out.map(0);
            }
        }
        out.bulk(b"find_keys");
        out.map(2);
        out.bulk(b"type");
        let (kind, fields) = match s.find {
            FindMeta::Range(last, step, limit) => (
                "range",
                [("lastkey", last), ("keystep", step), ("limit", limit)],
            ),
            FindMeta::KeyNum(num, first, step) => (
                "keynum",
                [("keynumidx", num), ("firstkey", first), ("keystep", step)],
            ),
            FindMeta::Unknown => {
                out.bulk(b"unknown");
                out.bulk(b"spec");
                out.map(0);
                continue;
            }
        };
        out.bulk(kind.as_bytes());
        out.bulk(b"spec");
        out.map(3);
        for (name, v) in fields {
            out.bulk(name.as_bytes());
            out.int(v);
        }
    }
}

/// The spec as the table's own type, when Redis's describes it fully.
fn as_key_spec(s: &SpecMeta) -> Option<KeySpec> {
    let begin = match s.begin {
        BeginMeta::Index(i) => Begin::Index(u16::try_from(i).ok()?),
        BeginMeta::Keyword(word, from) => Begin::Keyword {
            word,
            from: i16::try_from(from).ok()?,
        },
        BeginMeta::Unknown => return None,
    };
    let find = match s.find {
        FindMeta::Range(last, step, limit) => Find::Range {
            last: i16::try_from(last).ok()?,
            step: u16::try_from(step).ok()?,
            limit: u16::try_from(limit).ok()?,
        },
        FindMeta::KeyNum(num, first, step) => Find::KeyNum {
            num: u16::try_from(num).ok()?,
            first: u16::try_from(first).ok()?,
            step: u16::try_from(step).ok()?,
        },
        FindMeta::Unknown => return None,
    };
    Some(KeySpec { begin, find })
}

/// `COMMAND GETKEYSANDFLAGS`' answer for `call`: each key with its spec's flags. Redis's
/// specs find the keys when they describe them fully; otherwise (SORT's STORE) the table's
/// specs do, each taking the flags of Redis's spec for the same keyword, or in the same place.
pub fn keys_and_flags<'a>(
    cmd: &Cmd,
    fullname: &str,
    call: &'a [Bytes],
) -> Vec<(&'a Bytes, &'static [&'static str])> {
    let (_, specs) = lookup(fullname);
    let mut out = Vec::new();
    // The two commands whose flags depend on their arguments (`variable_flags`), decided
    // as Redis's key functions decide them.
    const WRITES: &[&str] = &["RW", "access", "update"];
    match fullname {
        "set" if call.len() > 1 => {
            let get = call.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get"));
            out.push((&call[1], if get { WRITES } else { &["OW", "update"][..] }));
            return out;
        }
        "bitfield" if call.len() > 1 => {
            let mut read_only = true;
            let mut i = 2;
            while i < call.len() {
                let left = call.len() - i - 1;
                let a = &call[i];
                if a.eq_ignore_ascii_case(b"get") && left >= 2 {
                    i += 3;
                } else if a.eq_ignore_ascii_case(b"overflow") && left >= 1 {
                    i += 2;
                } else {
                    // SET, INCRBY, or a syntax error: taken as a write.
                    read_only = false;
                    break;
                }
            }
            out.push((
                &call[1],
                if read_only {
                    &["RO", "access"][..]
                } else {
                    WRITES
                },
            ));
            return out;
        }
        _ => {}
    }
    let known: Option<Vec<KeySpec>> = specs.iter().map(as_key_spec).collect();
    match known {
        Some(ks) if !specs.is_empty() => {
            for (k, s) in ks.iter().zip(specs) {
                k.each(call, |key| out.push((key, s.flags)));
            }
        }
        _ => {
            for (i, k) in cmd.keys.iter().enumerate() {
                let by_word = match k.begin {
                    Begin::Keyword { word, .. } => specs.iter().find(|s| {
                        s.notes
                            .is_some_and(|n| n.to_ascii_uppercase().contains(&word.to_ascii_uppercase()))
                            || matches!(s.begin, BeginMeta::Keyword(w, _) if w.eq_ignore_ascii_case(word))
                    }),
                    Begin::Index(_) => None,
                };
                let flags = by_word
                    .or_else(|| specs.get(i.min(specs.len().saturating_sub(1))))
                    .map_or(&[][..], |s| s.flags);
                k.each(call, |key| out.push((key, flags)));
            }
        }
    }
    out
}
