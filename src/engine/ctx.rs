//! What a handler sees ([`Ctx`]) and what it gives back: its reply (written into `out`) or a
//! typed error ([`CmdError`]), plus its [`Effects`].

use super::client::ClientState;
use super::locks::LockSet;
use super::notify::Ev;
use super::Engine;
use crate::resp::ReplyBuf;
use crate::store::Shard;
use bytes::Bytes;
use std::borrow::Cow;

/// The kind of a command error: its code on the wire and its row in `INFO errorstats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrKind {
    Err,
    WrongType,
    NoAuth,
    WrongPass,
    Oom,
    Misconf,
    NoProto,
    ExecAbort,
    NoScript,
    Busy,
    Loading,
    NoGroup,
    BusyGroup,
    Unblocked,
    NoReplicas,
    NoPerm,
}

impl ErrKind {
    /// The error code, as it begins the reply.
    pub fn code(self) -> &'static str {
        match self {
            ErrKind::Err => "ERR",
            ErrKind::WrongType => "WRONGTYPE",
            ErrKind::NoAuth => "NOAUTH",
            ErrKind::WrongPass => "WRONGPASS",
            ErrKind::Oom => "OOM",
            ErrKind::Misconf => "MISCONF",
            ErrKind::NoProto => "NOPROTO",
            ErrKind::ExecAbort => "EXECABORT",
            ErrKind::NoScript => "NOSCRIPT",
            ErrKind::Busy => "BUSY",
            ErrKind::Loading => "LOADING",
            ErrKind::NoGroup => "NOGROUP",
            ErrKind::BusyGroup => "BUSYGROUP",
            ErrKind::Unblocked => "UNBLOCKED",
            ErrKind::NoReplicas => "NOREPLICAS",
            ErrKind::NoPerm => "NOPERM",
        }
    }
}

/// A command's error: its kind and its full text (code included, as sent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdError {
    pub kind: ErrKind,
    pub text: Cow<'static, str>,
}

impl CmdError {
    pub const fn new(kind: ErrKind, text: &'static str) -> CmdError {
        CmdError {
            kind,
            text: Cow::Borrowed(text),
        }
    }
    /// A generic `ERR …` error with a built text (which must start with `ERR `).
    pub fn err(text: String) -> CmdError {
        debug_assert!(text.starts_with("ERR "), "{text}");
        CmdError {
            kind: ErrKind::Err,
            text: Cow::Owned(text),
        }
    }
    pub fn owned(kind: ErrKind, text: String) -> CmdError {
        debug_assert!(text.starts_with(kind.code()), "{text}");
        CmdError {
            kind,
            text: Cow::Owned(text),
        }
    }
}

impl std::fmt::Display for CmdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for CmdError {}

/// A handler's result: Ok once its reply is written, or the error to reply instead (anything
/// it wrote is discarded, and so are its effects).
pub type Outcome = Result<(), CmdError>;

/// A record to propagate: one command's arguments.
pub type Record = Vec<Vec<u8>>;

/// What a command did besides replying. The dispatcher acts on it only when the handler
/// succeeded.
#[derive(Default)]
pub struct Effects {
    /// Changes made (Redis's `dirty`): 0 means nothing to propagate.
    pub dirty: u64,
    /// Records to propagate instead of the command as received (its canonical form).
    pub records: Option<Vec<Record>>,
    /// Records each with its own database (a script that SELECTs), taking precedence.
    pub tagged: Option<Vec<(usize, Record)>>,
    /// Keys changed, each with its database: one keyspace event each.
    pub modified: smallvec::SmallVec<[(usize, Bytes); 2]>,
    /// Effects few commands have (kept out of line so the common case stays small).
    pub rare: Option<Box<RareEffects>>,
    /// A sink is attached: build records (they are not built otherwise).
    pub logging: bool,
    /// Something consumes keyspace events of modified keys: record them (they are not
    /// recorded otherwise; expiry and eviction events are always raised).
    pub track_keys: bool,
    /// The enabled keyspace-notification flags (`engine::notify`; 0 when off).
    pub notify: u16,
    /// Notifications to publish, in order, each with its database (only enabled ones).
    pub notes: Vec<(usize, Bytes, Ev)>,
}

/// What a blocked command answers when its time is up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutReply {
    /// The blocking pops and moves, `XREAD`: a null array.
    NullArray,
    /// `WAIT`: the number of replicas that acknowledged (none here).
    Zero,
}

/// What a blocking command waits for.
pub struct Block {
    /// The keys, in the client's database.
    pub keys: Vec<Bytes>,
    /// How long, in milliseconds (0: for ever).
    pub timeout_ms: u64,
    /// The reply when the time is up.
    pub on_timeout: TimeoutReply,
    /// The command to run again when woken, if not the one received (`XREAD … $` waits for
    /// entries after the last ID at the time it blocked, so it retries with that ID).
    pub retry_args: Option<Vec<Bytes>>,
}

/// The effects of a few commands.
#[derive(Default)]
pub struct RareEffects {
    /// Databases emptied (`FLUSHDB`/`FLUSHALL`) or swapped (`SWAPDB`).
    pub flushed: Vec<usize>,
    pub swapped: Option<(usize, usize)>,
    /// The command found nothing to serve and waits (blocking commands).
    pub block: Option<Block>,
    /// Evict down to `maxmemory` once the command is done (`CONFIG SET maxmemory`).
    pub make_room: bool,
    /// The command replied with an error yet keeps its effects (a script that failed after
    /// writing): it counts as failed, and its error is counted unless already counted.
    pub reply_error: Option<ReplyError>,
}

/// How an error reply written by a command that succeeded is counted in `INFO errorstats`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyError {
    /// The command the script ran counted it when it failed (Redis counts an error once).
    Counted,
    /// Count it under the code of this text.
    Text(String),
}

impl Effects {
    /// The rare effects, created on first use.
    pub fn rare(&mut self) -> &mut RareEffects {
        self.rare.get_or_insert_with(Box::default)
    }
}

/// Everything a handler may touch while it runs.
pub struct Ctx<'a, 's> {
    pub engine: &'a Engine,
    pub client: &'a mut ClientState,
    pub out: &'a mut ReplyBuf,
    /// One clock reading per command (Unix ms), used for every expiry decision it makes.
    pub now: u64,
    /// The shards this command may touch, locked by the dispatcher before it ran.
    pub keys: &'a mut LockSet<'s>,
    pub fx: &'a mut Effects,
    /// The command runs from an AOF replay.
    pub loading: bool,
    /// The command runs inside an atomic unit (a transaction or a script): blocking commands
    /// do not block there.
    pub atomic: bool,
    /// The command is run by a script (`redis.call`).
    pub script: bool,
}

impl Ctx<'_, '_> {
    /// Whether a blocking command may wait (not while loading nor inside an atomic unit).
    pub fn can_block(&self) -> bool {
        !self.loading && !self.atomic
    }

    /// The database the client has selected.
    pub fn db(&self) -> usize {
        self.client.db
    }

    /// The locked shard holding `key` in the client's database.
    pub fn shard(&mut self, key: &[u8]) -> &mut Shard {
        let db = self.client.db;
        self.keys.shard(db, key)
    }

    /// Record a change to `key` in the client's database, named `ev` for keyspace
    /// notifications.
    pub fn changed(&mut self, key: &Bytes, ev: Ev) {
        let db = self.client.db;
        self.changed_in(db, key, ev);
    }

    /// Record a change to `key` in database `db`, named `ev`.
    pub fn changed_in(&mut self, db: usize, key: &Bytes, ev: Ev) {
        self.fx.dirty += 1;
        if self.fx.track_keys {
            self.fx.modified.push((db, key.clone()));
        }
        self.notify_in(db, key, ev);
    }

    /// A further notification for a key already recorded as changed (`del` once a
    /// collection is emptied, `expire` after `SET … EX`).
    pub fn notify(&mut self, key: &Bytes, ev: Ev) {
        let db = self.client.db;
        self.notify_in(db, key, ev);
    }

    /// Record that elements were taken out of `key`'s collection (named `ev`), with the
    /// `del` Redis adds when that emptied it (the store deleted the key).
    pub fn removed_from(&mut self, key: &Bytes, ev: Ev) {
        self.changed(key, ev);
        if self.fx.notify & super::notify::GENERIC != 0 {
            let db = self.client.db;
            if !self.keys.shard(db, key).contains_raw(key) {
                self.notify_in(db, key, super::notify::DEL);
            }
        }
    }

    pub fn notify_in(&mut self, db: usize, key: &Bytes, ev: Ev) {
        if self.fx.notify & ev.class != 0 {
            self.fx.notes.push((db, key.clone(), ev));
        }
    }

    /// Propagate this command as the records `build` makes (its deterministic effect)
    /// rather than as received. `build` runs only while a sink is attached.
    pub fn log_as(&mut self, build: impl FnOnce() -> Vec<Record>) {
        if self.fx.logging {
            self.fx.records = Some(build());
        }
    }
}
