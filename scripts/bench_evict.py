#!/usr/bin/env python3
"""A bounded cache under a skewed (Zipf-like) read pattern: ferrokv against redis-server.

Both servers get the same `maxmemory` and policy. A cache-aside client reads keys drawn from
a Zipf distribution (GET, and SET on a miss) in pipelined batches. Reports, per server and
policy: the hit ratio, keys held at the end, evicted keys, and resident memory against the
limit. Then writes 10x maxmemory of fresh data and reports resident memory again.
"""
import argparse
import bisect
import itertools
import random
import signal
import socket
import subprocess
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.s.recv(1 << 20)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        if line[:1] == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.s.recv(1 << 20)
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return v
        if line[:1] == b":":
            return int(line[1:])
        if line[:1] == b"-":
            raise RuntimeError(line.decode())
        return line[1:]

    def pipeline(self, cmds):
        out = bytearray()
        for c in cmds:
            out += b"*%d\r\n" % len(c)
            for a in c:
                out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return [self.reply() for _ in cmds]


def info(conn, field):
    text = conn.pipeline([[b"INFO", b"all"]])[0].decode()
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    return "0"


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) * 1024
    return 0


def start(kind, binary, maxmemory, policy):
    port = free_port()
    args = ["--port", str(port), "--maxmemory", str(maxmemory), "--maxmemory-policy", policy, "--loglevel", "warning"]
    cmd = [binary] + args if kind == "ferrokv" else ["redis-server", "--save", "", "--appendonly", "no"] + args
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            return p, Conn(port)
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{kind} did not start")


def run(kind, binary, opts, policy, draws):
    proc, c = start(kind, binary, opts.maxmemory, policy)
    value = b"x" * opts.value_size
    hits = misses = 0
    for i in range(0, len(draws), opts.batch):
        keys = [b"key:%d" % k for k in draws[i:i + opts.batch]]
        got = c.pipeline([[b"GET", k] for k in keys])
        miss = [k for k, v in zip(keys, got) if v is None]
        hits += len(keys) - len(miss)
        misses += len(miss)
        if miss:
            c.pipeline([[b"SET", k, value] for k in miss])
    held = c.pipeline([[b"DBSIZE"]])[0]
    evicted = info(c, "evicted_keys")
    r1 = rss(proc.pid)
    # Write 10x maxmemory of fresh data: resident memory must stay near the limit.
    n = 10 * opts.maxmemory // (opts.value_size + 16)
    for i in range(0, n, 1000):
        c.pipeline([[b"SET", b"fill:%d" % j, value] for j in range(i, min(n, i + 1000))])
    r2 = rss(proc.pid)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    return hits / (hits + misses), held, evicted, r1, r2


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--maxmemory", type=int, default=32 * 1024 * 1024)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--ops", type=int, default=600_000)
    ap.add_argument("--zipf", type=float, default=0.9)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--binary", default="target/release/ferrokv")
    ap.add_argument("--policies", default="allkeys-lru,allkeys-lfu")
    opts = ap.parse_args()
    rng = random.Random(42)
    cum = list(itertools.accumulate(1.0 / (i ** opts.zipf) for i in range(1, opts.keys + 1)))
    total = cum[-1]
    draws = [bisect.bisect_left(cum, rng.random() * total) for _ in range(opts.ops)]
    mb = opts.maxmemory / 2**20
    print(f"maxmemory {mb:.0f} MiB, {opts.keys} keys, Zipf s={opts.zipf}, {opts.ops} reads, values {opts.value_size} B")
    print(f"{'policy':<12} {'server':<8} {'hit ratio':>9} {'keys held':>10} {'evicted':>9} {'RSS MiB':>8} {'RSS after 10x':>14}")
    for policy in opts.policies.split(","):
        for kind in ("ferrokv", "redis"):
            hit, held, evicted, r1, r2 = run(kind, opts.binary, opts, policy, draws)
            print(f"{policy:<12} {kind:<8} {hit:>9.3f} {held:>10} {evicted:>9} {r1 / 2**20:>8.1f} {r2 / 2**20:>14.1f}")


if __name__ == "__main__":
    main()
