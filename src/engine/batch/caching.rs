//! The dispatcher's side of client-side caching (`engine::tracking`): what a tracking
//! client read, what eviction tells it before its reply, and what follows each command.

use super::State;
use crate::engine::table::Cmd;
use crate::engine::{flags, Engine};
use bytes::Bytes;

impl State {
    /// Evict to get under maxmemory; whether there is room. A tracking client hears of
    /// the keys evicted for its command before the command's reply, as in Redis.
    pub(super) fn make_room(&mut self, engine: &Engine) -> bool {
        let tracking = self.client.tracking.is_some();
        if tracking {
            crate::engine::tracking::direct_begin(self.client.info.id);
        }
        let room = crate::engine::evict::make_room(engine, self.now);
        if tracking {
            let subscribed = self.client.subscribed();
            for m in crate::engine::tracking::direct_end() {
                crate::engine::tracking::write(&mut self.out, &m, self.client.proto, subscribed);
            }
        }
        room
    }

    /// A tracking client may now cache the keys a read-only command read (a script's keys
    /// are tracked only if it reads: `script::run`).
    pub(super) fn remember_read(&mut self, engine: &Engine, cmd: &Cmd, args: &[Bytes]) {
        if cmd.flags & flags::READONLY != 0
            && cmd.flags & flags::SCRIPT == 0
            && self.client.tracking.is_some()
        {
            let (id, caching) = (self.client.info.id, self.client.caching);
            engine.tracking_remember(id, caching, cmd, args);
        }
    }

    /// After a top-level command: `CLIENT CACHING` lasts for the next command only (all of
    /// a transaction's), and BCAST clients get the keys it changed under their prefixes.
    pub(super) fn after_command(&mut self, engine: &Engine, args: &[Bytes]) {
        if self.client.caching
            && self.client.multi.is_none()
            && !args[0].eq_ignore_ascii_case(b"client")
        {
            self.client.caching = false;
        }
        engine.tracking_broadcast();
    }
}
