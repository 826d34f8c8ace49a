"""More of `difftest.py`'s grammar: the data families `Gen` in difftest_gen.py does not
draw itself -- bitmaps, HyperLogLog, geo, streams, LCS, SORT, the random-member commands
(deterministic forms only), OBJECT ENCODING of every type and simple EVAL scripts.

`data_command(gen)` returns one command (optionally led by an @mode, as in difftest_gen.py).
Every family writes to a few keys of its own and to some of the shared KEYS, so that types
collide; nothing here is random or time-dependent on Redis except where marked with a mode
that difftest.py normalises (@sorted, @xtime, @xid)."""

SHARED = ["k1", "k2", "s1", "l1", "h1", "z1", "n1", "{a}b", "k3"]
BKEYS = ["b1", "b2", "b3"]
PKEYS = ["p1", "p2", "p3"]
GKEYS = ["g1", "g2", "g3"]
XKEYS = ["x1", "x2"]
CKEYS = ["c1", "c2"]
SKEYS = ["so1", "so2", "so3"]
ALL_KEYS = SHARED + BKEYS + PKEYS + GKEYS + XKEYS + CKEYS + SKEYS
READ_KEYS = ALL_KEYS + ["nokey"]  # "nokey" is never written
# Keys no command of either grammar makes a hash / set / zset of more than one member
# (so HRANDFIELD / SRANDMEMBER / ZRANDMEMBER without a count stay deterministic on them):
# hashes and sets are only written on KEYS, so*, wh_*; zsets on KEYS, so3, GKEYS and, from
# geo stores, SHARED; scripts write at most the one member 'm'.
NO_HASH = XKEYS + PKEYS + BKEYS + GKEYS + CKEYS + ["nokey"]
NO_SET = XKEYS + PKEYS + BKEYS + GKEYS + CKEYS + ["nokey"]
NO_ZSET = XKEYS + PKEYS + BKEYS + CKEYS + ["nokey"]

DATA_CONFIGS = {
    "stream-node-max-entries": ["100", "2", "1", "0", "5"],
    "stream-node-max-bytes": ["4096", "1", "0", "100"],
    "hll-sparse-max-bytes": ["3000", "0", "10", "100", "200"],
}
DATA_CONFIG_DEFAULTS = {"stream-node-max-entries": "100", "stream-node-max-bytes": "4096",
                        "hll-sparse-max-bytes": "3000"}

# geo: every member has its own coordinates, so no two members tie on distance
GEO_MEMBERS = {
    "Palermo": [("13.361389", "38.115556"), ("13.36", "38.11")],
    "Catania": [("15.087269", "37.502669"), ("15.08", "37.5")],
    "a": [("0", "0"), ("0.001", "0.002")],
    "b": [("0.01", "0.03"), ("-0.02", "0.005")],
    "c": [("179.9999", "85.05112878"), ("-179.99", "-85.05")],
    "": [("2.35", "48.85"), ("2.3522", "48.8566")],
    "m": [("-73.99", "40.73"), ("139.69", "35.69")],
}
BAD_COORDS = [("181", "0"), ("0", "86"), ("-180.1", "0"), ("0", "-85.06"), ("abc", "1"), ("1", "nan"),
              ("inf", "0"), ("180", "85.05112878"), ("-180", "-85.05112878"), ("", "0")]
UNITS = ["m", "km", "ft", "mi", "KM", "yd", "M"]
RADII = ["0", "1", "100", "500", "1000", "5000", "200000", "20000000", "-1", "abc", "0.5", "1e3"]

XGROUPS = ["g1", "g2", "nog"]
XCONSUMERS = ["c1", "c2", "c3"]
XIDS = ["0", "0-0", "0-1", "1", "1-0", "1-1", "2-0", "3-5", "5", "10-*", "1-*", "0-*",
        "18446744073709551615-18446744073709551615", "18446744073709551615-*", "abc", "1-abc",
        "-1", "1-", "-", "+", "$", "18446744073709551616", "00001-1"]
XRANGE_IDS = ["-", "+", "0", "1", "1-1", "(1-0", "(1", "2", "(2-0", "5", "(5", "3-5", "(3-5",
              "(18446744073709551615-18446744073709551615", "(0-0", "abc", "(-", "(", "(+", "10-",
              "100", "1000-0", "(1000"]
SORT_ELEMS = ["1", "2", "3", "10", "a", "b", "-1", "1.5", "", "m", "03", "1e1"]
LUA = [
    "return redis.call('SET', KEYS[1], ARGV[1])",
    "return redis.call('GET', KEYS[1])",
    "return redis.call('INCR', KEYS[1])",
    "return redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])",
    "return redis.call('HGET', KEYS[1], ARGV[1])",
    "return redis.call('LPUSH', KEYS[1], ARGV[1])",
    "return redis.call('ZADD', KEYS[1], ARGV[1], 'm')",
    "return redis.call('ZSCORE', KEYS[1], 'm')",
    "return redis.call('TYPE', KEYS[1])",
    "return redis.call('EXISTS', KEYS[1], KEYS[2])",
    "return redis.call('DEL', KEYS[1], KEYS[2])",
    "return redis.pcall('INCR', KEYS[1])",
    "return redis.pcall('GET')",
    "return redis.call('GET')",
    "return redis.call('SET', KEYS[1])",
    "return redis.call('nope', KEYS[1])",
    "return redis.call()",
    "return redis.call('GET', nil)",
    "return redis.call('GET', {})",
    "return redis.call('SET', KEYS[1], 3.5)",
    "return redis.call('EVAL', 'return 1', 0)",
    "return {1,2,{3,'x'}}",
    "return {1,nil,3}",
    "return {}",
    "return {'a', 2.7, true, false, {ok='st'}, {err='e1'}}",
    "return redis.error_reply('x')",
    "return redis.error_reply('MY code')",
    "return redis.error_reply('')",
    "return redis.status_reply('FINE')",
    "return {err='bad'}",
    "return {err='WRONGTYPE x'}",
    "return {ok='fine'}",
    "return 3.99",
    "return -2.5",
    "return 1e20",
    "return 0/0",
    "return nil",
    "return false",
    "return true",
    "return 'str'",
    "return tonumber(ARGV[1])",
    "return tostring(tonumber(ARGV[1]))",
    "return #KEYS + #ARGV * 10",
    "return ARGV",
    "return KEYS",
    "return redis.sha1hex(ARGV[1])",
    "error('boom')",
    "error({err='ERR tbl'})",
    "return (",
    "return x.y",
    "x = 1",
    "redis.call('SET', KEYS[1], 'x'); return redis.call('GET', KEYS[1])",
    "return redis.call('GET', KEYS[1]) == false",
    "return cjson.encode({1,'a',true})",
    "return cjson.decode(ARGV[1])",
    "return redis.call('BITCOUNT', KEYS[1])",
    "return redis.call('PFADD', KEYS[1], ARGV[1])",
    "return redis.call('XLEN', KEYS[1])",
    "return redis.call('GEOPOS', KEYS[1], 'a')",
    "return redis.call('SELECT', '1')",
    "#!lua flags=no-writes\nreturn redis.call('SET', KEYS[1], 'x')",
    "#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])",
    "#!lua\nreturn 1",
    "#!lua flags=bogus\nreturn 1",
    "#!python\nreturn 1",
    "return redis.setresp(3)",
    "redis.setresp(3); return redis.call('HGET', KEYS[1], 'f')",
    "return redis.call('PING')",
    "local ok, e = pcall(redis.call, 'INCR', KEYS[1]); return e",
    "local ok, e = pcall(redis.call, 'GET'); return {ok and 1 or 0, type(e)}",
    "return redis.call('ECHO', tonumber(ARGV[1]) or 'x')",
    "return redis.call('SET', KEYS[1], -0.0)",
    "math.randomseed(1); return math.random(10)",
]


class DataGen:
    def __init__(self, gen):
        self.g = gen
        self.r = gen.r
        self.xms = 0  # generator-side counter for increasing stream ids

    def pick(self, xs):
        return self.r.choice(xs)

    def k(self, home, p=0.75, others=ALL_KEYS):
        """One of the family's own keys, or (1-p) a shared/other key."""
        x = self.r.random()
        if x < p:
            return self.pick(home)
        if x < p + (1 - p) * 0.7:
            return self.pick(SHARED)
        return self.pick(others)

    def small(self):
        return str(self.r.randint(-3, 20))

    # ------------------------------------------------------------ bitmaps ---------------
    def bit_off(self, write=False):
        xs = ["0", "1", "7", "8", "15", "16", "31", "63", "64", "100", "1000", "-1", "abc", "1.5", ""]
        if not write:
            xs += ["4294967295", "4294967296", "9223372036854775807"]
        else:
            xs += ["4294967296", "-4294967296"]
        return self.pick(xs)

    def bf_type(self):
        x = self.r.random()
        if x < 0.15:
            return self.pick(["i65", "u64", "i0", "u0", "x8", "I8", "U8", "i", "u", "i-1", "u63", "i64", "u1", "i1"])
        return self.pick("iu") + str(self.r.randint(1, 64 if self.r.random() < 0.5 else 16))

    def bf_off(self):
        return self.pick(["0", "1", "3", "7", "8", "13", "100", "#0", "#1", "#2", "#7", "-1", "#-1", "abc",
                          "#", "#abc", "1000", "4294967296", "#4294967296"])

    def bitmap(self):
        r, k = self.r, lambda: self.k(BKEYS)
        c = r.randint(0, 99)
        if c < 20:
            return ["SETBIT", k(), self.bit_off(True), self.pick(["0", "1", "1", "1", "2", "-1", "", "01"])]
        if c < 30:
            return ["GETBIT", k(), self.bit_off()]
        if c < 45:
            a = ["BITCOUNT", k()]
            n = r.choice([0, 2, 2, 3, 3, 1, 4])
            se = ["0", "1", "-1", "-2", "2", "5", "7", "8", "100", "-100", "abc", "9223372036854775807",
                  "-9223372036854775808", "9223372036854775808", "1.5"]
            if n >= 1:
                a.append(self.pick(se))
            if n >= 2:
                a.append(self.pick(se))
            if n >= 3:
                a.append(self.pick(["BYTE", "BIT", "bit", "byte", "WORD"]))
            if n >= 4:
                a.append("BIT")
            return a
        if c < 57:
            a = ["BITPOS", k(), self.pick(["0", "1", "1", "0", "2", "-1", "abc"])]
            n = r.choice([0, 1, 2, 3, 3, 4])
            se = ["0", "1", "-1", "-2", "2", "5", "7", "8", "100", "-100", "abc", "9223372036854775807"]
            if n >= 1:
                a.append(self.pick(se))
            if n >= 2:
                a.append(self.pick(se))
            if n >= 3:
                a.append(self.pick(["BYTE", "BIT", "bit", "WORD"]))
            if n >= 4:
                a.append("x")
            return a
        if c < 67:
            op = self.pick(["AND", "OR", "XOR", "NOT", "and", "not", "NAND"])
            n = r.choice([1, 1, 2, 2, 3]) if op.upper() != "NOT" else r.choice([1, 1, 1, 2, 0])
            return ["BITOP", op, k()] + [k() for _ in range(n)]
        if c < 85 or c >= 95:
            ro = c >= 95
            a = ["BITFIELD_RO" if ro else "BITFIELD", k()]
            for _ in range(r.randint(0 if not ro else 0, 4)):
                x = r.random()
                if ro and x < 0.9:
                    a += ["GET", self.bf_type(), self.bf_off()]
                elif x < 0.35:
                    a += [self.pick(["GET", "get"]), self.bf_type(), self.bf_off()]
                elif x < 0.6:
                    a += ["SET", self.bf_type(), self.bf_off(), self.g.num()]
                elif x < 0.85:
                    a += [self.pick(["INCRBY", "incrby"]), self.bf_type(), self.bf_off(),
                          self.g.num() if r.random() < 0.5 else self.small()]
                elif x < 0.97:
                    a += ["OVERFLOW", self.pick(["WRAP", "SAT", "FAIL", "fail", "BOGUS"])]
                else:
                    a += [self.pick(["GET", "BOGUS", "SET", "OVERFLOW"])]
            return a
        if c < 90:
            return self.pick([["GET", k()], ["STRLEN", k()], ["GETRANGE", k(), "0", "-1"]])
        return [self.pick(["SET", "APPEND"]), k(), self.pick(["\x00", "\xff\xf0\x00", "abc", "1", "12", "\x80", ""])]

    # ------------------------------------------------------------ HyperLogLog -----------
    def hll_elems(self, lo=0, hi=5):
        if self.r.random() < 0.05:
            return ["e%d" % self.r.randint(0, 3000) for _ in range(self.r.randint(50, 300))]
        return [self.pick(["a", "b", "c", "", "e1", "e2", "\x00", "12", "foo"]) if self.r.random() < 0.5
                else "e%d" % self.r.randint(0, 400) for _ in range(self.r.randint(lo, hi))]

    def hll(self):
        r, k = self.r, lambda: self.k(PKEYS)
        c = r.randint(0, 99)
        if c < 40:
            return ["PFADD", k()] + self.hll_elems()
        if c < 65:
            return ["PFCOUNT"] + [k() for _ in range(r.choice([1, 1, 1, 2, 3, 0]))]
        if c < 80:
            return ["PFMERGE", k()] + [k() for _ in range(r.choice([0, 1, 2, 3]))]
        if c < 90:
            return [self.pick(["GET", "STRLEN", "TYPE"]), self.k(PKEYS, 0.9)]
        if c < 92:
            return ["SETRANGE", self.pick(PKEYS), self.pick(["0", "3", "4", "15", "16", "20"]),
                    self.pick(["\x00", "X", "\xff", "HYLL", "\x01"])]
        if c < 93:
            return ["APPEND", self.pick(PKEYS), self.pick(["x", "\x00\x00"])]
        if c < 96:
            return ["DEL", self.pick(PKEYS)]
        if c < 97:
            return ["SET", self.pick(PKEYS), self.pick(["HYLL", "HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", "v"])]
        return ["CONFIG", "SET", "hll-sparse-max-bytes", self.pick(DATA_CONFIGS["hll-sparse-max-bytes"])]

    # ------------------------------------------------------------ geo -------------------
    def coord(self, bad=0.08):
        if self.r.random() < bad:
            return list(self.pick(BAD_COORDS))
        return list(self.pick(self.pick(list(GEO_MEMBERS.values()))))

    def gmember(self):
        return self.pick(list(GEO_MEMBERS) + ["nomember"])

    def geo_opts(self, allow_store, search):
        """Returns (options, sorted?) for the GEOSEARCH / GEORADIUS families."""
        r = self.r
        opts = []
        has_sort = has_count = has_any = False
        for _ in range(r.randint(0, 4)):
            o = self.pick(["ASC", "DESC", "COUNT", "WITHCOORD", "WITHDIST", "WITHHASH", "STORE", "STOREDIST",
                           "asc", "withdist", "BOGUS"])
            if o in ("STORE", "STOREDIST") and not allow_store:
                if r.random() < 0.9:
                    continue
            if o.upper() in ("ASC", "DESC"):
                has_sort = True
                opts.append(o)
            elif o == "COUNT":
                has_count = True
                n = self.pick(["1", "2", "3", "0", "-1", "abc", "100"])
                opts += ["COUNT", n]
                if r.random() < 0.3:
                    if n in ("100", "abc", "0", "-1") or r.random() < 0.2:
                        opts.append("ANY")
                        has_any = True
            elif o in ("STORE", "STOREDIST"):
                opts += [o, self.k(GKEYS, others=GKEYS)] if not search else [o]
            else:
                opts.append(o)
        if r.random() < 0.03 and opts:
            opts.pop()
        return opts, (has_sort or (has_count and not has_any))

    def geo_shape(self):
        r = self.r
        a = []
        if r.random() < 0.5:
            a += ["FROMMEMBER", self.gmember()]
        else:
            a += ["FROMLONLAT"] + self.coord()
        if r.random() < 0.04:
            a += self.pick([["FROMMEMBER", "a"], ["FROMLONLAT", "0", "0"]])
        if r.random() < 0.5:
            a += ["BYRADIUS", self.pick(RADII), self.pick(UNITS)]
        else:
            a += ["BYBOX", self.pick(RADII), self.pick(RADII), self.pick(UNITS)]
        if r.random() < 0.04:
            a += ["BYRADIUS", "10", "km"]
        if r.random() < 0.05:
            a = a[:self.r.randint(0, len(a))]
        return a

    def geo(self):
        r, k = self.r, lambda: self.k(GKEYS, others=GKEYS)
        c = r.randint(0, 99)
        if c < 25:
            a = ["GEOADD", k()]
            for _ in range(r.choice([0, 0, 0, 1, 1, 2])):
                a.append(self.pick(["NX", "XX", "CH", "CH", "nx", "ch", "GT"]))
            for _ in range(r.choice([0, 1, 1, 2, 2, 3])):
                m = self.gmember()
                if m == "nomember" or r.random() < 0.08:
                    a += list(self.pick(BAD_COORDS)) + [self.pick(list(GEO_MEMBERS))]
                else:
                    a += list(self.pick(GEO_MEMBERS[m])) + [m]
            if r.random() < 0.05:
                a.append("1")
            return a
        if c < 33:
            return ["GEOPOS", k()] + [self.gmember() for _ in range(r.randint(0, 3))]
        if c < 41:
            return ["GEODIST", k(), self.gmember(), self.gmember()] + \
                ([self.pick(UNITS)] if r.random() < 0.6 else []) + (["x"] if r.random() < 0.03 else [])
        if c < 47:
            return ["GEOHASH", k()] + [self.gmember() for _ in range(r.randint(0, 3))]
        if c < 67:
            opts, ordered = self.geo_opts(False, True)
            cmd = ["GEOSEARCH", k()] + self.geo_shape() + opts
            return cmd if ordered else ["@sorted"] + cmd
        if c < 77:
            opts, _ = self.geo_opts(True, True)
            return ["GEOSEARCHSTORE", k(), k()] + self.geo_shape() + opts
        if c < 92:
            cmd = self.pick(["GEORADIUS", "GEORADIUS_RO", "GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"])
            opts, ordered = self.geo_opts(not cmd.endswith("_RO") or r.random() < 0.1, False)
            if "BYMEMBER" in cmd:
                a = [cmd, k(), self.gmember()]
            else:
                a = [cmd, k()] + self.coord()
            a += [self.pick(RADII), self.pick(UNITS)] + opts
            if not ordered and "STORE" not in opts and "STOREDIST" not in opts:
                a = ["@sorted"] + a
            return a
        if c < 96:
            return ["ZRANGE", k(), "0", "-1", "WITHSCORES"]
        return [self.pick(["ZSCORE", "ZREM"]), k(), self.gmember()]

    # ------------------------------------------------------------ streams ---------------
    def xid(self, write=False):
        r = self.r
        x = r.random()
        if write and x < 0.6:
            self.xms += r.choice([0, 0, 1, 1, 2, 5])
            ms = self.xms
            if ms > 100 and r.random() < 0.03:
                self.xms = ms = 0
            return self.pick(["%d-%d" % (ms, r.randint(0, 3)), "%d-*" % ms, "%d" % ms])
        if x < 0.8 and self.xms:
            return self.pick(["%d-%d" % (r.randint(0, self.xms), r.randint(0, 3)), "%d" % r.randint(0, self.xms)])
        return self.pick(XIDS)

    def xrid(self):
        if self.r.random() < 0.4 and self.xms:
            ms = self.r.randint(0, self.xms + 1)
            return self.pick(["%d" % ms, "(%d" % ms, "%d-1" % ms, "(%d-0" % ms])
        return self.pick(XRANGE_IDS)

    def xtrim_args(self):
        r = self.r
        a = [self.pick(["MAXLEN", "MINID", "maxlen", "MAXLEN"])]
        if r.random() < 0.5:
            a.append(self.pick(["=", "~", "~", "!"]))
        if a[0].upper() == "MAXLEN":
            a.append(self.pick(["0", "1", "2", "3", "5", "10", "-1", "abc", "100", "1.5"]))
        else:
            a.append(self.xid())
        if r.random() < 0.2:
            a += ["LIMIT", self.pick(["0", "1", "2", "10", "-1", "abc", "100"])]
        return a

    def fields(self):
        a = []
        for _ in range(self.r.choice([1, 1, 1, 2, 3, 0])):
            a += [self.pick(["f", "g", "h", ""]), self.g.val() if self.r.random() < 0.3 else self.pick(["1", "v", "w"])]
        if self.r.random() < 0.03:
            a.append("f")
        return a

    def stream(self):
        r = self.r
        k = lambda: self.k(XKEYS, 0.85)
        grp = lambda: self.pick(XGROUPS)
        con = lambda: self.pick(XCONSUMERS)
        c = r.randint(0, 199)
        if c < 40:
            a = ["XADD", k()]
            if r.random() < 0.1:
                a.append(self.pick(["NOMKSTREAM", "nomkstream"]))
            if r.random() < 0.2:
                a += self.xtrim_args()
            return a + [self.xid(True)] + self.fields()
        if c < 46:
            # ids from the clock only on a key of their own, and only with id-blind readers
            x = r.random()
            if x < 0.6:
                a = ["@xid", "XADD", "xstar"]
                if r.random() < 0.2:
                    a += ["MAXLEN"] + ([self.pick(["=", "~"])] if r.random() < 0.5 else []) + [self.pick(["0", "1", "3"])]
                return a + ["*", "f", "v"]
            if x < 0.8:
                return ["XLEN", "xstar"]
            return ["XTRIM", "xstar", "MAXLEN", self.pick(["0", "1", "2", "5"])]
        if c < 54:
            return ["XLEN", k()] + (["x"] if r.random() < 0.03 else [])
        if c < 72:
            rev = r.random() < 0.35
            a = ["XREVRANGE" if rev else "XRANGE", k(), self.xrid(), self.xrid()]
            if r.random() < 0.35:
                a += ["COUNT", self.pick(["0", "1", "2", "-1", "abc", "5"])]
            return a
        if c < 78:
            return ["XDEL", k()] + [self.xid() for _ in range(r.randint(0, 3))]
        if c < 84:
            return ["XTRIM", k()] + self.xtrim_args()
        if c < 104:
            sub = self.pick(["CREATE", "CREATE", "CREATE", "SETID", "DESTROY", "CREATECONSUMER", "DELCONSUMER",
                             "create", "BOGUS"])
            a = ["XGROUP", sub, k(), grp()]
            s = sub.upper()
            if s in ("CREATE", "SETID"):
                a.append(self.pick(["$", "0", "0-0"]) if r.random() < 0.6 else self.xid())
                if s == "CREATE" and r.random() < 0.3:
                    a.append(self.pick(["MKSTREAM", "mkstream"]))
                if r.random() < 0.25:
                    a += ["ENTRIESREAD", self.pick(["0", "1", "2", "-1", "-2", "abc", "100"])]
            elif s in ("CREATECONSUMER", "DELCONSUMER"):
                a.append(con())
            if r.random() < 0.02:
                a = a[:r.randint(2, len(a))]
            return a
        if c < 124:
            a = ["XREADGROUP", self.pick(["GROUP", "group"]), grp(), con()]
            if r.random() < 0.4:
                a += ["COUNT", self.pick(["0", "1", "2", "-1", "abc", "3"])]
            if r.random() < 0.15:
                a.append("NOACK")
            ks = [k() for _ in range(r.choice([1, 1, 1, 2]))]
            ids = [self.pick([">", ">", ">", "0", "0-0", "1", "$", "abc"]) if r.random() < 0.8 else self.xid()
                   for _ in ks]
            if r.random() < 0.03:
                ids = ids[:-1]
            return a + ["STREAMS"] + ks + ids
        if c < 132:
            a = ["XREAD"]
            if r.random() < 0.4:
                a += ["COUNT", self.pick(["0", "1", "2", "-1", "abc"])]
            ks = [k() for _ in range(r.choice([1, 1, 2]))]
            ids = [self.pick(["0", "0-0", "$", "1", ">", "+"]) if r.random() < 0.6 else self.xid() for _ in ks]
            return a + ["STREAMS"] + ks + ids
        if c < 142:
            return ["XACK", k(), grp()] + [self.xid() for _ in range(r.randint(0, 3))]
        if c < 154:
            if r.random() < 0.5:
                return ["XPENDING", k(), grp()]
            a = ["@xtime", "XPENDING", k(), grp()]
            if r.random() < 0.3:
                a += ["IDLE", self.pick(["0", "1000000", "-1", "abc", "10000000000"])]
            a += [self.xrid(), self.xrid(), self.pick(["10", "1", "0", "-1", "abc", "2"])]
            if r.random() < 0.4:
                a.append(con())
            return a
        if c < 166:
            a = ["XCLAIM", k(), grp(), con(), self.pick(["0", "0", "3600000", "-1", "abc"])]
            a += [self.xid() for _ in range(r.randint(0, 3))]
            for _ in range(r.randint(0, 3)):
                o = self.pick(["IDLE", "TIME", "RETRYCOUNT", "FORCE", "JUSTID", "LASTID", "justid", "BOGUS"])
                a.append(o)
                if o == "IDLE":
                    a.append(self.pick(["0", "5000000", "-1", "abc"]))
                elif o == "TIME":
                    a.append(self.pick(["0", "1", "-1", "abc"]))
                elif o == "RETRYCOUNT":
                    a.append(self.pick(["0", "3", "-1", "abc"]))
                elif o == "LASTID":
                    a.append(self.xid())
            return a
        if c < 174:
            a = ["XAUTOCLAIM", k(), grp(), con(), self.pick(["0", "0", "3600000", "-1", "abc"]),
                 self.pick(["0", "0-0", "-", "1", "2-0", "abc", "(1"]) if r.random() < 0.7 else self.xid()]
            if r.random() < 0.4:
                a += ["COUNT", self.pick(["1", "2", "100", "0", "-1", "abc", "1000000"])]
            if r.random() < 0.4:
                a.append(self.pick(["JUSTID", "justid"]))
            return a
        if c < 180:
            a = ["XSETID", k(), self.xid()]
            if r.random() < 0.3:
                a += ["ENTRIESADDED", self.pick(["0", "1", "5", "100", "-1", "abc"])]
            if r.random() < 0.3:
                a += ["MAXDELETEDID", self.xid()]
            return a
        if c < 194:
            x = r.random()
            if x < 0.45:
                return ["XINFO", "STREAM", k()]
            if x < 0.6:
                return ["@xtime", "XINFO", "STREAM", k(), "FULL"] + \
                    (["COUNT", self.pick(["0", "1", "2", "-1", "abc"])] if r.random() < 0.4 else [])
            if x < 0.85:
                return ["XINFO", "GROUPS", k()]
            if x < 0.95:
                return ["@xtime", "XINFO", "CONSUMERS", k(), grp()]
            return ["XINFO", self.pick(["BOGUS", "STREAM", "HELP"])]
        if c < 197:
            return ["CONFIG", "SET", self.pick(["stream-node-max-entries", "stream-node-max-bytes"]),
                    self.pick(DATA_CONFIGS["stream-node-max-entries"] + DATA_CONFIGS["stream-node-max-bytes"])]
        return [self.pick(["TYPE", "DEL", "EXISTS"]), k()]

    # ------------------------------------------------------------ LCS -------------------
    def lcs(self):
        r = self.r
        k = lambda: self.k(CKEYS, 0.8)
        if r.random() < 0.35:
            s = "".join(self.pick("ACGT") for _ in range(r.randint(0, 16)))
            if r.random() < 0.1:
                s = self.g.val()
            return ["SET", self.pick(CKEYS), s]
        a = ["LCS", k(), k()]
        for _ in range(r.randint(0, 3)):
            o = self.pick(["LEN", "IDX", "MINMATCHLEN", "WITHMATCHLEN", "idx", "BOGUS"])
            a.append(o)
            if o == "MINMATCHLEN":
                a.append(self.pick(["0", "1", "2", "3", "-1", "abc", "100"]))
        return a

    # ------------------------------------------------------------ SORT ------------------
    def sort(self):
        r = self.r
        c = r.randint(0, 99)
        if c < 12:
            return self.pick([["RPUSH", "so1"], ["SADD", "so2"]]) + \
                [self.pick(SORT_ELEMS) for _ in range(r.randint(1, 3))]
        if c < 17:
            a = ["ZADD", "so3"]
            for _ in range(r.randint(1, 3)):
                a += [self.pick(["1", "2", "0", "-1", "3.5"]), self.pick(SORT_ELEMS)]
            return a
        if c < 24:
            return ["SET", "w_" + self.pick(SORT_ELEMS), self.pick(["1", "2", "3", "-1", "1.5", "abc", "", "10"])]
        if c < 30:
            return ["HSET", "wh_" + self.pick(SORT_ELEMS), self.pick(["f", "g"]),
                    self.pick(["1", "2", "3", "-1", "1.5", "abc", "", "10"])]
        cmd = self.pick(["SORT", "SORT", "SORT_RO", "sort"])
        key = self.k(SKEYS, 0.7)
        a = [cmd, key]
        dontsort = False
        by = None
        if r.random() < 0.4:
            by = self.pick(["w_*", "wh_*->f", "nosort", "nokey_*", "*", "w_*->", "k1", "*->f", "wh_*->g", "w_*x"])
            a += ["BY", by]
            dontsort = "*" not in by
        limit = r.random() < 0.25
        if limit:
            a += ["LIMIT", self.pick(["0", "1", "-1", "2", "abc"]), self.pick(["1", "2", "0", "-1", "10"])]
        for _ in range(r.choice([0, 0, 1, 2])):
            a += ["GET", self.pick(["#", "w_*", "wh_*->f", "nosuch_*", "*->f", "#", "w_*->", "k1", "*"])]
        if r.random() < 0.3:
            a.append(self.pick(["ASC", "DESC", "desc"]))
        alpha = r.random() < 0.4
        if alpha:
            a.append(self.pick(["ALPHA", "alpha"]))
        # ALPHA BY leaves ties (equal or missing weights) in input order, which is a set's
        # dict order: then compare as a multiset and don't store
        loose = alpha and by is not None and not dontsort
        store = r.random() < 0.2 and not loose
        if store:
            a += ["STORE", self.pick(SKEYS + ["k1", "l1"])]
        if r.random() < 0.03:
            a.append("BOGUS")
        if (dontsort and not store) or loose:
            if limit:
                a[a.index("LIMIT"):a.index("LIMIT") + 3] = []
            a = ["@sorted"] + a
        return a

    # ------------------------------------------------------------ random members ---------
    def randmember(self):
        r = self.r
        cmd, none_of, opt = self.pick([("HRANDFIELD", NO_HASH, "WITHVALUES"), ("SRANDMEMBER", NO_SET, None),
                                       ("ZRANDMEMBER", NO_ZSET, "WITHSCORES")])
        x = r.random()
        if x < 0.3:
            return [cmd, self.pick(none_of)]  # never a multi-member key of that type
        if x < 0.8:
            a = [cmd, self.pick(ALL_KEYS), self.pick(["0", "0", "-0", "00"])]
        elif x < 0.9:
            a = [cmd, self.pick(none_of), self.pick(["1", "-1", "5", "-5", "0"])]
        else:
            a = [cmd, self.pick(ALL_KEYS), self.pick(["abc", "1.5", "", "-9223372036854775808",
                                                       "9223372036854775808"])]
        if opt and r.random() < 0.4:
            a.append(self.pick([opt, opt.lower(), "BOGUS"]))
        if r.random() < 0.03:
            a.append("x")
        return a

    # ------------------------------------------------------------ scripts ---------------
    def script(self):
        r = self.r
        x = r.random()
        if x < 0.05:
            return ["SCRIPT", "LOAD", self.pick(LUA)]
        body = self.pick(LUA)
        nk = r.choice([0, 1, 1, 2, 2])
        keys = [self.pick(ALL_KEYS) for _ in range(nk)]
        args = [self.g.num() if r.random() < 0.6 else self.pick(["1", "m", "f", "[1,2]", "{\"a\":1}", "x"])
                for _ in range(r.choice([0, 1, 1, 2]))]
        numkeys = str(nk)
        if r.random() < 0.05:
            numkeys = self.pick(["-1", "abc", "5", "1.5", ""])
        if x < 0.15:
            import hashlib
            sha = hashlib.sha1(body.encode("latin-1")).hexdigest()
            if r.random() < 0.1:
                sha = self.pick(["bogus", sha.upper(), sha[:-1]])
            return [self.pick(["EVALSHA", "EVALSHA_RO"]), sha, numkeys] + keys + args
        if x < 0.2:
            return ["EVAL_RO", body, numkeys] + keys + args
        return ["EVAL", body, numkeys] + keys + args

    def objenc(self):
        return ["OBJECT", self.pick(["ENCODING", "ENCODING", "encoding", "REFCOUNT"]), self.pick(READ_KEYS + ["xstar"])]

    def command(self):
        c = self.r.randint(0, 99)
        if c < 15:
            return self.bitmap()
        if c < 24:
            return self.hll()
        if c < 39:
            return self.geo()
        if c < 66:
            return self.stream()
        if c < 71:
            return self.lcs()
        if c < 80:
            return self.sort()
        if c < 84:
            return self.randmember()
        if c < 89:
            return self.objenc()
        return self.script()


def data_command(gen):
    """One command of the families above, drawn with `gen`'s random generator."""
    d = getattr(gen, "_data", None)
    if d is None:
        d = gen._data = DataGen(gen)
    return d.command()
