"""More of `difftest.py`'s grammar: server-side families that neither difftest_gen.py nor
difftest_gen_data.py draws -- transactions (MULTI/EXEC/DISCARD/WATCH/UNWATCH, with
queue-time and run-time errors and non-blocking blocking commands), OBJECT ENCODING /
REFCOUNT / FREQ / IDLETIME across encoding conversions and threshold configs, COPY /
RENAME / MOVE across types and databases, the EXPIRE family with NX/XX/GT/LT on every type,
TOUCH, DUMP / RESTORE (own payloads, the other server's, hand-made ones of older RDB
versions and bad ones), FUNCTION LOAD/LIST/DUMP/RESTORE/DELETE/FLUSH/STATS/FCALL/FCALL_RO,
SCRIPT EXISTS/FLUSH, EVAL_RO/EVALSHA_RO, and the pub/sub commands that reply on the same
connection (PUBLISH, SPUBLISH, PUBSUB ...).

`server_command(gen)` returns one command (optionally led by an @mode). A family is drawn
as a short sequence of commands that `server_command` hands out one at a time, so `Gen`
must call it while `server_pending(gen)` is true.

Nothing here blocks (blocking commands get 0.01 s timeouts, or run inside MULTI where they
don't block), subscribes the connection, or depends on the clock or on randomness: TTLs are
large or in the past, OBJECT FREQ is only asked on missing keys or without an LFU policy,
OBJECT IDLETIME right after a write (@ttl tolerance 1). Modes used: @sorted, @ttl, @deep
(FUNCTION LIST: libraries and functions come in dict order), @dump (DUMP payloads: a byte
difference is noted, not a mismatch) and the payload placeholders <DUMP:key>, <XDUMP:key>,
<FDUMP>, <XFDUMP> that difftest.py replaces by the payload of the same / the other server."""

import struct

SKEYS = ["k1", "s1", "l1", "h1", "z1", "n1", "e1", "e2", "{a}b"]
TYPES = ["string", "list", "hash", "set", "zset", "stream"]
THRESHOLDS = {
    "hash-max-listpack-entries": ["0", "1", "2", "3", "4", "128"],
    "hash-max-ziplist-entries": ["2", "128"],
    "hash-max-listpack-value": ["0", "1", "3", "5", "64"],
    "set-max-intset-entries": ["0", "1", "2", "3", "512"],
    "zset-max-listpack-entries": ["0", "1", "2", "3", "128"],
    "zset-max-ziplist-entries": ["2", "128"],
    "zset-max-listpack-value": ["0", "3", "5", "64"],
    "list-max-listpack-size": ["-2", "-1", "1", "2", "3"],
    "list-compress-depth": ["0", "1"],
    "set-max-listpack-entries": ["1", "128"],  # 7.2 name: unknown in 7.0
}
SERVER_CONFIG_DEFAULTS = {"list-compress-depth": "0"}

# ----------------------------------------------------------------- hand-made payloads ----


def _crc64_table():
    poly = 0x95AC9329AC4BC9B5  # Jones polynomial, reflected (Redis's crc64.c)
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


_CRC = _crc64_table()


def crc64(data, crc=0):
    for b in data:
        crc = _CRC[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


assert crc64(b"123456789") == 0xe9c6d914c4b8d9ca


def rdb_len(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    return b"\x80" + struct.pack(">I", n)


def rdb_str(s):
    if isinstance(s, int):
        if -128 <= s <= 127:
            return b"\xc0" + struct.pack("<b", s)
        if -32768 <= s <= 32767:
            return b"\xc1" + struct.pack("<h", s)
        return b"\xc2" + struct.pack("<i", s)
    s = s.encode("latin-1") if isinstance(s, str) else s
    return rdb_len(len(s)) + s


def payload(body, ver=9, bad_crc=False):
    data = body + struct.pack("<H", ver)
    crc = crc64(data) ^ (1 if bad_crc else 0)
    return (data + struct.pack("<Q", crc)).decode("latin-1")


def intset(vals, width=2):
    fmt = {2: "<h", 4: "<i", 8: "<q"}[width]
    return struct.pack("<II", width, len(vals)) + b"".join(struct.pack(fmt, v) for v in vals)


def handmade():
    """(label, payload) pairs: old-RDB encodings Redis 7.0 still loads, and broken ones."""
    big = ["f%d" % i for i in range(130)]
    out = [
        payload(b"\x00" + rdb_str("hello")),                        # string
        payload(b"\x00" + rdb_str(12345)),                          # int-encoded string
        payload(b"\x00" + rdb_str(-3)),
        payload(b"\x00" + rdb_str("x" * 70)),
        payload(b"\x00" + rdb_str("hello"), ver=10),
        payload(b"\x00" + rdb_str("hello"), ver=11),                # newer than 7.0 knows
        payload(b"\x00" + rdb_str("hello"), ver=0),
        payload(b"\x00" + rdb_str("hello"), bad_crc=True),
        payload(b"\x00" + rdb_str("hello"))[:-3],                   # truncated
        payload(b"\x00" + rdb_len(10) + b"abc"),                    # short string
        payload(b"\x01" + rdb_len(3) + rdb_str("a") + rdb_str("b") + rdb_str(7)),   # old linked list
        payload(b"\x02" + rdb_len(3) + rdb_str("1") + rdb_str("2") + rdb_str("3")),  # plain set of ints
        payload(b"\x02" + rdb_len(2) + rdb_str("a") + rdb_str("b")),
        payload(b"\x02" + rdb_len(2) + rdb_str("a") + rdb_str("a")),               # duplicate member
        payload(b"\x02" + rdb_len(0)),                                             # empty set
        payload(b"\x03" + rdb_len(2) + rdb_str("m") + b"\x011" + rdb_str("n") + b"\xfe"),  # zset, text scores
        payload(b"\x03" + rdb_len(1) + rdb_str("m") + b"\xfd"),                   # nan score
        payload(b"\x05" + rdb_len(2) + rdb_str("a") + struct.pack("<d", 1.5) + rdb_str("b") + struct.pack("<d", -2.0)),
        payload(b"\x05" + rdb_len(2) + rdb_str("a") + struct.pack("<d", 1.0) + rdb_str("a") + struct.pack("<d", 2.0)),
        payload(b"\x05" + rdb_len(1) + rdb_str("y" * 70) + struct.pack("<d", 3.0)),
        payload(b"\x04" + rdb_len(2) + rdb_str("f") + rdb_str("v") + rdb_str("g") + rdb_str(5)),  # plain hash
        payload(b"\x04" + rdb_len(2) + rdb_str("f") + rdb_str("v") + rdb_str("f") + rdb_str("w")),  # dup field
        payload(b"\x04" + rdb_len(1) + rdb_str("f") + rdb_str("v" * 70)),
        payload(b"\x04" + rdb_len(130) + b"".join(rdb_str(f) + rdb_str("v") for f in big)),
        payload(b"\x04" + rdb_len(0)),
        payload(b"\x0b" + rdb_str(intset([1, 2, 3]))),                            # intset
        payload(b"\x0b" + rdb_str(intset([3, 2, 1]))),                            # unsorted intset
        payload(b"\x0b" + rdb_str(intset([1, 70000], 4))),
        payload(b"\x0b" + rdb_str(intset([1, 2], 3 if False else 8))),
        payload(b"\x0b" + rdb_str(intset(list(range(600))))),
        payload(b"\x0b" + rdb_str(b"\x02\x00\x00\x00\x05\x00\x00\x00\x01\x00")),  # length lies
        payload(b"\x63" + rdb_str("x")),                                          # unknown type
        payload(b"\x06" + rdb_str("x")),                                          # module type (pre)
        "", "x", "\x00\x00", "hello world",
    ]
    return out


HANDMADE = handmade()

# ----------------------------------------------------------------- functions / scripts --

LIBS = [
    "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return redis.call('GET', keys[1]) end)",
    "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return 2 end)\n"
    "redis.register_function('f1b', function(keys, args) return redis.call('INCR', keys[1]) end)",
    "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function(keys, args) return args[1] end, flags={'no-writes'}}",
    "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function(keys, args) return redis.call('SET', keys[1], 'x') end, flags={'no-writes'}}",
    "#!lua name=lib3\nredis.register_function{function_name='f3', callback=function(keys, args) return {1, 'a', {2}} end, flags={'allow-oom', 'no-writes'}, description='three'}",
    "#!lua name=lib3\nredis.register_function{function_name='f3', callback=function(keys, args) return redis.call('SET', keys[1], args[1]) end, flags={'allow-stale'}}",
    "#!lua name=lib4\nlocal function h(keys, args) return #keys + #args end\n"
    "redis.register_function('f4', h)\nredis.register_function('f4b', h)",
    "#!lua name=lib5\nredis.register_function('f5', function(keys, args) return redis.pcall('HSET', keys[1]) end)",
    "#!lua name=lib6\nredis.register_function('f6', function(keys, args) return redis.error_reply('E bad') end)",
    "#!lua name=lib6\nredis.register_function('f6', function(keys, args) return {ok='fine'} end)",
    # bad ones
    "redis.register_function('nf', function() return 1 end)",                   # no shebang
    "#!lua\nredis.register_function('nf', function() return 1 end)",             # no name
    "#!js name=libjs\nfoo()",                                                    # unknown engine
    "#!lua name=bad1\nreturn 1",                                                 # no functions
    "#!lua name=bad2\nredis.register_function('f', function() return 1 end)\nredis.register_function('f', function() return 2 end)",
    "#!lua name=bad3\nredis.register_function('f-1!', function() return 1 end)",
    "#!lua name=bad4\nredis.register_function('f1', function() return 1 end)",   # f1 exists in lib1 maybe
    "#!lua name=bad5\nredis.call('SET', 'x', 'y')",
    "#!lua name=bad6\nthis is not lua",
    "#!lua name=bad7\nredis.register_function{function_name='g', callback=function() return 1 end, flags={'bogus-flag'}}",
    "#!lua name=bad8\nredis.register_function{function_name='g', callback=function() return 1 end, bogus='x'}",
    "#!lua name=bad9\nredis.register_function('g')",
    "#!lua name=bad10\nredis.register_function('g', 'notafunction')",
    "#!lua name=b@d\nredis.register_function('g', function() return 1 end)",
    "#!lua name=lib7 bogus=1\nredis.register_function('f7', function() return 7 end)",
    "#!lua name=lib8\nredis.register_function('f8', function(keys, args) return redis.call('GET', 'undeclared') end)",
    "#!lua name=bad11\nerror('boom')",
    "#!lua name=bad12\nredis.setresp(3)",
    "#!lua name=lib9\nredis.log(redis.LOG_DEBUG, 'x')\nredis.register_function('f9', function(keys, args) return redis.setresp(3) end)",
]
FUNCS = ["f1", "f1b", "f2", "f3", "f4", "f4b", "f5", "f6", "f7", "f8", "f9", "nofunc", "F1", ""]
LIBNAMES = ["lib1", "lib2", "lib3", "lib4", "lib5", "lib6", "lib7", "lib8", "lib9", "bad1", "nolib", "lib*", ""]
SCRIPTS = ["return 1", "return redis.call('GET', KEYS[1])", "return redis.call('SET', KEYS[1], 'ro')",
           "return redis.pcall('INCR', KEYS[1])", "return {KEYS[1], ARGV[1]}", "return redis.call('DEL', KEYS[1])"]


def sha1(s):
    import hashlib
    return hashlib.sha1(s.encode("latin-1")).hexdigest()


class SequenceGen:
    """A family generator drawing on `gen`'s random generator; `queue` holds the rest of the
    sequence drawn last (see `sequences`)."""

    def __init__(self, gen):
        self.g = gen
        self.r = gen.r
        self.queue = []

    def pick(self, xs):
        return self.r.choice(xs)


class ServerGen(SequenceGen):

    def key(self):
        return self.pick(SKEYS)

    # ------------------------------------------------------------ values of every type ---
    def elems(self, n, kind=None):
        kind = kind or self.pick(["int", "int", "str", "mixed", "long", "neg"])
        out = []
        for i in range(n):
            if kind == "int" or (kind == "mixed" and i % 2 == 0):
                out.append(str(i + 1))
            elif kind == "neg":
                out.append(str(self.pick([-1, -70000, 4000000000, 3, -9223372036854775808, i * 7])))
            elif kind == "long" and i == n - 1:
                out.append("L" * self.pick([4, 6, 65, 70]))
            else:
                out.append("m%d" % i)
        return out

    def size(self):
        return self.pick([0, 1, 1, 2, 2, 3, 4, 5, 8, 129, 513])

    def make(self, key, typ=None, n=None):
        """Commands that leave `key` holding a value of `typ` with about n elements."""
        typ = typ or self.pick(TYPES)
        n = self.size() if n is None else n
        n = max(n, 1)
        e = self.elems(n)
        if typ == "string":
            return [["SET", key, self.pick(["v", "123", "-5", "9223372036854775807", "9223372036854775808",
                                             "x" * 44, "x" * 45, "1.5", "00", "10000", "9999", ""])]]
        if typ == "list":
            return [["DEL", key], ["RPUSH", key] + e]
        if typ == "hash":
            a = ["HSET", key]
            for i, x in enumerate(e):
                a += ["f%d" % i if i % 3 else x, x]
            return [["DEL", key], a]
        if typ == "set":
            return [["DEL", key], ["SADD", key] + e]
        if typ == "zset":
            a = ["ZADD", key]
            for i, x in enumerate(e):
                a += [self.pick(["1", "2.5", str(i), "-inf"]), x]
            return [["DEL", key], a]
        out = [["DEL", key]]
        for i in range(min(n, 6)):
            out.append(["XADD", key, "%d-%d" % (i + 1, i), "f", e[i]])
        return out

    def read(self, key):
        """Reads whose replies are deterministic whatever the type."""
        return self.pick([
            ["TYPE", key], ["OBJECT", "ENCODING", key], ["OBJECT", "ENCODING", key],
            ["GET", key], ["LRANGE", key, "0", "-1"], ["@sorted", "HGETALL", key],
            ["@sorted", "SMEMBERS", key], ["ZRANGE", key, "0", "-1", "WITHSCORES"],
            ["XRANGE", key, "-", "+"], ["EXISTS", key], ["@ttl", "PTTL", key],
            self.pick([["LLEN", key], ["HLEN", key], ["SCARD", key], ["ZCARD", key], ["XLEN", key], ["STRLEN", key]]),
        ])

    def readback(self, key):
        return [["TYPE", key], ["OBJECT", "ENCODING", key], self.read(key), self.read(key)]

    # ------------------------------------------------------------ transactions --------
    def queued(self):
        k = self.key
        r = self.r
        return self.pick([
            lambda: ["SET", k(), self.pick(["1", "v", "10"])],
            lambda: ["INCR", k()],
            lambda: ["INCRBY", k(), self.pick(["1", "abc", "9223372036854775807"])],
            lambda: ["GET", k()],
            lambda: ["LPUSH", k(), "a", "b"],
            lambda: ["SADD", k(), "1", "x"],
            lambda: ["HSET", k(), "f", "v"],
            lambda: ["ZADD", k(), self.pick(["1", "nan", "abc"]), "m"],
            lambda: ["LRANGE", k(), "0", "-1"],
            lambda: ["SCARD", k()],
            lambda: ["DEL", k()],
            lambda: ["EXPIRE", k(), self.pick(["100", "-1", "abc"])] + self.pick([[], ["NX"], ["GT"], ["BOGUS"]]),
            lambda: ["SET", k(), "v", self.pick(["EX", "PX", "NX", "BOGUS"]), self.pick(["abc", "0", "10"])],
            lambda: ["NOPE", "x"],                       # unknown: EXECABORT
            lambda: self.pick([["GET"], ["SET", "a"], ["LPUSH", "l1"], ["HSET", "h1", "f"], ["EXPIRE", "a"]]),  # arity
            lambda: ["MULTI"],                           # nested
            lambda: ["WATCH", k()],                      # inside MULTI
            lambda: ["UNWATCH"],
            lambda: ["SELECT", self.pick(["0", "1", "16", "abc"])],
            lambda: ["BLPOP", k(), self.pick(["0.01", "abc", "-1"])],  # inside MULTI: never blocks
            lambda: ["BRPOP", k(), k(), "0.01"],
            lambda: ["BLMOVE", k(), k(), "LEFT", "RIGHT", "0.01"],
            lambda: ["BRPOPLPUSH", k(), k(), "0.01"],
            lambda: ["BZPOPMIN", k(), "0.01"],
            lambda: ["BLMPOP", "0.01", "1", k(), "LEFT"],
            lambda: ["BZMPOP", "0.01", "1", k(), "MAX"],
            lambda: ["XREAD", "BLOCK", "10", "STREAMS", k(), "0-0"],
            lambda: ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "STREAMS", k(), ">"],
            lambda: ["EVAL", "return redis.call('INCR', KEYS[1])", "1", k()],
            lambda: ["OBJECT", "ENCODING", k()],
            lambda: ["TYPE", k()],
            lambda: ["CONFIG", "SET", "hash-max-listpack-entries", self.pick(["1", "abc"])],
            lambda: ["FLUSHDB"] if r.random() < 0.2 else ["DBSIZE"],
            lambda: ["SWAPDB", "0", "1"] if r.random() < 0.3 else ["PING"],
            lambda: ["ECHO", "x"],
            lambda: ["PUBLISH", "ch", "m"],
            lambda: ["DISCARD"] if r.random() < 0.1 else ["EXISTS", k()],
            lambda: ["EXEC"] if r.random() < 0.1 else ["TTL", k()],
            lambda: ["SCRIPT", "FLUSH"] if r.random() < 0.1 else ["LLEN", k()],
            lambda: ["FCALL", self.pick(FUNCS), "1", k()],
            lambda: ["HELLO", self.pick(["4", "x"])] if r.random() < 0.2 else ["STRLEN", k()],  # (HELLO 2/3 would carry the connection id)
            lambda: ["CLIENT", "SETNAME", "x"] if r.random() < 0.2 else ["GETDEL", k()],
            lambda: ["SUBSCRIBE"] if r.random() < 0.3 else ["RPOP", k()],   # arity error only
        ])()

    def txn(self):
        r = self.r
        out = []
        watched = []
        if r.random() < 0.4:
            watched = [self.key() for _ in range(r.randint(1, 2))]
            out.append([self.pick(["WATCH", "watch"])] + watched)
            x = r.random()
            if x < 0.3:
                out.append(self.pick([["SET", watched[0], "w"], ["DEL", watched[0]], ["EXPIRE", watched[0], "100"],
                                      ["LPUSH", watched[0], "w"], ["FLUSHDB"], ["SWAPDB", "0", "1"],
                                      ["EXPIRE", watched[0], "-1"], ["PERSIST", watched[0]], ["GET", watched[0]],
                                      ["SET", "other", "x"], ["RENAME", watched[0], "e2"]]))
            elif x < 0.4:
                out.append(["UNWATCH"])
                if r.random() < 0.5:
                    out.append(["SET", watched[0], "w"])
        if r.random() < 0.05:
            return out + [self.pick([["EXEC"], ["DISCARD"], ["UNWATCH"], ["WATCH"], ["MULTI", "x"], ["EXEC", "x"]])]
        out.append([self.pick(["MULTI", "multi"])])
        for _ in range(r.randint(0, 5)):
            out.append(self.queued())
        if watched and r.random() < 0.3:
            out.append(["SET", watched[0], "in-multi"])
        out.append(self.pick([["EXEC"], ["EXEC"], ["EXEC"], ["EXEC"], ["exec"], ["DISCARD"], ["EXEC", "x"]]))
        if out[-1] == ["EXEC", "x"]:
            out.append(["DISCARD"])
        out.append(self.read(self.key()))
        return out

    # ------------------------------------------------------------ encodings -----------
    def encoding(self):
        r = self.r
        out = []
        key = self.pick(["e1", "e2", "h1", "s1", "z1", "k1"])
        typ = self.pick(TYPES)
        if r.random() < 0.6:
            name = self.pick(list(THRESHOLDS))
            out.append(["CONFIG", "SET", name, self.pick(THRESHOLDS[name])])
        if r.random() < 0.3:
            out.append(["@pairs", "CONFIG", "GET", self.pick(list(THRESHOLDS) + ["*max-*-entries*", "zset-*"])])
        out += self.make(key, typ)
        # a few more writes that may convert
        for _ in range(r.randint(0, 3)):
            out.append(self.pick([
                ["HSET", key, self.pick(["f0", "nf", "L" * 70]), self.pick(["v", "V" * 70, "1"])],
                ["HINCRBYFLOAT", key, "f1", self.pick(["1.5", "1e30"])],
                ["HSETNX", key, "x" * self.pick([1, 65]), "1"],
                ["SADD", key, self.pick(["5", "x", "70000", "-9223372036854775808", "9223372036854775808", "01"])],
                ["SREM", key, "1"],
                ["ZADD", key, "1", self.pick(["m", "M" * 70, "q"])],
                ["ZINCRBY", key, "1", "m0"],
                ["ZREM", key, "m0"],
                ["RPUSH", key, "Q" * self.pick([1, 9000])],
                ["APPEND", key, "x"], ["INCR", key], ["SETRANGE", key, "1", "z"], ["INCRBYFLOAT", key, "1"],
                ["HDEL", key, "f1"],
            ]))
        out.append(["OBJECT", "ENCODING", key])
        x = r.random()
        if x < 0.25:
            dst = self.pick(["e2", "e1", "k2"])
            out.append(self.pick([
                ["SINTERSTORE", dst, key, key], ["SUNIONSTORE", dst, key, "s1"], ["SDIFFSTORE", dst, key, "s1"],
                ["ZUNIONSTORE", dst, "1", key], ["ZINTERSTORE", dst, "2", key, "z1"], ["ZDIFFSTORE", dst, "1", key],
                ["ZRANGESTORE", dst, key, "0", self.pick(["0", "1", "-1"])], ["SORT", key, "STORE", dst],
                ["COPY", key, dst, "REPLACE"], ["GEOADD", dst, "1", "1", "m"],
                ["ZUNIONSTORE", dst, "2", key, "z1", "AGGREGATE", "SUM"],
            ]))
            out.append(["OBJECT", "ENCODING", dst])
            out.append(self.read(dst))
        elif x < 0.45:
            out.append(["@sorted", self.pick(["HGETALL", "HKEYS", "HVALS", "SMEMBERS"]), key])
        if r.random() < 0.5:
            out.append(["OBJECT", self.pick(["REFCOUNT", "refcount"]), self.pick([key, "n1", "nokey"])])
        if r.random() < 0.2:
            out.append(["SET", "n1", self.pick(["1", "9999", "10000", "-1", "v"])])
            if r.random() < 0.5:
                out.append(["CONFIG", "SET", "maxmemory-policy", self.pick(["allkeys-lru", "noeviction", "volatile-lfu"])])
                out.append(["SET", "n2", self.pick(["1", "9999"])])
                out.append(["OBJECT", "REFCOUNT", "n2"])
            out.append(["OBJECT", "REFCOUNT", "n1"])
            out.append(["OBJECT", "ENCODING", "n1"])
        return out

    def objmisc(self):
        r = self.r
        out = []
        if r.random() < 0.3:
            out.append(["CONFIG", "SET", "maxmemory-policy", self.pick(["allkeys-lfu", "volatile-lfu", "allkeys-lru", "noeviction"])])
        k = self.key()
        x = r.random()
        if x < 0.4:
            # LFU counters grow at random: an existing key only under a policy set just now
            # to a non-LFU one (an error reply); else missing keys
            lru = out and not out[0][-1].endswith("lfu")
            out.append(["OBJECT", "FREQ", self.pick(["nokey", "nokey2", k]) if lru else "nokey"])
        elif x < 0.7:
            out += self.make(k, self.pick(TYPES), 1)
            out.append(["@ttl", "OBJECT", self.pick(["IDLETIME", "idletime"]), k])
        else:
            out.append(self.pick([["OBJECT", "FREQ"], ["OBJECT", "IDLETIME"], ["OBJECT", "FREQ", k, k],
                                  ["OBJECT", "IDLETIME", "nokey"], ["OBJECT", "HELP"], ["OBJECT", "help", "x"],
                                  ["OBJECT", "ENCODING", k, "x"], ["OBJECT", "NOPE", k], ["OBJECT", "REFCOUNT"]]))
        return out

    # ------------------------------------------------------------ copy / rename / move --
    def copymove(self):
        r = self.r
        out = []
        src, dst = self.key(), self.pick(SKEYS + ["d1"])
        out += self.make(src, None, self.pick([1, 2, 3, 5, 129]))
        if r.random() < 0.3:
            out.append(["EXPIRE", src, "100000"])
        if r.random() < 0.3:
            out += self.make(dst, None, 1)
        db = self.pick(["1", "2", "0", "15", "16", "-1", "abc"])
        cmd = self.pick([
            ["COPY", src, dst], ["COPY", src, dst, "REPLACE"], ["COPY", src, dst, "DB", db],
            ["COPY", src, dst, "DB", db, "REPLACE"], ["COPY", src, src], ["COPY", src, src, "DB", db],
            ["RENAME", src, dst], ["RENAMENX", src, dst], ["RENAME", src, src], ["RENAMENX", src, src],
            ["MOVE", src, db], ["MOVE", src, "0"], ["MOVE", src, db, "x"],
            ["SWAPDB", "0", db],
        ])
        out.append(cmd)
        out += self.readback(dst)
        out.append(["@ttl", "TTL", dst])
        if r.random() < 0.5:
            out.append(["SELECT", db if db in ("1", "2", "15") else "1"])
            out += self.readback(dst)
            out.append(["@ttl", "TTL", dst])
            out.append(["OBJECT", "ENCODING", src])
            if r.random() < 0.5:
                out.append(["MOVE", self.pick([src, dst]), "0"])
            out.append(["SELECT", "0"])
            out.append(["OBJECT", "ENCODING", dst])
        return out

    # ------------------------------------------------------------ expire / touch -------
    def expires(self):
        r = self.r
        out = []
        k = self.key()
        if r.random() < 0.7:
            out += self.make(k, None, self.pick([1, 2]))
        for _ in range(r.randint(1, 3)):
            cmd = self.pick(["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
            t = {"EXPIRE": ["100", "200", "50", "100000", "-1", "0", "abc", "9223372036854775807"],
                 "PEXPIRE": ["100000", "200000", "50000", "-1", "9223372036854775807"],
                 "EXPIREAT": ["4102444800", "4102444801", "4000000000", "1", "0"],
                 "PEXPIREAT": ["4102444800000", "4000000000000", "1", "9223372036854775807"]}[cmd]
            flags = [self.pick(["NX", "XX", "GT", "LT", "gt", "BOGUS"]) for _ in range(r.choice([0, 1, 1, 1, 2]))]
            out.append([cmd, k, self.pick(t)] + flags)
            out.append(["@ttl", self.pick(["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]), k])
        x = r.random()
        if x < 0.3:
            out.append(["PERSIST", k])
        elif x < 0.6:
            out.append(["TOUCH"] + [self.key() for _ in range(r.randint(0, 4))])
        out.append(["TYPE", k])
        return out

    # ------------------------------------------------------------ dump / restore -------
    def dump(self):
        r = self.r
        out = []
        src = self.key()
        dst = self.pick(["e2", "d1", src])
        if r.random() < 0.7:
            out += self.make(src, None)
        if r.random() < 0.3:
            name = self.pick([n for n in THRESHOLDS if n != "set-max-listpack-entries"])
            out.append(["CONFIG", "SET", name, self.pick(THRESHOLDS[name])])
        out.append(["@dump", "DUMP", src])
        opts = []
        for _ in range(r.choice([0, 0, 1, 2])):
            o = self.pick(["REPLACE", "ABSTTL", "IDLETIME", "FREQ", "BOGUS", "replace"])
            opts.append(o)
            if o in ("IDLETIME", "FREQ"):
                opts.append(self.pick(["0", "5", "-1", "abc", "300"]))
        ttl = self.pick(["0", "0", "0", "100000", "-1", "abc", "4102444800000", "1"])
        if "ABSTTL" not in opts and ttl == "1":
            ttl = "100000"  # 1 ms from now would race; ABSTTL 1 is in the past: no key
        x = r.random()
        if x < 0.5:
            pl = "<DUMP:%s>" % src
        elif x < 0.75:
            pl = "<XDUMP:%s>" % src
        else:
            pl = self.pick(HANDMADE)
        out.append(["RESTORE", dst, ttl, pl] + opts)
        out += self.readback(dst)
        if r.random() < 0.3:
            out.append(["@ttl", "PTTL", dst])
        if r.random() < 0.3:
            out.append(["@dump", "DUMP", dst])
        if r.random() < 0.05:
            out.append(self.pick([["DUMP"], ["DUMP", src, "x"], ["RESTORE", dst], ["RESTORE", dst, "0"]]))
        return out

    # ------------------------------------------------------------ functions / scripts --
    def functions(self):
        r = self.r
        out = []
        x = r.random()
        if x < 0.3:
            out.append(["FUNCTION", "LOAD"] + (["REPLACE"] if r.random() < 0.4 else []) + [self.pick(LIBS)])
        elif x < 0.4:
            out.append(["FUNCTION", "DELETE", self.pick(LIBNAMES)])
        elif x < 0.45:
            out.append(["FUNCTION", "FLUSH"] + self.pick([[], ["ASYNC"], ["SYNC"], ["BOGUS"]]))
        elif x < 0.55:
            a = ["@deep", "FUNCTION", "LIST"]
            if r.random() < 0.5:
                a += ["LIBRARYNAME", self.pick(LIBNAMES)]
            if r.random() < 0.3:
                a += ["WITHCODE"]
            if r.random() < 0.05:
                a += ["BOGUS"]
            out.append(a)
        elif x < 0.65:
            out.append(["@dump", "FUNCTION", "DUMP"])
            if r.random() < 0.5:
                out.append(["FUNCTION", "FLUSH"])
            out.append(["FUNCTION", "RESTORE", self.pick(["<FDUMP>", "<FDUMP>", "<XFDUMP>", "bogus", ""])] +
                       self.pick([[], ["FLUSH"], ["APPEND"], ["REPLACE"], ["BOGUS"]]))
            out.append(["@deep", "FUNCTION", "LIST"])
        elif x < 0.7:
            out.append(["@deep", "FUNCTION", "STATS"] + ([] if r.random() < 0.9 else ["x"]))
        elif x < 0.9:
            cmd = self.pick(["FCALL", "FCALL", "FCALL_RO", "fcall"])
            nk = self.pick(["0", "1", "1", "2", "-1", "abc", "3"])
            keys = [self.key() for _ in range(int(nk) if nk in ("1", "2") else 0)]
            out.append([cmd, self.pick(FUNCS), nk] + keys + [self.pick(["a", "1", "x"]) for _ in range(r.randint(0, 2))])
        else:
            out.append(self.pick([["FUNCTION"], ["FUNCTION", "LOAD"], ["FUNCTION", "HELP"], ["FUNCTION", "KILL"],
                                  ["FUNCTION", "DELETE"], ["FUNCTION", "RESTORE"], ["FCALL"], ["FCALL", "f1"],
                                  ["FUNCTION", "LIST", "LIBRARYNAME"], ["FUNCTION", "DUMP", "x"]]))
        return out

    def scripts(self):
        r = self.r
        out = []
        body = self.pick(SCRIPTS)
        x = r.random()
        if x < 0.25:
            out.append(["SCRIPT", "LOAD", body])
            out.append(["SCRIPT", "EXISTS"] + [sha1(self.pick(SCRIPTS)) for _ in range(r.randint(1, 3))] +
                       ([self.pick(["bogus", sha1(body).upper()])] if r.random() < 0.3 else []))
        elif x < 0.35:
            out.append(["SCRIPT", "FLUSH"] + self.pick([[], ["ASYNC"], ["SYNC"], ["BOGUS"], ["ASYNC", "SYNC"]]))
            out.append(["SCRIPT", "EXISTS", sha1(body)])
        elif x < 0.65:
            nk = self.pick(["1", "1", "0", "2"])
            out.append(["EVAL_RO", body, nk] + [self.key() for _ in range(int(nk))] + ["a"])
        elif x < 0.9:
            nk = self.pick(["1", "1", "0"])
            out.append([self.pick(["EVALSHA_RO", "EVALSHA", "evalsha_ro"]),
                        self.pick([sha1(body), sha1(body).upper(), "bogus"]), nk] +
                       [self.key() for _ in range(int(nk))])
        else:
            out.append(self.pick([["SCRIPT"], ["SCRIPT", "EXISTS"], ["SCRIPT", "BOGUS"], ["SCRIPT", "KILL"],
                                  ["SCRIPT", "HELP"], ["EVAL_RO"], ["EVALSHA_RO", "x"], ["SCRIPT", "LOAD"]]))
        return out

    # ------------------------------------------------------------ pub/sub (no subscribe)
    def pubsub(self):
        ch = self.pick(["ch", "ch1", "{a}b", "", "news.*", "*"])
        return [self.pick([
            ["PUBLISH", ch, "msg"], ["SPUBLISH", ch, "msg"], ["PUBLISH", ch], ["SPUBLISH", ch],
            ["PUBSUB", "CHANNELS"], ["PUBSUB", "CHANNELS", ch], ["PUBSUB", "NUMSUB"],
            ["PUBSUB", "NUMSUB", ch, "ch2"], ["PUBSUB", "NUMPAT"], ["PUBSUB", "NUMPAT", "x"],
            ["PUBSUB", "SHARDCHANNELS"], ["PUBSUB", "SHARDCHANNELS", ch], ["PUBSUB", "SHARDNUMSUB", ch],
            ["PUBSUB", "SHARDNUMSUB"], ["PUBSUB", "HELP"], ["PUBSUB", "BOGUS"], ["PUBSUB"],
            ["pubsub", "channels", "*", "x"], ["UNSUBSCRIBE"], ["PUNSUBSCRIBE", ch], ["SUNSUBSCRIBE"],
        ])]

    def family(self):
        c = self.r.randint(0, 99)
        if c < 22:
            return self.txn()
        if c < 40:
            return self.encoding()
        if c < 46:
            return self.objmisc()
        if c < 56:
            return self.copymove()
        if c < 66:
            return self.expires()
        if c < 80:
            return self.dump()
        if c < 88:
            return self.functions()
        if c < 94:
            return self.scripts()
        return self.pubsub()


def sequences(attr, cls):
    """`(pending, command)` for a generator class whose `family()` draws a sequence of
    commands: `pending(gen)` is true while the current one has commands left, `command(gen)`
    hands out the next (drawing a new sequence when it is done). The state is kept on `gen`
    under `attr`."""
    def command(gen):
        s = getattr(gen, attr, None)
        if s is None:
            s = cls(gen)
            setattr(gen, attr, s)
        while not s.queue:
            s.queue = s.family()
        return s.queue.pop(0)

    def pending(gen):
        s = getattr(gen, attr, None)
        return bool(s and s.queue)

    return pending, command


server_pending, server_command = sequences("_server", ServerGen)
