//! Lua scripting (`EVAL`, `EVALSHA`, `SCRIPT`): one Lua 5.1 VM (the `mlua` crate, vendored
//! Lua) with Redis's sandbox, and the script cache.
//!
//! A script runs as an atomic unit under the whole keyspace's locks (`engine::batch::script`):
//! its `redis.call`s are dispatched like the commands of a transaction, and its effects are
//! propagated as the commands it ran, wrapped in `MULTI`/`EXEC` (Redis 7's effects
//! replication), so a replay does not need the script cache.
//!
//! Limits (named here, documented in the README): the VM may hold [`LUA_MEMORY_LIMIT`]
//! bytes; a script past the limit fails with an error and the server carries on.
//!
//! Busy scripts differ from Redis: a script runs on its connection's thread while holding
//! every shard, so other clients cannot be answered `-BUSY` meanwhile, nor can `SCRIPT KILL`
//! reach it. Instead a script still running after `busy-reply-threshold` (`lua-time-limit`,
//! 5 s by default; 0 = no limit) is stopped with a `-BUSY …` error; what it wrote until then
//! stays and is propagated, so memory and the AOF agree.

pub mod convert;
pub mod function;
pub mod lib;
pub mod run;
pub mod vm;

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};

/// Bytes the Lua VM may allocate (scripts, their data and the cache's compiled functions).
pub const LUA_MEMORY_LIMIT: usize = 256 * 1024 * 1024;

/// A cached script.
pub struct Script {
    pub body: Bytes,
    pub func: mlua::Function,
    /// Declared `#!lua flags=no-writes`: runs as a read-only script.
    pub no_writes: bool,
}

/// A `#!lua flags=…` first line: the flags it declares (Redis's errors otherwise), and
/// where the code starts (the line's newline is kept so line numbers stay right).
fn shebang(body: &[u8]) -> Result<(bool, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((false, 0));
    }
    let end = body.iter().position(|&c| c == b'\n').unwrap_or(body.len());
    let line = String::from_utf8_lossy(&body[2..end]).into_owned();
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if engine != "lua" {
        return Err(format!(
            "ERR Unexpected engine in script shebang: #!{engine}"
        ));
    }
    let mut no_writes = false;
    for p in parts {
        let Some(flags) = p.strip_prefix("flags=") else {
            return Err(format!("ERR Unknown lua shebang option: {p}"));
        };
        for f in flags.split(',').filter(|f| !f.is_empty()) {
            match f {
                "no-writes" => no_writes = true,
                "allow-oom" | "allow-stale" | "no-cluster" | "allow-cross-slot-keys" => {}
                other => return Err(format!("ERR Unexpected flag in script shebang: {other}")),
            }
        }
    }
    Ok((no_writes, end))
}

pub struct Scripts {
    pub vm: Mutex<vm::Vm>,
    /// `SCRIPT KILL` asked the running script to stop.
    pub kill: std::sync::Arc<AtomicBool>,
    /// When the running script is stopped (Unix ms; 0: never).
    pub deadline: std::sync::Arc<AtomicU64>,
}

impl Default for Scripts {
    fn default() -> Scripts {
        let kill = std::sync::Arc::new(AtomicBool::new(false));
        let deadline = std::sync::Arc::new(AtomicU64::new(0));
        Scripts {
            vm: Mutex::new(vm::Vm::new(kill.clone(), deadline.clone()).expect("the Lua VM starts")),
            deadline,
            kill,
        }
    }
}

/// The SHA1 of a script, in lowercase hex (its name in the cache).
pub fn sha1hex(body: &[u8]) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
}

impl Scripts {
    /// Compile and cache `body` (a no-op when cached); its SHA1, or Redis's compile error.
    pub fn load(&self, vm: &mut vm::Vm, body: &Bytes) -> Result<String, String> {
        let sha = sha1hex(body);
        if vm.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (no_writes, code) = shebang(body)?;
        let func = vm.compile(&body[code..])?;
        vm.scripts.insert(
            sha.clone(),
            Script {
                body: body.clone(),
                func,
                no_writes,
            },
        );
        Ok(sha)
    }

    /// `SCRIPT FLUSH`: forget every script (and start a fresh VM, as Redis does).
    pub fn flush(&self) {
        let mut vm = self.vm.lock();
        if let Ok(fresh) = vm::Vm::new(self.kill.clone(), self.deadline.clone()) {
            *vm = fresh;
        } else {
            vm.scripts = HashMap::new();
        }
    }

    /// Whether `EVAL`/`EVALSHA`/`FCALL` with `args` runs a script or function declared
    /// `no-writes` (which `CLIENT PAUSE WRITE` lets through).
    pub fn declares_no_writes(&self, cmd: &str, args: &[Bytes]) -> bool {
        let Some(a) = args.get(1) else { return false };
        match cmd {
            "eval" => shebang(a).is_ok_and(|(no_writes, _)| no_writes),
            "evalsha" => {
                let sha = String::from_utf8_lossy(a).to_ascii_lowercase();
                self.vm
                    .lock()
                    .scripts
                    .get(&sha)
                    .is_some_and(|s| s.no_writes)
            }
            "fcall" => {
                let name = String::from_utf8_lossy(a).to_ascii_lowercase();
                self.vm
                    .lock()
                    .libraries
                    .funcs
                    .get(&name)
                    .is_some_and(|f| f.no_writes)
            }
            _ => false,
        }
    }
}
