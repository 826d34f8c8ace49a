//! The batch runner: one per client (connection, embedded session or AOF replay). It runs
//! each request through the dispatcher and gathers statistics and durability waits for the
//! batch, so shared counters and the sink are touched once per batch, not per command.
//!
//! # One request's path
//! 1. Look the name (and subcommand) up, check arity and authentication.
//! 2. Refuse writes while the sink is failing (`-MISCONF`); over `maxmemory`, evict first
//!    (never while loading), and refuse `denyoom` commands that cannot get under it (`-OOM`).
//! 3. Lock the shards of the command's keys, from its key specs and scope, once and in order.
//! 4. Run the handler with the locked view. On error, whatever it wrote is replaced by the
//!    error and its effects are dropped.
//! 5. Still holding the locks: raise the events of keys that expired meanwhile (their `DEL`s
//!    go first), propagate the command's records, raise its keyspace events.
//! 6. Release the locks; count statistics and the slow log (never while loading).

mod caching;
mod modes;
mod slots;
mod transaction;
use super::client::{ClientState, ReplyMode};
use super::ctx::{CmdError, Ctx, Effects, ErrKind, ReplyError, TimeoutReply};
use super::errors as crate_error;
use super::events::{Event, EventKind};
use super::flags;
use super::locks::{slot, LockSet, Slots};
use super::notify;
use super::sink::Sink;
use super::stats::{LocalStats, FAILED, REJECTED};
use super::table::{Begin, Find, KeySpec, Scope};
use super::Engine;
use crate::resp::ReplyBuf;
use bytes::Bytes;
pub(crate) use slots::slots_for;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

pub struct Batch {
    engine: Arc<Engine>,
    st: State,
}

/// Everything of a batch but the engine, so the engine can be borrowed beside it.
struct State {
    pub client: ClientState,
    pub out: ReplyBuf,
    local: LocalStats,
    /// Commands run from an AOF: no eviction, no expiry (time stands still), no statistics.
    pub loading: bool,
    /// The sink as it was when the batch began.
    sink: Option<Arc<dyn Sink>>,
    /// Sequence number of the last record this batch propagated (0 = none).
    seq: u64,
    now: u64,
    /// A command asked for eviction once its locks are released (`CONFIG SET maxmemory`).
    pending_room: bool,
    /// The last top-level command resolved (see `check`).
    last_cmd: Option<usize>,
    /// The last command name as sent (up to 16 bytes), with its table index (see `check`).
    last_name: ([u8; 16], u8),
    /// Running the commands of an atomic unit.
    in_atomic: bool,
    /// The last command found nothing to serve and waits (see `Batch::blocked`).
    blocked: Option<Blocked>,
}

/// A command waiting for keys: what to run again when one of them changes.
pub struct Blocked {
    pub args: Vec<Bytes>,
    pub keys: Vec<(usize, Bytes)>,
    /// When to give up (None: never).
    pub deadline: Option<Instant>,
    /// The reply when the time is up.
    pub on_timeout: TimeoutReply,
    /// Postponed by `CLIENT PAUSE` (no keys): run again when the pause is over.
    pub paused: bool,
}

/// Canonical records of one command, or of a transaction.
pub(crate) type Records = Vec<(usize, Vec<Vec<u8>>)>;

impl Batch {
    pub fn new(engine: Arc<Engine>, client: ClientState) -> Batch {
        let n = engine.registry.cmds.len();
        Batch {
            engine,
            st: State {
                client,
                out: ReplyBuf::new(crate::resp::Protocol::Resp2),
                local: LocalStats::new(n),
                loading: false,
                sink: None,
                seq: 0,
                now: 0,
                pending_room: false,
                last_cmd: None,
                last_name: ([0; 16], 0),
                in_atomic: false,
                blocked: None,
            },
        }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The client this batch runs for.
    pub fn client(&mut self) -> &mut ClientState {
        &mut self.st.client
    }

    /// The replies written so far.
    pub fn out(&mut self) -> &mut ReplyBuf {
        &mut self.st.out
    }

    /// Run as an AOF replay (see `State::loading`).
    pub fn set_loading(&mut self, on: bool) {
        self.st.loading = on;
    }

    /// A batch of requests starts: one look at the sink for all of them.
    pub fn begin(&mut self) {
        self.st.begin(&self.engine);
    }

    /// The clock reading of the last command (Unix ms; 0 while loading).
    pub fn now(&self) -> u64 {
        self.st.now
    }

    /// See `State::end`.
    pub fn end(&mut self) -> Option<(Arc<dyn Sink>, u64)> {
        self.st.end(&self.engine)
    }

    /// Run one request (`args[0]` is the command name) and write its reply into `out`.
    pub fn execute(&mut self, args: &[Bytes]) {
        self.st.execute(&self.engine, args)
    }

    /// The command just run waits for keys (it wrote no reply): the caller parks the client
    /// (see `engine::blocking`) and calls `retry` when woken.
    pub fn take_blocked(&mut self) -> Option<Blocked> {
        self.st.blocked.take()
    }

    /// Run a blocked command again after a wake-up; `take_blocked` tells whether it still waits.
    pub fn retry(&mut self, args: &[Bytes]) {
        self.st.client.block_retry = true;
        self.st.execute(&self.engine, args);
        self.st.client.block_retry = false;
    }

    /// Reply to a blocked command whose time is up.
    pub fn time_out(&mut self, b: &Blocked) {
        self.st.out.proto = self.st.client.proto;
        match b.on_timeout {
            TimeoutReply::NullArray => self.st.out.null_array(),
            TimeoutReply::Zero => self.st.out.int(0),
        }
    }

    /// See `State::run_atomic`.
    pub fn run_atomic(&mut self, cmds: &[Vec<Bytes>], whole_keyspace: bool) {
        self.st.run_atomic(&self.engine, cmds, whole_keyspace)
    }
}

impl State {
    fn begin(&mut self, engine: &Engine) {
        self.now = if self.loading { 0 } else { engine.store.now() };
        self.sink = engine.sink();
        self.local.begin();
    }

    /// The batch is done: statistics go to the shared counters, the sink is told. Returns
    /// the record a reply must wait for (`appendfsync always`), with its sink.
    fn end(&mut self, e: &Engine) -> Option<(Arc<dyn Sink>, u64)> {
        if self.loading {
            self.local.discard();
        } else {
            self.local.flush(&e.stats, &e.metrics, e.registry);
        }
        let seq = std::mem::take(&mut self.seq);
        let sink = self.sink.take()?;
        if seq == 0 {
            return None;
        }
        sink.batch_done();
        if !self.loading {
            if let Some(p) = e.persistence() {
                p.maybe_auto_rewrite(&e.self_arc());
            }
        }
        sink.sync_replies().then_some((sink, seq))
    }

    fn reject(&mut self, idx: Option<usize>, e: &CmdError) {
        self.out.error(&e.text);
        self.local.error(e.kind);
        if let Some(i) = idx {
            self.local.bump(i, REJECTED, 1);
        }
    }

    /// Refuse command `idx` while a script is busy (`text`). Inside MULTI this fails the
    /// transaction; a refused EXEC ends it at once with `EXECABORT`, as Redis's
    /// `execCommandAbort` does (so none of it runs once the script is done).
    fn reject_busy(&mut self, engine: &Engine, idx: usize, text: &'static str) {
        if self.client.multi.is_some() && engine.registry.cmds[idx].name == "exec" {
            return self.abort_exec(idx, text);
        }
        self.client.multi_aborted |= self.client.multi.is_some();
        self.reject(Some(idx), &CmdError::new(ErrKind::Busy, text))
    }

    /// A refused EXEC ends the transaction (if any) with `EXECABORT` and the reason, as
    /// Redis's `rejectCommand` does through `execCommandAbort`: an arity error reads
    /// `… because of: wrong number of arguments for 'exec' command`, NOAUTH keeps its code.
    fn abort_exec(&mut self, idx: usize, reason: &str) {
        self.client.multi = None;
        self.client.multi_aborted = false;
        self.client.watching = None;
        self.client.publish_state();
        let reason = reason.strip_prefix("ERR ").unwrap_or(reason);
        let text = format!("EXECABORT Transaction discarded because of: {reason}");
        self.reject(Some(idx), &CmdError::owned(ErrKind::ExecAbort, text))
    }

    /// Resolve and check a request; Err is the reply that refuses it.
    fn check(
        &mut self,
        engine: &Engine,
        args: &[Bytes],
    ) -> Result<usize, (Option<usize>, CmdError)> {
        let reg = engine.registry;
        // Pipelines repeat one command: the last name resolved, byte for byte as sent, maps
        // to the same entry (only top-level commands without subcommands are remembered).
        let (buf, len) = &self.last_name;
        let cached = match self.last_cmd {
            Some(i) if args[0][..] == buf[..*len as usize] => Some(i),
            _ => None,
        };
        let resolved = match cached {
            Some(i) => Ok(i),
            None => reg.resolve(args),
        };
        let idx = match resolved {
            Ok(i) => i,
            Err(None) => {
                self.local.unknown += 1;
                return Err((None, crate_error::unknown_command(args)));
            }
            Err(Some(parent)) => {
                // Not counted against the parent: Redis has no command to count it on.
                let e = crate_error::unknown_subcommand(&args[1], reg.cmds[parent].name);
                return Err((None, e));
            }
        };
        let cmd = reg.cmds[idx];
        let argc = args.len() as i32;
        if (cmd.arity > 0 && argc != cmd.arity) || argc < -cmd.arity {
            return Err((Some(idx), crate_error::wrong_arity(&reg.fullnames[idx])));
        }
        if !self.client.authenticated && cmd.flags & flags::NO_AUTH == 0 {
            return Err((Some(idx), crate_error::NOAUTH));
        }
        if !engine.acl.open_for(self.client.user_is_default) {
            self.check_acl(engine, idx, args)?;
        }
        if cached.is_none()
            && cmd.subs.is_empty()
            && reg.parent[idx].is_none()
            && args[0].len() <= 16
        {
            self.last_name.0[..args[0].len()].copy_from_slice(&args[0]);
            self.last_name.1 = args[0].len() as u8;
            self.last_cmd = Some(idx);
        }
        Ok(idx)
    }

    /// The permission check for a client whose user is restricted (or was deleted).
    fn check_acl(
        &self,
        engine: &Engine,
        idx: usize,
        args: &[Bytes],
    ) -> Result<(), (Option<usize>, CmdError)> {
        let denied = match engine.acl.get(&self.client.user) {
            Some(user) => engine.acl.check(&user, idx, args),
            None => Err(super::acl::Denied::Command),
        };
        denied.map_err(|d| {
            let context = match self.client.multi {
                Some(_) => "multi",
                None => "toplevel",
            };
            let c = &self.client;
            engine
                .acl
                .log_denied(engine, &c.info, &c.user, &d, (idx, args), context);
            (
                Some(idx),
                crate_error::noperm(&d, &engine.registry.fullnames[idx]),
            )
        })
    }

    fn execute(&mut self, engine: &Engine, args: &[Bytes]) {
        let mark = self.out.buf.len();
        self.execute_one(engine, args);
        if self.client.reply != ReplyMode::On {
            self.quiet(mark, args);
        }
        self.after_command(engine, args);
    }

    fn execute_one(&mut self, engine: &Engine, args: &[Bytes]) {
        self.out.proto = self.client.proto;
        let idx = match self.check(engine, args) {
            Ok(i) => {
                self.client.info.cmd.store(i + 1, Ordering::Relaxed);
                i
            }
            Err((i, e)) => {
                if let Some(i) = i {
                    self.client.info.cmd.store(i + 1, Ordering::Relaxed);
                }
                if let Some(i) = i.filter(|&i| engine.registry.cmds[i].name == "exec") {
                    return self.abort_exec(i, &e.text);
                }
                // A command refused while queueing fails the transaction.
                self.client.multi_aborted |= self.client.multi.is_some();
                return self.reject(i, &e);
            }
        };
        if self.client.subscribed() && self.client.proto == crate::resp::Protocol::Resp2 {
            let name = engine.registry.cmds[idx].name;
            if !matches!(
                name,
                "subscribe"
                    | "psubscribe"
                    | "ssubscribe"
                    | "unsubscribe"
                    | "punsubscribe"
                    | "sunsubscribe"
                    | "ping"
                    | "quit"
                    | "reset"
            ) {
                let e = CmdError::owned(
                    ErrKind::Err,
                    format!(
                        "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                        engine.registry.fullnames[idx]
                    ),
                );
                return self.reject(Some(idx), &e);
            }
        }
        if self.client.monitor.is_some()
            && engine.registry.cmds[idx].flags
                & (flags::WRITE | flags::READONLY | flags::MAY_REPLICATE)
                != 0
        {
            let e = CmdError::new(ErrKind::Err, "ERR Replica can't interact with the keyspace");
            return self.reject(Some(idx), &e);
        }
        if !self.loading && engine.registry.cmds[idx].flags & flags::ALLOW_BUSY == 0 {
            if let Some(text) = engine.scripts.busy() {
                return self.reject_busy(engine, idx, text);
            }
        }
        if !self.loading && engine.pause.maybe_on() && self.is_paused(engine, idx, args) {
            self.blocked = Some(Blocked {
                args: args.to_vec(),
                keys: Vec::new(),
                deadline: None,
                // Never used: a paused command waits for the pause, not for a time.
                on_timeout: TimeoutReply::NullArray,
                paused: true,
            });
            return;
        }
        if self.client.multi.is_some() && !self.loading {
            match engine.registry.cmds[idx].name {
                "exec" => return self.exec(engine, idx, args),
                "discard" | "multi" | "watch" | "quit" | "reset" => {}
                _ => return self.queue(engine, idx, args),
            }
        }
        let cmd = engine.registry.cmds[idx];
        let write = cmd.flags & flags::WRITE != 0;
        if !self.loading {
            if write && engine.hot.no_good_replicas.load(Ordering::Relaxed) {
                return self.reject(Some(idx), &crate_error::NOREPLICAS);
            }
            if write {
                if let Some(err) = self.sink.as_ref().and_then(|s| s.error()) {
                    let e = CmdError::owned(
                        ErrKind::Misconf,
                        format!("MISCONF Errors writing to the AOF file: {err}"),
                    );
                    return self.reject(Some(idx), &e);
                }
            }
            // Over maxmemory, keys are evicted before any command runs (as in Redis).
            if super::evict::over_maxmemory(engine)
                && !self.make_room(engine)
                && cmd.flags & flags::DENYOOM != 0
            {
                return self.reject(Some(idx), &crate_error::OOM);
            }
        }
        // Waits for a script to end give up once it turns busy: `-BUSY`, as Redis would
        // have answered before queueing the command.
        let busy = |st: &mut State| {
            let text = engine
                .scripts
                .busy()
                .unwrap_or(crate::engine::script::BUSY_EVAL);
            st.reject_busy(engine, idx, text)
        };
        let turn = if cmd.flags & flags::SCRIPT != 0 {
            let Some(t) = script_turn(engine) else {
                return busy(self);
            };
            Some(t)
        } else {
            None
        };
        let gate = (write && self.sink.is_some()).then(|| engine.gate.read());
        let Some(mut locks) = self.lock_for(engine, idx, args) else {
            drop(gate);
            return busy(self);
        };
        let mut records = Records::new();
        let ok = self.call(engine, idx, args, &mut locks, &mut records);
        if let (Some(sink), false) = (&self.sink, records.is_empty()) {
            for (db, r) in &records {
                let refs: Vec<&[u8]> = r.iter().map(|a| &a[..]).collect();
                self.seq = sink.append(*db, &refs);
            }
        }
        drop(locks);
        drop(gate);
        drop(turn);
        if self.blocked.is_none() {
            self.account(engine, idx, args, ok);
        }
    }

    /// Lock what command `idx` needs for `args`; None when a script turned busy while this
    /// waited (the caller answers `-BUSY`, as Redis would have before queueing it).
    fn lock_for<'e>(
        &mut self,
        engine: &'e Engine,
        idx: usize,
        args: &[Bytes],
    ) -> Option<LockSet<'e>> {
        let busy = || engine.scripts.busy().is_some();
        if matches!(engine.registry.cmds[idx].scope, Scope::All) {
            return LockSet::all_unless(engine, &busy);
        }
        let mut slots = Slots::new();
        slots_for(engine, self.client.db, idx, args, &mut slots);
        let mut set = LockSet::new_unless(engine, &mut slots, &busy)?;
        // A one-key command's key is found again by the handler: remember its slot.
        if let [KeySpec {
            begin: Begin::Index(i),
            find: Find::Range { last: 0, .. },
        }] = engine.registry.cmds[idx].keys
        {
            if let (Some(k), [s]) = (args.get(*i as usize), &slots[..]) {
                set.hint(self.client.db, k, *s);
            }
        }
        Some(set)
    }

    /// Run the handler of command `idx` on the locked `keys`; on success, its records are
    /// added to `records` and its events raised (the caller propagates the records while it
    /// still holds the locks). Returns whether it succeeded.
    fn call(
        &mut self,
        engine: &Engine,
        idx: usize,
        args: &[Bytes],
        keys: &mut LockSet<'_>,
        records: &mut Records,
    ) -> bool {
        let cmd = engine.registry.cmds[idx];
        let mark = self.out.buf.len();
        let db = self.client.db;
        // The clock is read once the command's shards are locked: two commands on one key
        // then see times in the order they ran (a reading taken before waiting for a lock
        // could be older than one another client already acted on).
        // Inside an atomic unit time stands still at its start (as Redis fixes the clock for
        // a whole EXEC), so a key cannot expire between two of its commands.
        if !self.loading && !self.in_atomic {
            self.now = engine.store.now();
        }
        let notify_flags = engine.notify_flags();
        let mut fx = Effects {
            logging: self.sink.is_some(),
            track_keys: engine.wants_key_events(),
            notify: notify_flags,
            ..Effects::default()
        };
        // For `new` notifications: the command's keys that do not exist before it runs.
        let mut absent: Vec<&Bytes> = Vec::new();
        if notify_flags & notify::NEW != 0 && cmd.flags & flags::WRITE != 0 {
            for spec in cmd.keys {
                spec.each(args, |k| {
                    let sh = keys.shard(db, k);
                    let live = sh.contains_raw(k) && !sh.peek_expired(k, self.now);
                    if !live && !absent.contains(&k) {
                        absent.push(k);
                    }
                });
            }
        }
        let result = {
            let mut ctx = Ctx {
                engine,
                client: &mut self.client,
                out: &mut self.out,
                now: self.now,
                keys,
                fx: &mut fx,
                loading: self.loading,
                atomic: self.in_atomic,
                script: false,
            };
            let no_touch = ctx.client.no_touch && cmd.name != "touch";
            crate::store::keyspace::without_touch(no_touch, || (cmd.handler)(&mut ctx, args))
        };
        self.remember_read(engine, cmd, args);
        // Keys the command found expired were removed before it changed anything: their
        // DELs go first (inside a transaction, into its block, where they happened).
        if self.in_atomic {
            keys.flush_expired_into(Some(records));
        } else {
            keys.flush_expired();
        }
        match result {
            Err(e) => {
                debug_assert!(
                    fx.dirty == 0,
                    "{} failed after changing data: {e}",
                    engine.registry.fullnames[idx]
                );
                self.out.buf.truncate(mark);
                self.out.error(&e.text);
                self.local.error(e.kind);
                self.local.bump(idx, FAILED, 1);
                false
            }
            Ok(()) => {
                if fx.dirty > 0 {
                    self.local.changes += fx.dirty;
                    if let Some(t) = fx.tagged.take() {
                        records.extend(t);
                    } else if fx.logging {
                        match fx.records.take() {
                            Some(rs) => records.extend(rs.into_iter().map(|r| (db, r))),
                            None => records.push((db, args.iter().map(|a| a.to_vec()).collect())),
                        }
                    }
                }
                for k in absent {
                    if keys.shard(db, k).contains_raw(k) {
                        engine.notify(notify_flags, notify::Ev::new(notify::NEW, "new"), db, k);
                    }
                }
                for (kdb, key, ev) in fx.notes.drain(..) {
                    engine.notify(notify_flags, ev, kdb, &key);
                }
                let sink = self.sink.as_deref();
                for (kdb, key) in fx.modified.drain(..) {
                    let gone = keys.holds(kdb, &key) && !keys.shard(kdb, &key).contains_raw(&key);
                    let kind = if gone {
                        EventKind::Deleted
                    } else {
                        EventKind::Modified
                    };
                    let origin = self.client.info.id;
                    engine.raise(
                        Event {
                            db: kdb,
                            key,
                            kind,
                            origin,
                        },
                        sink,
                    );
                }
                if let Some(mut rare) = fx.rare.take() {
                    if let Some(b) = rare.block.take() {
                        let now = Instant::now();
                        self.blocked = Some(Blocked {
                            args: b.retry_args.unwrap_or_else(|| args.to_vec()),
                            keys: b.keys.into_iter().map(|k| (db, k)).collect(),
                            deadline: (b.timeout_ms > 0)
                                .then(|| now + std::time::Duration::from_millis(b.timeout_ms)),
                            on_timeout: b.on_timeout,
                            paused: false,
                        });
                    }
                    if !rare.flushed.is_empty() {
                        engine.tracking_flush();
                    }
                    for d in rare.flushed {
                        engine.raise_db(d);
                    }
                    if let Some((a, b)) = rare.swapped {
                        engine.raise_db(a);
                        engine.raise_db(b);
                    }
                    if let Some(e) = rare.reply_error.take() {
                        self.local.bump(idx, FAILED, 1);
                        if let ReplyError::Text(text) = e {
                            engine.stats.count_error_text(&text);
                        }
                    }
                    if rare.make_room && !self.loading {
                        // Evicted once the locks are gone (see `account`).
                        self.pending_room = true;
                    }
                }
                true
            }
        }
    }

    /// Statistics and the slow log for one command.
    fn account(&mut self, engine: &Engine, idx: usize, args: &[Bytes], _ok: bool) {
        if std::mem::take(&mut self.pending_room) {
            super::evict::make_room(engine, self.now);
        }
        if self.loading {
            return;
        }
        let end = Instant::now();
        let elapsed = end.saturating_duration_since(self.local.mark);
        self.local.mark = end;
        self.local.called(idx, elapsed.as_nanos() as u64);
        if engine.latency.on() {
            let event = if engine.registry.cmds[idx].flags & flags::FAST != 0 {
                "fast-command"
            } else {
                "command"
            };
            engine.latency.sample(event, elapsed.as_millis() as u64);
        }
        let threshold = engine.hot.slowlog_threshold.load(Ordering::Relaxed);
        let micros = elapsed.as_micros() as u64;
        // EXEC is not logged itself (its commands are), as Redis's `skip_slowlog` flag says.
        let skip = engine.registry.cmds[idx].flags & flags::SKIP_SLOWLOG != 0;
        if threshold >= 0 && micros >= threshold as u64 && !skip {
            let info = &self.client.info;
            let name = info.name.lock().clone();
            let max = engine.hot.slowlog_max.load(Ordering::Relaxed) as usize;
            engine
                .slowlog
                .record(args, micros, self.now, &info.addr, &name, max);
        }
        self.local.latency.push((idx, elapsed));
        self.feed_monitors(engine, idx, args);
    }

    /// Run several commands as one atomic unit (a transaction, a script, a `MULTI … EXEC`
    /// block of an AOF): their keys (or, with `whole_keyspace`, every shard) are locked once
    /// for the whole run, so no other client sees a partial result. Each command is checked
    /// and replies as it would alone; the records of those that changed data are propagated
    /// together, wrapped in `MULTI`/`EXEC` when there are several.
    fn run_atomic(&mut self, engine: &Engine, cmds: &[Vec<Bytes>], whole_keyspace: bool) {
        self.run_atomic_watched(engine, cmds, whole_keyspace, None)
    }

    /// `run_atomic` for an EXEC: with `watch`, the watched keys are locked too and checked
    /// once held (a write that touched them has then raised its event), so the transaction
    /// runs only if none changed or expired; the replies go in one array (or a null array).
    fn run_atomic_watched(
        &mut self,
        engine: &Engine,
        cmds: &[Vec<Bytes>],
        whole_keyspace: bool,
        exec: Option<Option<&super::watch::Watching>>,
    ) {
        let mut resolved = Vec::with_capacity(cmds.len());
        let mut slots = Slots::new();
        if let Some(Some(w)) = exec {
            for (db, k) in w.live_when_watched() {
                slots.push(slot(db, k));
            }
        }
        let mut all = whole_keyspace;
        for args in cmds {
            match self.check(engine, args) {
                Ok(i) => {
                    // A SELECT moves later keys to another database: lock everything.
                    all |= matches!(engine.registry.cmds[i].scope, Scope::All | Scope::Script)
                        || engine.registry.cmds[i].name == "select";
                    slots_for(engine, self.client.db, i, args, &mut slots);
                    resolved.push(Ok(i));
                }
                Err(e) => resolved.push(Err(e)),
            }
        }
        let write = resolved
            .iter()
            .any(|r| matches!(r, Ok(i) if engine.registry.cmds[*i].flags & flags::WRITE != 0));
        let scripted = resolved
            .iter()
            .any(|r| matches!(r, Ok(i) if engine.registry.cmds[*i].flags & flags::SCRIPT != 0));
        let turn = scripted.then(|| engine.script_turn.lock());
        let gate = (write && self.sink.is_some()).then(|| engine.gate.read());
        let mut locks = if all {
            LockSet::all(engine)
        } else {
            LockSet::new(engine, &mut slots)
        };
        let mut records = Records::new();
        if !self.loading {
            self.now = engine.store.now();
        }
        if let Some(watch) = exec {
            let now = self.now;
            let changed = watch.is_some_and(|w| {
                w.is_dirty()
                    || w.live_when_watched()
                        .any(|(db, k)| locks.shard(db, k).peek_expired(k, now))
            });
            if changed {
                self.out.null_array();
                return;
            }
            self.out.array(cmds.len());
        }
        self.in_atomic = true;
        for (args, r) in cmds.iter().zip(resolved) {
            self.out.proto = self.client.proto;
            match r {
                Err((i, e)) => self.reject(i, &e),
                Ok(idx) => {
                    let ok = self.call(engine, idx, args, &mut locks, &mut records);
                    self.account(engine, idx, args, ok);
                }
            }
        }
        self.in_atomic = false;
        if let (Some(sink), false) = (&self.sink, records.is_empty()) {
            let wrap = records.len() > 1;
            let first_db = records[0].0;
            if wrap {
                sink.append(first_db, &[b"MULTI"]);
            }
            for (db, r) in &records {
                let refs: Vec<&[u8]> = r.iter().map(|a| &a[..]).collect();
                self.seq = sink.append(*db, &refs);
            }
            if wrap {
                self.seq = sink.append(first_db, &[b"EXEC"]);
            }
        }
        drop(locks);
        drop(gate);
        drop(turn);
    }
}

/// Wait for the script turn (see `Engine::script_turn`); None when the script that holds it
/// turns busy meanwhile (the caller answers `-BUSY`).
fn script_turn(engine: &Engine) -> Option<parking_lot::MutexGuard<'_, ()>> {
    loop {
        if let Some(t) = engine.script_turn.try_lock_for(SCRIPT_TURN_POLL) {
            return Some(t);
        }
        if engine.scripts.busy().is_some() {
            return None;
        }
    }
}

/// How often a script waiting for its turn asks whether the running one turned busy.
const SCRIPT_TURN_POLL: std::time::Duration = std::time::Duration::from_millis(5);
