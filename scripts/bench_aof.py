#!/usr/bin/env python3
"""AOF benchmarks, ferrokv against redis-server in one run.

1. SET throughput with `appendfsync always` and `everysec`, at -P 1 and -P 16, both servers
   with the same settings, rounds interleaved; medians and ratios.
2. Restart time with an AOF of N SETs (default 1,000,000): the same file is loaded by both
   servers; the time from spawn until the server answers PING.

Servers run in temporary directories on free loopback ports and are stopped by PID.
"""
import argparse
import csv
import io
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def start(kind, binary, d, fsync, port=None):
    port = port or free_port()
    if kind == "ferrokv":
        cmd = [binary, "--port", str(port), "--dir", d, "--appendonly", "yes", "--appendfsync", fsync, "--loglevel", "warning"]
    else:
        cmd = ["redis-server", "--port", str(port), "--dir", d, "--appendonly", "yes", "--appendfsync", fsync,
               "--save", "", "--loglevel", "warning", "--aof-use-rdb-preamble", "no"]
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not ping(port):
        if proc.poll() is not None:
            raise SystemExit(f"{kind} exited: {cmd}")
        time.sleep(0.005)
    return proc, port, time.time() - t0


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)


def bench(port, pipeline, n, clients):
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", str(clients), "-P", str(pipeline), "-t", "set",
                          "-r", "100000", "-n", str(n), "--csv"], capture_output=True, text=True, check=True).stdout
    return float(list(csv.reader(io.StringIO(out)))[1][1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-n", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--replay-keys", type=int, default=1_000_000)
    ap.add_argument("--binary", default="target/release/ferrokv")
    opts = ap.parse_args()

    res = {}
    for r in range(opts.rounds):
        order = ["ferrokv", "redis"] if r % 2 == 0 else ["redis", "ferrokv"]
        for fsync in ("always", "everysec"):
            for pipeline in (1, 16):
                for kind in order:
                    d = tempfile.mkdtemp(prefix=f"aofbench-{kind}-")
                    proc, port, _ = start(kind, opts.binary, d, fsync)
                    try:
                        rps = bench(port, pipeline, opts.n * (4 if pipeline > 1 else 1), opts.clients)
                    finally:
                        stop(proc)
                        shutil.rmtree(d, ignore_errors=True)
                    res.setdefault((fsync, pipeline, kind), []).append(rps)
    print(f"SET with the AOF on, redis-benchmark -c {opts.clients}, {opts.rounds} rounds interleaved, medians")
    print(f"{'appendfsync':<12} {'-P':>3} {'ferrokv rps':>12} {'redis rps':>12} {'ratio':>6}")
    for fsync in ("always", "everysec"):
        for pipeline in (1, 16):
            fk = statistics.median(res[(fsync, pipeline, "ferrokv")])
            rd = statistics.median(res[(fsync, pipeline, "redis")])
            print(f"{fsync:<12} {pipeline:>3} {fk:>12.0f} {rd:>12.0f} {fk / rd:>6.2f}")

    if opts.replay_keys > 0:
        src = tempfile.mkdtemp(prefix="aofbench-src-")
        with open(os.path.join(src, "appendonly.aof"), "wb") as f:
            f.write(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n")
            for i in range(opts.replay_keys):
                k = b"key:%d" % i
                v = b"value:%d" % i
                f.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
        size = os.path.getsize(os.path.join(src, "appendonly.aof"))
        print(f"\nRestart with an AOF of {opts.replay_keys} SETs ({size} bytes): seconds until PING answers")
        times = {}
        for r in range(opts.rounds):
            for kind in (["ferrokv", "redis"] if r % 2 == 0 else ["redis", "ferrokv"]):
                d = tempfile.mkdtemp(prefix=f"aofbench-replay-{kind}-")
                shutil.copy(os.path.join(src, "appendonly.aof"), d)
                proc, port, secs = start(kind, opts.binary, d, "everysec")
                n = subprocess.run(["redis-cli", "-p", str(port), "DBSIZE"], capture_output=True, text=True).stdout.strip()
                stop(proc)
                shutil.rmtree(d, ignore_errors=True)
                assert n == str(opts.replay_keys), f"{kind} loaded {n} keys"
                times.setdefault(kind, []).append(secs)
        shutil.rmtree(src, ignore_errors=True)
        fk, rd = statistics.median(times["ferrokv"]), statistics.median(times["redis"])
        print(f"{'ferrokv':<8} {fk:>7.2f}\n{'redis':<8} {rd:>7.2f}\nratio ferrokv/redis time: {fk / rd:.2f}")


if __name__ == "__main__":
    main()
