//! Which lock slots a command needs: its keys' (from the command table's key specs) and
//! those its scope adds (a whole database, every database, another database's keys).

use crate::engine::locks::{slot, Slots};
use crate::engine::table::{Begin, Find, KeySpec, Scope};
use crate::engine::Engine;
use crate::store::SHARDS;
use bytes::Bytes;

/// The lock slots command `idx` needs for `args` run in database `db`. A script's are its
/// declared keys': its calls take the shards they need as they run (`LockSet::grow_slots`).
pub(crate) fn slots_for(engine: &Engine, db: usize, idx: usize, args: &[Bytes], out: &mut Slots) {
    let cmd = engine.registry.cmds[idx];
    match cmd.keys {
        // Most commands have one key at a fixed place: no spec walk.
        [KeySpec {
            begin: Begin::Index(i),
            find: Find::Range { last: 0, .. },
        }] => {
            if let Some(k) = args.get(*i as usize) {
                out.push(slot(db, k));
            }
        }
        specs => {
            for spec in specs {
                spec.each(args, |k| out.push(slot(db, k)));
            }
        }
    }
    match cmd.scope {
        Scope::Keys | Scope::Script => {}
        Scope::Db => out.extend((0..SHARDS).map(|i| (db * SHARDS + i) as u32)),
        Scope::All => {
            let n = engine.store.databases() * SHARDS;
            out.extend(0..n as u32);
        }
        Scope::OtherDb(f) => {
            if let Some(other) = f(args).filter(|d| *d < engine.store.databases()) {
                for spec in cmd.keys {
                    spec.each(args, |k| out.push(slot(other, k)));
                }
            }
        }
    }
}
