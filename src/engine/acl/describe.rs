//! A user's command rules rebuilt from its bits, as Redis 7.0 does
//! (`ACLDescribeSelectorCommandRules`): start from `+@all` (when the user got it) or
//! `-@all`, then greedily apply the category that best fits what remains, then fix single
//! commands. So `+get -get` describes as `-@all`, and the order rules were given in is not
//! kept. Single commands come in command-table order (Redis: its hash table's order).

use super::{Acl, User, CATEGORIES};

/// Set command `idx`'s bit, and its subcommands' (Redis's `ACLChangeSelectorPerm`).
fn change(acl: &Acl, bits: &mut [bool], idx: usize, on: bool) {
    bits[idx] = on;
    if !acl.registry.cmds[idx].subs.is_empty() {
        for (j, p) in acl.registry.parent.iter().enumerate() {
            if *p == Some(idx) {
                bits[j] = on;
            }
        }
    }
}

/// Apply `±@category` to `bits`.
fn apply_category(acl: &Acl, bits: &mut [bool], cat: usize, on: bool) {
    for i in 0..bits.len() {
        if acl.cats[i] & (1 << cat) != 0 {
            change(acl, bits, i, on);
        }
    }
}

pub fn commands(acl: &Acl, u: &User) -> String {
    let n = acl.registry.cmds.len();
    let additive = !u.future;
    let mut rules = vec![if additive { "-@all" } else { "+@all" }.to_string()];
    // What the rules emitted so far grant, and the user's bits with the emitted categories
    // taken back (so each category is judged on what is still unexplained).
    let mut fake = vec![!additive; n];
    let mut temp: Vec<bool> = (0..n).map(|i| u.allows(i)).collect();
    let mut applied = [false; CATEGORIES.len()];
    loop {
        let mut best = None;
        let (mut mindiff, mut maxsame) = (usize::MAX, 0);
        for (j, done) in applied.iter().enumerate() {
            if *done {
                continue;
            }
            let (mut on, mut off) = (0, 0);
            for (i, bit) in temp.iter().enumerate() {
                if acl.cats[i] & (1 << j) != 0 {
                    if *bit {
                        on += 1;
                    } else {
                        off += 1;
                    }
                }
            }
            let (diff, same) = if additive { (off, on) } else { (on, off) };
            if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                best = Some(j);
                mindiff = diff;
                maxsame = same;
            }
        }
        let Some(j) = best else { break };
        rules.push(format!(
            "{}@{}",
            if additive { "+" } else { "-" },
            CATEGORIES[j]
        ));
        apply_category(acl, &mut fake, j, additive);
        apply_category(acl, &mut temp, j, !additive);
        applied[j] = true;
    }
    // Single commands, each top-level command followed by its subcommands.
    let reg = acl.registry;
    for top in reg.top_level() {
        let family = std::iter::once(top).chain((0..n).filter(|&j| reg.parent[j] == Some(top)));
        for i in family {
            let user = u.allows(i);
            if user != fake[i] {
                rules.push(format!(
                    "{}{}",
                    if user { "+" } else { "-" },
                    reg.fullnames[i]
                ));
                change(acl, &mut fake, i, user);
            }
        }
    }
    rules.join(" ")
}
