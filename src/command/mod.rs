//! The command families: one module per Redis group, each ending with its rows of the
//! command table (`COMMANDS`: name, arity, flags, key specs, handler).
//!
//! Handlers never lock and never talk to the AOF: they get a [`Ctx`] whose shards the
//! dispatcher already locked, parse their arguments, call store operations, write their reply
//! and return Ok, or return a typed error (see [`error`]). Changes are reported through the
//! context (`ctx.changed(key)`, and `ctx.log_as(...)` for a canonical form to propagate).

pub mod connection;
pub mod error;
pub mod expire;
pub mod hash;
pub mod introspect;
pub mod keys;
pub mod list;
pub mod server;
pub mod set;
pub mod string;
pub mod zset;

pub use crate::engine::table::is;
pub use crate::engine::{flags, Cmd, Ctx, Outcome, Registry};

use crate::config::Config;
use crate::engine::Engine;
use crate::store::Store;
use std::sync::{Arc, OnceLock};

/// Every family's commands.
const FAMILIES: &[&[Cmd]] = &[
    string::COMMANDS,
    keys::COMMANDS,
    expire::COMMANDS,
    connection::COMMANDS,
    server::COMMANDS,
    introspect::COMMANDS,
    zset::COMMANDS,
    hash::COMMANDS,
    list::COMMANDS,
    set::COMMANDS,
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
