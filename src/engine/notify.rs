//! Keyspace notifications (`notify-keyspace-events`): each change a command makes to a key is
//! named by an [`Ev`] (its class and Redis's event name), and, when its class is enabled, is
//! published on `__keyspace@<db>__:<key>` (message: the event) and `__keyevent@<db>__:<event>`
//! (message: the key), as Redis does.
//!
//! Handlers name their events through `Ctx::changed`/`Ctx::notify`; the dispatcher publishes
//! them once the command succeeded, in the order they were named, after the `expired`
//! events of keys the command found expired. `expired` and `evicted` come from the keyspace
//! event hook (`Engine::raise`). `new` (a key created) is found by the dispatcher, which
//! compares the command's keys before and after it ran, and is published first, where
//! Redis raises it (when the key is added, before the command names its own event).

use super::Engine;
use std::sync::atomic::Ordering;

/// The classes, one bit each (the letters of `notify-keyspace-events`).
pub const GENERIC: u16 = 1 << 0; // g
pub const STRING: u16 = 1 << 1; // $
pub const LIST: u16 = 1 << 2; // l
pub const SET: u16 = 1 << 3; // s
pub const HASH: u16 = 1 << 4; // h
pub const ZSET: u16 = 1 << 5; // z
pub const EXPIRED: u16 = 1 << 6; // x
pub const EVICTED: u16 = 1 << 7; // e
pub const STREAM: u16 = 1 << 8; // t
pub const KEY_MISS: u16 = 1 << 9; // m
pub const MODULE: u16 = 1 << 10; // d
pub const NEW: u16 = 1 << 11; // n
/// Publish on `__keyspace@…` channels.
pub const KEYSPACE: u16 = 1 << 12; // K
/// Publish on `__keyevent@…` channels.
pub const KEYEVENT: u16 = 1 << 13; // E

/// The flags a (validated) `notify-keyspace-events` value stands for. Nothing is published
/// unless `K` or `E` is set along with some class, so such values come out as 0.
pub fn parse_flags(value: &str) -> u16 {
    let mut f = 0;
    for c in value.chars() {
        f |= match c {
            'A' => {
                GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE
            }
            'g' => GENERIC,
            '$' => STRING,
            'l' => LIST,
            's' => SET,
            'h' => HASH,
            'z' => ZSET,
            'x' => EXPIRED,
            'e' => EVICTED,
            't' => STREAM,
            'm' => KEY_MISS,
            'd' => MODULE,
            'n' => NEW,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            _ => 0,
        };
    }
    if f & (KEYSPACE | KEYEVENT) == 0 || f & !(KEYSPACE | KEYEVENT) == 0 {
        0
    } else {
        f
    }
}

/// One named event: its class and Redis's name for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ev {
    pub class: u16,
    pub name: &'static str,
}

impl Ev {
    pub const fn new(class: u16, name: &'static str) -> Ev {
        Ev { class, name }
    }
    pub const fn generic(name: &'static str) -> Ev {
        Ev::new(GENERIC, name)
    }
    pub const fn string(name: &'static str) -> Ev {
        Ev::new(STRING, name)
    }
    pub const fn list(name: &'static str) -> Ev {
        Ev::new(LIST, name)
    }
    pub const fn set(name: &'static str) -> Ev {
        Ev::new(SET, name)
    }
    pub const fn hash(name: &'static str) -> Ev {
        Ev::new(HASH, name)
    }
    pub const fn zset(name: &'static str) -> Ev {
        Ev::new(ZSET, name)
    }
}

/// The events every family shares.
pub const DEL: Ev = Ev::generic("del");
pub const EXPIRE: Ev = Ev::generic("expire");

impl Engine {
    /// The enabled notification flags (0: none, the common case).
    #[inline]
    pub fn notify_flags(&self) -> u16 {
        self.hot.notify.load(Ordering::Relaxed) as u16
    }

    /// Publish `ev` for `key` of `db` if `flags` enable it.
    pub fn notify(&self, flags: u16, ev: Ev, db: usize, key: &[u8]) {
        if flags & ev.class == 0 {
            return;
        }
        if flags & KEYSPACE != 0 {
            let mut ch = format!("__keyspace@{db}__:").into_bytes();
            ch.extend_from_slice(key);
            self.pubsub.publish(
                false,
                &ch.into(),
                &bytes::Bytes::from_static(ev.name.as_bytes()),
            );
        }
        if flags & KEYEVENT != 0 {
            let ch = format!("__keyevent@{db}__:{}", ev.name).into_bytes();
            self.pubsub
                .publish(false, &ch.into(), &bytes::Bytes::copy_from_slice(key));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_need_a_channel_kind_and_a_class() {
        assert_eq!(parse_flags(""), 0);
        assert_eq!(parse_flags("KE"), 0);
        assert_eq!(parse_flags("A"), 0);
        assert_eq!(parse_flags("Kl"), KEYSPACE | LIST);
        assert!(parse_flags("AK") & EXPIRED != 0);
        assert_eq!(parse_flags("AK") & (NEW | KEY_MISS), 0);
        assert_eq!(parse_flags("En"), KEYEVENT | NEW);
    }
}
