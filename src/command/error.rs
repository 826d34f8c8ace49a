//! Redis's exact error texts, in one place, each with its kind (which `INFO errorstats`
//! counts). The dispatcher's own (unknown command, arity, NOAUTH, OOM) are re-exported from
//! the engine.

pub use crate::engine::errors::{
    trunc, unknown_command, unknown_subcommand, wrong_arity, NOAUTH, OOM,
};
use crate::engine::{CmdError, ErrKind};

const fn err(text: &'static str) -> CmdError {
    CmdError::new(ErrKind::Err, text)
}

pub const WRONGTYPE: CmdError = CmdError::new(
    ErrKind::WrongType,
    "WRONGTYPE Operation against a key holding the wrong kind of value",
);
pub const SYNTAX: CmdError = err("ERR syntax error");
pub const NOT_INTEGER: CmdError = err("ERR value is not an integer or out of range");
pub const NOT_FLOAT: CmdError = err("ERR value is not a valid float");
pub const OVERFLOW: CmdError = err("ERR increment or decrement would overflow");
pub const NAN_OR_INF: CmdError = err("ERR increment would produce NaN or Infinity");
pub const NO_SUCH_KEY: CmdError = err("ERR no such key");
pub const DB_RANGE: CmdError = err("ERR DB index is out of range");
pub const SAME_OBJECT: CmdError = err("ERR source and destination objects are the same");
pub const STRING_TOO_LONG: CmdError =
    err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
pub const OFFSET_RANGE: CmdError = err("ERR offset is out of range");
pub const AUTH_NOPASS: CmdError = err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
pub const WRONGPASS: CmdError = CmdError::new(
    ErrKind::WrongPass,
    "WRONGPASS invalid username-password pair or user is disabled.",
);
/// Most elements a random-with-repeats reply (`HRANDFIELD`/`SRANDMEMBER` with a negative
/// count) may have. Redis has no bound and would build the reply until memory runs out; here a
/// larger count is refused with `ERR value is out of range`, so one request cannot exhaust the
/// server.
pub const MAX_RANDOM_REPLY: u64 = 100_000_000;

/// A count of `i64::MIN` (whose negation would overflow), in Redis's wording.
pub const COUNT_RANGE: CmdError = err(
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
);
pub const NO_SCRIPT: CmdError = err("ERR This instance has no scripting support");

/// A generic error with a built text (`ERR …`).
/// Redis's `addReplySubcommandSyntaxError`: a subcommand given the wrong arguments.
pub fn subcommand_syntax(args: &[bytes::Bytes], container: &str) -> CmdError {
    msg(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {container} HELP.",
        String::from_utf8_lossy(&args[1])
    ))
}

pub fn msg(text: String) -> CmdError {
    CmdError::err(text)
}

/// A fixed generic error text (`ERR …`).
pub const fn text(t: &'static str) -> CmdError {
    err(t)
}

pub fn invalid_expire(cmd: &str) -> CmdError {
    CmdError::err(format!("ERR invalid expire time in '{cmd}' command"))
}

/// A string that is not an HLL where one is expected (`PFADD`, `PFCOUNT`, `PFMERGE`).
pub const HLL_WRONGTYPE: CmdError = CmdError::new(
    ErrKind::WrongType,
    "WRONGTYPE Key is not a valid HyperLogLog string value.",
);
/// An HLL whose registers do not decode. Redis counts it as `INVALIDOBJ` in
/// `INFO errorstats`; it is counted under `ERR` here (there is no such kind yet).
pub const HLL_CORRUPT: CmdError =
    CmdError::new(ErrKind::Err, "INVALIDOBJ Corrupted HLL object detected");
