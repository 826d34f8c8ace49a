//! `ACL` subcommands: users and their permissions (`engine::acl` holds them and documents
//! what is not supported).

use super::error;
use super::server::help;
use super::{flags::*, Cmd, Ctx, Outcome};
use crate::engine::acl::{Denied, CATEGORIES};
use crate::num::parse_i64;
use bytes::Bytes;

/// Most bits `ACL GENPASS` makes (Redis's `GENPASS_MAX_BITS`).
const GENPASS_MAX_BITS: i64 = 4096;

fn container(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Ok(())
}

fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// `ACL SETUSER name rule…`: every rule applies, or none (the first bad one is named).
fn setuser(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let name = &args[2];
    if name.iter().any(|&c| c == b' ' || c == 0) {
        return Err(error::text(
            "ERR Usernames can't contain spaces or null characters",
        ));
    }
    let acl = &ctx.engine.acl;
    let name = lossy(name).into_owned();
    let mut user = match acl.get(&name) {
        Some(u) => (*u).clone(),
        None => acl.new_user(&name),
    };
    for rule in &args[3..] {
        if let Err(why) = acl.apply(&mut user, rule) {
            return Err(error::msg(format!(
                "ERR Error in ACL SETUSER modifier '{}': {why}",
                lossy(rule)
            )));
        }
    }
    acl.put(user);
    ctx.out.ok();
    Ok(())
}

/// `ACL DELUSER name…`: their connections are closed, as in Redis.
fn deluser(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if args[2..].iter().any(|a| &a[..] == b"default") {
        return Err(error::text("ERR The 'default' user cannot be removed"));
    }
    let mut deleted = 0;
    for name in &args[2..] {
        let name = lossy(name);
        if !ctx.engine.acl.remove(&name) {
            continue;
        }
        deleted += 1;
        let me = ctx.client.info.id;
        for c in ctx.engine.clients.lock().values() {
            if **c.user.lock() != *name {
                continue;
            }
            if c.id == me {
                ctx.client.close = true;
            } else {
                c.kill();
            }
        }
    }
    ctx.out.int(deleted);
    Ok(())
}

fn getuser(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let acl = &ctx.engine.acl;
    let Some(u) = acl.get(&lossy(&args[2])) else {
        ctx.out.null();
        return Ok(());
    };
    let out = &mut *ctx.out;
    out.map(6);
    out.bulk(b"flags");
    let mut flags = vec![if u.on { "on" } else { "off" }];
    if u.nopass {
        flags.push("nopass");
    }
    match u.sanitize {
        Some(false) => flags.push("skip-sanitize-payload"),
        Some(true) => flags.push("sanitize-payload"),
        None => {}
    }
    out.set(flags.len());
    for f in flags {
        out.bulk(f.as_bytes());
    }
    out.bulk(b"passwords");
    out.array(u.passwords.len());
    for p in &u.passwords {
        out.bulk(p.as_bytes());
    }
    out.bulk(b"commands");
    out.bulk(acl.describe_commands(&u).as_bytes());
    out.bulk(b"keys");
    out.bulk(acl.describe_keys(&u).as_bytes());
    out.bulk(b"channels");
    out.bulk(acl.describe_channels(&u).as_bytes());
    out.bulk(b"selectors");
    out.array(0);
    Ok(())
}

fn list(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let acl = &ctx.engine.acl;
    let users = acl.users();
    ctx.out.array(users.len());
    for u in users {
        let line = format!("user {} {}", u.name, acl.describe(&u));
        ctx.out.bulk(line.as_bytes());
    }
    Ok(())
}

fn users(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let names = ctx.engine.acl.names();
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
    Ok(())
}

fn whoami(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let name = ctx.client.user.clone();
    ctx.out.bulk(name.as_bytes());
    Ok(())
}

/// `ACL CAT [category]`: the categories, or the commands (and subcommands) in one.
fn cat(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let Some(name) = args.get(2) else {
        ctx.out.array(CATEGORIES.len());
        for c in CATEGORIES {
            ctx.out.bulk(c.as_bytes());
        }
        return Ok(());
    };
    let Some(bit) = CATEGORIES
        .iter()
        .position(|c| name.eq_ignore_ascii_case(c.as_bytes()))
    else {
        let shown = &name[..name.len().min(128)];
        return Err(error::msg(format!(
            "ERR Unknown category '{}'",
            lossy(shown)
        )));
    };
    let engine = ctx.engine;
    let names: Vec<&String> = (0..engine.registry.cmds.len())
        .filter(|&i| engine.acl.categories(i) & (1 << bit) != 0)
        .map(|i| &engine.registry.fullnames[i])
        .collect();
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
    Ok(())
}

/// `ACL GENPASS [bits]`: random hex from the operating system's generator.
fn genpass(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    // As Redis, which takes at most one argument here.
    if args.len() > 3 {
        return Err(error::subcommand_syntax(args, "ACL"));
    }
    let bits = match args.get(2) {
        Some(a) => parse_i64(a).ok_or(error::NOT_INTEGER)?,
        None => 256,
    };
    if bits <= 0 || bits > GENPASS_MAX_BITS {
        return Err(error::msg(format!("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to {GENPASS_MAX_BITS}")));
    }
    let chars = ((bits + 3) / 4) as usize;
    let mut raw = vec![0u8; chars.div_ceil(2)];
    getrandom::fill(&mut raw).map_err(|e| error::msg(format!("ERR {e}")))?;
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    ctx.out.bulk(&hex.as_bytes()[..chars]);
    Ok(())
}

/// `ACL LOG [count|RESET]`: the newest denials (10 by default).
fn log(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    // As Redis, which takes at most one argument here.
    if args.len() > 3 {
        return Err(error::subcommand_syntax(args, "ACL"));
    }
    let acl = &ctx.engine.acl;
    let count = match args.get(2) {
        Some(a) if a.eq_ignore_ascii_case(b"reset") => {
            acl.log.reset();
            ctx.out.ok();
            return Ok(());
        }
        Some(a) => parse_i64(a).ok_or(error::NOT_INTEGER)?.max(0) as usize,
        None => 10,
    };
    let now = ctx.engine.store.now();
    let entries = acl.log.latest(count);
    let out = &mut *ctx.out;
    out.array(entries.len());
    for e in entries {
        out.map(7);
        out.bulk(b"count");
        out.int(e.count as i64);
        for (k, v) in [
            ("reason", e.reason),
            ("context", e.context),
            ("object", &e.object),
            ("username", &e.username),
        ] {
            out.bulk(k.as_bytes());
            out.bulk(v.as_bytes());
        }
        out.bulk(b"age-seconds");
        out.double(now.saturating_sub(e.ctime) as f64 / 1000.0);
        out.bulk(b"client-info");
        out.bulk(e.client_info.as_bytes());
    }
    Ok(())
}

fn no_file(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Err(error::text("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."))
}

/// `ACL DRYRUN user command arg…`: whether `user` could run it, and why not.
fn dryrun(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let engine = ctx.engine;
    let Some(user) = engine.acl.get(&lossy(&args[2])) else {
        return Err(error::msg(format!(
            "ERR User '{}' not found",
            lossy(&args[2])
        )));
    };
    let cmd_args = &args[3..];
    let Ok(idx) = engine.registry.resolve(cmd_args) else {
        return Err(error::msg(format!(
            "ERR Command '{}' not found",
            lossy(&args[3])
        )));
    };
    let cmd = engine.registry.cmds[idx];
    let argc = cmd_args.len() as i32;
    let name = &engine.registry.fullnames[idx];
    if (cmd.arity > 0 && cmd.arity != argc) || argc < -cmd.arity {
        return Err(error::msg(format!(
            "ERR wrong number of arguments for '{name}' command"
        )));
    }
    match engine.acl.check(&user, idx, cmd_args) {
        Ok(()) => ctx.out.ok(),
        Err(Denied::Command) => ctx
            .out
            .bulk(format!("This user has no permissions to run the '{name}' command").as_bytes()),
        Err(Denied::Key(i)) => ctx.out.bulk(
            format!(
                "This user has no permissions to access the '{}' key",
                lossy(&cmd_args[i])
            )
            .as_bytes(),
        ),
        Err(Denied::Channel(i)) => ctx.out.bulk(
            format!(
                "This user has no permissions to access the '{}' channel",
                lossy(&cmd_args[i])
            )
            .as_bytes(),
        ),
    }
    Ok(())
}

fn acl_help(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    help(
        ctx,
        "ACL",
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    )
}

const SUB: u32 = NOSCRIPT | LOADING | STALE;

static ACL_SUBS: &[Cmd] = &[
    Cmd::new("setuser", -3, ADMIN | SUB, "server", setuser).doc(
        "Modify or create the rules for a specific ACL user",
        "6.0.0",
    ),
    Cmd::new("list", 2, ADMIN | SUB, "server", list).doc(
        "List the current ACL rules in ACL config file format",
        "6.0.0",
    ),
    Cmd::new("dryrun", -4, ADMIN | SUB, "server", dryrun).doc(
        "Returns whether the user can execute the given command without executing the command.",
        "7.0.0",
    ),
    Cmd::new("genpass", -2, SUB, "server", genpass).doc(
        "Generate a pseudorandom secure password to use for ACL users",
        "6.0.0",
    ),
    Cmd::new("cat", -2, SUB, "server", cat).doc(
        "List the ACL categories or the commands inside a category",
        "6.0.0",
    ),
    Cmd::new("getuser", 3, ADMIN | SUB, "server", getuser)
        .doc("Get the rules for a specific ACL user", "6.0.0"),
    Cmd::new("whoami", 2, SUB, "server", whoami).doc(
        "Return the name of the user associated to the current connection",
        "6.0.0",
    ),
    Cmd::new("users", 2, ADMIN | SUB, "server", users)
        .doc("List the username of all the configured ACL rules", "6.0.0"),
    Cmd::new("log", -2, ADMIN | SUB, "server", log).doc(
        "List latest events denied because of ACLs in place",
        "6.0.0",
    ),
    Cmd::new("deluser", -3, ADMIN | SUB, "server", deluser).doc(
        "Remove the specified ACL users and the associated rules",
        "6.0.0",
    ),
    Cmd::new("help", 2, LOADING | STALE, "server", acl_help)
        .doc("Show helpful text about the different subcommands", "6.0.0"),
    Cmd::new("save", 2, ADMIN | SUB, "server", no_file).doc(
        "Save the current ACL rules in the configured ACL file",
        "6.0.0",
    ),
    Cmd::new("load", 2, ADMIN | SUB, "server", no_file)
        .doc("Reload the ACLs from the configured ACL file", "6.0.0"),
];

pub static COMMANDS: &[Cmd] = &[Cmd::new("acl", -2, 0, "server", container)
    .subs(ACL_SUBS)
    .doc("A container for Access List Control commands ", "6.0.0")];
