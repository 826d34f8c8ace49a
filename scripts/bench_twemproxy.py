#!/usr/bin/env python3
"""redis-benchmark through twemproxy: three ferrokv shards against three redis-server shards.

    bench_twemproxy.py [--ferrokv PATH] [--rounds 3] [-n 200000] [--clients 50]

Both clusters run at once (no AOF, nutcracker in front of each, see cluster.py) and the runs
alternate between them, round after round, so both see the same machine. Reported per test
and pipeline depth: median requests per second of each, their ratio (ferrokv / redis; above 1
is better), and the shards' CPU time per request (user + system, summed over the three).
"""

import argparse
import csv
import io
import os
import statistics
import subprocess

from cluster import Cluster

TESTS = ["set", "get"]
PIPELINES = [1, 16]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def shards_cpu(cluster):
    return sum(cpu_seconds(s.proc.pid) for s in cluster.shards)


def run(cluster, test, pipeline, opts):
    before = shards_cpu(cluster)
    out = subprocess.run(
        ["redis-benchmark", "-p", str(cluster.port), "-c", str(opts.clients), "-P", str(pipeline),
         "-r", "100000", "-n", str(opts.n), "-t", test, "--csv"],
        capture_output=True, text=True, check=True).stdout
    cpu = shards_cpu(cluster) - before
    rps = float(list(csv.reader(io.StringIO(out)))[-1][1])
    return rps, cpu / opts.n * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferrokv", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "release", "ferrokv"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-n", type=int, default=200000)
    ap.add_argument("--clients", type=int, default=50)
    opts = ap.parse_args()

    results = {}
    with Cluster("ferrokv", opts.ferrokv, aof=False) as ferro, Cluster("redis", aof=False) as red:
        for _ in range(opts.rounds):
            for test in TESTS:
                for p in PIPELINES:
                    for name, c in (("ferrokv", ferro), ("redis", red)):
                        results.setdefault((test, p, name), []).append(run(c, test, p, opts))
    print(f"redis-benchmark through nutcracker, 3 shards each, -c {opts.clients} -n {opts.n}, "
          f"median of {opts.rounds} rounds")
    print(f"{'test':<6}{'P':>4}{'ferrokv rps':>14}{'redis rps':>12}{'ratio':>8}"
          f"{'ferrokv µs/op':>15}{'redis µs/op':>13}")
    for test in TESTS:
        for p in PIPELINES:
            f = results[(test, p, "ferrokv")]
            r = results[(test, p, "redis")]
            frps = statistics.median(x[0] for x in f)
            rrps = statistics.median(x[0] for x in r)
            fcpu = statistics.median(x[1] for x in f)
            rcpu = statistics.median(x[1] for x in r)
            print(f"{test.upper():<6}{p:>4}{frps:>14.0f}{rrps:>12.0f}{frps / rrps:>8.2f}"
                  f"{fcpu:>15.2f}{rcpu:>13.2f}")


if __name__ == "__main__":
    main()
