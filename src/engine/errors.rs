//! The dispatcher's own errors (unknown command, arity, authentication, memory), with Redis's
//! exact texts. The command families' errors are in `command::error`.

use super::ctx::{CmdError, ErrKind};

pub const NOAUTH: CmdError = CmdError::new(ErrKind::NoAuth, "NOAUTH Authentication required.");
/// A write while `min-replicas-to-write` asks for more good replicas than there are (ferrokv
/// has none).
pub const NOREPLICAS: CmdError = CmdError::new(
    ErrKind::NoReplicas,
    "NOREPLICAS Not enough good replicas to write.",
);

/// A command the client's user may not run (Redis's texts, by what was denied).
pub fn noperm(denied: &super::acl::Denied, fullname: &str) -> CmdError {
    use super::acl::Denied;
    let text = match denied {
        Denied::Command => {
            format!("NOPERM this user has no permissions to run the '{fullname}' command")
        }
        Denied::Key(_) => {
            "NOPERM this user has no permissions to access one of the keys used as arguments"
                .to_string()
        }
        Denied::Channel(_) => {
            "NOPERM this user has no permissions to access one of the channels used as arguments"
                .to_string()
        }
    };
    CmdError::owned(ErrKind::NoPerm, text)
}

pub const OOM: CmdError = CmdError::new(
    ErrKind::Oom,
    "OOM command not allowed when used memory > 'maxmemory'.",
);

pub fn wrong_arity(name: &str) -> CmdError {
    CmdError::err(format!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}

pub fn unknown_subcommand(sub: &[u8], container: &str) -> CmdError {
    CmdError::err(format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        trunc(sub, 128),
        container.to_ascii_uppercase()
    ))
}

/// `ERR unknown command 'x', with args beginning with: 'a' 'b' `, built as Redis builds it:
/// arguments are quoted one by one while the list is shorter than 128 bytes.
pub fn unknown_command(args: &[bytes::Bytes]) -> CmdError {
    let mut list = String::new();
    for a in &args[1..] {
        if list.len() >= 128 {
            break;
        }
        let room = 128 - list.len();
        list.push_str(&format!("'{}' ", trunc(a, room)));
    }
    CmdError::err(format!(
        "ERR unknown command '{}', with args beginning with: {}",
        trunc(&args[0], 128),
        list
    ))
}

/// At most `n` bytes of `b`, as text (`%.Ns`).
pub fn trunc(b: &[u8], n: usize) -> String {
    String::from_utf8_lossy(&b[..b.len().min(n)]).into_owned()
}
