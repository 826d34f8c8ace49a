//! The client modes that gate or follow each command: `CLIENT REPLY` (dropping replies),
//! `CLIENT PAUSE` (postponing commands) and `MONITOR` (showing them).

use super::State;
use crate::engine::client::ReplyMode;
use crate::engine::{flags, Engine};
use bytes::Bytes;

impl State {
    /// `CLIENT REPLY OFF|SKIP`: drop the reply of the command just run (pub/sub
    /// confirmations excepted, which Redis sends as pushes whatever the mode), then move
    /// a pending SKIP on to the next command.
    pub(super) fn quiet(&mut self, mark: usize, args: &[Bytes]) {
        let push = [
            "subscribe",
            "psubscribe",
            "ssubscribe",
            "unsubscribe",
            "punsubscribe",
            "sunsubscribe",
        ]
        .iter()
        .any(|n| args[0].eq_ignore_ascii_case(n.as_bytes()));
        if matches!(self.client.reply, ReplyMode::Off | ReplyMode::Skip) && !push {
            self.out.buf.truncate(mark);
        }
        self.client.reply = match self.client.reply {
            ReplyMode::Skip => ReplyMode::On,
            ReplyMode::SkipNext => ReplyMode::Skip,
            m => m,
        };
    }

    /// Whether `CLIENT PAUSE` postpones command `idx` now (see `engine::pause`).
    pub(super) fn is_paused(&self, engine: &Engine, idx: usize, args: &[Bytes]) -> bool {
        use crate::engine::pause::PauseKind;
        // A script declared `no-writes` is a read, as Redis derives its flags from the
        // script's.
        let covered_args = |i: usize, a: &[Bytes]| {
            engine.registry.cmds[i].flags & (flags::WRITE | flags::MAY_REPLICATE) != 0
                && !engine
                    .scripts
                    .declares_no_writes(engine.registry.cmds[i].name, a)
        };
        let covered = |i: usize| covered_args(i, args);
        match engine.pause.current(engine.store.now(), &engine.store) {
            PauseKind::Off => false,
            PauseKind::All => true,
            PauseKind::Write => {
                covered(idx)
                    || (engine.registry.cmds[idx].name == "exec"
                        && self.client.multi.as_ref().is_some_and(|q| {
                            q.iter().any(|a| {
                                engine.registry.resolve(a).is_ok_and(|i| covered_args(i, a))
                            })
                        }))
            }
        }
    }

    /// Show a command that ran to the `MONITOR` clients (administrative ones excepted).
    pub(super) fn feed_monitors(&self, engine: &Engine, idx: usize, args: &[Bytes]) {
        let cmd = engine.registry.cmds[idx];
        // Scripts show themselves, ahead of the commands they run (see `command::scripting`).
        let script = matches!(
            cmd.name,
            "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro"
        );
        if engine.monitors.any() && cmd.flags & flags::ADMIN == 0 && !script {
            engine
                .monitors
                .feed(self.client.db, &self.client.info.addr, args);
        }
    }
}
