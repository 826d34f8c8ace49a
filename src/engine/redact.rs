//! Arguments that never reach the slow log or MONITOR as sent: passwords and ACL rules. The
//! same ones as Redis's `redactClientCommandArgument` hides, each shown as `(redacted)`.

use bytes::Bytes;

/// Configuration parameters whose values `CONFIG SET` hides (Redis's `SENSITIVE_CONFIG`).
const SENSITIVE_CONFIGS: [&[u8]; 3] = [b"requirepass", b"masterauth", b"masteruser"];

/// Whether argument `i` of `args` is hidden.
pub fn is_redacted(args: &[Bytes], i: usize) -> bool {
    let is = |a: &Bytes, s: &[u8]| a.eq_ignore_ascii_case(s);
    let (Some(cmd), true) = (args.first(), i > 0) else {
        return false;
    };
    if is(cmd, b"auth") {
        return true;
    }
    if is(cmd, b"hello") {
        // The user and password after AUTH, wherever the option stands.
        return (2..i).any(|j| is(&args[j], b"auth") && i <= j + 2 && j + 2 < args.len());
    }
    if is(cmd, b"acl") {
        return args.len() >= 3 && is(&args[1], b"setuser") && i >= 2;
    }
    if is(cmd, b"config") {
        // `CONFIG SET name value …`: the values of the sensitive parameters.
        return is(&args[1], b"set")
            && i >= 3
            && i % 2 == 1
            && SENSITIVE_CONFIGS.iter().any(|c| is(&args[i - 1], c));
    }
    if is(cmd, b"migrate") {
        // `AUTH password` and `AUTH2 username password`.
        return (6..i).any(|j| {
            (is(&args[j], b"auth") && i == j + 1) || (is(&args[j], b"auth2") && i <= j + 2)
        });
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hidden(line: &str) -> Vec<usize> {
        let args: Vec<Bytes> = line
            .split(' ')
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect();
        (0..args.len()).filter(|&i| is_redacted(&args, i)).collect()
    }

    #[test]
    fn passwords_and_rules_are_hidden() {
        assert_eq!(hidden("AUTH user pass"), [1, 2]);
        assert_eq!(hidden("HELLO 3 SETNAME n AUTH u p"), [5, 6]);
        assert_eq!(hidden("ACL SETUSER alice on >pw"), [2, 3, 4]);
        assert_eq!(hidden("CONFIG SET maxmemory 1 requirepass x"), [5]);
        assert_eq!(hidden("MIGRATE h 1 k 0 1 AUTH2 u p"), [7, 8]);
        assert_eq!(hidden("MIGRATE h 1 k 0 1 AUTH p KEYS a"), [7]);
        assert!(hidden("SET auth x").is_empty());
        assert!(hidden("ACL LIST").is_empty());
    }
}
