#!/usr/bin/env python3
"""Differential test: random command sequences sent to ferrokv and to a real redis-server.

Usage: scripts/difftest.py [--seed S] [--commands N] [--ferrokv PATH] [--redis-server PATH]
                           [--quiet] [--no-minimise] [--skip REGEX] [--scenario FILE ...] [--resp3]

--quiet prints only the first mismatch of each (command, reply types) signature in full;
--skip REGEX leaves out generated commands matching REGEX (to get past known causes);
--scenario replays spec scenario files on both servers and prints the differing steps;
--resp3 sends HELLO 3 on every (re)connection, so every reply is compared in RESP3.

Both servers are started on free loopback ports, every generated command is sent to both
over raw sockets, and the raw RESP replies are compared byte for byte (array replies of
KEYS/SCAN-like commands, and RESP3 sets/maps of them, are sorted first -- HKEYS/HVALS/
HGETALL/SMEMBERS/SINTER/SUNION/SDIFF only when Redis's key is hashtable-encoded, since a
listpack's or intset's order is defined; TTL-like replies get a small tolerance).
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
            if t == b"|":
                # RESP3 attribute: a map that precedes the reply it annotates; keep both
                v, pos = self._parse(pos)
                items.append(v)
            return (t, items), pos
        raise ValueError("bad RESP type %r in %r" % (t, self.buf[pos - 20:pos + 20]))

    def read(self):
        v, pos = self._parse(0)
        # a RESP3 push (>) is read as a reply of its own: the grammar never subscribes nor
        # tracks, so pushes only come as the replies of (P|S)UNSUBSCRIBE
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


# The command grammar lives in difftest_gen.py.
from difftest_gen import ADMIN_MODES, ADMIN_RESET, CONFIG_DEFAULTS, Gen  # noqa: E402


# ---------------------------------------------------------------- comparing -------------

TOL = {"TTL": 1, "EXPIRETIME": 1, "PTTL": 1500, "PEXPIRETIME": 1500, "OBJECT": 1}  # OBJECT IDLETIME


def deep_sort(v):
    """Sorts every array / set / map inside a reply (FUNCTION LIST: dict order throughout)."""
    t, p = v
    if not isinstance(p, list):
        return v
    p = [deep_sort(x) for x in p]
    if t in (b"%",):
        pairs = sorted(zip(p[0::2], p[1::2]), key=lambda x: serialize(x[0]))
        return (t, [y for x in pairs for y in x])
    if t in (b"*", b"~"):
        return (t, sorted(p, key=serialize))
    return (t, p)


def normalise(mode, cmd, v):
    t, p = v
    if mode in ADMIN_MODES:  # difftest_gen_admin.py's normalisers (times, addresses, ids)
        return ADMIN_MODES[mode](v)
    if mode == "@sorted":
        return serialize(sort_reply(v))
    if mode == "@deep":
        return serialize(deep_sort(v))
    if mode == "@pairs" and isinstance(p, list):
        # CONFIG GET: Redis's order follows its (randomly seeded) dict, so compare as pairs
        pairs = sorted(zip(p[0::2], p[1::2]), key=lambda x: serialize(x[0]))
        return serialize((t, [y for x in pairs for y in x]))
    if mode == "@randomkey" and t in (b"$",) and p is not None:
        return b"<some key>"
    if mode == "@hello":
        return b"<hello ok>" if t in (b"*", b"%") else serialize(v)
    if mode == "@xid" and t == b"$" and p is not None and re.fullmatch(rb"\d+-\d+", p):
        return b"<new stream id>"  # XADD key * : the id comes from the clock
    if mode == "@xtime":
        return serialize(untime(v))
    return serialize(v)


TIME_FIELDS = (b"idle", b"inactive", b"seen-time", b"active-time")


def untime(v):
    """Zeroes the times in stream replies (XPENDING's idle, XINFO's idle / seen-time /
    delivery time): 4-element [id, consumer, idle, count] entries, integers after
    time-named fields, and every integer that looks like a Unix time in ms."""
    t, p = v
    if t in (b":",) and int(p) >= 10 ** 12:
        return (t, b"0")
    if not isinstance(p, list):
        return v
    p = [untime(x) for x in p]
    if len(p) == 4 and [x[0] for x in p] == [b"$", b"$", b":", b":"]:
        p[2] = (b":", b"0")
    for i in range(len(p) - 1):
        if p[i][0] in (b"$", b"+") and p[i][1] in TIME_FIELDS and p[i + 1][0] == b":":
            p[i + 1] = (b":", b"0")
    return (t, p)


def same(mode, cmd, a, b):
    if mode == "@ttl" and a[0] == b":" and b[0] == b":":
        x, y = int(a[1]), int(b[1])
        if x >= 0 and y >= 0 and abs(x - y) <= TOL.get(cmd[0].upper(), 0):
            return True
    return normalise(mode, cmd, a) == normalise(mode, cmd, b)


# Replies whose order Redis takes from a hash table for some encodings only: a RESP2
# array / RESP3 set or map of these is compared order-insensitively (@sorted) only when
# Redis's key is hashtable-encoded; a listpack hash replies in insertion order and an
# intset in ascending order, and those orders must match.
ORDER_BY_ENC = {"HKEYS": "listpack", "HVALS": "listpack", "HGETALL": "listpack",
                "SMEMBERS": "intset", "SINTER": "intset", "SUNION": "intset", "SDIFF": "intset"}


def bulk_text(v):
    t, p = v
    return p.decode("latin-1") if t in (b"$", b"+") and p is not None else None


def order_defined(conn, cmd, reply):
    """True when Redis's order of this @sorted reply is not a hash-table order (asks the
    Redis connection, which is not inside MULTI since the reply was a real one)."""
    name = cmd[0].upper()
    want = ORDER_BY_ENC.get(name)
    if want is None or not isinstance(reply[1], list):
        return False
    keys = cmd[1:2] if name in ("HKEYS", "HVALS", "HGETALL", "SMEMBERS") else cmd[1:]
    encs = [bulk_text(conn.call(["OBJECT", "ENCODING", k])[1]) for k in keys]
    if not all(e in (want, None) for e in encs) or not any(encs):
        return False
    if name in ("SUNION", "SDIFF"):
        # the result is a new set: an intset (ascending) only while all-integer and small
        try:
            [int(x[1]) for x in reply[1]]
        except (TypeError, ValueError):
            return False
        cfg = conn.call(["CONFIG", "GET", "set-max-intset-entries"])[1][1]
        if len(reply[1]) > int(cfg[1][1]):
            return False
    return True


class Pair:
    def __init__(self, fport, rport, resp3=False):
        self.ports = (fport, rport)
        self.resp3 = resp3
        self.dumpdiffs = []
        self.open()

    def open(self):
        self.f = Conn(self.ports[0])
        self.r = Conn(self.ports[1])
        if self.resp3:
            for c in (self.f, self.r):
                c.call(["HELLO", "3"])

    def close(self):
        self.f.close()
        self.r.close()

    def reset(self):
        """Fresh connections and default state on both servers."""
        self.close()
        self.open()
        for c in (self.f, self.r):
            c.call(["FLUSHALL"])
            c.call(["FUNCTION", "FLUSH"])
            c.call(["SCRIPT", "FLUSH"])
            for name, v in CONFIG_DEFAULTS.items():
                c.call(["CONFIG", "SET", name, v])
            for cmd in ADMIN_RESET:  # users, ACL log, slow log made by difftest_gen_admin.py
                c.call(cmd)

    def payloads(self, cmd):
        """Substitutes <DUMP:key> / <FDUMP> with the DUMP / FUNCTION DUMP payload taken from
        the same server just before, <XDUMP:key> / <XFDUMP> with the other server's."""
        if not any(a.startswith("<") and a.endswith(">") for a in cmd):
            return cmd, cmd
        out = ([], [])
        for a in cmd:
            m = re.fullmatch(r"<(X?)(DUMP:(.*)|FDUMP)>", a, re.S)
            if not m:
                out[0].append(a)
                out[1].append(a)
                continue
            got = []
            for c in (self.f, self.r):
                try:
                    v = c.call(["DUMP", m.group(3)] if m.group(3) is not None else ["FUNCTION", "DUMP"])[1]
                except (EOFError, OSError):
                    v = (b"$", None)
                got.append(v[1].decode("latin-1") if v[0] == b"$" and v[1] is not None else "")
            if m.group(1):
                got.reverse()
            out[0].append(got[0])
            out[1].append(got[1])
        return out

    def run(self, step):
        """Returns (same?, redis_reply_raw, ferrokv_reply_raw)."""
        mode, cmd = step
        fcmd, rcmd = self.payloads(cmd)
        try:
            fr = self.f.call(fcmd)
        except (EOFError, OSError) as e:
            fr = (b"<ferrokv: %s>" % str(e).encode(), (b"!", b"closed"))
        rr = self.r.call(rcmd)
        if mode == "@dump" and rr[0] != fr[0] and rr[1][0] == fr[1][0] == b"$" and \
                None not in (rr[1][1], fr[1][1]):
            # DUMP payloads may differ where the encodings differ: noted, not a mismatch
            self.dumpdiffs.append((cmd, rr[0], fr[0]))
            return True, rr[0], fr[0]
        ok = same(mode, cmd, rr[1], fr[1])
        if ok and mode == "@sorted" and rr[0] != fr[0] and order_defined(self.r, cmd, rr[1]):
            ok = False  # same members, but Redis's order here is insertion / ascending order
        return ok, rr[0], fr[0]

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
    return ("%s " % mode if mode in ("@sorted", "@deep") else "") + " ".join(parts)


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
    ap.add_argument("--ferrokv", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "ferrokv"))
    ap.add_argument("--redis-server", default="redis-server")
    ap.add_argument("--scenario", nargs="*", help="replay these spec scenario files instead of random commands")
    ap.add_argument("--skip", help="regex: don't send generated commands whose text matches (to get past known causes)")
    ap.add_argument("--no-minimise", action="store_true")
    ap.add_argument("--quiet", action="store_true", help="print only the first mismatch of each signature in full")
    ap.add_argument("--resp3", action="store_true", help="send HELLO 3 on every connection: compare RESP3 replies")
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
        pair = Pair(fport, rport, args.resp3)
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
            ndump = len(pair.dumpdiffs)
            ok, rraw, fraw = pair.run(step)
            compared += 1
            if len(pair.dumpdiffs) > ndump:
                dsig = ("DUMP", rraw[:8], fraw[:8])  # by payload type byte
                seen[dsig] = seen.get(dsig, 0) + 1
                if not args.quiet or seen[dsig] == 1:
                    print("=== DUMP PAYLOAD DIFFERS (seed %d, command %d; not a mismatch) ===" % (seed, n))
                    for s in seq[:-1][-12:]:
                        print("  %s" % fmt_cmd(s))
                    print("> %s\n  redis:   %s\n  ferrokv: %s" % (fmt_cmd(step), show(rraw), show(fraw)))
            if step[1][0].upper() == "FLUSHALL" and ok:
                # keep what survives a FLUSHALL (configuration, connection state)
                seq = [s for s in seq if s[1][0].upper() in ("CONFIG", "SELECT", "HELLO", "CLIENT", "FUNCTION", "SCRIPT", "ACL")]
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
        if pair.dumpdiffs:
            print("%d DUMP payloads differed (not counted as mismatches)" % len(pair.dumpdiffs))
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
