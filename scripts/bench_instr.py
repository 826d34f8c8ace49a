#!/usr/bin/env python3
"""Instructions per operation, ferrokv against redis-server, counted by valgrind's callgrind.

Wall-clock CPU time on a shared 2-core machine is noisy; instruction counts are not: for the
same binary and load they repeat. Each server runs under callgrind twice, once for a short
and once for a long redis-benchmark run (`-P 16 -c 10 -r 1000`), and the difference divided
by the extra requests is the user-space cost of one request, startup and idle work excluded.
Kernel time (sockets, epoll) is not counted: `just bench` measures it, with its noise.
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import bench  # noqa: E402


def instructions(kind, binary, test, n):
    port = bench.free_port()
    out = tempfile.NamedTemporaryFile(suffix=".cg", delete=False).name
    if kind == "ferrokv":
        server = [binary, "--port", str(port), "--loglevel", "warning"]
    else:
        server = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                  "--loglevel", "warning"]
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + server,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        bench.wait_port(port, timeout=60)
        subprocess.run(["redis-benchmark", "-p", str(port), "-t", test, "-P", "16", "-c", "10",
                        "-r", "1000", "-n", str(n), "-q"], capture_output=True, check=True)
        subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    with open(out) as f:
        total = next(int(line.split()[1]) for line in f if line.startswith("totals:"))
    os.unlink(out)
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default="target/release/ferrokv")
    ap.add_argument("--tests", default="set,get,incr")
    ap.add_argument("--short", type=int, default=20_000)
    ap.add_argument("--long", type=int, default=120_000)
    opts = ap.parse_args()
    print(f"instructions per request (callgrind), redis-benchmark -P 16 -c 10 -r 1000, "
          f"{opts.long} - {opts.short} requests")
    print(f"{'test':<6} {'ferrokv':>9} {'redis':>9} {'ratio':>6}")
    for test in opts.tests.split(","):
        per = {}
        for kind in ("ferrokv", "redis"):
            a = instructions(kind, opts.binary, test, opts.short)
            b = instructions(kind, opts.binary, test, opts.long)
            per[kind] = (b - a) / (opts.long - opts.short)
        print(f"{test:<6} {per['ferrokv']:>9.0f} {per['redis']:>9.0f} {per['ferrokv'] / per['redis']:>6.2f}")


if __name__ == "__main__":
    main()
