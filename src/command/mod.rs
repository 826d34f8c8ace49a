//! The command families: one module per Redis group, each ending with its rows of the
//! command table (`COMMANDS`: name, arity, flags, key specs, handler).
//!
//! Handlers never lock and never talk to the AOF: they get a [`Ctx`] whose shards the
//! dispatcher already locked, parse their arguments, call store operations, write their reply
//! and return Ok, or return a typed error (see [`error`]). Changes are reported through the
//! context (`ctx.changed(key)`, and `ctx.log_as(...)` for a canonical form to propagate).

pub mod acl;
pub mod bitfield;
pub mod bitmap;
pub mod client;
pub mod cluster;
pub mod connection;
pub mod docs;
pub mod dump;
pub mod error;
pub mod expire;
pub mod function;
pub mod geo;
pub mod geo_search;
pub mod hash;
pub mod hll;
pub mod info;
pub mod introspect;
pub mod keys;
pub mod keyspecs;
pub mod latency;
pub mod lcs;
pub mod list;
mod meta;
pub mod migrate;
pub mod persist;
pub mod pubsub;
pub mod replication;
pub mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod stream_group;
pub mod stream_info;
pub mod stream_read;
pub mod string;
pub mod tracking;
pub mod transaction;
pub mod zset;
pub mod zset_ops;
pub mod zset_random;
pub mod zset_range;

pub use crate::engine::table::is;
pub use crate::engine::{flags, Cmd, Ctx, Outcome, Registry};

use crate::config::Config;
use crate::engine::{CmdError, Engine, LockSet};
use crate::store::value::{Hash, List, Set, Stream, ZSet};
use crate::store::{Entry, Store, Value};
use std::sync::{Arc, OnceLock};

/// Every family's commands.
const FAMILIES: &[&[Cmd]] = &[
    string::COMMANDS,
    keys::COMMANDS,
    expire::COMMANDS,
    connection::COMMANDS,
    client::COMMANDS,
    server::COMMANDS,
    introspect::COMMANDS,
    latency::COMMANDS,
    zset::COMMANDS,
    hash::COMMANDS,
    list::COMMANDS,
    set::COMMANDS,
    transaction::COMMANDS,
    dump::COMMANDS,
    migrate::COMMANDS,
    sort::COMMANDS,
    pubsub::COMMANDS,
    scripting::COMMANDS,
    function::COMMANDS,
    geo::COMMANDS,
    lcs::COMMANDS,
    bitmap::COMMANDS,
    hll::COMMANDS,
    stream::COMMANDS,
    stream_read::COMMANDS,
    stream_group::COMMANDS,
    stream_info::COMMANDS,
    cluster::COMMANDS,
    persist::COMMANDS,
    acl::COMMANDS,
    replication::COMMANDS,
];

/// The command table of every family, indexed.
pub fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(|| Registry::build(FAMILIES))
}

/// An engine serving every command family, on a new store sized by `config`.
pub fn engine(config: Config) -> Arc<Engine> {
    Engine::new(config, registry())
}

/// An engine serving every command family on `store`.
pub fn engine_with_store(config: Config, store: Arc<Store>) -> Arc<Engine> {
    Engine::with_store(config, store, registry())
}

/// A collection type held in a `Value`, for the family files' shared lookups.
pub trait Kind {
    fn of(v: &Value) -> Option<&Self>;
    fn of_mut(v: &mut Value) -> Option<&mut Self>;
}

macro_rules! kind {
    ($t:ty, $variant:ident) => {
        impl Kind for $t {
            fn of(v: &Value) -> Option<&Self> {
                match v {
                    Value::$variant(x) => Some(x),
                    _ => None,
                }
            }
            fn of_mut(v: &mut Value) -> Option<&mut Self> {
                match v {
                    Value::$variant(x) => Some(x),
                    _ => None,
                }
            }
        }
    };
}
kind!(List, List);
kind!(Hash, Hash);
kind!(Set, Set);
kind!(ZSet, ZSet);
kind!(Stream, Stream);

/// The collection of type `C` in `e`: None when missing, WRONGTYPE when another type.
pub fn typed<C: Kind>(e: Option<&Entry>) -> Result<Option<&C>, CmdError> {
    match e {
        None => Ok(None),
        Some(e) => C::of(&e.value).map(Some).ok_or(error::WRONGTYPE),
    }
}

/// Change the collection of type `C` at `key` with `f`, creating it first with `create` when
/// missing: Ok(None) when missing (and not created), WRONGTYPE when another type. The type
/// check, the access (LRU/LFU) and the change are one lookup when the key exists; the store
/// deletes a collection left empty.
pub fn write_as<C: Kind, R>(
    keys: &mut LockSet,
    db: usize,
    key: &[u8],
    now: u64,
    create: Option<fn() -> Value>,
    f: impl FnOnce(&mut C) -> R,
) -> Result<Option<R>, CmdError> {
    let shard = keys.shard(db, key);
    let mut f = Some(f);
    let mut apply = |e: &mut Entry| C::of_mut(&mut e.value).and_then(|c| f.take().map(|f| f(c)));
    match (shard.update_write(key, now, &mut apply), create) {
        (Some(Some(r)), _) => Ok(Some(r)),
        (Some(None), _) => Err(error::WRONGTYPE),
        (None, None) => Ok(None),
        (None, Some(make)) => {
            shard.set(key, make(), 0, now);
            Ok(shard.update(key, now, apply).flatten())
        }
    }
}

/// The collection of type `C` at `key` for reading (a keyspace hit or miss). It borrows only
/// the locked shards, so a reply can be written while it is held.
pub fn read_as<'s, C: Kind>(
    keys: &'s mut LockSet,
    db: usize,
    key: &[u8],
    now: u64,
) -> Result<Option<&'s C>, CmdError> {
    typed(keys.shard(db, key).get_read(key, now))
}
