//! Lua scripting (`EVAL`, `EVALSHA`, `SCRIPT`): one Lua 5.1 VM (the `mlua` crate, vendored
//! Lua) with Redis's sandbox, and the script cache.
//!
//! A script runs as an atomic unit: one at a time (`Engine::script_turn`), holding the shards
//! of its declared keys and taking those of its calls' keys as it reaches them, all held to
//! its end (two-phase locking, so it is serializable with every other command; see
//! `LockSet::grow_slots`). Its `redis.call`s are dispatched like the commands of a
//! transaction, and its effects are
//! propagated as the commands it ran, wrapped in `MULTI`/`EXEC` (Redis 7's effects
//! replication), so a replay does not need the script cache.
//!
//! Limits (named here, documented in the README): the VM may hold [`LUA_MEMORY_LIMIT`]
//! bytes; a script past the limit fails with an error and the server carries on.
//!
//! Busy scripts, as in Redis: a script still running after `busy-reply-threshold`
//! (`lua-time-limit`, 5 s by default; 0 = never) is busy. It runs on its connection's thread
//! (a pipeline of scripts on the script thread, `server::offload`), which then lets the
//! thread's other connections go (`handoff`); other clients are not queued behind it but
//! answered `-BUSY …` at
//! dispatch, or while they wait for a shard (`LockSet::new_unless`), except for the
//! `allow_busy` commands: `SCRIPT KILL`/`FUNCTION KILL` (which stop it if it has not
//! written), `SHUTDOWN NOSAVE`, `FUNCTION STATS` and the connection and transaction ones.

pub mod convert;
mod enter;
pub mod function;
mod handoff;
pub mod lib;
pub mod run;
pub mod vm;

use crate::engine::ctx::{CmdError, ErrKind};
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

/// Wall-clock milliseconds, as the busy deadline is kept.
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Bytes the Lua VM may allocate (scripts, their data and the cache's compiled functions).
pub const LUA_MEMORY_LIMIT: usize = 256 * 1024 * 1024;

/// A cached script.
pub struct Script {
    pub body: Bytes,
    pub func: mlua::Function,
    pub flags: Flags,
}

/// What a script declares in its `#!lua flags=…` line (a function, in its registration).
#[derive(Clone, Copy, Debug, Default)]
pub struct Flags {
    /// It has a shebang (or is a function): the flags below are checked before it runs.
    /// Without one it runs in Redis's compatibility mode, where only its commands are checked.
    pub declared: bool,
    /// `no-writes`: runs as a read-only script.
    pub no_writes: bool,
    /// `allow-oom`: may run, and write, when used memory is over `maxmemory`.
    pub allow_oom: bool,
}

impl Flags {
    /// Redis's checks before a script that declares its flags runs: a script that may write
    /// is refused by the `_RO` commands and, unless `allow-oom`, over `maxmemory`.
    pub fn check(&self, engine: &crate::engine::Engine, ro_command: bool) -> Result<(), CmdError> {
        if !self.declared || self.no_writes {
            return Ok(());
        }
        if ro_command {
            return Err(CmdError::new(
                ErrKind::Err,
                "ERR Can not execute a script with write flag using *_ro command.",
            ));
        }
        if engine.hot.no_good_replicas.load(Ordering::Relaxed) {
            return Err(crate::engine::errors::NOREPLICAS);
        }
        if !self.allow_oom && crate::engine::evict::over_maxmemory(engine) {
            // Redis refuses such a script as it refuses any command that may grow memory.
            return Err(crate::engine::errors::OOM);
        }
        Ok(())
    }
}

/// A `#!lua flags=…` first line: the flags it declares (Redis's errors otherwise), and
/// where the code starts (the line's newline is kept so line numbers stay right).
fn shebang(body: &[u8]) -> Result<(Flags, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((Flags::default(), 0));
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
    let mut flags = Flags {
        declared: true,
        ..Flags::default()
    };
    for p in parts {
        let Some(list) = p.strip_prefix("flags=") else {
            return Err(format!("ERR Unknown lua shebang option: {p}"));
        };
        for f in list.split(',').filter(|f| !f.is_empty()) {
            match f {
                "no-writes" => flags.no_writes = true,
                "allow-oom" => flags.allow_oom = true,
                "allow-stale" | "no-cluster" | "allow-cross-slot-keys" => {}
                other => return Err(format!("ERR Unexpected flag in script shebang: {other}")),
            }
        }
    }
    Ok((flags, end))
}

/// What `INFO memory` shows of scripting. ferrokv runs scripts and functions in one Lua VM,
/// so its whole size is reported as the eval VM's and `vm_functions` is the part
/// Redis would give a second VM: none.
#[derive(Clone, Copy, Default, Debug)]
pub struct ScriptMemory {
    pub vm_bytes: u64,
    pub cached_scripts: u64,
    /// Cached script bodies and their cache entries.
    pub scripts_bytes: u64,
    pub functions: u64,
    pub libraries: u64,
    /// Library code and the function table.
    pub functions_bytes: u64,
}

/// Bytes of a cache entry beside its body (SHA1 key, compiled function handle, table slot).
const SCRIPT_ENTRY_OVERHEAD: u64 = 96;
/// Bytes of a function's entry beside its name and description.
const FUNCTION_ENTRY_OVERHEAD: u64 = 112;

/// The script or function running now (for `FUNCTION STATS`, `SCRIPT KILL`, `-BUSY`).
#[derive(Clone)]
pub struct Running {
    /// The script's SHA1 or the function's name.
    pub name: String,
    /// The command that runs it (`FCALL f 0`; Redis shows its name in lowercase).
    pub command: Vec<Bytes>,
    /// When it started (Unix ms).
    pub started: u64,
    pub function: bool,
}

/// [`Scripts::kind`]'s values.
pub const NONE: u8 = 0;
pub const EVAL: u8 = 1;
pub const FUNCTION: u8 = 2;

/// Why a running script cannot be killed, or there is none to kill.
const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";
const UNKILLABLE: &str = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
/// What other clients get while a script is busy.
pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

pub struct Scripts {
    pub vm: Mutex<vm::Vm>,
    /// What runs now: [`NONE`], [`EVAL`] or [`FUNCTION`].
    pub kind: AtomicU8,
    /// The running script, described once it turns busy (only then can another client look:
    /// `FUNCTION STATS`). Not built for every script: that cost allocations on each.
    pub running: Arc<Mutex<Option<Running>>>,
    /// The running script has run a write command (it can no longer be killed).
    pub wrote: AtomicBool,
    /// The last figures `memory` read, shown while a script holds the VM.
    last_memory: Mutex<ScriptMemory>,
    /// `SCRIPT KILL` asked the running script to stop.
    pub kill: std::sync::Arc<AtomicBool>,
    /// When the running script is stopped (Unix ms; 0: never).
    pub deadline: std::sync::Arc<AtomicU64>,
}

impl Default for Scripts {
    fn default() -> Scripts {
        let kill = Arc::new(AtomicBool::new(false));
        let deadline = Arc::new(AtomicU64::new(0));
        let running = Arc::new(Mutex::new(None));
        Scripts {
            vm: Mutex::new(
                vm::Vm::new(kill.clone(), deadline.clone(), running.clone())
                    .expect("the Lua VM starts"),
            ),
            deadline,
            kill,
            last_memory: Mutex::new(ScriptMemory::default()),
            kind: AtomicU8::new(NONE),
            running,
            wrote: AtomicBool::new(false),
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
        let (flags, code) = shebang(body)?;
        let func = vm.compile(&body[code..])?;
        vm.scripts.insert(
            sha.clone(),
            Script {
                body: body.clone(),
                func,
                flags,
            },
        );
        Ok(sha)
    }

    /// `SCRIPT FLUSH`: forget every script (and start a fresh VM, as Redis does).
    pub fn flush(&self) {
        let mut vm = self.vm.lock();
        if let Ok(fresh) = vm::Vm::new(
            self.kill.clone(),
            self.deadline.clone(),
            self.running.clone(),
        ) {
            *vm = fresh;
        } else {
            vm.scripts = HashMap::default();
        }
    }

    /// Whether a script is busy: it has run past busy-reply-threshold (Redis's "timed out"
    /// script), so other clients get `-BUSY` (the text to send) and it may be killed. One
    /// atomic load while no script runs.
    pub fn busy(&self) -> Option<&'static str> {
        let d = self.deadline.load(Ordering::Relaxed);
        if d == 0 || unix_ms() <= d {
            return None;
        }
        match self.kind.load(Ordering::Relaxed) {
            FUNCTION => Some(BUSY_FUNCTION),
            EVAL => Some(BUSY_EVAL),
            _ => None,
        }
    }

    /// `SCRIPT KILL` (`function` false) or `FUNCTION KILL`: ask the busy script to stop.
    pub fn kill(&self, function: bool) -> Result<(), &'static str> {
        if self.busy().is_none() {
            return Err(NOTBUSY);
        }
        if self.wrote.load(Ordering::Relaxed) {
            return Err(UNKILLABLE);
        }
        match (function, self.kind.load(Ordering::Relaxed) == FUNCTION) {
            (false, true) => Err(BUSY_FUNCTION),
            (true, false) => Err(BUSY_EVAL),
            _ => {
                self.kill.store(true, Ordering::Relaxed);
                Ok(())
            }
        }
    }

    /// Scripting's memory for `INFO memory`. A running script holds the VM (for up to
    /// busy-reply-threshold), so INFO does not wait for it: it shows the last figures then.
    pub fn memory(&self) -> ScriptMemory {
        let Some(vm) = self.vm.try_lock_for(std::time::Duration::from_millis(5)) else {
            return *self.last_memory.lock();
        };
        let scripts_bytes = vm
            .scripts
            .iter()
            .map(|(sha, s)| (sha.len() + s.body.len()) as u64 + SCRIPT_ENTRY_OVERHEAD)
            .sum();
        let libs = &vm.libraries;
        let functions_bytes = libs.libs.values().map(|l| l.code.len() as u64).sum::<u64>()
            + libs
                .funcs
                .values()
                .map(|f| {
                    (f.name.len() + f.description.as_ref().map_or(0, |d| d.len())) as u64
                        + FUNCTION_ENTRY_OVERHEAD
                })
                .sum::<u64>();
        let m = ScriptMemory {
            vm_bytes: vm.lua.used_memory() as u64,
            cached_scripts: vm.scripts.len() as u64,
            scripts_bytes,
            functions: libs.funcs.len() as u64,
            libraries: libs.libs.len() as u64,
            functions_bytes,
        };
        *self.last_memory.lock() = m;
        m
    }

    /// Whether `EVAL`/`EVALSHA`/`FCALL` with `args` runs a script or function declared
    /// `no-writes` (which `CLIENT PAUSE WRITE` lets through).
    pub fn declares_no_writes(&self, cmd: &str, args: &[Bytes]) -> bool {
        let Some(a) = args.get(1) else { return false };
        match cmd {
            "eval" => shebang(a).is_ok_and(|(flags, _)| flags.no_writes),
            "evalsha" => {
                let sha = String::from_utf8_lossy(a).to_ascii_lowercase();
                self.vm
                    .lock()
                    .scripts
                    .get(&sha)
                    .is_some_and(|s| s.flags.no_writes)
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
