#!/usr/bin/env python3
"""Differential test: random command sequences sent to ferrokv and to a real redis-server.

Usage: scripts/difftest.py [--seed S] [--commands N] [--ferrokv PATH] [--redis-server PATH]
                           [--quiet] [--no-minimise] [--skip REGEX] [--scenario FILE ...]

--quiet prints only the first mismatch of each (command, reply types) signature in full;
--skip REGEX leaves out generated commands matching REGEX (to get past known causes);
--scenario replays spec scenario files on both servers and prints the differing steps.

Both servers are started on free loopback ports, every generated command is sent to both
over raw sockets, and the raw RESP replies are compared byte for byte (array replies of
KEYS/SCAN-like commands are sorted first; TTL-like replies get a small tolerance).
After a mismatch both servers are FLUSHALLed and reset, so mismatches stay independent.
Every mismatch is printed with the (minimised) command sequence since the last FLUSHALL.
Exit code 1 when there are mismatches.
"""
import argparse
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

# ---------------------------------------------------------------- RESP ------------------


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode("latin-1")
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, port):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = bytearray()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self, want=0):
        d = self.sock.recv(max(65536, min(want, 1 << 26)))
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def _line(self, pos):
        while True:
            i = self.buf.find(b"\r\n", pos)
            if i >= 0:
                return i
            self._fill()

    def _need(self, n):
        while len(self.buf) < n:
            self._fill(n - len(self.buf))

    def _parse(self, pos):
        """Returns (value, newpos). value = (type_byte, payload)."""
        self._need(pos + 1)
        t = bytes(self.buf[pos:pos + 1])
        e = self._line(pos)
        line = bytes(self.buf[pos + 1:e])
        pos = e + 2
        if t in (b"+", b"-", b":", b",", b"_", b"#", b"("):
            return (t, line), pos
        if t in (b"$", b"=", b"!"):
            n = int(line)
            if n < 0:
                return (t, None), pos
            self._need(pos + n + 2)
            return (t, bytes(self.buf[pos:pos + n])), pos + n + 2
        if t in (b"*", b"~", b">", b"%", b"|"):
            n = int(line)
            if n < 0:
                return (t, None), pos
            if t in (b"%", b"|"):
                n *= 2
            items = []
            for _ in range(n):
                v, pos = self._parse(pos)
                items.append(v)
            return (t, items), pos
        raise ValueError("bad RESP type %r in %r" % (t, self.buf[pos - 20:pos + 20]))

    def read(self):
        v, pos = self._parse(0)
        raw = bytes(self.buf[:pos])
        del self.buf[:pos]
        return raw, v

    def call(self, args):
        self.sock.sendall(encode(args))
        return self.read()


def serialize(v):
    t, p = v
    if p is None:
        return t + b"-1\r\n"
    if isinstance(p, list):
        n = len(p) // 2 if t in (b"%", b"|") else len(p)
        return t + b"%d\r\n" % n + b"".join(serialize(x) for x in p)
    if t in (b"$", b"=", b"!"):
        return t + b"%d\r\n" % len(p) + p + b"\r\n"
    return t + p + b"\r\n"


def sort_reply(v):
    """Sort an array reply (or the key array of a SCAN reply)."""
    t, p = v
    if isinstance(p, list):
        if len(p) == 2 and isinstance(p[1][1], list) and p[0][0] == b"$":  # SCAN
            return (t, [p[0], sort_reply(p[1])])
        if t in (b"%",):
            pairs = sorted(zip(p[0::2], p[1::2]), key=lambda x: serialize(x[0]))
            return (t, [y for x in pairs for y in x])
        return (t, sorted(p, key=serialize))
    return v


def show(raw, limit=400):
    s = repr(raw)[2:-1]
    return s if len(s) <= limit else s[:limit] + "...(%d bytes)" % len(raw)


# ---------------------------------------------------------------- servers ---------------


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, proc, name):
    deadline = time.time() + 10
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("%s exited early with %s" % (name, proc.returncode))
        try:
            c = Conn(port)
            c.call(["PING"])
            c.close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("%s did not start on port %d" % (name, port))


# ---------------------------------------------------------------- grammar ---------------

KEYS = ["k1", "k2", "k3", "s1", "l1", "h1", "z1", "n1", "{a}b", "k\r\n", "", "k*"]
EDGE = ["0", "-1", "1", "2", "10", "100", "-100", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "1.5", "-1.5", "1e3", "1E3", "", " 1", "1 ", "+1", "01", "-0", "0x10", "inf", "-inf",
        "+inf", "nan", "abc", "1.0", ".5", "5.", "3.0e2", "1e400", "0.1", "17179869184",
        "4611686018427387904", "999999999999999999999", "\x00", "12\x00", "1\r\n"]
VALUES = ["v", "", "hello", "a\r\nb", "\x00\x01\xff", "x" * 50, "y" * 45, "z" * 44, "123",
          "-5", "12345678901234567890", "3.14", "1e5", "\r\n", "\x00", "0", "00"]
EXP_REL = ["0", "-1", "100", "1000", "-100", "9223372036854775807", "-9223372036854775808",
           "9223372036854775806", "922337203685477580", "1.5", "", " 100", "+100", "0100", "abc",
           "100000", "4611686018427387904", "9223372036854775", "9223372036854776"]
EXP_ABS = ["4102444800", "1", "0", "-1", "4102444800000", "9223372036854775807",
           "-9223372036854775808", "abc", "1.5", "4102444801", "9223372036854775", "253402300799"]
PATTERNS = ["*", "k*", "k?", "[a-k]*", "*1", "\\*", "k[^1]", "{*", "*\r*", "", "s*", "[", "h\\1"]
CONFIGS = {
    "list-max-listpack-size": ["-2", "-1", "-5", "-6", "1", "2", "128", "abc", "0"],
    "list-max-ziplist-size": ["-2", "3"],
    "hash-max-listpack-entries": ["128", "1", "0", "2", "-1", "abc"],
    "hash-max-ziplist-entries": ["128", "2"],
    "hash-max-listpack-value": ["64", "3", "0", "1e3"],
    "set-max-intset-entries": ["512", "1", "2", "0", "-1"],
    "zset-max-listpack-entries": ["128", "1", "2", "0"],
    "zset-max-listpack-value": ["64", "3", "0"],
    "zset-max-ziplist-value": ["64", "3"],
    "maxmemory-policy": ["noeviction", "allkeys-lru", "bogus", "volatile-ttl", "NOEVICTION"],
    "hz": ["10", "1", "500", "0", "1000", "abc"],
    "maxmemory-samples": ["5", "1", "0", "64", "65"],
    "lazyfree-lazy-user-del": ["no", "yes", "maybe", "YES"],
    "slowlog-max-len": ["128", "0", "-1"],
    "notify-keyspace-events": [""],
    "maxmemory": ["0", "0mb", "0gb"],
}
CONFIG_DEFAULTS = {
    "list-max-listpack-size": "-2", "hash-max-listpack-entries": "128",
    "hash-max-listpack-value": "64", "set-max-intset-entries": "512",
    "zset-max-listpack-entries": "128", "zset-max-listpack-value": "64",
    "maxmemory-policy": "noeviction", "hz": "10", "maxmemory-samples": "5",
    "lazyfree-lazy-user-del": "no", "slowlog-max-len": "128", "maxmemory": "0",
}


class Gen:
    def __init__(self, rng):
        self.r = rng

    def pick(self, xs):
        return self.r.choice(xs)

    def key(self):
        return self.pick(KEYS) if self.r.random() < 0.9 else "k%d" % self.r.randint(0, 3)

    def num(self):
        if self.r.random() < 0.6:
            return self.pick(EDGE)
        return str(self.r.randint(-20, 20))

    def val(self):
        x = self.r.random()
        if x < 0.5:
            return self.pick(VALUES)
        if x < 0.8:
            return self.num()
        return "".join(self.r.choice("ab\r\n\x00 1") for _ in range(self.r.randint(0, 8)))

    def keys(self, lo=1, hi=4):
        return [self.key() for _ in range(self.r.randint(lo, hi))]

    def case(self, w):
        x = self.r.random()
        return w.lower() if x < 0.2 else (w.capitalize() if x < 0.25 else w)

    def set_opts(self):
        opts = []
        for _ in range(self.r.randint(0, 3)):
            o = self.pick(["NX", "XX", "GET", "EX", "PX", "EXAT", "PXAT", "KEEPTTL", "ex", "BOGUS"])
            opts.append(o)
            if o.upper() in ("EX",):
                opts.append(self.pick(EXP_REL))
            elif o == "PX":
                opts.append(self.pick(["100000", "0", "-1", "abc", "9223372036854775807", "1000000"]))
            elif o in ("EXAT", "PXAT"):
                opts.append(self.pick(EXP_ABS))
        if self.r.random() < 0.05 and opts:
            opts.pop()  # dangling option
        return opts

    def getex_opts(self):
        x = self.r.random()
        if x < 0.3:
            return []
        o = self.pick(["EX", "PX", "EXAT", "PXAT", "PERSIST", "KEEPTTL", "ex", "NX"])
        if o in ("EX", "ex"):
            return [o, self.pick(EXP_REL)]
        if o == "PX":
            return [o, self.pick(["100000", "0", "-1", "abc", "9223372036854775807"])]
        if o in ("EXAT", "PXAT"):
            return [o, self.pick(EXP_ABS)]
        r = [o]
        if self.r.random() < 0.2:
            r += [self.pick(["EX", "PERSIST"]), "100"]
        return r

    def expire_flags(self):
        return [self.pick(["NX", "XX", "GT", "LT", "nx", "BOGUS"]) for _ in range(self.r.choice([0, 0, 1, 1, 2]))]

    def db(self):
        return self.pick(["0", "1", "2", "15", "16", "-1", "abc", "1.5", ""])

    def idx(self):
        return self.pick(["0", "1", "-1", "-2", "2", "5", "-100", "100", "abc", "9223372036854775807"])

    def score(self):
        return self.pick(["1", "2.5", "-inf", "+inf", "(1", "(2.5", "0", "-1", "abc", "(", "3", "nan"])

    def lex(self):
        return self.pick(["-", "+", "[m", "(m", "[n", "(o", "[", "m", "[\x00"])

    def member(self):
        return self.pick(["m", "n", "o", "", "m\x00", "1", "2", "10"])

    def collection(self):
        """Reads and writes of every collection family, on the same keys as the rest."""
        r, k, m = self.r, self.key, self.member
        forms = [
            lambda: [self.pick(["LPUSHX", "RPUSHX"]), k(), self.val()],
            lambda: [self.pick(["LPOP", "RPOP"]), k()] + ([self.pick(["0", "1", "3", "-1", "abc"])] if r.random() < 0.5 else []),
            lambda: ["LRANGE", k(), self.idx(), self.idx()],
            lambda: ["LINDEX", k(), self.idx()],
            lambda: ["LSET", k(), self.idx(), self.val()],
            lambda: ["LREM", k(), self.pick(["0", "1", "-1", "2", "abc"]), self.val()],
            lambda: ["LTRIM", k(), self.idx(), self.idx()],
            lambda: ["LINSERT", k(), self.pick(["BEFORE", "AFTER", "after", "BOGUS"]), self.val(), self.val()],
            lambda: ["LPOS", k(), self.val()] + self.pick([[], ["RANK", self.pick(["1", "-1", "0", "2"])], ["COUNT", self.pick(["0", "2"])], ["MAXLEN", "1"]]),
            lambda: ["LMOVE", k(), k(), self.pick(["LEFT", "RIGHT"]), self.pick(["LEFT", "RIGHT", "UP"])],
            lambda: ["RPOPLPUSH", k(), k()],
            lambda: ["LMPOP", self.pick(["1", "2", "0", "abc"]), k(), k(), self.pick(["LEFT", "RIGHT", "MID"])] + self.pick([[], ["COUNT", "2"], ["COUNT", "0"]]),
            lambda: ["HGET", k(), self.pick(["f", "g", "h", ""])],
            lambda: ["HMGET", k(), "f", "g"],
            lambda: ["HDEL", k(), "f", self.pick(["g", "h"])],
            lambda: ["HEXISTS", k(), "f"],
            lambda: ["HSTRLEN", k(), self.pick(["f", "g"])],
            lambda: ["HINCRBY", k(), self.pick(["f", "n"]), self.num()],
            lambda: ["HINCRBYFLOAT", k(), self.pick(["f", "n"]), self.num()],
            lambda: ["HSETNX", k(), self.pick(["f", "g", "x"]), self.val()],
            lambda: ["@sorted", "HKEYS", k()],
            lambda: ["@sorted", "HVALS", k()],
            lambda: ["SISMEMBER", k(), self.val()],
            lambda: ["SMISMEMBER", k(), self.val(), self.val()],
            lambda: ["SREM", k(), self.val(), self.val()],
            lambda: ["SMOVE", k(), k(), self.val()],
            lambda: ["@sorted", "SMEMBERS", k()],
            lambda: ["@sorted", self.pick(["SINTER", "SUNION", "SDIFF"]), k(), k()],
            lambda: [self.pick(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), k(), k(), k()],
            lambda: ["SINTERCARD", self.pick(["2", "1", "0"]), k(), k()] + self.pick([[], ["LIMIT", "1"], ["LIMIT", "-1"]]),
            lambda: ["ZSCORE", k(), m()],
            lambda: ["ZMSCORE", k(), m(), m()],
            lambda: ["ZINCRBY", k(), self.score(), m()],
            lambda: ["ZREM", k(), m(), m()],
            lambda: [self.pick(["ZRANK", "ZREVRANK"]), k(), m()],
            lambda: ["ZCOUNT", k(), self.score(), self.score()],
            lambda: ["ZLEXCOUNT", k(), self.lex(), self.lex()],
            lambda: ["ZRANGE", k(), self.idx(), self.idx()] + self.pick([[], ["WITHSCORES"], ["REV"], ["REV", "WITHSCORES"]]),
            lambda: ["ZRANGE", k(), self.score(), self.score(), "BYSCORE"] + self.pick([[], ["REV"], ["LIMIT", "1", "2"], ["WITHSCORES"]]),
            lambda: ["ZRANGE", k(), self.lex(), self.lex(), "BYLEX"] + self.pick([[], ["REV"], ["LIMIT", "0", "1"]]),
            lambda: [self.pick(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]), k(), self.score(), self.score()] + self.pick([[], ["WITHSCORES"], ["LIMIT", "0", "2"]]),
            lambda: [self.pick(["ZRANGEBYLEX", "ZREVRANGEBYLEX"]), k(), self.lex(), self.lex()],
            lambda: ["ZRANGESTORE", k(), k(), self.idx(), self.idx()],
            lambda: [self.pick(["ZPOPMIN", "ZPOPMAX"]), k()] + ([self.pick(["1", "2", "0", "-1"])] if r.random() < 0.5 else []),
            lambda: [self.pick(["ZREMRANGEBYRANK"]), k(), self.idx(), self.idx()],
            lambda: [self.pick(["ZREMRANGEBYSCORE"]), k(), self.score(), self.score()],
            lambda: [self.pick(["ZREMRANGEBYLEX"]), k(), self.lex(), self.lex()],
            lambda: [self.pick(["ZUNION", "ZINTER", "ZDIFF"]), "2", k(), k()] + self.pick([[], ["WITHSCORES"]]),
            lambda: [self.pick(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]), k(), "2", k(), k()] + self.pick([[], ["WEIGHTS", "2", "3"], ["AGGREGATE", "MAX"]]),
            lambda: ["ZINTERCARD", "2", k(), k()],
            lambda: ["ZMPOP", "2", k(), k(), self.pick(["MIN", "MAX"])],
            lambda: ["ZSCAN", k(), "0"],
            lambda: ["SORT", k()] + self.pick([[], ["ALPHA"], ["DESC"], ["LIMIT", "0", "2"], ["ALPHA", "STORE", "k3"]]),
            lambda: ["DUMP", k()] if False else ["EXISTS", k()],
        ]
        return self.pick(forms)()

    def command(self):
        r = self.r
        k = self.key
        c = r.randint(0, 99)
        w = self.case
        if c < 4:
            return [w("SET"), k(), self.val()] + self.set_opts()
        if c < 6:
            return [w("GET"), k()] + ([self.val()] if r.random() < 0.03 else [])
        if c < 7:
            return [w("GETSET"), k(), self.val()]
        if c < 8:
            return [w("GETDEL"), k()]
        if c < 10:
            return [w("GETEX"), k()] + self.getex_opts()
        if c < 11:
            return [w("SETNX"), k(), self.val()]
        if c < 12:
            return [w("SETEX"), k(), self.pick(EXP_REL), self.val()]
        if c < 13:
            return [w("PSETEX"), k(), self.pick(["100000", "0", "-1", "abc", "9223372036854775807"]), self.val()]
        if c < 15:
            n = r.randint(0, 3)
            a = []
            for _ in range(n):
                a += [k(), self.val()]
            if r.random() < 0.1:
                a.append(k())
            return [self.pick(["MSET", "MSETNX"])] + a
        if c < 16:
            return ["MGET"] + self.keys(0, 4)
        if c < 18:
            return [w("APPEND"), k(), self.val()]
        if c < 19:
            return ["STRLEN", k()]
        if c < 21:
            return [self.pick(["GETRANGE", "SUBSTR"]), k(), self.num(), self.num()]
        if c < 23:
            off = self.pick(["0", "1", "5", "-1", "abc", "536870911", "536870912", "100", "3"])
            v = "" if off == "536870911" else self.val()  # never build 512 MB values
            return [w("SETRANGE"), k(), off, v]
        if c < 26:
            return [self.pick(["INCR", "DECR"]), k()]
        if c < 29:
            return [self.pick(["INCRBY", "DECRBY"]), k(), self.num()]
        if c < 31:
            return [w("INCRBYFLOAT"), k(), self.num()]
        if c < 33:
            return [self.pick(["DEL", "UNLINK", "EXISTS", "TOUCH"])] + self.keys(0, 4)
        if c < 35:
            return [w("TYPE"), k()]
        if c < 37:
            return [self.pick(["RENAME", "RENAMENX"]), k(), k()]
        if c < 38:
            return ["@sorted", "KEYS", self.pick(PATTERNS)]
        if c < 39:
            a = ["@sorted", "SCAN", self.pick(["0", "0", "0", "abc", "", "-1x"])]
            for _ in range(r.randint(0, 2)):
                o = self.pick(["MATCH", "COUNT", "TYPE", "BOGUS"])
                a.append(o)
                if o == "MATCH":
                    a.append(self.pick(PATTERNS))
                elif o == "COUNT":
                    a.append(self.pick(["1000", "0", "-1", "abc"]))
                elif o == "TYPE":
                    a.append(self.pick(["string", "list", "set", "zset", "hash", "bogus", "STRING"]))
            if "COUNT" not in a:
                a += ["COUNT", "1000"]
            return a
        if c < 40:
            return ["@randomkey", "RANDOMKEY"]
        if c < 42:
            a = [w("COPY"), k(), k()]
            for _ in range(r.randint(0, 2)):
                o = self.pick(["REPLACE", "DB", "BOGUS"])
                a.append(o)
                if o == "DB":
                    a.append(self.db())
            return a
        if c < 43:
            return ["MOVE", k(), self.db()]
        if c < 44:
            return ["SWAPDB", self.db(), self.db()]
        if c < 46:
            return ["OBJECT", self.pick(["ENCODING", "encoding", "REFCOUNT", "BOGUS"]), k()]
        if c < 50:
            cmd = self.pick(["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
            if cmd == "EXPIRE":
                t = self.pick(EXP_REL)
            elif cmd == "PEXPIRE":
                t = self.pick(["100000", "1000000", "0", "-1", "abc", "9223372036854775807",
                               "-9223372036854775808", "9223372036854775", "1.5"])
            else:
                t = self.pick(EXP_ABS)
            return [cmd, k(), t] + self.expire_flags()
        if c < 53:
            return ["@ttl", self.pick(["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]), k()]
        if c < 54:
            return ["PERSIST", k()]
        if c < 55:
            return [self.pick(["PING", "ECHO"])] + [self.val() for _ in range(r.choice([0, 1, 1, 2]))]
        if c < 57:
            return [w("SELECT"), self.db()] + ([self.db()] if r.random() < 0.05 else [])
        if c < 58:
            return ["AUTH"] + [self.val() for _ in range(r.choice([1, 2, 3]))]
        if c < 59:
            sub = self.pick(["SETNAME", "GETNAME", "NO-EVICT", "BOGUS", "setname"])
            a = ["CLIENT", sub]
            if sub.upper() == "SETNAME":
                a.append(self.pick(["conn", "", "a b", "x\ny", "ok-name"]))
            elif sub == "NO-EVICT":
                a.append(self.pick(["on", "off", "maybe"]))
            return a
        if c < 60:
            return ["@hello", "HELLO"] + [self.pick(["2", "3", "4", "abc", "1", "3", "2"])] + \
                (self.pick([[], [], ["SETNAME", "x"], ["AUTH", "default", "pw"], ["BOGUS"]]))
        if c < 61:
            return ["DBSIZE"] + ([k()] if r.random() < 0.1 else [])
        if c < 62:
            return [self.pick(["FLUSHDB", "FLUSHALL"]), ] + \
                ([self.pick(["ASYNC", "SYNC", "BOGUS"])] if r.random() < 0.5 else [])
        if c < 65:
            name = self.pick(list(CONFIGS))
            if r.random() < 0.5:
                return ["CONFIG", "SET", name, self.pick(CONFIGS[name])] + \
                    ([self.pick(list(CONFIGS)), self.pick(["1", "no"])] if r.random() < 0.1 else [])
            return ["@pairs", "CONFIG", "GET", self.pick([name, name.upper(), "*max-*-entries*", "hash-*", "nonexistent"])]
        if c < 66:
            return self.pick([["CONFIG"], ["CONFIG", "BOGUS"], ["CONFIG", "GET"], ["CONFIG", "SET", "hz"],
                              ["OBJECT"], ["CLIENT"], ["COMMAND", "GETKEYS", "SET", "a", "b"],
                              ["COMMAND", "GETKEYS", "MSET", "a", "b", "c", "d"],
                              ["COMMAND", "GETKEYS", "GET"], ["COMMAND", "GETKEYS", "PING"],
                              ["COMMAND", "GETKEYS", "NOPE", "x"], ["COMMAND", "BOGUS"],
                              ["FUNCTION", "LIST"], ["FUNCTION", "FLUSH"], ["NOPE", "a", "b"],
                              ["get"], ["SET", "a"], ["EXPIRE", "a"], ["SLOWLOG", "BOGUS"],
                              ["MEMORY", "BOGUS"], ["OBJECT", "HELP"], ["CONFIG", "HELP"],
                              ["CLIENT", "HELP"], ["COMMAND", "HELP"], ["SLOWLOG", "HELP"],
                              ["MEMORY", "HELP"], ["ECHO"], ["PING", "a", "b"], ["DEL"], ["EXISTS"],
                              ["MSET"], ["MGET"], ["SELECT"], ["TYPE"], ["TTL"], ["KEYS"],
                              ["RENAME", "a"], ["INCRBYFLOAT", "a"], ["GETEX"], ["COPY", "a"],
                              ["SWAPDB", "0"], ["FUNCTION", "BOGUS"], ["CLIENT", "GETNAME", "x"]])
        # collections
        if c < 72:
            return [self.pick(["LPUSH", "RPUSH"]), k()] + [self.val() for _ in range(r.randint(0, 4))]
        if c < 75:
            return [self.pick(["SADD"]), k()] + [self.val() for _ in range(r.randint(0, 4))]
        if c < 79:
            a = [w("HSET"), k()]
            for _ in range(r.randint(0, 3)):
                a += [self.pick(["f", "g", "h", "", "f\x00"]), self.val()]
            if r.random() < 0.1:
                a.append("f")
            return a
        if c < 84:
            a = ["ZADD", k()]
            for _ in range(r.randint(0, 2)):
                a.append(self.pick(["NX", "XX", "GT", "LT", "CH", "INCR", "nx"]))
            for _ in range(r.randint(0, 3)):
                a += [self.pick(["1", "2.5", "-inf", "+inf", "inf", "nan", "abc", "", "1e3", "0", "-0",
                                 "9223372036854775807", "1.5", " 1", "0x10"]),
                      self.pick(["m", "n", "o", "", "m\x00"])]
            if r.random() < 0.1:
                a.append("m")
            return a
        if c < 88:
            if r.random() < 0.15:
                return [self.pick(["LLEN", "SCARD", "HLEN", "ZCARD"]), k()] + ([k()] if r.random() < 0.05 else [])
            return self.collection()
        # more string traffic on fewer keys
        if c < 92:
            return ["SET", self.pick(["k1", "k2", "n1"]), self.num()] + self.set_opts()
        if c < 96:
            return [self.pick(["INCR", "INCRBY", "INCRBYFLOAT", "DECRBY", "APPEND"]), self.pick(["k1", "n1"])] + \
                ([] if r.random() < 0.3 else [self.num()])
        if c < 98:
            return ["OBJECT", "ENCODING", self.pick(["k1", "n1", "s1", "l1", "h1", "z1", "k2"])]
        return ["TYPE", self.pick(["k1", "n1", "s1", "l1", "h1", "z1"])]


# ---------------------------------------------------------------- comparing -------------

TOL = {"TTL": 1, "EXPIRETIME": 1, "PTTL": 1500, "PEXPIRETIME": 1500}


def normalise(mode, cmd, v):
    t, p = v
    if mode == "@sorted":
        return serialize(sort_reply(v))
    if mode == "@pairs" and isinstance(p, list):
        # CONFIG GET: Redis's order follows its (randomly seeded) dict, so compare as pairs
        pairs = sorted(zip(p[0::2], p[1::2]), key=lambda x: serialize(x[0]))
        return serialize((t, [y for x in pairs for y in x]))
    if mode == "@randomkey" and t in (b"$",) and p is not None:
        return b"<some key>"
    if mode == "@hello":
        return b"<hello ok>" if t in (b"*", b"%") else serialize(v)
    return serialize(v)


def same(mode, cmd, a, b):
    if mode == "@ttl" and a[0] == b":" and b[0] == b":":
        x, y = int(a[1]), int(b[1])
        if x >= 0 and y >= 0 and abs(x - y) <= TOL.get(cmd[0].upper(), 0):
            return True
    return normalise(mode, cmd, a) == normalise(mode, cmd, b)


class Pair:
    def __init__(self, fport, rport):
        self.ports = (fport, rport)
        self.open()

    def open(self):
        self.f = Conn(self.ports[0])
        self.r = Conn(self.ports[1])

    def close(self):
        self.f.close()
        self.r.close()

    def reset(self):
        """Fresh connections and default state on both servers."""
        self.close()
        self.open()
        for c in (self.f, self.r):
            c.call(["FLUSHALL"])
            for name, v in CONFIG_DEFAULTS.items():
                c.call(["CONFIG", "SET", name, v])

    def run(self, step):
        """Returns (same?, redis_reply_raw, ferrokv_reply_raw)."""
        mode, cmd = step
        try:
            fr = self.f.call(cmd)
        except (EOFError, OSError) as e:
            fr = (b"<ferrokv: %s>" % str(e).encode(), (b"!", b"closed"))
        rr = self.r.call(cmd)
        return same(mode, cmd, rr[1], fr[1]), rr[0], fr[0]

    def replay(self, steps):
        """Replays steps from a reset state; True when the last step mismatches."""
        self.reset()
        ok = True
        for s in steps:
            ok, _, _ = self.run(s)
        return not ok


def split_step(args):
    if args and args[0].startswith("@"):
        return args[0], args[1:]
    return "", args


def fmt_cmd(step):
    mode, cmd = step
    parts = []
    for a in cmd:
        if a and all(33 <= ord(ch) < 127 and ch not in "\"'\\" for ch in a):
            parts.append(a)
        else:
            parts.append('"' + "".join(
                ch if 32 <= ord(ch) < 127 and ch not in "\"\\" else
                {"\r": "\\r", "\n": "\\n", "\t": "\\t", "\\": "\\\\", '"': '\\"'}.get(ch, "\\x%02x" % ord(ch))
                for ch in a) + '"')
    return ("%s " % mode if mode in ("@sorted",) else "") + " ".join(parts)


def minimise(pair, steps, budget=400):
    """Delta-debugging: the mismatch is at the last step; drop chunks of earlier steps
    (halves, quarters, ... single steps) while the last step still mismatches."""
    steps = list(steps)
    chunk = max(1, (len(steps) - 1) // 2)
    while chunk >= 1 and budget > 0:
        i = 0
        while i < len(steps) - 1 and budget > 0:
            trial = steps[:i] + steps[min(i + chunk, len(steps) - 1):]
            budget -= 1
            if len(trial) < len(steps) and pair.replay(trial):
                steps = trial
            else:
                i += chunk
        chunk //= 2
    return steps


def split_line(line):
    """Splits a scenario line like redis-cli: whitespace, "double quotes" with escapes, 'single'."""
    out, i, n = [], 0, len(line)
    esc = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"'}
    while i < n:
        while i < n and line[i].isspace():
            i += 1
        if i >= n:
            break
        cur = ""
        if line[i] == '"':
            i += 1
            while line[i] != '"':
                if line[i] == "\\":
                    if line[i + 1] == "x":
                        cur += chr(int(line[i + 2:i + 4], 16))
                        i += 4
                        continue
                    cur += esc.get(line[i + 1], line[i + 1])
                    i += 2
                    continue
                cur += line[i]
                i += 1
            i += 1
        elif line[i] == "'":
            j = line.index("'", i + 1)
            cur = line[i + 1:j]
            i = j + 1
        else:
            while i < n and not line[i].isspace():
                cur += line[i]
                i += 1
        out.append(cur)
    return out


def run_scenarios(pair, files):
    """Replays spec scenario files (single connection, no @raw/@sleep) on both servers."""
    bad = 0
    for f in files:
        pair.reset()
        lines = [l.strip() for l in open(f, encoding="latin-1")]
        print("--- %s" % f)
        for l in lines:
            if not l or l.startswith("#"):
                continue
            mode = ""
            if l.startswith("@"):
                word, _, rest = l.partition(" ")
                mode = {"@sorted": "@sorted", "@shape": "@hello"}.get(word)
                if mode is None:
                    print("  (skipped %s)" % l)
                    continue
                l = rest
            ok, rr, fr = pair.run((mode, split_line(l)))
            if not ok:
                bad += 1
                print("> %s\n  redis:   %s\n  ferrokv: %s" % (l, show(rr), show(fr)))
    return bad


def main():
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--commands", type=int, default=2000)
    ap.add_argument("--ferrokv", default="/tmp/ferrokv-snapshot")
    ap.add_argument("--redis-server", default="redis-server")
    ap.add_argument("--scenario", nargs="*", help="replay these spec scenario files instead of random commands")
    ap.add_argument("--skip", help="regex: don't send generated commands whose text matches (to get past known causes)")
    ap.add_argument("--no-minimise", action="store_true")
    ap.add_argument("--quiet", action="store_true", help="print only the first mismatch of each signature in full")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    gen = Gen(rng)

    tmp = tempfile.mkdtemp(prefix="difftest-")
    fport, rport = free_port(), free_port()
    fproc = subprocess.Popen([args.ferrokv, "--port", str(fport), "--loglevel", "warning", "--dir", tmp],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rproc = subprocess.Popen([args.redis_server, "--port", str(rport), "--save", "", "--appendonly", "no",
                              "--dir", tmp, "--loglevel", "warning"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mismatches = 0
    compared = 0
    seen = {}
    try:
        wait_port(fport, fproc, "ferrokv")
        wait_port(rport, rproc, "redis-server")
        pair = Pair(fport, rport)
        pair.reset()
        if args.scenario:
            mismatches = run_scenarios(pair, args.scenario)
            args.commands = 0
        seq = []
        for n in range(args.commands):
            if rng.random() < 0.01 and seq:
                pair.reset()
                seq = []
            step = split_step(gen.command())
            if args.skip and re.search(args.skip, fmt_cmd(step), re.I):
                continue
            seq.append(step)
            ok, rraw, fraw = pair.run(step)
            compared += 1
            if step[1][0].upper() == "FLUSHALL" and ok:
                # keep what survives a FLUSHALL (configuration, connection state)
                seq = [s for s in seq if s[1][0].upper() in ("CONFIG", "SELECT", "HELLO", "CLIENT")]
            if ok:
                continue
            mismatches += 1
            sig = (step[1][0].upper(), rraw[:1], fraw[:1])
            seen[sig] = seen.get(sig, 0) + 1
            full = not args.quiet or seen[sig] == 1
            if full and not args.no_minimise:
                seq_min = minimise(pair, seq)
                pair.replay(seq_min)
                pair.reset()
                # replies of the minimal reproducer
                outs = []
                for s in seq_min:
                    _, rr, fr = pair.run(s)
                    outs.append((s, rr, fr))
            else:
                seq_min = seq
                outs = None
            print("=== MISMATCH #%d (seed %d, command %d) ===" % (mismatches, seed, n))
            if full:
                if outs is not None:
                    for s, rr, fr in outs[:-1]:
                        print("  %s" % fmt_cmd(s))
                    s, rr2, fr2 = outs[-1]
                    print("> %s" % fmt_cmd(s))
                    if same(s[0], s[1], Conn_parse(rr2), Conn_parse(fr2)):
                        print("  (minimised replay did not reproduce; original replies below)")
                        rr2, fr2 = rraw, fraw
                    print("  redis:   %s" % show(rr2))
                    print("  ferrokv: %s" % show(fr2))
                else:
                    for s in seq_min[:-1]:
                        print("  %s" % fmt_cmd(s))
                    print("> %s" % fmt_cmd(seq_min[-1]))
                    print("  redis:   %s" % show(rraw))
                    print("  ferrokv: %s" % show(fraw))
            else:
                print("> %s\n  redis:   %s\n  ferrokv: %s" % (fmt_cmd(step), show(rraw), show(fraw)))
            sys.stdout.flush()
            if fproc.poll() is not None:
                print("ferrokv died (exit %s); stopping" % fproc.returncode)
                break
            pair.reset()
            seq = []
        pair.close()
    finally:
        for p in (fproc, rproc):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print("seed %d: %d commands compared, %d mismatches" % (seed, compared, mismatches))
    sys.exit(1 if mismatches else 0)


def Conn_parse(raw):
    """Parse one raw reply held in memory."""
    class B(Conn):
        def __init__(self, data):
            self.buf = bytearray(data)

        def _fill(self, want=0):
            raise EOFError
    return B(raw).read()[1]


if __name__ == "__main__":
    main()
