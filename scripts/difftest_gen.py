"""The command grammar of `difftest.py`: the keys, values and edge cases it draws from,
the configurations it flips, and `Gen`, which makes one random command at a time."""

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
        if admin_pending(self) or (not server_pending(self) and r.random() < 0.06):
            return admin_command(self)  # sequences of difftest_gen_admin.py
        if server_pending(self) or r.random() < 0.05:  # sequences of difftest_gen_server.py
            return server_command(self)
        if r.random() < 0.3:  # the families of difftest_gen_data.py
            return data_command(self)
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


# More families (bitmaps, HLL, geo, streams, LCS, SORT, scripts, ...) live in their own file.
from difftest_gen_data import DATA_CONFIG_DEFAULTS, data_command  # noqa: E402
CONFIG_DEFAULTS.update(DATA_CONFIG_DEFAULTS)
# Transactions, encodings, DUMP/RESTORE, functions, pub/sub ...: difftest_gen_server.py.
from difftest_gen_server import SERVER_CONFIG_DEFAULTS, server_command, server_pending  # noqa: E402
CONFIG_DEFAULTS.update(SERVER_CONFIG_DEFAULTS)
# ACL, CONFIG, CLIENT, SLOWLOG, LATENCY, MEMORY, COMMAND ...: difftest_gen_admin.py.
from difftest_gen_admin import ADMIN_CONFIG_DEFAULTS, ADMIN_MODES, ADMIN_RESET, admin_command, admin_pending  # noqa: E402,F401
CONFIG_DEFAULTS.update(ADMIN_CONFIG_DEFAULTS)
