#!/usr/bin/env python3
"""Resident memory of collections, ferrokv against redis-server on the same data.

Each dataset is loaded into a fresh server of each kind (persistence off, free loopback port)
through `redis-cli --pipe`; the row reports the growth of the process's resident memory
(VmRSS after loading minus VmRSS of the empty server), INFO used_memory growth, and the ratio
of ferrokv's RSS growth to Redis's. Servers are stopped by PID.

Datasets (N defaults to a million):
  list      one list of N elements          (RPUSH, 100 per command)
  hash      one hash of N fields            (HSET, 100 pairs per command)
  set       one set of N members            (SADD, 100 per command)
  zset      one sorted set of N members     (ZADD, 100 pairs per command)
  smallhash N hashes of five short fields   (the classic listpack trick; --small sets the count)
  intset    one set of N integers           (SADD)
  stream    one stream of N entries of three small fields (XADD with automatic IDs)
"""
import argparse
import os
import socket
import subprocess
import sys
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def start(kind, binary):
    port = free_port()
    if kind == "ferrokv":
        cmd = [binary, "--port", str(port), "--loglevel", "warning"]
    else:
        cmd = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
               "--loglevel", "warning"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"{kind} did not start")


def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def batched(verb, key, items, per=100):
    for i in range(0, len(items), per):
        flat = []
        for it in items[i:i + per]:
            flat.extend(it if isinstance(it, tuple) else (it,))
        yield cmd(verb, key, *flat)


def dataset(name, n, small):
    if name == "list":
        return batched("RPUSH", "l", [b"element:%d" % i for i in range(n)])
    if name == "hash":
        return batched("HSET", "h", [(b"field:%d" % i, b"value:%d" % i) for i in range(n)])
    if name == "set":
        return batched("SADD", "s", [b"member:%d" % i for i in range(n)])
    if name == "intset":
        return batched("SADD", "i", [b"%d" % (i * 7) for i in range(n)])
    if name == "zset":
        return batched("ZADD", "z", [(b"%d" % (i * 3 % 1000003), b"member:%d" % i) for i in range(n)])
    if name == "smallhash":
        return (cmd("HSET", b"user:%d" % i, "name", b"n%d" % i, "age", b"%d" % (i % 90),
                    "city", "paris", "score", b"%d" % (i * 7 % 1000), "flag", "1")
                for i in range(small))
    if name == "stream":
        # Pipelined XADDs with automatic IDs: many entries share a millisecond, as under load.
        return (cmd("XADD", "st", "*", "user", b"u%d" % (i % 1000), "action", "click",
                    "n", b"%d" % i) for i in range(n))
    raise SystemExit(f"unknown dataset {name}")


def used_memory(port):
    out = subprocess.run(["redis-cli", "-p", str(port), "info", "memory"],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    return 0


def measure(kind, binary, name, n, small):
    proc, port = start(kind, binary)
    try:
        time.sleep(0.2)
        r0, u0 = rss(proc.pid), used_memory(port)
        load = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for chunk in dataset(name, n, small):
            load.stdin.write(chunk)
        load.stdin.close()
        load.wait()
        time.sleep(0.5)
        return rss(proc.pid) - r0, used_memory(port) - u0
    finally:
        proc.terminate()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/release/ferrokv")
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("--small", type=int, default=None, help="small hashes (default n)")
    ap.add_argument("datasets", nargs="*",
                    default=["list", "hash", "set", "intset", "zset", "smallhash", "stream"])
    a = ap.parse_args()
    small = a.small or a.n
    print(f"{'dataset':<10} {'redis RSS MB':>12} {'ferrokv RSS MB':>14} {'ratio':>6}"
          f" {'redis used MB':>13} {'ferrokv used MB':>15}")
    for name in a.datasets:
        rr, ru = measure("redis", a.binary, name, a.n, small)
        fr, fu = measure("ferrokv", a.binary, name, a.n, small)
        print(f"{name:<10} {rr / 1e6:>12.1f} {fr / 1e6:>14.1f} {fr / rr:>6.2f}"
              f" {ru / 1e6:>13.1f} {fu / 1e6:>15.1f}", flush=True)


if __name__ == "__main__":
    main()
