//! Settings: one table of every setting we know, with Redis's names, defaults and bounds.
//!
//! The same table serves the command line (`--port 7000`), the config file (`port 7000`, in
//! `redis.conf` syntax), `CONFIG GET` (glob patterns over names and aliases) and `CONFIG SET`
//! (validated, atomic across several settings). Values are kept as canonical text, the way
//! `CONFIG GET` shows them; the settings read on hot paths are also mirrored as typed fields.

use crate::store::glob::glob_match;
use std::collections::BTreeMap;
use std::fmt;

/// How a setting's value is checked and shown.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    /// Bytes, accepting Redis's units (`1kb`, `5mb`, `2gb`, `100k`); shown as a plain number.
    Memory {
        min: u64,
        max: u64,
    },
    Enum(&'static [&'static str]),
    Str,
    /// Free text that `CONFIG SET` accepts and hands back without effect (encoding tuning).
    Any,
    /// Keyspace-notification classes (`notify-keyspace-events`), validated and normalised as
    /// Redis does.
    Events,
    /// Bytes, or a percentage of `maxmemory` (`10%`, at most 100).
    MemoryOrPercent,
    /// `save`: pairs of seconds (at least 1) and changes (at least 0), or "".
    Save,
    /// `client-output-buffer-limit`: `class hard soft seconds` groups, each replacing its
    /// class's limits; shown for the three classes, in bytes. Accepted without effect.
    OutputLimits,
}

/// Settings CONFIG GET shows only when asked for by exact name, as Redis's hidden configs:
/// Redis's debugging ones, and ferrokv's own (fixed at startup), which Redis tools iterating
/// `CONFIG GET *` would not know.
pub const HIDDEN: &[&str] = &["key-load-delay", "metrics-addr"];

/// Settings `CONFIG SET` refuses as Redis's protected configs (`enable-protected-configs no`):
/// where files go is set at startup only.
pub const PROTECTED: &[&str] = &["dir", "dbfilename"];

pub struct Setting {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub default: &'static str,
    pub kind: Kind,
    /// False for settings fixed at startup (`CONFIG SET` refuses them, as Redis does).
    pub mutable: bool,
}

const fn s(name: &'static str, default: &'static str, kind: Kind) -> Setting {
    Setting {
        name,
        alias: None,
        default,
        kind,
        mutable: true,
    }
}
const fn fixed(name: &'static str, default: &'static str, kind: Kind) -> Setting {
    Setting {
        name,
        alias: None,
        default,
        kind,
        mutable: false,
    }
}
const fn aliased(
    name: &'static str,
    alias: &'static str,
    default: &'static str,
    kind: Kind,
) -> Setting {
    Setting {
        name,
        alias: Some(alias),
        default,
        kind,
        mutable: true,
    }
}

const INT: Kind = Kind::Int {
    min: i64::MIN,
    max: i64::MAX,
};
const NONNEG: Kind = Kind::Int {
    min: 0,
    max: i64::MAX,
};
const UINT: Kind = Kind::Int {
    min: 0,
    max: i32::MAX as i64,
};
const MEM: Kind = Kind::Memory {
    min: 0,
    max: u64::MAX,
};

pub const POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

/// Every setting. Limits enforced by the server itself (protocol sizes) are documented in
/// `resp::parse`; these are the ones an operator can see and change.
pub static SETTINGS: &[Setting] = &[
    // Applied by rebinding the listeners (see `server::listener`).
    s("bind", "127.0.0.1", Kind::Str),
    s("port", "6379", Kind::Int { min: 0, max: 65535 }),
    // There is no replication: always empty (so CONFIG GET answers as an unreplicated Redis).
    Setting {
        name: "replicaof",
        alias: Some("slaveof"),
        default: "",
        kind: Kind::Str,
        mutable: false,
    },
    // Hidden (only an exact CONFIG GET shows it): a debugging delay Redis has; accepted, unused.
    s("key-load-delay", "0", INT),
    fixed("databases", "16", Kind::Int { min: 1, max: 1024 }),
    fixed("daemonize", "no", Kind::Bool),
    s("dir", ".", Kind::Str),
    s("appendonly", "no", Kind::Bool),
    s(
        "appendfsync",
        "everysec",
        Kind::Enum(&["everysec", "always", "no"]),
    ),
    fixed("appendfilename", "appendonly.aof", Kind::Str),
    fixed("appenddirname", "appendonlydir", Kind::Str),
    s("auto-aof-rewrite-percentage", "100", UINT),
    s("auto-aof-rewrite-min-size", "67108864", MEM),
    s("aof-load-truncated", "yes", Kind::Bool),
    s("aof-use-rdb-preamble", "no", Kind::Bool),
    s("requirepass", "", Kind::Str),
    s(
        "maxclients",
        "10000",
        Kind::Int {
            min: 1,
            max: u32::MAX as i64,
        },
    ),
    s("maxmemory", "0", MEM),
    s("maxmemory-policy", "noeviction", Kind::Enum(POLICIES)),
    s(
        "maxmemory-samples",
        "5",
        Kind::Int {
            min: 1,
            max: i32::MAX as i64,
        },
    ),
    s(
        "maxmemory-eviction-tenacity",
        "10",
        Kind::Int { min: 0, max: 100 },
    ),
    s("lfu-log-factor", "10", UINT),
    s("lfu-decay-time", "1", UINT),
    s(
        "loglevel",
        "notice",
        Kind::Enum(&["debug", "verbose", "notice", "warning"]),
    ),
    fixed("logfile", "", Kind::Str),
    s("save", "", Kind::Save),
    s("timeout", "0", UINT),
    s("tcp-keepalive", "300", UINT),
    fixed("tcp-backlog", "511", UINT),
    s(
        "hz",
        "10",
        Kind::Int {
            min: 0,
            max: i32::MAX as i64,
        },
    ),
    s(
        "proto-max-bulk-len",
        "536870912",
        // Redis's minimum; ferrokv's maximum (see `resp::parse`) instead of Redis's LLONG_MAX.
        Kind::Memory {
            min: 1 << 20,
            max: 536870912,
        },
    ),
    s(
        "client-query-buffer-limit",
        "1073741824",
        Kind::Memory {
            min: 1 << 20,
            max: 1073741824,
        },
    ),
    s(
        "slowlog-log-slower-than",
        "10000",
        Kind::Int {
            min: -1,
            max: i64::MAX,
        },
    ),
    s("slowlog-max-len", "128", NONNEG),
    s("acllog-max-len", "128", NONNEG),
    s("latency-tracking", "yes", Kind::Bool),
    s("notify-keyspace-events", "", Kind::Events),
    s("protected-mode", "yes", Kind::Bool),
    fixed("io-threads", "1", Kind::Int { min: 1, max: 128 }),
    fixed("io-threads-do-reads", "no", Kind::Bool),
    s("activerehashing", "yes", Kind::Bool),
    s("lazyfree-lazy-eviction", "no", Kind::Bool),
    s("lazyfree-lazy-expire", "no", Kind::Bool),
    s("lazyfree-lazy-server-del", "no", Kind::Bool),
    s("lazyfree-lazy-user-del", "no", Kind::Bool),
    s("lazyfree-lazy-user-flush", "no", Kind::Bool),
    aliased("list-max-listpack-size", "list-max-ziplist-size", "-2", INT),
    s("list-compress-depth", "0", NONNEG),
    aliased(
        "hash-max-listpack-entries",
        "hash-max-ziplist-entries",
        "512",
        NONNEG,
    ),
    aliased(
        "hash-max-listpack-value",
        "hash-max-ziplist-value",
        "64",
        MEM,
    ),
    s("set-max-intset-entries", "512", NONNEG),
    aliased(
        "zset-max-listpack-entries",
        "zset-max-ziplist-entries",
        "128",
        NONNEG,
    ),
    aliased(
        "zset-max-listpack-value",
        "zset-max-ziplist-value",
        "64",
        MEM,
    ),
    s("stream-node-max-bytes", "4096", MEM),
    s("stream-node-max-entries", "100", NONNEG),
    aliased("busy-reply-threshold", "lua-time-limit", "5000", NONNEG),
    // ferrokv has no replicas, so with both set (non-zero) every write is refused with
    // -NOREPLICAS, as Redis refuses it on a primary without enough good replicas.
    aliased("min-replicas-to-write", "min-slaves-to-write", "0", UINT),
    aliased("min-replicas-max-lag", "min-slaves-max-lag", "10", UINT),
    // RESTORE always checks a payload whole (nothing is trusted), so the setting changes nothing.
    s(
        "sanitize-dump-payload",
        "no",
        Kind::Enum(&["no", "yes", "clients"]),
    ),
    s("maxmemory-clients", "0", Kind::MemoryOrPercent),
    s("active-expire-effort", "1", Kind::Int { min: 1, max: 10 }),
    s("latency-monitor-threshold", "0", NONNEG),
    s("dbfilename", "dump.rdb", Kind::Str),
    fixed("pidfile", "", Kind::Str),
    s(
        "client-output-buffer-limit",
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        Kind::OutputLimits,
    ),
    s("no-appendfsync-on-rewrite", "no", Kind::Bool),
    s("stop-writes-on-bgsave-error", "yes", Kind::Bool),
    s("rdbcompression", "yes", Kind::Bool),
    s("rdbchecksum", "yes", Kind::Bool),
    s("replica-read-only", "yes", Kind::Bool),
    s(
        "repl-backlog-size",
        "1048576",
        Kind::Memory {
            min: 1,
            max: i64::MAX as u64,
        },
    ),
    s("hll-sparse-max-bytes", "3000", MEM),
    s("tracking-table-max-keys", "1000000", NONNEG),
    s("shutdown-timeout", "10", NONNEG),
    s("shutdown-on-sigint", "default", Kind::Any),
    s("shutdown-on-sigterm", "default", Kind::Any),
    s("activedefrag", "no", Kind::Bool),
    s("dynamic-hz", "yes", Kind::Bool),
    s("aof-timestamp-enabled", "no", Kind::Bool),
    s("aof-rewrite-incremental-fsync", "yes", Kind::Bool),
    fixed(
        "supervised",
        "no",
        Kind::Enum(&["upstart", "systemd", "auto", "no"]),
    ),
    fixed("unixsocket", "", Kind::Str),
    fixed("enable-debug-command", "no", Kind::Str),
    fixed("enable-protected-configs", "no", Kind::Str),
    // ferrokv's own: `HOST:PORT` of the HTTP `/metrics` endpoint (empty = off).
    fixed("metrics-addr", "", Kind::Str),
];

pub fn find(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| {
        s.name.eq_ignore_ascii_case(name) || s.alias.is_some_and(|a| a.eq_ignore_ascii_case(name))
    })
}

/// A configuration problem; `Display` is the text Redis puts after
/// `CONFIG SET failed (possibly related to argument '…') - `.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigError {
    Unknown(String),
    Invalid { name: String, reason: String },
    Immutable(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Unknown(n) => write!(f, "unknown option '{n}'"),
            ConfigError::Invalid { name, reason } => write!(f, "'{name}': {reason}"),
            ConfigError::Immutable(n) => {
                write!(f, "'{n}' can't be set while the server is running")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// Parse a memory amount: a plain number or one with `k kb m mb g gb` (case-insensitive;
/// `k` = 1000, `kb` = 1024, as in redis.conf).
pub fn parse_memory(v: &str) -> Option<u64> {
    let l = v.to_ascii_lowercase();
    let units: [(&str, u64); 7] = [
        ("kb", 1024),
        ("mb", 1 << 20),
        ("gb", 1 << 30),
        ("k", 1000),
        ("m", 1_000_000),
        ("g", 1_000_000_000),
        ("b", 1),
    ];
    for (suffix, mul) in units {
        if let Some(num) = l.strip_suffix(suffix) {
            return num.parse::<u64>().ok()?.checked_mul(mul);
        }
    }
    if l.starts_with('-') || l.starts_with('+') {
        return None;
    }
    l.parse().ok()
}

/// The words of a multi-word setting as Redis splits them (`sdssplitlen` on single spaces:
/// two spaces make an empty word); none for "".
fn split_spaces(value: &str) -> Vec<&str> {
    if value.is_empty() {
        Vec::new()
    } else {
        value.split(' ').collect()
    }
}

/// C's `strtoll` of a whole word: leading white space and a sign allowed, "" is 0.
fn strtoll(w: &str) -> Option<i64> {
    let t = w.trim_start();
    if t.is_empty() {
        return Some(0);
    }
    t.parse().ok()
}

/// `save` as Redis checks it (`setConfigSaveOption`): "" for none, else pairs of integers,
/// seconds at least 1 and changes at least 0; shown as the numbers.
fn normalize_save(value: &str) -> Result<String, String> {
    let words = split_spaces(value);
    if words.len() % 2 == 1 {
        return Err("Invalid save parameters".into());
    }
    let mut out = Vec::with_capacity(words.len());
    for (j, w) in words.iter().enumerate() {
        match strtoll(w) {
            Some(v) if v >= if j % 2 == 0 { 1 } else { 0 } => out.push(v.to_string()),
            _ => return Err("Invalid save parameters".into()),
        }
    }
    Ok(out.join(" "))
}

/// `client-output-buffer-limit` as Redis's `updateClientOutputBufferLimit` takes it: groups
/// of `class hard soft seconds` (class `normal`, `slave`/`replica` or `pubsub`; sizes with
/// units), each replacing that class in `current`; all checked before any is taken.
fn merge_output_limits(current: &str, value: &str) -> Result<String, String> {
    const CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];
    let mut limits: Vec<[String; 3]> = CLASSES
        .iter()
        .map(|c| {
            let w: Vec<&str> = current.split_ascii_whitespace().collect();
            let at = w.iter().position(|x| x == c).unwrap_or(w.len());
            let get = |i: usize| w.get(at + i).map_or("0".to_string(), |v| v.to_string());
            [get(1), get(2), get(3)]
        })
        .collect();
    let words = split_spaces(value);
    if !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    for g in words.chunks(4) {
        let class = match g[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let seconds = strtoll(g[3]).filter(|s| *s >= 0);
        let (Some(hard), Some(soft), Some(seconds)) =
            (parse_memory(g[1]), parse_memory(g[2]), seconds)
        else {
            return Err(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.".into(),
            );
        };
        limits[class] = [hard.to_string(), soft.to_string(), seconds.to_string()];
    }
    Ok(CLASSES
        .iter()
        .zip(&limits)
        .map(|(c, [h, s, t])| format!("{c} {h} {s} {t}"))
        .collect::<Vec<_>>()
        .join(" "))
}

/// The keyspace-event class letters, in the order Redis prints them; `A` is all of the
/// letters before `K` except `m` and `n`.
const EVENT_CLASSES: &str = "g$lshzxetd";

fn normalize_events(value: &str) -> Result<String, String> {
    let mut set = std::collections::BTreeSet::new();
    for c in value.chars() {
        match c {
            'A' => set.extend(EVENT_CLASSES.chars()),
            'g' | '$' | 'l' | 's' | 'h' | 'z' | 'x' | 'e' | 't' | 'd' | 'K' | 'E' | 'm' | 'n' => {
                set.insert(c);
            }
            _ => return Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into()),
        }
    }
    // Redis's order: the classes (or `A`), `n`, then K, E and m. Redis shows `A` without the
    // `n` it still holds: the value keeps it and `shown` hides it.
    let mut out = String::new();
    if EVENT_CLASSES.chars().all(|c| set.contains(&c)) {
        out.push('A');
    } else {
        out.extend(EVENT_CLASSES.chars().filter(|c| set.contains(c)));
    }
    if set.contains(&'n') {
        out.push('n');
    }
    out.extend("KEm".chars().filter(|c| set.contains(c)));
    Ok(out)
}

/// A setting's value as `CONFIG GET` shows it: Redis prints `notify-keyspace-events` with
/// `A` but without the `n` it keeps.
pub fn shown(name: &str, value: &str) -> String {
    if name == "notify-keyspace-events" && value.starts_with('A') {
        return value.replace('n', "");
    }
    value.to_string()
}

/// `value` checked and in the form CONFIG GET shows; `current` is the setting's value now
/// (output limits merge into it).
fn normalize(setting: &Setting, current: &str, value: &str) -> Result<String, String> {
    if setting.name == "hz" {
        // Any value in range is accepted; the effective one (which CONFIG GET shows) is
        // clamped to 1..=500, as in Redis.
        let v = normalize_kind(setting, current, value)?;
        return Ok(v.parse::<i64>().map_or(v, |n| n.clamp(1, 500).to_string()));
    }
    normalize_kind(setting, current, value)
}

fn normalize_kind(setting: &Setting, current: &str, value: &str) -> Result<String, String> {
    match setting.kind {
        Kind::Events => normalize_events(value),
        Kind::MemoryOrPercent => match value.strip_suffix('%') {
            Some(n) => match n.parse::<u64>() {
                Ok(p) if p <= 100 => Ok(format!("{p}%")),
                Ok(_) => Err("percentage argument must be less or equal to 100".into()),
                Err(_) => Err("argument must be a memory or percent value".into()),
            },
            None => parse_memory(value)
                .map(|v| v.to_string())
                .ok_or_else(|| "argument must be a memory or percent value".to_string()),
        },
        Kind::Bool => match value.to_ascii_lowercase().as_str() {
            "yes" => Ok("yes".into()),
            "no" => Ok("no".into()),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        Kind::Int { min, max } => {
            let v: i64 = value
                .parse()
                .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
            if v < min || v > max {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
            Ok(v.to_string())
        }
        Kind::Memory { min, max } => {
            let v =
                parse_memory(value).ok_or_else(|| "argument must be a memory value".to_string())?;
            if v < min || v > max {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
            Ok(v.to_string())
        }
        Kind::Save => normalize_save(value),
        Kind::OutputLimits => merge_output_limits(current, value),
        Kind::Enum(options) => {
            let l = value.to_ascii_lowercase();
            options
                .iter()
                .find(|o| **o == l)
                .map(|o| o.to_string())
                .ok_or_else(|| {
                    format!(
                        "argument(s) must be one of the following: {}",
                        options.join(", ")
                    )
                })
        }
        Kind::Str | Kind::Any => Ok(value.to_string()),
    }
}

/// The server's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    values: BTreeMap<&'static str, String>,
    /// The config file given on the command line, if any.
    pub file: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            values: SETTINGS
                .iter()
                .map(|s| (s.name, s.default.to_string()))
                .collect(),
            file: None,
        }
    }
}

impl Config {
    pub fn get(&self, name: &str) -> &str {
        let s = find(name).unwrap_or_else(|| panic!("unknown setting {name}"));
        &self.values[s.name]
    }

    pub fn get_u64(&self, name: &str) -> u64 {
        self.get(name).parse().unwrap_or(0)
    }

    pub fn get_i64(&self, name: &str) -> i64 {
        self.get(name).parse().unwrap_or(0)
    }

    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name) == "yes"
    }

    /// Set one value at startup (mutable or not).
    pub fn set_startup(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let setting = find(name).ok_or_else(|| ConfigError::Unknown(name.to_string()))?;
        let v = normalize(setting, &self.values[setting.name], value).map_err(|reason| {
            ConfigError::Invalid {
                name: name.to_string(),
                reason,
            }
        })?;
        self.values.insert(setting.name, v);
        Ok(())
    }

    /// `CONFIG SET` of several pairs: all are validated before any is applied.
    pub fn set_runtime(&mut self, pairs: &[(String, String)]) -> Result<(), (String, String)> {
        let mut staged = Vec::new();
        for (name, value) in pairs {
            let setting = find(name).ok_or_else(|| (name.clone(), String::new()))?;
            if !setting.mutable {
                return Err((name.clone(), "can't set immutable config".into()));
            }
            // A bad value is reported under the parameter's own (lowercase) name, as Redis does.
            let v = normalize(setting, &self.values[setting.name], value)
                .map_err(|e| (name.to_ascii_lowercase(), e))?;
            staged.push((setting.name, v));
        }
        for (k, v) in staged {
            self.values.insert(k, v);
        }
        Ok(())
    }

    /// Every (name, value) whose name or alias matches the glob, as `CONFIG GET` lists them.
    pub fn matching(&self, pattern: &[u8]) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for s in SETTINGS.iter().filter(|s| !HIDDEN.contains(&s.name)) {
            if glob_match(pattern, s.name.as_bytes(), true) {
                out.push((s.name, self.values[s.name].clone()));
            }
            if let Some(a) = s.alias {
                if glob_match(pattern, a.as_bytes(), true) {
                    out.push((a, self.values[s.name].clone()));
                }
            }
        }
        out
    }

    /// Parse `ferrokv [config-file] [--name value ...]`, as `redis-server` does: the file's
    /// directives first, then the command line's, which win.
    pub fn from_args(args: &[String]) -> Result<Config, String> {
        let mut cfg = Config::default();
        let mut rest = args;
        if let Some(first) = rest.first() {
            if !first.starts_with("--") {
                let text = std::fs::read_to_string(first)
                    .map_err(|e| format!("Can't open config file '{first}': {e}"))?;
                cfg.apply_text(&text).map_err(|(line_no, line, e)| {
                    format!("*** FATAL CONFIG FILE ERROR ***\nReading the configuration file, at line {line_no}\n>>> '{line}'\n{e}")
                })?;
                cfg.file = Some(first.clone());
                rest = &rest[1..];
            }
        }
        let mut i = 0;
        while i < rest.len() {
            let name = rest[i]
                .strip_prefix("--")
                .ok_or_else(|| format!("Invalid argument '{}': options start with --", rest[i]))?;
            let mut values = Vec::new();
            i += 1;
            while i < rest.len() && !rest[i].starts_with("--") {
                values.push(rest[i].clone());
                i += 1;
            }
            let value = values.join(" ");
            cfg.set_startup(name, &value)
                .map_err(|e| format!("Bad option --{name} {value}: {e}"))?;
        }
        Ok(cfg)
    }

    /// Apply `redis.conf` text: `name value…` per line, `#` comments, quoted words.
    pub fn apply_text(&mut self, text: &str) -> Result<(), (usize, String, String)> {
        for (no, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let words = crate::resp::parse::split_inline(t.as_bytes()).ok_or_else(|| {
                (
                    no + 1,
                    t.to_string(),
                    "Unbalanced quotes in configuration line".to_string(),
                )
            })?;
            let words: Vec<String> = words
                .into_iter()
                .map(|w| String::from_utf8_lossy(&w).into_owned())
                .collect();
            if words.len() < 2 && !words[0].eq_ignore_ascii_case("save") {
                return Err((
                    no + 1,
                    t.to_string(),
                    "Bad directive or wrong number of arguments".into(),
                ));
            }
            self.set_startup(&words[0], &words[1..].join(" "))
                .map_err(|e| (no + 1, t.to_string(), e.to_string()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_overrides_defaults_and_units_parse() {
        let args: Vec<String> = [
            "--port",
            "7000",
            "--maxmemory",
            "1mb",
            "--save",
            "",
            "--appendonly",
            "yes",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let c = Config::from_args(&args).unwrap();
        assert_eq!(c.get("port"), "7000");
        assert_eq!(c.get("maxmemory"), "1048576");
        assert_eq!(c.get("appendonly"), "yes");
        assert!(Config::from_args(&["--nope".into(), "1".into()]).is_err());
        assert!(Config::from_args(&["--port".into(), "x".into()]).is_err());
    }

    #[test]
    fn aliases_share_a_value() {
        let mut c = Config::default();
        c.set_runtime(&[("hash-max-ziplist-entries".into(), "10".into())])
            .unwrap();
        assert_eq!(c.get("hash-max-listpack-entries"), "10");
        assert_eq!(c.matching(b"hash-max-*-entries").len(), 2);
    }
}
