#!/usr/bin/env python3
"""ferrokv against redis-server, interleaved in one run.

For every row (command x pipeline depth) each round runs redis-benchmark against both servers,
alternating which goes first, and samples each server's CPU time (utime + stime from /proc)
around the run. Prints per row: median requests/s of each, the ratio ferrokv/redis, and each
server's CPU microseconds per operation. Then an expiry-stall check: a million keys that all
expire in the same second, with GET latency (p50/p99/max) measured while they expire.

Both servers run with persistence off, on free loopback ports, and are stopped by PID at the end.
"""
import argparse
import csv
import io
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

TESTS = ["set", "get", "incr", "mset"]

# `--suite collections`: redis-benchmark's own tests by name, or a command line (run after the
# rows before it filled the keys it reads); `brpop` is a consumer fed by LPUSH producers.
COLLECTIONS = [
    "lpush", "lpop", "lrange_100", "sadd",
    "SISMEMBER myset element:__rand_int__",
    "hset", "HGET myhash element:__rand_int__",
    "zadd", "ZSCORE myzset element:__rand_int__", "ZRANGE myzset 0 9",
    "brpop",
]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"server on {port} did not start")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def start(kind, binary):
    port = free_port()
    if kind == "ferrokv":
        cmd = [binary, "--port", str(port), "--loglevel", "warning"]
    else:
        cmd = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--loglevel", "warning"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc, port


def bench(port, test, pipeline, n, clients, keyspace):
    if test == "brpop":
        return brpop_fed(port, n, clients)
    what = test.split() if " " in test else ["-t", test]
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-c", str(clients), "-P", str(pipeline),
         "-r", str(keyspace), "-n", str(n), "--csv", *what],
        capture_output=True, text=True, check=True).stdout
    rows = list(csv.reader(io.StringIO(out)))
    # The last row: a test that fills its key first (LRANGE) reports the fill before it.
    return float(rows[-1][1])


def brpop_fed(port, n, clients):
    """Consumers blocked in BRPOP, fed by as many LPUSH producers: pops per second."""
    half = max(clients // 2, 1)
    common = ["redis-benchmark", "-p", str(port), "-c", str(half), "-n", str(n), "--csv"]
    start_t = time.time()
    consumers = subprocess.Popen(common + ["BRPOP", "bq", "5"], stdout=subprocess.PIPE, text=True)
    producers = subprocess.Popen(common + ["LPUSH", "bq", "x"], stdout=subprocess.DEVNULL)
    producers.wait()
    consumers.communicate()
    return n / (time.time() - start_t)


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True).stdout.strip()


def expiry_stall(port, keys):
    """Load `keys` keys expiring within the same second, then measure GET latency while the
    server expires them. Returns (p50, p99, max) in ms and the keys left afterwards."""
    at_ms = int(time.time() * 1000) + 4000
    payload = io.BytesIO()
    for i in range(keys):
        k = b"exp:%d" % i
        payload.write(b"*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n$4\r\nPXAT\r\n$%d\r\n%d\r\n"
                      % (len(k), k, len(str(at_ms)), at_ms))
    subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=payload.getvalue(),
                   capture_output=True, check=True)
    while time.time() * 1000 < at_ms - 200:
        time.sleep(0.05)
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-c", "10", "-t", "get", "-n", "200000", "-r", "1000", "--csv"],
        capture_output=True, text=True, check=True).stdout
    row = list(csv.reader(io.StringIO(out)))[1]
    left = cli(port, "DBSIZE")
    return float(row[4]), float(row[6]), float(row[7]), left


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-n", type=int, default=200_000, help="requests per run")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--keyspace", type=int, default=100_000)
    ap.add_argument("--expiry-keys", type=int, default=1_000_000)
    ap.add_argument("--binary", default="target/release/ferrokv")
    ap.add_argument("--suite", choices=["strings", "collections"], default="strings")
    opts = ap.parse_args()
    tests = COLLECTIONS if opts.suite == "collections" else TESTS
    if opts.suite == "collections":
        opts.expiry_keys = 0

    servers = {kind: start(kind, opts.binary) for kind in ("ferrokv", "redis")}
    results = {}
    try:
        for r in range(opts.rounds):
            order = ["ferrokv", "redis"] if r % 2 == 0 else ["redis", "ferrokv"]
            for pipeline in (1, 16):
                for test in tests:
                    for kind in order:
                        proc, port = servers[kind]
                        n = opts.n * (4 if pipeline > 1 else 1)
                        before = cpu_seconds(proc.pid)
                        rps = bench(port, test, pipeline, n, opts.clients, opts.keyspace)
                        cpu = cpu_seconds(proc.pid) - before
                        results.setdefault((test, pipeline, kind), []).append((rps, cpu * 1e6 / n))
            print(f"round {r + 1}/{opts.rounds} done", file=sys.stderr)

        print(f"\nredis-benchmark -c {opts.clients} -r {opts.keyspace}, {opts.rounds} rounds interleaved, medians")
        print(f"{'test':<38} {'-P':>3} {'ferrokv rps':>12} {'redis rps':>12} {'ratio':>6} {'fk cpu us/op':>13} {'redis cpu us/op':>16}")
        for pipeline in (1, 16):
            for test in tests:
                fk = results[(test, pipeline, "ferrokv")]
                rd = results[(test, pipeline, "redis")]
                fk_rps = statistics.median(x[0] for x in fk)
                rd_rps = statistics.median(x[0] for x in rd)
                fk_cpu = statistics.median(x[1] for x in fk)
                rd_cpu = statistics.median(x[1] for x in rd)
                print(f"{test:<38} {pipeline:>3} {fk_rps:>12.0f} {rd_rps:>12.0f} {fk_rps / rd_rps:>6.2f} {fk_cpu:>13.2f} {rd_cpu:>16.2f}")

        if opts.expiry_keys > 0:
            print(f"\n{opts.expiry_keys} keys expiring in the same second; GET latency meanwhile (ms)")
            print(f"{'server':<8} {'p50':>7} {'p99':>7} {'max':>7} {'keys left':>10}")
            for kind in ("ferrokv", "redis"):
                proc, port = servers[kind]
                cli(port, "FLUSHALL")
                p50, p99, mx, left = expiry_stall(port, opts.expiry_keys)
                print(f"{kind:<8} {p50:>7.3f} {p99:>7.3f} {mx:>7.3f} {left:>10}")
    finally:
        for proc, _ in servers.values():
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
