//! Users and what they may do (Redis's ACL): passwords, commands by name and by category,
//! key patterns (with `%R~`/`%W~` permissions) and channel patterns.
//!
//! Every client starts as `default` (on, no password unless `requirepass`, everything
//! allowed). While `default` may do everything, its clients skip every check
//! (`Acl::default_open`, one load per command); other users are looked up by name on
//! each command, so an `ACL SETUSER` applies at once to their open connections.
//!
//! Denials are kept for `ACL LOG` (`log`). Limits, compared with Redis 7.0: no selectors
//! (`(…)` rules), no first-argument rules (`+select|0`) and no ACL file (`ACL LOAD`/`SAVE`
//! answer Redis's error for a server without one). A key's needed permission comes from its command (a
//! write command's keys need write access, a read command's read access), where Redis reads
//! it from each key spec.

mod describe;
pub mod log;

use super::table::{Cmd, Registry};
use crate::store::glob::glob_match;
use bytes::Bytes;
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Redis's ACL categories, in its order (`ACL CAT`, and the order `describe` tries them).
pub const CATEGORIES: [&str; 21] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// Every command's categories as Redis 7.0 reports them (`scripts/gen_acl_categories.py`).
const CATEGORY_TABLE: &str = include_str!("categories.txt");

/// A key pattern and the access it grants.
#[derive(Clone, PartialEq)]
pub struct KeyPattern {
    pub pattern: Vec<u8>,
    pub read: bool,
    pub write: bool,
}

#[derive(Clone)]
pub struct User {
    pub name: String,
    pub on: bool,
    pub nopass: bool,
    /// `sanitize-payload` (Some(true)) or `skip-sanitize-payload` (Some(false)) as set.
    pub sanitize: Option<bool>,
    /// SHA-256 of each password, in lowercase hex, in the order they were added.
    pub passwords: Vec<String>,
    /// One bit per command-table index.
    allowed: Vec<u64>,
    /// Set by `+@all` (cleared by `-@all`): describes the user as `+@all …`.
    future: bool,
    pub all_keys: bool,
    pub keys: Vec<KeyPattern>,
    pub all_channels: bool,
    pub channels: Vec<Vec<u8>>,
}

/// Why a command is refused.
#[derive(Debug, PartialEq)]
pub enum Denied {
    Command,
    /// The key or channel argument at this index.
    Key(usize),
    Channel(usize),
}

/// What a bad `ACL SETUSER` rule gets (Redis's texts).
pub const UNKNOWN: &str = "Unknown command or category name in ACL";
pub const SYNTAX: &str = "Syntax error";

pub struct Acl {
    users: RwLock<BTreeMap<String, Arc<User>>>,
    /// Per command-table index: its categories, one bit per `CATEGORIES` entry.
    cats: Vec<u32>,
    registry: &'static Registry,
    /// `default` may run every command on every key and channel.
    default_open: AtomicBool,
    /// Recent denials (`ACL LOG`).
    pub log: log::Log,
}

impl Acl {
    pub fn new(registry: &'static Registry) -> Acl {
        let cats = registry
            .cmds
            .iter()
            .enumerate()
            .map(|(i, cmd)| categories_of(registry, i, cmd))
            .collect();
        let acl = Acl {
            users: RwLock::new(BTreeMap::new()),
            cats,
            registry,
            default_open: AtomicBool::new(true),
            log: Default::default(),
        };
        let mut default = acl.new_user("default");
        for rule in ["on", "nopass", "~*", "&*", "+@all"] {
            acl.apply(&mut default, rule.as_bytes())
                .expect("the default user's rules");
        }
        acl.users
            .write()
            .insert("default".into(), Arc::new(default));
        acl
    }

    /// The categories of command `idx` (bits of `CATEGORIES`).
    pub fn categories(&self, idx: usize) -> u32 {
        self.cats[idx]
    }

    /// A new user as `ACL SETUSER` creates it: off, no password, nothing allowed.
    pub fn new_user(&self, name: &str) -> User {
        User {
            name: name.to_string(),
            on: false,
            nopass: false,
            sanitize: None,
            passwords: Vec::new(),
            allowed: vec![0; self.registry.cmds.len().div_ceil(64)],
            future: false,
            all_keys: false,
            keys: Vec::new(),
            all_channels: false,
            channels: Vec::new(),
        }
    }

    pub fn get(&self, name: &str) -> Option<Arc<User>> {
        self.users.read().get(name).cloned()
    }

    pub fn names(&self) -> Vec<String> {
        self.users.read().keys().cloned().collect()
    }

    pub fn users(&self) -> Vec<Arc<User>> {
        self.users.read().values().cloned().collect()
    }

    /// Store `user` (new or changed).
    pub fn put(&self, user: User) {
        let mut users = self.users.write();
        users.insert(user.name.clone(), Arc::new(user));
        let open = users.get("default").is_some_and(|d| self.unrestricted(d));
        self.default_open.store(open, Ordering::Release);
    }

    /// Remove `name` (never `default`); whether it existed.
    pub fn remove(&self, name: &str) -> bool {
        self.users.write().remove(name).is_some()
    }

    /// Whether a new connection must authenticate (Redis: unless `default` is on and
    /// needs no password).
    pub fn auth_required(&self) -> bool {
        self.get("default").is_none_or(|d| !(d.on && d.nopass))
    }

    /// Whether clients of `user` (by name; `is_default` for `default`) skip the checks.
    pub fn open_for(&self, is_default: bool) -> bool {
        is_default && self.default_open.load(Ordering::Acquire)
    }

    fn unrestricted(&self, u: &User) -> bool {
        u.all_keys && u.all_channels && (0..self.registry.cmds.len()).all(|i| u.allows(i))
    }

    /// `requirepass`: the default user's password (none: `nopass`).
    pub fn set_requirepass(&self, pass: Option<&[u8]>) {
        let Some(cur) = self.get("default") else {
            return;
        };
        let mut u = (*cur).clone();
        match pass {
            Some(p) => {
                let _ = self.apply(&mut u, b"resetpass");
                let mut rule = b">".to_vec();
                rule.extend_from_slice(p);
                let _ = self.apply(&mut u, &rule);
            }
            None => {
                let _ = self.apply(&mut u, b"nopass");
            }
        }
        self.put(u);
    }

    /// The user `name` if `pass` logs in as it (Redis: on, and nopass or a password matches).
    pub fn authenticate(&self, name: &[u8], pass: &[u8]) -> Option<Arc<User>> {
        let name = std::str::from_utf8(name).ok()?;
        let u = self.get(name)?;
        let ok = u.on && (u.nopass || u.passwords.contains(&sha256_hex(pass)));
        ok.then_some(u)
    }

    /// Apply one `ACL SETUSER` rule to `u`; Redis's error text when it is invalid.
    pub fn apply(&self, u: &mut User, rule: &[u8]) -> Result<(), &'static str> {
        let op = rule;
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if op.is_empty() {
            return Ok(());
        }
        if is("on") {
            u.on = true;
        } else if is("off") {
            u.on = false;
        } else if is("skip-sanitize-payload") {
            u.sanitize = Some(false);
        } else if is("sanitize-payload") {
            u.sanitize = Some(true);
        } else if is("nopass") {
            u.nopass = true;
            u.passwords.clear();
        } else if is("resetpass") {
            u.nopass = false;
            u.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = password_hash(op)?;
            if !u.passwords.contains(&hash) {
                u.passwords.push(hash);
            }
            u.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = password_hash(op)?;
            let at = u
                .passwords
                .iter()
                .position(|p| *p == hash)
                .ok_or("The password you are trying to remove from the user does not exist")?;
            u.passwords.remove(at);
        } else if is("reset") {
            for r in [
                "resetpass",
                "resetkeys",
                "resetchannels",
                "off",
                "sanitize-payload",
                "-@all",
            ] {
                self.apply(u, r.as_bytes())?;
            }
        } else if is("clearselectors") {
        } else if op[0] == b'(' {
            // Selectors are not supported (see the module's limits).
            return Err(SYNTAX);
        } else {
            self.apply_selector(u, op)?;
        }
        Ok(())
    }

    /// The rules about commands, keys and channels.
    fn apply_selector(&self, u: &mut User, op: &[u8]) -> Result<(), &'static str> {
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("allkeys") || op == b"~*" {
            u.all_keys = true;
            u.keys.clear();
        } else if is("resetkeys") {
            u.all_keys = false;
            u.keys.clear();
        } else if is("allchannels") || op == b"&*" {
            u.all_channels = true;
            u.channels.clear();
        } else if is("resetchannels") {
            u.all_channels = false;
            u.channels.clear();
        } else if is("allcommands") || is("+@all") {
            u.allowed.iter_mut().for_each(|w| *w = u64::MAX);
            u.future = true;
        } else if is("nocommands") || is("-@all") {
            u.allowed.iter_mut().for_each(|w| *w = 0);
            u.future = false;
        } else if op[0] == b'~' || op[0] == b'%' {
            if u.all_keys {
                return Err("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns");
            }
            let (read, write, at) = key_permissions(op)?;
            let pattern = op[at..].to_vec();
            if pattern.contains(&b' ') {
                return Err(SYNTAX);
            }
            match u.keys.iter_mut().find(|k| k.pattern == pattern) {
                Some(k) => {
                    k.read |= read;
                    k.write |= write;
                }
                None => u.keys.push(KeyPattern {
                    pattern,
                    read,
                    write,
                }),
            }
        } else if op[0] == b'&' {
            if u.all_channels {
                return Err("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels");
            }
            let pattern = op[1..].to_vec();
            if pattern.contains(&b' ') {
                return Err(SYNTAX);
            }
            if !u.channels.contains(&pattern) {
                u.channels.push(pattern);
            }
        } else if op.len() > 1 && (op[0] == b'+' || op[0] == b'-') && op[1] == b'@' {
            let cat = CATEGORIES
                .iter()
                .position(|c| op[2..].eq_ignore_ascii_case(c.as_bytes()))
                .ok_or(UNKNOWN)?;
            for i in 0..self.registry.cmds.len() {
                if self.cats[i] & (1 << cat) != 0 {
                    self.change(u, i, op[0] == b'+');
                }
            }
        } else if op[0] == b'+' || op[0] == b'-' {
            let idx = self.command_of(&op[1..], op[0] == b'+')?;
            self.change(u, idx, op[0] == b'+');
        } else {
            return Err(SYNTAX);
        }
        Ok(())
    }

    /// A command by `name` or `name|sub` (Redis's `ACLLookupCommand`).
    fn lookup(&self, name: &[u8]) -> Option<usize> {
        let reg = self.registry;
        let parts: Vec<&[u8]> = name.split(|&c| c == b'|').collect();
        match parts[..] {
            [one] => reg.lookup(one),
            [cmd, sub] => {
                let parent = reg.lookup(cmd)?;
                if reg.cmds[parent].subs.is_empty() {
                    return None;
                }
                reg.lookup_sub(parent, sub)
            }
            _ => None,
        }
    }

    /// The command a `+name`/`-name`/`+name|sub` rule names.
    fn command_of(&self, name: &[u8], allow: bool) -> Result<usize, &'static str> {
        let Some(bar) = name.iter().rposition(|&c| c == b'|').filter(|_| allow) else {
            return self.lookup(name).ok_or(UNKNOWN);
        };
        let reg = self.registry;
        let cmd = self.lookup(&name[..bar]).ok_or(UNKNOWN)?;
        if reg.parent[cmd].is_some() {
            return Err("Allowing first-arg of a subcommand is not supported");
        }
        if bar + 1 == name.len() {
            return Err(SYNTAX);
        }
        if reg.cmds[cmd].subs.is_empty() {
            // A first-argument rule (`+select|0`): not supported (see the module's limits).
            return Err(UNKNOWN);
        }
        self.lookup(name).ok_or(UNKNOWN)
    }

    /// Allow or deny command `idx`, with its subcommands.
    fn change(&self, u: &mut User, idx: usize, allow: bool) {
        u.set(idx, allow);
        let reg = self.registry;
        if !reg.cmds[idx].subs.is_empty() {
            for j in 0..reg.cmds.len() {
                if reg.parent[j] == Some(idx) {
                    u.set(j, allow);
                }
            }
        }
    }

    /// Whether `u` may run command `idx` with `args` (Redis's `ACLCheckAllUserCommandPerm`).
    pub fn check(&self, u: &User, idx: usize, args: &[Bytes]) -> Result<(), Denied> {
        let cmd = self.registry.cmds[idx];
        if cmd.flags & super::flags::NO_AUTH == 0 && !u.allows(idx) {
            return Err(Denied::Command);
        }
        if !u.all_keys {
            let write = cmd.flags & super::flags::WRITE != 0;
            let read = cmd.flags & super::flags::READONLY != 0;
            let mut denied = None;
            for spec in cmd.keys {
                spec.each(args, |k| {
                    if denied.is_none() && !u.may_access(k, read, write) {
                        denied = args.iter().position(|a| a.as_ptr() == k.as_ptr());
                    }
                });
            }
            if let Some(at) = denied {
                return Err(Denied::Key(at));
            }
        }
        if !u.all_channels {
            for (at, pattern) in channels(cmd, args) {
                let ok = u.channels.iter().any(|p| match pattern {
                    true => p[..] == args[at][..],
                    false => glob_match(p, &args[at], false),
                });
                if !ok {
                    return Err(Denied::Channel(at));
                }
            }
        }
        Ok(())
    }

    /// Record in `ACL LOG` that `client` (as `user`) was refused command `idx` with `args`,
    /// in `context` (`toplevel`, `multi` or `lua`).
    pub fn log_denied(
        &self,
        engine: &super::Engine,
        client: &super::client::ClientInfo,
        user: &str,
        denied: &Denied,
        (idx, args): (usize, &[Bytes]),
        context: &'static str,
    ) {
        let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let (reason, object) = match denied {
            Denied::Command => ("command", self.registry.fullnames[idx].clone()),
            Denied::Key(i) => ("key", lossy(&args[*i])),
            Denied::Channel(i) => ("channel", lossy(&args[*i])),
        };
        self.log_entry(engine, client, reason, context, object, user.to_string());
    }

    /// Record in `ACL LOG` a failed login as `user` with `command` (`AUTH`, `HELLO`).
    pub fn log_auth_failure(
        &self,
        engine: &super::Engine,
        client: &super::client::ClientInfo,
        command: &[u8],
        user: &[u8],
        in_multi: bool,
    ) {
        let context = if in_multi { "multi" } else { "toplevel" };
        let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        self.log_entry(engine, client, "auth", context, lossy(command), lossy(user));
    }

    fn log_entry(
        &self,
        engine: &super::Engine,
        client: &super::client::ClientInfo,
        reason: &'static str,
        context: &'static str,
        object: String,
        username: String,
    ) {
        let now = engine.store.now();
        let max = engine.config.read().get_u64("acllog-max-len") as usize;
        let entry = log::Entry {
            count: 1,
            reason,
            context,
            object,
            username,
            ctime: now,
            client_info: client.describe(now, &self.registry.fullnames),
        };
        self.log.add(entry, max);
    }

    /// `ACL LIST`'s line for `u`, without the leading `user <name> `.
    pub fn describe(&self, u: &User) -> String {
        let mut out = vec![if u.on { "on" } else { "off" }.to_string()];
        if u.nopass {
            out.push("nopass".into());
        }
        match u.sanitize {
            Some(false) => out.push("skip-sanitize-payload".into()),
            Some(true) => out.push("sanitize-payload".into()),
            None => {}
        }
        out.extend(u.passwords.iter().map(|p| format!("#{p}")));
        let keys = self.describe_keys(u);
        if !keys.is_empty() {
            out.push(keys);
        }
        if u.all_channels {
            out.push("&*".into());
        } else {
            out.push("resetchannels".into());
            out.extend(
                u.channels
                    .iter()
                    .map(|c| format!("&{}", String::from_utf8_lossy(c))),
            );
        }
        out.push(self.describe_commands(u));
        out.join(" ")
    }

    /// The key rules (`~*`, or each pattern with its permissions).
    pub fn describe_keys(&self, u: &User) -> String {
        if u.all_keys {
            return "~*".into();
        }
        u.keys
            .iter()
            .map(|k| {
                let perm = match (k.read, k.write) {
                    (true, true) => "",
                    (true, false) => "%R",
                    (false, true) => "%W",
                    (false, false) => "%",
                };
                format!("{perm}~{}", String::from_utf8_lossy(&k.pattern))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The channel rules as `ACL GETUSER` shows them.
    pub fn describe_channels(&self, u: &User) -> String {
        if u.all_channels {
            return "&*".into();
        }
        u.channels
            .iter()
            .map(|c| format!("&{}", String::from_utf8_lossy(c)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The command rules, rebuilt from the user's bits as Redis does.
    pub fn describe_commands(&self, u: &User) -> String {
        describe::commands(self, u)
    }
}

impl User {
    pub fn allows(&self, idx: usize) -> bool {
        self.allowed[idx / 64] & (1 << (idx % 64)) != 0
    }

    fn set(&mut self, idx: usize, on: bool) {
        if on {
            self.allowed[idx / 64] |= 1 << (idx % 64);
        } else {
            self.allowed[idx / 64] &= !(1 << (idx % 64));
        }
    }

    fn may_access(&self, key: &[u8], read: bool, write: bool) -> bool {
        self.keys
            .iter()
            .any(|k| (!read || k.read) && (!write || k.write) && glob_match(&k.pattern, key, false))
    }
}

/// The channel arguments of a pub/sub command (index, whether it is a pattern).
fn channels(cmd: &Cmd, args: &[Bytes]) -> Vec<(usize, bool)> {
    match cmd.name {
        "publish" | "spublish" => vec![(1, false)],
        "subscribe" | "ssubscribe" => (1..args.len()).map(|i| (i, false)).collect(),
        "psubscribe" => (1..args.len()).map(|i| (i, true)).collect(),
        _ => Vec::new(),
    }
}

/// `%RW~`: (read, write, where the pattern starts); `~` grants both.
fn key_permissions(op: &[u8]) -> Result<(bool, bool, usize), &'static str> {
    if op[0] == b'~' {
        return Ok((true, true, 1));
    }
    let (mut read, mut write) = (false, false);
    for (i, &c) in op.iter().enumerate().skip(1) {
        match c.to_ascii_uppercase() {
            b'R' if !read => read = true,
            b'W' if !write => write = true,
            b'~' => return Ok((read, write, i + 1)),
            _ => return Err(SYNTAX),
        }
    }
    Ok((read, write, op.len()))
}

/// The stored form of a `>password`/`<password` (hashed) or `#hash`/`!hash` (checked) rule.
fn password_hash(op: &[u8]) -> Result<String, &'static str> {
    if op[0] == b'>' || op[0] == b'<' {
        return Ok(sha256_hex(&op[1..]));
    }
    let hash = &op[1..];
    if hash.len() != 64 || !hash.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return Err("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters");
    }
    Ok(String::from_utf8_lossy(hash).into_owned())
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(data);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Command `idx`'s categories from Redis's table; a command Redis does not have gets them
/// from its flags and group.
fn categories_of(reg: &Registry, idx: usize, cmd: &Cmd) -> u32 {
    let name = &reg.fullnames[idx];
    let bit = |c: &str| {
        CATEGORIES
            .iter()
            .position(|x| *x == c)
            .map_or(0, |i| 1 << i)
    };
    for line in CATEGORY_TABLE.lines() {
        let mut words = line.split(' ');
        if words.next() == Some(name.as_str()) {
            return words.map(bit).fold(0, |a, b| a | b);
        }
    }
    let f = super::flags::WRITE;
    let mut cats = bit(if cmd.flags & super::flags::FAST != 0 {
        "fast"
    } else {
        "slow"
    });
    if cmd.flags & f != 0 {
        cats |= bit("write");
    }
    if cmd.flags & super::flags::READONLY != 0 {
        cats |= bit("read");
    }
    if cmd.flags & super::flags::ADMIN != 0 {
        cats |= bit("admin") | bit("dangerous");
    }
    cats
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl() -> Acl {
        Acl::new(crate::command::registry())
    }

    fn args(line: &str) -> Vec<Bytes> {
        line.split(' ')
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect()
    }

    fn user(acl: &Acl, rules: &str) -> User {
        let mut u = acl.new_user("u");
        for r in rules.split(' ') {
            acl.apply(&mut u, r.as_bytes()).unwrap();
        }
        u
    }

    fn check(acl: &Acl, u: &User, line: &str) -> Result<(), Denied> {
        let a = args(line);
        let idx = acl.registry.resolve(&a).unwrap();
        acl.check(u, idx, &a)
    }

    #[test]
    fn commands_keys_and_channels_are_checked() {
        let acl = acl();
        let u = user(&acl, "on >p +@scripting +set ~x* %R~r* &news.*");
        assert_eq!(check(&acl, &u, "SET x1 v"), Ok(()));
        assert_eq!(check(&acl, &u, "SET y v"), Err(Denied::Key(1)));
        assert_eq!(check(&acl, &u, "HSET x f v"), Err(Denied::Command));
        assert_eq!(check(&acl, &u, "EVAL s 1 x"), Ok(()));
        assert_eq!(check(&acl, &u, "SET r1 v"), Err(Denied::Key(1)));
        let v = user(&acl, "+@all allkeys &news.*");
        assert_eq!(check(&acl, &v, "PUBLISH news.a m"), Ok(()));
        assert_eq!(check(&acl, &v, "PUBLISH other m"), Err(Denied::Channel(1)));
        assert_eq!(check(&acl, &v, "PSUBSCRIBE news.*"), Ok(()));
        assert_eq!(
            check(&acl, &v, "PSUBSCRIBE news.a*"),
            Err(Denied::Channel(1))
        );
        // AUTH is always allowed.
        assert_eq!(check(&acl, &user(&acl, "-@all"), "AUTH a b"), Ok(()));
    }

    #[test]
    fn rules_are_described_as_redis_describes_them() {
        let acl = acl();
        let u = user(&acl, "on >123 +@scripting +set ~x*");
        assert!(acl
            .describe(&u)
            .ends_with("~x* resetchannels -@all +@scripting +set"));
        assert_eq!(
            acl.describe(&user(&acl, "+@all -@dangerous")),
            "off resetchannels +@all -@dangerous"
        );
        assert_eq!(
            acl.describe(&user(&acl, "+get -get")),
            "off resetchannels -@all"
        );
        let d = acl.get("default").unwrap();
        assert_eq!(acl.describe(&d), "on nopass ~* &* +@all");
        let mut bad = acl.new_user("b");
        assert_eq!(acl.apply(&mut bad, b"+nosuch"), Err(UNKNOWN));
        assert_eq!(acl.apply(&mut bad, b"bogus"), Err(SYNTAX));
    }
}
