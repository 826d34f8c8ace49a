#!/usr/bin/env python3
"""Generate src/command/meta.rs: Redis 7.0's command tips and key specs (with their flags),
as `COMMAND INFO` reports them, read from a running redis-server (the oracle).

usage: python3 scripts/gen_command_meta.py PORT > src/command/meta.rs
"""
import socket, sys


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def call(self, *args):
        a = [x.encode() for x in args]
        self.s.sendall(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a))
        return self.read()

    def read(self):
        line = self.f.readline()[:-2]
        t, v = line[:1], line[1:]
        if t == b"+":
            return v.decode()
        if t == b":":
            return int(v)
        if t == b"$":
            n = int(v)
            return None if n < 0 else self.f.read(n + 2)[:-2].decode()
        if t == b"*":
            return [self.read() for _ in range(int(v))]
        raise SystemExit(f"unexpected reply {line!r}")


def pairs(flat):
    return dict(zip(flat[::2], flat[1::2]))


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def spec(sp):
    m = pairs(sp)
    notes = f"Some({rust_str(m['notes'])})" if "notes" in m else "None"
    flags = ", ".join(rust_str(f) for f in m["flags"])
    b = pairs(m["begin_search"])
    bs = pairs(b["spec"])
    if b["type"] == "index":
        begin = f"B::Index({bs['index']})"
    elif b["type"] == "keyword":
        begin = f"B::Keyword({rust_str(bs['keyword'])}, {bs['startfrom']})"
    else:
        begin = "B::Unknown"
    k = pairs(m["find_keys"])
    ks = pairs(k["spec"])
    if k["type"] == "range":
        find = f"F::Range({ks['lastkey']}, {ks['keystep']}, {ks['limit']})"
    elif k["type"] == "keynum":
        find = f"F::KeyNum({ks['keynumidx']}, {ks['firstkey']}, {ks['keystep']})"
    else:
        find = "F::Unknown"
    return f"S {{ notes: {notes}, flags: &[{flags}], begin: {begin}, find: {find} }}"


def main():
    c = Conn(int(sys.argv[1]))
    rows = {}

    def add(e):
        rows[e[0]] = (e[7], e[8])
        for sub in e[9]:
            add(sub)

    for e in c.call("COMMAND"):
        add(e)
    print("//! Redis 7.0's command tips and key specs (flags, where the search begins, how keys")
    print("//! are found), as `COMMAND INFO` reports them. Generated from redis-server 7.0.15 by")
    print("//! `scripts/gen_command_meta.py`; do not edit by hand.")
    print()
    print("use super::keyspecs::{BeginMeta as B, FindMeta as F, SpecMeta as S};")
    print()
    print("/// (full command name, tips, key specs), sorted by name.")
    print("#[rustfmt::skip]")
    print("pub static META: &[(&str, &[&str], &[S])] = &[")
    for name in sorted(rows):
        tips, specs = rows[name]
        t = ", ".join(rust_str(x) for x in tips)
        s = ", ".join(spec(x) for x in specs)
        print(f"    ({rust_str(name)}, &[{t}], &[{s}]),")
    print("];")


main()
