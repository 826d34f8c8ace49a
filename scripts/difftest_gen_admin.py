"""More of `difftest.py`'s grammar: administrative commands -- ACL (SETUSER with every rule
form, selectors and bad rules, GETUSER, DELUSER, LIST, USERS, WHOAMI, CAT, DRYRUN, GENPASS,
LOG), CONFIG GET / SET (many parameters, valid and invalid values, several at once, memory
units, percentages, enums, booleans, immutable and protected ones) / RESETSTAT, the CLIENT
subcommands that are deterministic on one connection (names, NO-EVICT, TRACKING with its
options and errors, CACHING, GETREDIR, TRACKINGINFO, REPLY ON, PAUSE 0 / UNPAUSE, KILL and
UNBLOCK that match nothing, LIST TYPE / ID, INFO field names), SLOWLOG, LATENCY, MEMORY,
COMMAND INFO/DOCS/GETKEYS/GETKEYSANDFLAGS/LIST/COUNT, ECHO, PING, SELECT, SWAPDB, WAIT 0,
RESET and HELLO with AUTH / SETNAME.

`admin_command(gen)` returns one command (optionally led by an @mode); like
difftest_gen_server.py a family is a short sequence handed out one command at a time, so
`Gen` must call it while `admin_pending(gen)` is true (a tracking sequence turns tracking
off again before it ends, so no invalidation push ever reaches the other families).

Nothing here blocks, closes the connection, authenticates as another user, touches the
default user's password or flags, or depends on the clock: AUTH / HELLO AUTH only name the
user "ghost" (never created) or "pwuser" (only ever created with password "secret1", and
authenticated with other passwords). Replies with times, addresses or ids go through the
modes in ADMIN_MODES (registered in difftest.py's normalise); ADMIN_RESET is sent on every
reset (deletes the users made here, empties the ACL log and the slow log)."""

import sys

from difftest_gen_server import SequenceGen, sequences

RESP3 = "--resp3" in sys.argv

USERS = ["u1", "u2", "alice", "pwuser"]
ADMIN_RESET = [["ACL", "DELUSER"] + USERS + ["ghost", "U1", "nosuch"], ["ACL", "LOG", "RESET"],
               ["SLOWLOG", "RESET"], ["LATENCY", "RESET"], ["CLIENT", "UNPAUSE"]]
ADMIN_CONFIG_DEFAULTS = {
    "slowlog-log-slower-than": "-1",  # nothing is slow by accident on a loaded machine
    "acl-pubsub-default": "resetchannels", "acllog-max-len": "128",
    "maxmemory-eviction-tenacity": "10", "lazyfree-lazy-eviction": "no",
    "lazyfree-lazy-expire": "no", "lazyfree-lazy-server-del": "no", "lazyfree-lazy-user-flush": "no",
    "activerehashing": "yes", "dynamic-hz": "yes", "tcp-keepalive": "300", "timeout": "0",
    "notify-keyspace-events": "", "proto-max-bulk-len": "512mb", "client-query-buffer-limit": "1gb",
    "stream-node-max-bytes": "4096", "stream-node-max-entries": "100", "active-expire-effort": "1",
    "lfu-log-factor": "10", "lfu-decay-time": "1", "maxmemory-clients": "0",
    "latency-tracking": "yes", "latency-tracking-info-percentiles": "50 99 99.9",
    "appendfsync": "everysec", "hll-sparse-max-bytes": "3000", "tracking-table-max-keys": "1000000",
    "busy-reply-threshold": "5000", "replica-read-only": "yes", "loglevel": "warning",
    "min-replicas-to-write": "0", "min-replicas-max-lag": "10", "save": "",
    "client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
    "repl-backlog-size": "1mb", "stop-writes-on-bgsave-error": "yes", "rdbcompression": "yes",
    "protected-mode": "yes", "replica-serve-stale-data": "yes", "oom-score-adj": "no",
    "oom-score-adj-values": "0 200 800", "latency-monitor-threshold": "0",
}

# ------------------------------------------------------------------------- normalising ---


def _ser(v):
    t, p = v
    if p is None:
        return t + b"-1\r\n"
    if isinstance(p, list):
        n = len(p) // 2 if t in (b"%", b"|") else len(p)
        return t + b"%d\r\n" % n + b"".join(_ser(x) for x in p)
    if t in (b"$", b"=", b"!"):
        return t + b"%d\r\n" % len(p) + p + b"\r\n"
    return t + p + b"\r\n"


KEEP_CINFO = {b"name", b"db", b"sub", b"psub", b"ssub", b"multi", b"watch", b"flags", b"cmd",
              b"user", b"redir", b"resp", b"events"}


def _cinfo(s):
    """A CLIENT INFO / CLIENT LIST line: field names in order, values only of the fields
    that don't depend on addresses, ids, times or buffer sizes."""
    out = []
    for line in s.split(b"\n"):
        if not line.strip():
            out.append(line)
            continue
        fs = []
        for f in line.strip().split(b" "):
            k, _, val = f.partition(b"=")
            fs.append(k + b"=" + (val if k in KEEP_CINFO else b"*"))
        out.append(b" ".join(fs))
    return b"\n".join(out)


def _pairs(p):
    return list(zip(p[0::2], p[1::2]))


def m_cinfo(v):
    t, p = v
    if t in (b"$", b"=") and p is not None:
        if t == b"=":
            return b"=" + _cinfo(p[4:])
        return b"$" + _cinfo(p)
    return _ser(v)


def m_acllog(v):
    """ACL LOG entries: age-seconds and the client-info's address / id / times blanked."""
    t, p = v
    if not isinstance(p, list):
        return _ser(v)
    ents = []
    for e in p:
        et, ep = e
        if not isinstance(ep, list):
            ents.append(e)
            continue
        q = []
        for k, x in _pairs(ep):
            if k[1] == b"age-seconds":
                x = (b"?", b"age")
            elif k[1] == b"client-info" and isinstance(x[1], bytes):
                x = (x[0], _cinfo(x[1]))
            elif k[1] in (b"timestamp-created", b"timestamp-last-updated"):
                x = (b":", b"0")
            q += [k, x]
        ents.append((et, q))
    return _ser((t, ents))


def m_slowlog(v):
    """SLOWLOG GET entries [id, time, duration, args, peer, name]: time, duration and peer
    blanked."""
    t, p = v
    if not isinstance(p, list):
        return _ser(v)
    ents = []
    for e in p:
        et, ep = e
        if isinstance(ep, list) and len(ep) >= 6:
            ep = [ep[0], (b":", b"0"), (b":", b"0"), ep[3], (b"$", b"peer")] + ep[5:]
        ents.append((et, ep))
    return _ser((t, ents))


def m_keys(v):
    """A map (or RESP2 flat pair array): its keys only, sorted."""
    t, p = v
    if not isinstance(p, list):
        return _ser(v)
    return b"keys:" + b",".join(sorted(_ser(k) for k in p[0::2]))


def m_type(v):
    return b"type:" + v[0]


def m_len(v):
    t, p = v
    if t == b"$" and p is not None:
        return b"len:%d" % len(p) + (b"hex" if all(c in b"0123456789abcdef" for c in p) else b"")
    return _ser(v)


def _deep(v):
    t, p = v
    if not isinstance(p, list):
        return v
    p = [_deep(x) for x in p]
    if t == b"%":
        prs = sorted(_pairs(p), key=lambda x: _ser(x[0]))
        return (t, [y for x in prs for y in x])
    if t in (b"*", b"~"):
        return (t, sorted(p, key=_ser))
    return (t, p)


def m_subdeep(v):
    """COMMAND INFO: each command's entry kept in order except its subcommand array (the
    10th field, dict order in Redis) whose entries are sorted."""
    t, p = v
    if not isinstance(p, list):
        return _ser(v)
    out = []
    for e in p:
        et, ep = e
        if isinstance(ep, list) and len(ep) >= 10 and isinstance(ep[9][1], list):
            ep = ep[:9] + [(ep[9][0], sorted(ep[9][1], key=lambda x: _ser(x)))] + ep[10:]
        out.append((et, ep))
    return _ser((t, out))


def m_docs(v):
    """COMMAND DOCS: map command -> doc map; the subcommands map is dict-ordered in Redis."""
    return _ser(_deep(v)) if v[0] == b"%" else _ser(_docs2(v))


def _docs2(v):
    t, p = v
    if not isinstance(p, list):
        return v
    # RESP2: flat [name, [k, v, k, v ...], ...]; sort the commands, and inside each doc the
    # pairs; the "subcommands" value recursively
    prs = []
    for name, doc in _pairs(p):
        if isinstance(doc[1], list):
            dp = []
            for k, x in _pairs(doc[1]):
                if k[1] == b"subcommands":
                    x = _docs2(x)
                dp.append((k, x))
            dp.sort(key=lambda kx: _ser(kx[0]))
            doc = (doc[0], [y for kx in dp for y in kx])
        prs.append((name, doc))
    prs.sort(key=lambda x: _ser(x[0]))
    return (t, [y for x in prs for y in x])


def m_names(v):
    """COMMAND INFO with no names: every command, in dict order -- the sorted names only."""
    t, p = v
    if not isinstance(p, list):
        return _ser(v)
    return b"names:" + b",".join(sorted(e[1][0][1] for e in p if isinstance(e[1], list) and e[1]))


ADMIN_MODES = {"@names": m_names, "@cinfo": m_cinfo, "@acllog": m_acllog, "@slowlog": m_slowlog, "@keys": m_keys,
               "@type": m_type, "@len": m_len, "@subdeep": m_subdeep, "@docs": m_docs}

# ------------------------------------------------------------------------------ grammar ---

PASSWORDS = ["secret1", "pw", "", "p a s s", "x" * 70, "\x00"]
SHA_OK = ["5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",  # "password"
          "A665A45920422F9D417E4867EFDC4FB8A04A1F3FFF1FA07E998E86F7F7A27AE3"]
SHA_BAD = ["5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d", "zz" * 32, "abc"]
CMDS = ["get", "set", "GET", "hset", "client", "config", "acl", "debug", "ping", "select",
        "nosuch", "eval", "keys", "flushall", "info", "object", "memory", "xadd", "publish",
        "subscribe", "auth", "hello", "multi", "exec", "bitfield", "sort", "migrate"]
SUBS = ["config|get", "config|set", "client|setname", "acl|whoami", "object|encoding",
        "get|x", "client|nosuch", "nosuch|x", "select|0", "config|get|x", "CLIENT|KILL",
        "memory|usage", "command|info"]
CATS = ["all", "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
        "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
        "blocking", "dangerous", "connection", "transaction", "scripting", "nosuch", "ALL",
        "Read", ""]
KPATS = ["*", "k*", "k1", "{a}*", "foo:*", "", "[a-z]*", "\\*"]
CHANS = ["*", "ch*", "news", "", "a?c"]


class AdminGen(SequenceGen):

    def user(self):
        return self.pick(["u1", "u1", "u2", "alice", "U1", "u 1", "default", "nosuch"])

    # ---------------------------------------------------------------------------- ACL ---
    def rule(self):
        r = self.r
        c = r.randint(0, 36)
        if c < 2:
            return self.pick(["on", "off", "ON", "Off"])
        if c < 4:
            return ">" + self.pick(PASSWORDS)
        if c < 5:
            return "<" + self.pick(PASSWORDS)
        if c < 6:
            return "#" + self.pick(SHA_OK + SHA_BAD)
        if c < 7:
            return "!" + self.pick(SHA_OK + SHA_BAD)
        if c < 8:
            return self.pick(["nopass", "resetpass", "NOPASS"])
        if c < 11:
            return "~" + self.pick(KPATS)
        if c < 13:
            return self.pick(["%R~", "%W~", "%RW~", "%WR~", "%r~", "%X~", "%~", "%R", "%"]) + self.pick(KPATS)
        if c < 15:
            return self.pick(["allkeys", "resetkeys", "ALLKEYS"])
        if c < 17:
            return "&" + self.pick(CHANS)
        if c < 18:
            return self.pick(["allchannels", "resetchannels"])
        if c < 21:
            return self.pick(["+", "-"]) + self.pick(CMDS)
        if c < 24:
            return self.pick(["+@", "-@"]) + self.pick(CATS)
        if c < 26:
            return self.pick(["+", "-"]) + self.pick(SUBS)
        if c < 28:
            return self.pick(["allcommands", "nocommands", "+@all", "-@all"])
        if c < 29:
            return self.pick(["reset", "clearselectors"])
        if c < 33:
            inner = " ".join(self.rule_simple() for _ in range(r.randint(0, 3)))
            return self.pick(["(%s)", "(%s)", "(%s", "%s)", "( %s )"]) % inner
        return self.pick(["bogus", "+", "-", "~", "&", "@all", "+@", "x~", "onn", "+get|",
                          "-get|x", ">", "#", "!", "allkeys ", " on", "+@all|x", "+select|0x"])

    def rule_simple(self):
        return self.pick(["~k*", "~*", "%R~r*", "%W~w*", "+get", "+set", "-@all", "+@read",
                          "+@write", "&ch*", "allchannels", "resetkeys", "allkeys", "-get",
                          "+client|setname", "on", ">x", "reset", "+@hash", "nocommands"])

    def setuser(self, name=None):
        name = name or self.user()
        if name == "default":
            # only rules that leave the default user as it is
            return ["ACL", "SETUSER", "default"] + \
                [self.pick(["on", "allkeys", "allchannels", "+@all", "~*", "&*", "allcommands", "nopass"])
                 for _ in range(self.r.randint(0, 3))]
        rules = [self.rule() for _ in range(self.r.randint(0, 5))]
        return ["ACL", "SETUSER", name] + rules

    def dryrun(self):
        u = self.pick(["u1", "u1", "u2", "alice", "default", "nosuch", "pwuser"])
        forms = [["GET", "k1"], ["SET", "k1", "v"], ["SET", "foo:1", "v"], ["get"], ["GET", "a", "b"],
                 ["HSET", "h", "f", "v"], ["CLIENT", "SETNAME", "x"], ["CLIENT", "KILL", "ID", "1"],
                 ["CONFIG", "GET", "hz"], ["CONFIG", "SET", "hz", "10"], ["PING"], ["nosuch"],
                 ["PUBLISH", "news", "x"], ["PUBLISH", "ch1", "x"], ["SUBSCRIBE", "news", "ch1"],
                 ["COPY", "k1", "foo:2"], ["LMOVE", "k1", "foo:1", "LEFT", "RIGHT"], ["MGET", "k1", "zz"],
                 ["SORT", "k1", "BY", "x*"], ["EVAL", "return 1", "1", "k1"], ["SELECT", "0"],
                 ["MULTI"], ["AUTH", "x"], ["OBJECT", "ENCODING", "k1"], ["MEMORY", "USAGE", "k1"],
                 ["XADD", "k1", "*", "a", "b"], ["SPUBLISH", "news", "x"], ["CONFIG"], ["CLIENT", "nosuch"],
                 ["BITFIELD", "k1", "GET", "u8", "0"], ["BITFIELD", "k1", "SET", "u8", "0", "1"],
                 ["MIGRATE", "h", "1", "k1", "0", "1"], ["GEORADIUS", "k1", "0", "0", "1", "m", "STORE", "foo:1"]]
        return ["ACL", "DRYRUN", u] + self.pick(forms)

    def acl_setup(self):
        """Two or three users created with a known shape, for DRYRUN to check."""
        q = [["ACL", "SETUSER", "u1", "reset", "on", "nopass",
              self.pick(["~k*", "~*", "%R~k*", "%W~foo:*", "allkeys", "resetkeys"]),
              self.pick(["+@read", "+get", "+@all", "-@all", "+@write", "+client|setname", "+@string"]),
              self.pick(["&news", "allchannels", "resetchannels", "&ch*"])],
             ["ACL", "SETUSER", "u2", "reset", "on", "nopass", "+@all", "-@dangerous", "~*",
              self.pick(["(~foo:* +set)", "(%R~k* +@read)", "(&news +publish ~*)", "-config|set"])]]
        return q

    def acl(self):
        r = self.r
        c = r.randint(0, 99)
        if c < 30:
            q = [self.setuser() for _ in range(r.randint(1, 3))]
            q.append(["ACL", "GETUSER", self.pick(["u1", "u2", "alice", "u 1", "U1"])])
            if r.random() < 0.3:
                q.append(["ACL", "LIST"])
            return q
        if c < 45:
            return self.acl_setup() + [self.dryrun() for _ in range(r.randint(1, 4))] + \
                [["ACL", "GETUSER", self.pick(["u1", "u2"])]]
        if c < 52:
            return [self.setuser()] + [self.dryrun()]
        if c < 58:
            # pwuser has only ever password secret1; auth failures fill the ACL log
            return [["ACL", "SETUSER", "pwuser", "on", ">secret1", "+@all", "~*"]] + \
                [self.pick([["AUTH", "ghost", "x"], ["AUTH", "pwuser", "nope"], ["AUTH", "ghost", ""],
                            ["@hello", "HELLO", "3" if RESP3 else "2", "AUTH", "ghost", "x"],
                            ["@hello", "HELLO", "3" if RESP3 else "2", "AUTH", "pwuser", "bad"],
                            ["AUTH", "pwuser"], ["AUTH", "a", "b", "c"], ["AUTH"]])
                 for _ in range(r.randint(1, 4))] + \
                [["@acllog", "ACL", "LOG"] + self.pick([[], [], ["1"], ["0"], ["-1"], ["abc"], ["RESET"],
                                                        ["reset", "x"], ["2"]])]
        if c < 62:
            return [["@acllog", "ACL", "LOG"] + self.pick([[], ["1"], ["RESET"], ["-5"], ["10", "x"]])]
        if c < 70:
            return [self.pick([["ACL", "DELUSER"] + [self.user() for _ in range(r.randint(0, 3))],
                               ["ACL", "DELUSER", "default"], ["ACL", "DELUSER", "u1", "default"],
                               ["ACL", "DELUSER", "u1", "u1"]])]
        if c < 80:
            return [self.pick([["ACL", "LIST"], ["ACL", "USERS"], ["ACL", "WHOAMI"], ["ACL", "WHOAMI", "x"],
                               ["ACL", "LIST", "x"], ["ACL", "USERS", "x"], ["ACL", "GETUSER"],
                               ["ACL", "GETUSER", "default"], ["ACL", "GETUSER", "nosuch"],
                               ["ACL", "GETUSER", "u1", "x"], ["ACL"], ["ACL", "BOGUS"], ["acl", "help"],
                               ["ACL", "LOAD"], ["ACL", "SAVE"], ["ACL", "SETUSER"], ["ACL", "DRYRUN", "u1"],
                               ["ACL", "DRYRUN", "default", "get"], ["ACL", "CAT", "a", "b"],
                               ["ACL", "HELP", "x"]])]
        if c < 90:
            cat = self.pick(CATS)
            return [["@sorted", "ACL", "CAT", cat] if r.random() < 0.8 else ["ACL", "CAT"]]
        return [["@len", "ACL", "GENPASS"] + self.pick([[], ["1"], ["4"], ["5"], ["64"], ["256"], ["4096"],
                                                        ["4097"], ["0"], ["-1"], ["abc"], ["8", "x"]])]

    # ------------------------------------------------------------------------- CONFIG ---
    SETS = {
        "maxmemory": ["0", "1gb", "100mb", "1GB", "2Gb", "104857600", "100m", "1g", "abc", "-1",
                      "1.5gb", "18446744073709551616", "1tb", "10zb", "0b"],
        "maxmemory-policy": ["allkeys-lru", "ALLKEYS-LFU", "volatile-random", "noeviction", "bogus", ""],
        "maxmemory-samples": ["1", "0", "10", "-1", "abc", "2147483648"],
        "maxmemory-eviction-tenacity": ["0", "100", "101", "-1", "50"],
        "maxmemory-clients": ["0", "10%", "100%", "1gb", "0%", "101%", "-1", "abc", "1.5%", "%", "50 %"],
        "lazyfree-lazy-eviction": ["yes", "no", "YES", "1", "true", ""],
        "lazyfree-lazy-expire": ["yes", "no", "maybe"],
        "lazyfree-lazy-server-del": ["yes", "no"],
        "lazyfree-lazy-user-flush": ["yes", "No"],
        "activerehashing": ["yes", "no", "y"],
        "dynamic-hz": ["no", "yes"],
        "tcp-keepalive": ["0", "60", "-1", "abc", "300"],
        "timeout": ["0", "3600", "-1", "abc", "1.5"],
        "notify-keyspace-events": ["KEA", "Ex", "", "KA", "z", "K", "E", "Kg$lshzxetmnd", "bogus!", "AKE"],
        "proto-max-bulk-len": ["512mb", "1mb", "1kb", "1048575", "abc", "2gb"],
        "client-query-buffer-limit": ["1gb", "1mb", "100kb", "2gb"],
        "stream-node-max-bytes": ["4096", "0", "4kb", "-1"],
        "stream-node-max-entries": ["100", "0", "-1"],
        "active-expire-effort": ["1", "10", "11", "0"],
        "lfu-log-factor": ["10", "0", "-1"],
        "lfu-decay-time": ["1", "0", "abc"],
        "latency-tracking": ["yes", "no"],
        "latency-tracking-info-percentiles": ["50 99 99.9", "", "99", "101", "abc", "-1", "50 50", "0 100"],
        "appendfsync": ["always", "no", "everysec", "sometimes", "ALWAYS"],
        "hll-sparse-max-bytes": ["3000", "0", "100kb"],
        "tracking-table-max-keys": ["1000000", "0", "10"],
        "busy-reply-threshold": ["5000", "0", "-1"],
        "lua-time-limit": ["5000", "100"],
        "replica-read-only": ["yes", "no"],
        "slave-read-only": ["yes", "no"],
        "loglevel": ["warning", "notice", "verbose", "debug", "bogus", "nothing", "WARNING"],
        "min-replicas-max-lag": ["10", "0", "-1"],
        "min-slaves-max-lag": ["10"],
        "min-replicas-to-write": ["0", "-1", "abc"],
        "save": ["", "abc", "1", "3600 1 300 100", "3600 -1", "3600"],
        "client-output-buffer-limit": ["normal 0 0 0", "pubsub 32mb 8mb 60", "normal 0 0",
                                       "bogus 0 0 0", "replica 256mb 64mb 60", "slave 1 2 3",
                                       "normal 1gb 512mb 0", "normal a b c", ""],
        "repl-backlog-size": ["1mb", "10mb", "0", "-1"],
        "stop-writes-on-bgsave-error": ["yes", "no"],
        "rdbcompression": ["yes", "no"],
        "protected-mode": ["yes", "no"],
        "replica-serve-stale-data": ["yes", "no"],
        "oom-score-adj": ["no", "yes", "relative", "absolute", "bogus"],
        "oom-score-adj-values": ["0 200 800", "0 0 0", "0 200", "1001 0 0", "a b c", "-2001 0 0"],
        "slowlog-log-slower-than": ["-1", "0", "-2", "abc", "1000000"],
        "slowlog-max-len": ["128", "0", "1", "2", "-1"],
        "acllog-max-len": ["128", "0", "1", "2", "-1"],
        "acl-pubsub-default": ["allchannels", "resetchannels", "ALLCHANNELS", "bogus"],
        "latency-monitor-threshold": ["0", "-1", "abc"],
        # immutable / protected / unknown / dangerous-but-refused
        "databases": ["16", "32"], "daemonize": ["no", "yes"], "io-threads": ["1", "4"],
        "dir": ["/tmp", "."], "dbfilename": ["x.rdb"], "appendfilename": ["x.aof"],
        "cluster-enabled": ["yes"], "pidfile": ["/tmp/x.pid"], "logfile": ["/tmp/x.log"],
        "enable-protected-configs": ["yes"], "enable-debug-command": ["yes"], "unixsocket": ["/tmp/x"],
        "aclfile": ["/tmp/users.acl"], "supervised": ["no"], "nosuch-param": ["1"], "": ["1"],
        "set-proc-title": ["no"], "tcp-backlog": ["100"], "replicaof": ["no one"],
    }
    GETS = ["maxmemory", "maxmemory*", "*lazy*", "lazyfree-*", "hz", "HZ", "notify-keyspace-events",
            "timeout", "tcp-keepalive", "slowlog*", "acl*", "*policy*", "save", "appendonly",
            "appendfsync", "databases", "client-output-buffer-limit", "proto-max-bulk-len",
            "*-max-*-entries", "stream-node-*", "latency-*", "nosuch", "", "maxmemory-clients",
            "oom-score-adj*", "min-replicas-*", "min-slaves-*", "slave-read-only", "replica-read-only",
            "lua-time-limit", "busy-reply-threshold", "activerehashing", "dynamic-hz", "lfu-*",
            "active-expire-effort", "hll-sparse-max-bytes", "tracking-table-max-keys", "loglevel",
            "protected-mode", "io-threads", "daemonize", "set-proc-title", "list-*", "?z",
            "[h]z", "hash-max-ziplist-*", "zset-max-*", "cluster-enabled", "repl-backlog-size",
            "stop-writes-on-bgsave-error", "rdbcompression", "enable-*-command*", "requirepass"]

    def config(self):
        r = self.r
        c = r.randint(0, 99)
        if c < 45:
            name = self.pick(list(self.SETS))
            val = self.pick(self.SETS[name])
            return [["CONFIG", "SET", name if r.random() < 0.9 else name.upper(), val],
                    ["@pairs", "CONFIG", "GET", name]]
        if c < 60:
            # several parameters at once; a bad one anywhere fails them all
            a = ["CONFIG", "SET"]
            names = []
            for _ in range(r.randint(2, 4)):
                name = self.pick(list(self.SETS))
                names.append(name)
                a += [name, self.pick(self.SETS[name])]
            if r.random() < 0.1:
                a += [self.pick(names)]
            if r.random() < 0.1:
                a += [names[0], "1"]
            return [a, ["@pairs", "CONFIG", "GET"] + names]
        if c < 85:
            return [["@pairs", "CONFIG", "GET"] + [self.pick(self.GETS) for _ in range(r.randint(1, 3))]]
        return [self.pick([["CONFIG", "RESETSTAT"], ["CONFIG", "RESETSTAT", "x"], ["CONFIG", "GET"],
                           ["CONFIG", "SET"], ["CONFIG", "SET", "hz"], ["CONFIG", "SET", "hz", "10", "maxmemory"],
                           ["CONFIG", "SET", "hz", "10", "hz", "11"], ["CONFIG", "SET", "hz", "10", "HZ", "11"],
                           ["CONFIG", "SET", "maxmemory", "10mb", "maxmemory-policy", "bogus"],
                           ["CONFIG", "SET", "hash-max-ziplist-entries", "1", "hash-max-listpack-entries", "2"],
                           ["CONFIG", "REWRITE"], ["CONFIG", "HELP"], ["CONFIG", "help", "x"], ["CONFIG", "bogus"],
                           ["CONFIG", "GET", "hz", "hz"], ["CONFIG", "SET", "save", "100"],
                           ["CONFIG", "SET", "dir", "/tmp", "hz", "5"], ["CONFIG", "SET", "databases", "1", "hz", "5"],
                           ["CONFIG", "SET", "hz", "5", "databases", "1"]])]

    # ------------------------------------------------------------------------- CLIENT ---
    def client(self):
        r = self.r
        c = r.randint(0, 99)
        if c < 20:
            nm = self.pick(["x", "", "a b", "a\nb", "\x7f", "name-1", "n\x00", "é", "~!@#", "x" * 100])
            q = [["CLIENT", "SETNAME", nm]] if r.random() < 0.9 else [self.pick([["CLIENT", "SETNAME"],
                                                                             ["CLIENT", "SETNAME", "a", "b"],
                                                                             ["CLIENT", "GETNAME", "x"]])]
            q.append(["CLIENT", "GETNAME"])
            if r.random() < 0.3:
                q.append(["@cinfo", "CLIENT", "INFO"])
            return q
        if c < 45:
            return self.tracking()
        if c < 55:
            return [self.pick([["CLIENT", "NO-EVICT", "on"], ["CLIENT", "NO-EVICT", "off"],
                               ["CLIENT", "NO-EVICT", "ON"], ["CLIENT", "NO-EVICT", "maybe"],
                               ["CLIENT", "NO-EVICT"], ["CLIENT", "REPLY", "ON"], ["CLIENT", "REPLY", "on"],
                               ["CLIENT", "REPLY", "BOGUS"], ["CLIENT", "REPLY"], ["CLIENT", "REPLY", "ON", "x"],
                               ["CLIENT", "UNPAUSE"], ["CLIENT", "UNPAUSE", "x"],
                               ["CLIENT", "PAUSE", "0"], ["CLIENT", "PAUSE", "0", "WRITE"],
                               ["CLIENT", "PAUSE", "0", "ALL"], ["CLIENT", "PAUSE", "0", "bogus"],
                               ["CLIENT", "PAUSE", "abc"], ["CLIENT", "PAUSE", "-1"], ["CLIENT", "PAUSE"],
                               ["CLIENT", "PAUSE", "1.5"], ["CLIENT", "PAUSE", "0", "write", "x"]])] + \
                [["CLIENT", "UNPAUSE"]] + ([["@cinfo", "CLIENT", "INFO"]] if r.random() < 0.3 else [])
        if c < 70:
            return [self.pick([["CLIENT", "KILL", "ID", "999999"], ["CLIENT", "KILL", "ID", "abc"],
                               ["CLIENT", "KILL", "ID", "0"], ["CLIENT", "KILL", "1.2.3.4:5"],
                               ["CLIENT", "KILL", "ADDR", "1.2.3.4:5"], ["CLIENT", "KILL", "LADDR", "1.2.3.4:5"],
                               ["CLIENT", "KILL", "TYPE", "pubsub"], ["CLIENT", "KILL", "TYPE", "master"],
                               ["CLIENT", "KILL", "TYPE", "replica"], ["CLIENT", "KILL", "TYPE", "slave"],
                               ["CLIENT", "KILL", "TYPE", "bogus"], ["CLIENT", "KILL", "USER", "nosuch"],
                               ["CLIENT", "KILL", "USER", "u1"], ["CLIENT", "KILL", "SKIPME", "maybe"],
                               ["CLIENT", "KILL", "ID", "999999", "SKIPME", "no"],
                               ["CLIENT", "KILL", "ID", "999999", "SKIPME", "yes", "TYPE", "pubsub"],
                               ["CLIENT", "KILL", "ID"], ["CLIENT", "KILL"], ["CLIENT", "KILL", "BOGUS", "x"],
                               ["CLIENT", "KILL", "ADDR", "1.2.3.4:5", "ID"], ["CLIENT", "KILL", "a", "b", "c"],
                               ["CLIENT", "UNBLOCK", "999999"], ["CLIENT", "UNBLOCK", "abc"],
                               ["CLIENT", "UNBLOCK", "999999", "TIMEOUT"], ["CLIENT", "UNBLOCK", "999999", "ERROR"],
                               ["CLIENT", "UNBLOCK", "999999", "bogus"], ["CLIENT", "UNBLOCK"],
                               ["CLIENT", "UNBLOCK", "-1"], ["CLIENT", "UNBLOCK", "1", "error", "x"]])]
        if c < 85:
            return [self.pick([["CLIENT", "LIST", "TYPE", "pubsub"], ["CLIENT", "LIST", "TYPE", "master"],
                               ["CLIENT", "LIST", "TYPE", "replica"], ["CLIENT", "LIST", "TYPE", "x"],
                               ["CLIENT", "LIST", "TYPE"], ["CLIENT", "LIST", "ID", "abc"],
                               ["CLIENT", "LIST", "ID", "999999"], ["CLIENT", "LIST", "ID", "999999", "999998"],
                               ["CLIENT", "LIST", "ID"], ["CLIENT", "LIST", "ID", "-1"], ["CLIENT", "LIST", "BOGUS"],
                               ["CLIENT", "LIST", "ID", "1", "x"], ["@cinfo", "CLIENT", "LIST", "TYPE", "normal"],
                               ["@cinfo", "CLIENT", "LIST"], ["@cinfo", "CLIENT", "INFO"], ["CLIENT", "INFO", "x"],
                               ["CLIENT", "LIST", "TYPE", "pubsub", "x"], ["CLIENT", "LIST", "type", "PUBSUB"]])]
        return [self.pick([["CLIENT", "GETREDIR"], ["CLIENT", "GETREDIR", "x"], ["CLIENT", "TRACKINGINFO"],
                           ["CLIENT", "TRACKINGINFO", "x"], ["CLIENT", "CACHING", "yes"], ["CLIENT", "CACHING", "no"],
                           ["CLIENT", "CACHING"], ["CLIENT", "CACHING", "maybe"], ["CLIENT", "BOGUS"],
                           ["CLIENT"], ["CLIENT", "ID", "x"], ["CLIENT", "GETNAME"], ["client", "help"],
                           ["CLIENT", "SETINFO", "lib-name", "x"], ["CLIENT", "NO-TOUCH", "on"]])]

    def tracking(self):
        r = self.r
        opts = []
        for _ in range(r.randint(0, 4)):
            opts += self.pick([["BCAST"], ["OPTIN"], ["OPTOUT"], ["NOLOOP"], ["PREFIX", "a"], ["PREFIX", "ab"],
                               ["PREFIX", "b"], ["PREFIX", ""], ["PREFIX"], ["REDIRECT", "999999"],
                               ["REDIRECT", "abc"], ["REDIRECT", "0"], ["bogus"], ["optin"]])
        mode = self.pick(["ON", "ON", "on", "OFF", "maybe"])
        q = [["CLIENT", "TRACKING", mode] + opts]
        if r.random() < 0.4:
            mode2 = self.pick(["ON", "OFF"])
            q.append(["CLIENT", "TRACKING", mode2] + self.pick([[], ["BCAST"], ["BCAST", "PREFIX", "a"],
                                                               ["BCAST", "PREFIX", "abc"], ["OPTIN"], ["OPTOUT"],
                                                               ["PREFIX", "x"]]))
        for _ in range(r.randint(1, 4)):
            q.append(self.pick([["CLIENT", "TRACKINGINFO"], ["CLIENT", "GETREDIR"], ["CLIENT", "CACHING", "yes"],
                                ["CLIENT", "CACHING", "no"], ["CLIENT", "CACHING", "YES"], ["PING"],
                                ["CLIENT", "CACHING", "x"], ["CLIENT", "CACHING", "yes", "x"],
                                ["@cinfo", "CLIENT", "INFO"]]))
        q.append(["CLIENT", "TRACKING", "off"])
        if r.random() < 0.5:
            q.append(["CLIENT", "TRACKINGINFO"])
        return q

    # -------------------------------------------------------------- SLOWLOG / LATENCY ---
    def slowlog(self):
        r = self.r
        if r.random() < 0.4:
            q = [["CONFIG", "SET", "slowlog-log-slower-than", "0"]]
            if r.random() < 0.3:
                q.append(["CONFIG", "SET", "slowlog-max-len", self.pick(["1", "2", "3"])])
            q += [self.pick([["SET", "k1", "v"], ["PING", "x"], ["GET", "x" * 200], ["DEL"] + ["k"] * 40,
                             ["CLIENT", "SETNAME", "slowpoke"], ["ECHO", "hi"], ["AUTH", "ghost", "x"],
                             ["CONFIG", "GET", "hz"], ["ACL", "SETUSER", "u1", ">pw"],
                             ["HELLO", "3" if RESP3 else "2", "AUTH", "ghost", "x"]])
                  for _ in range(r.randint(1, 4))]
            q += [["CONFIG", "SET", "slowlog-log-slower-than", "-1"],
                  ["@slowlog", "SLOWLOG", "GET"] + self.pick([[], ["1"], ["-1"], ["0"], ["100"]]),
                  ["SLOWLOG", "LEN"]]
            return q
        return [self.pick([["SLOWLOG", "LEN"], ["SLOWLOG", "RESET"], ["@slowlog", "SLOWLOG", "GET"],
                           ["SLOWLOG", "GET", "abc"], ["SLOWLOG", "GET", "-2"], ["SLOWLOG", "GET", "1", "2"],
                           ["SLOWLOG", "LEN", "x"], ["SLOWLOG", "RESET", "x"], ["SLOWLOG"], ["SLOWLOG", "BOGUS"],
                           ["slowlog", "help"], ["SLOWLOG", "GET", "9223372036854775808"]])]

    def latency(self):
        return [self.pick([["LATENCY", "HELP"], ["LATENCY", "LATEST"], ["LATENCY", "RESET"],
                           ["LATENCY", "RESET", "command", "fast-command"], ["LATENCY", "HISTORY", "command"],
                           ["LATENCY", "HISTORY", "nosuch"], ["LATENCY", "HISTORY"], ["LATENCY", "GRAPH", "command"],
                           ["LATENCY", "GRAPH"], ["LATENCY", "DOCTOR"], ["LATENCY", "BOGUS"], ["LATENCY"],
                           ["LATENCY", "LATEST", "x"],
                           ["LATENCY", "HISTOGRAM", "lastsave"], ["LATENCY", "HISTOGRAM", "bgrewriteaof", "nosuch"],
                           ["LATENCY", "HISTOGRAM", "nosuch"], ["LATENCY", "HISTOGRAM", "replicaof", "failover"],
                           ["LATENCY", "HISTOGRAM", "monitor"], ["LATENCY", "HISTOGRAM", "debug|sleep", "sync"],
                           ["@keys", "LATENCY", "HISTOGRAM", "echo", "acl|whoami", "nosuch"]])]

    # ------------------------------------------------------------------------- MEMORY ---
    def memory(self):
        r = self.r
        k = self.pick(["k1", "nosuch", "s1", "l1", "h1", "z1", "n1"])
        c = r.randint(0, 99)
        if c < 50:
            q = []
            if r.random() < 0.5:
                q.append(self.pick([["SET", k, "v"], ["SET", k, "x" * 100], ["SET", k, "12345"],
                                    ["RPUSH", k, "a", "b", "c"], ["SADD", k, "1", "2"], ["HSET", k, "f", "v"],
                                    ["ZADD", k, "1", "m"], ["DEL", k]]))
            q.append(["MEMORY", "USAGE", k] + self.pick([[], [], ["SAMPLES", "5"], ["SAMPLES", "0"], ["SAMPLES", "-1"],
                                                         ["SAMPLES", "abc"], ["SAMPLES"], ["samples", "1"],
                                                         ["BOGUS", "1"], ["SAMPLES", "1", "x"]]))
            return q
        return [self.pick([["@keys", "MEMORY", "STATS"], ["MEMORY", "STATS", "x"], ["MEMORY", "DOCTOR"],
                           ["MEMORY", "DOCTOR", "x"], ["@type", "MEMORY", "MALLOC-STATS"],
                           ["MEMORY", "MALLOC-STATS", "x"], ["MEMORY", "PURGE"], ["MEMORY", "PURGE", "x"],
                           ["MEMORY", "USAGE"], ["MEMORY"], ["MEMORY", "BOGUS"], ["memory", "help"],
                           ["MEMORY", "HELP", "x"]])]

    # ------------------------------------------------------------------------ COMMAND ---
    INFO_CMDS = ["get", "set", "GET", "mset", "eval", "xread", "georadius", "sort", "zunionstore",
                 "blpop", "lmove", "ping", "nosuch", "", "client", "config", "config|get", "acl|setuser",
                 "memory|usage", "object", "xadd", "migrate", "bitfield", "bitfield_ro", "hello",
                 "auth", "exec", "subscribe", "publish", "spublish", "function|load", "script|load",
                 "sintercard", "zadd", "lpos", "getex", "object|encoding", "get|x", "command|docs"]
    GETKEYS = [["GET", "a"], ["SET", "a", "b"], ["SET", "a"], ["MSET", "a", "1", "b", "2"], ["MSET", "a", "1", "b"],
               ["PING"], ["ECHO", "x"], ["nosuch", "a"], ["EVAL", "return 1", "2", "a", "b"],
               ["EVAL", "return 1", "0"], ["EVAL", "return 1", "3", "a"], ["EVAL", "return 1", "-1"],
               ["ZUNIONSTORE", "d", "2", "a", "b"], ["ZUNIONSTORE", "d", "5", "a"], ["XREAD", "STREAMS", "a", "0"],
               ["XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"], ["XREAD", "STREAMS", "a", "b", "0"],
               ["SORT", "a", "BY", "x", "STORE", "d"], ["SORT", "a"], ["GEORADIUS", "a", "0", "0", "1", "m", "STORE", "d"],
               ["MIGRATE", "h", "1", "", "0", "1", "KEYS", "a", "b"], ["MIGRATE", "h", "1", "k", "0", "1"],
               ["LMOVE", "a", "b", "LEFT", "RIGHT"], ["OBJECT", "ENCODING", "a"], ["MEMORY", "USAGE", "a"],
               ["CONFIG", "GET", "hz"], ["CLIENT", "LIST"], ["SUBSCRIBE", "ch"], ["PUBLISH", "ch", "m"],
               ["BLPOP", "a", "b", "0"], ["SINTERCARD", "2", "a", "b"], ["SINTERCARD", "3", "a"],
               ["LMPOP", "2", "a", "b", "LEFT"], ["ZADD", "z", "1", "m"], ["GETEX", "a", "PERSIST"],
               ["XADD", "s", "*", "f", "v"], ["BITFIELD", "a", "GET", "u8", "0"], ["DEL", "a", "b", "c"],
               ["RENAME", "a", "b"], ["COPY", "a", "b"], ["FCALL", "f", "1", "a"], ["FUNCTION", "LOAD", "x"],
               ["get"], ["GET", "a", "b"], [], ["COMMAND", "INFO"], ["EXEC"], ["WATCH", "a", "b"],
               ["XGROUP", "CREATE", "s", "g", "$"], ["SET", "a", "b", "GET"], ["GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "m", "ASC"]]

    def command_(self):
        r = self.r
        c = r.randint(0, 99)
        if c < 25:
            names = [self.pick(self.INFO_CMDS) for _ in range(r.randint(0, 3))]
            return [["@subdeep" if names else "@names", "COMMAND", "INFO"] + names]
        if c < 40:
            return [["@docs", "COMMAND", "DOCS"] + [self.pick(self.INFO_CMDS) for _ in range(r.randint(1, 2))]]
        if c < 70:
            return [["COMMAND", self.pick(["GETKEYS", "GETKEYSANDFLAGS", "getkeys"])] + self.pick(self.GETKEYS)]
        if c < 90:
            return [["@sorted", "COMMAND", "LIST"] + self.pick([
                ["FILTERBY", "ACLCAT", self.pick(CATS)], ["FILTERBY", "PATTERN", self.pick(["x*", "get*", "*", "cl?ent", "config|*", "*|*", "[a-c]*", ""])],
                ["FILTERBY", "MODULE", "nosuch"], ["FILTERBY", "BOGUS", "x"], ["FILTERBY"], ["FILTERBY", "ACLCAT"],
                ["BOGUS"], ["FILTERBY", "pattern", "get*", "x"], [], ["FILTERBY", "ACLCAT", "read", "FILTERBY", "PATTERN", "x"]])]
        return [self.pick([["COMMAND", "COUNT"], ["COMMAND", "COUNT", "x"], ["COMMAND", "HELP"],
                           ["COMMAND", "BOGUS"], ["COMMAND", "GETKEYS"], ["COMMAND", "GETKEYSANDFLAGS"],
                           ["COMMAND", "INFO", "get|x|y"], ["COMMAND", "DOCS", "nosuch"]])]

    # ------------------------------------------------------------------------- misc ---
    def misc(self):
        r = self.r
        c = r.randint(0, 99)
        if c < 15:
            return [self.pick([["ECHO", "x"], ["ECHO", ""], ["ECHO", "a", "b"], ["ECHO"], ["echo", "\x00\r\n"],
                               ["PING"], ["PING", "x"], ["PING", ""], ["PING", "a", "b"], ["ping", "PONG"]])]
        if c < 30:
            return [self.pick([["SELECT", "16"], ["SELECT", "-1"], ["SELECT", "abc"], ["SELECT", "1.5"],
                               ["SELECT", "99999999999999999999"], ["SELECT", "0x1"], ["SELECT", " 1"],
                               ["SELECT", "15"], ["SELECT", "0"], ["SELECT", "2147483648"], ["SELECT", "0", "1"],
                               ["SWAPDB", "0", "16"], ["SWAPDB", "a", "b"], ["SWAPDB", "0", "-1"], ["SWAPDB", "0", "0"],
                               ["SWAPDB", "-1", "0"], ["SWAPDB", "1", "0"], ["SWAPDB", "0", "1", "2"], ["SWAPDB", "0"],
                               ["SWAPDB", "0", "abc"], ["SWAPDB", "1", "abc"]])] + [["SELECT", "0"]]
        if c < 45:
            return [self.pick([["WAIT", "0", "0"], ["WAIT", "0", "100"], ["WAIT", "abc", "0"], ["WAIT", "0", "-1"],
                               ["WAIT", "0", "abc"], ["WAIT", "0"], ["WAIT", "-1", "0"], ["WAIT", "0", "0", "0"],
                               ["WAITAOF", "0", "0", "0"]])]
        if c < 60:
            q = [self.pick([["CLIENT", "SETNAME", "before"], ["SELECT", "3"], ["CLIENT", "NO-EVICT", "on"],
                            ["CLIENT", "TRACKING", "on"], ["MULTI"], ["ACL", "WHOAMI"]]),
                 self.pick([["RESET"], ["RESET"], ["reset"], ["RESET", "x"]]),
                 ["CLIENT", "GETNAME"], ["@cinfo", "CLIENT", "INFO"], ["CLIENT", "TRACKINGINFO"]]
            if RESP3:
                q.append(["@hello", "HELLO", "3"])
            q += [["DISCARD"], ["CLIENT", "TRACKING", "off"], ["CLIENT", "NO-EVICT", "off"], ["SELECT", "0"]]
            return q
        if c < 85:
            p = "3" if RESP3 else "2"
            h = self.pick([["HELLO", p, "AUTH", "ghost", "x"], ["HELLO", p, "AUTH", "default"],
                           ["HELLO", p, "AUTH"], ["HELLO", p, "SETNAME", "a b"], ["HELLO", p, "SETNAME"],
                           ["HELLO", p, "SETNAME", "nm", "AUTH", "ghost", "x"], ["HELLO", p, "AUTH", "default", "any"],
                           ["HELLO", p, "SETNAME", "okname"], ["HELLO", p, "SETNAME", "a\nb", "AUTH", "default", "x"],
                           ["HELLO", p, "BOGUS"], ["HELLO", "AUTH", "default", "x"], ["HELLO", p, "SETNAME", ""],
                           ["HELLO", p, "AUTH", "pwuser", "bad"], ["HELLO", "0"], ["HELLO", "-1"], ["HELLO", p, p],
                           ["HELLO", p, "auth", "default", "x", "setname", "n2"]])
            return [["@hello"] + h, ["CLIENT", "GETNAME"]]
        return [self.pick([["OBJECT", "HELP"], ["OBJECT", "HELP", "x"], ["OBJECT", "BOGUS"], ["OBJECT", "ENCODING"],
                           ["OBJECT", "FREQ", "nosuch"], ["OBJECT", "IDLETIME", "nosuch"], ["OBJECT", "REFCOUNT", "nosuch"]])]

    def family(self):
        c = self.r.randint(0, 99)
        if c < 30:
            return self.acl()
        if c < 48:
            return self.config()
        if c < 64:
            return self.client()
        if c < 70:
            return self.slowlog()
        if c < 75:
            return self.latency()
        if c < 81:
            return self.memory()
        if c < 90:
            return self.command_()
        return self.misc()


admin_pending, admin_command = sequences("_admin", AdminGen)
