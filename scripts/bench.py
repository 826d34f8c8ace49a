#!/usr/bin/env python3
"""ferrokv against redis-server, interleaved in one run.

For every row (command x pipeline depth) each round runs redis-benchmark against both servers,
alternating which goes first, and samples each server's CPU time (utime + stime from /proc)
around the run. Prints per row: median requests/s of each, the ratio ferrokv/redis, and each
server's CPU microseconds per operation. Then an expiry-stall check: a million keys that all
expire in the same second, with GET latency (p50/p99/max) measured while they expire.

`--suite pubsub` runs what redis-benchmark cannot, with the loadgen example (built once here):
MULTI + 3 x INCR + EXEC as one op; PUBLISH to a channel with 1 and with 100 subscribers that
drain their sockets (every subscriber must get every message: the delivery table shows the
fewest any subscriber got, as a share of what was published); and the round trip of single
PUBLISHes while another client holds 10,000 pattern subscriptions.

Both servers run with persistence off, on free loopback ports, and are stopped by PID at the end.
"""
import argparse
import csv
import io
import json
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


# `--suite data`: bitmaps, HyperLogLog, geo, scripts and streams, as command lines; the keys
# they read are loaded first (`data_setup`). `incr.lua` is EVALSHA'd by its SHA1, which is the
# same on both servers.
INCR_SCRIPT = "return redis.call('INCR', KEYS[1])"
# redis-py's Lock release (its acquire is a plain SET NX PX).
LOCK_RELEASE = ("local token = redis.call('get', KEYS[1]) "
                "if not token or token ~= ARGV[1] then return 0 end "
                "redis.call('del', KEYS[1]) return 1")
DATA = [
    "SETBIT bm:__rand_int__ 7 1",
    "BITCOUNT bm1mb",
    "PFADD hll ele:__rand_int__",
    "PFCOUNT hll",
    "PFCOUNT hll hll2 hll3",
    "GEOADD geo:add 13.361389 38.115556 m:__rand_int__",
    "GEOSEARCH geo:bench FROMLONLAT 13.5 38.05 BYRADIUS 400 m",
    "EVALSHA {incr} 1 counter:__rand_int__",
    "EVALSHA {lock} 1 lock:__rand_int__ token",
    "XADD bench:t MAXLEN ~ 1000 * f v",
    "XRANGE bench:r 10 19",
    "XREADGROUP GROUP g c COUNT 1 STREAMS bench:q >",
    "XACK bench:q g __rand_int__-0",
]


def resp(*cmds):
    out = []
    for c in cmds:
        out.append(f"*{len(c)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in c))
    return "".join(out).encode()


def data_setup(port, queue_len):
    """Load what the `data` rows read; returns the SHA1s the EVALSHA rows name. The stream
    XREADGROUP reads holds `queue_len` entries, so that no round reads an exhausted stream."""
    cmds = [["SETBIT", "bm1mb", "8388607", "1"]]
    for i in range(0, 8388607, 4099):
        cmds.append(["SETBIT", "bm1mb", str(i), "1"])
    for key in ("hll2", "hll3"):
        for i in range(0, 20000, 500):
            cmds.append(["PFADD", key, *[f"{key}:{j}" for j in range(i, i + 500)]])
    # 100,000 points on a 0.001-degree grid: the search finds about 50 of them.
    for i in range(100):
        c = ["GEOADD", "geo:bench"]
        for j in range(1000):
            c += [f"{13 + j * 0.001:.3f}", f"{38 + i * 0.001:.3f}", f"p:{i}:{j}"]
        cmds.append(c)
    cmds += [["XADD", "bench:r", f"{i}-0", "f", f"v{i}"] for i in range(1, 101)]
    cmds += [["XADD", "bench:q", f"{i}-0", "f", "v"] for i in range(1, queue_len + 1)]
    cmds.append(["XGROUP", "CREATE", "bench:q", "g", "0"])
    subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=resp(*cmds),
                   capture_output=True, check=True)
    incr = cli(port, "SCRIPT", "LOAD", INCR_SCRIPT)
    lock = cli(port, "SCRIPT", "LOAD", LOCK_RELEASE)
    return {"incr": incr, "lock": lock}


# `--suite pubsub`: (row label, loadgen mode, subscribers), each at pipeline depths 1 and 16.
PUBSUB = [
    ("MULTI + 3 x INCR + EXEC", "multi-incr", 0),
    ("PUBLISH, 1 subscriber", "publish", 1),
    ("PUBLISH, 100 subscribers", "publish", 100),
]
# The latency rows: patterns held by the other client (0: no other client). The channel
# matches exactly one of them (`user:42:*`).
LATENCY_PATTERNS = [0, 10_000]
LATENCY_CHANNEL = "user:42:inbox"


def target_dir():
    return os.environ.get("CARGO_TARGET_DIR", "target")


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


def loadgen_json(out, what):
    """The result line of a loadgen run (its last line of output)."""
    lines = out.strip().splitlines()
    try:
        res = json.loads(lines[-1])
    except (IndexError, ValueError):
        sys.exit(f"loadgen {what}: no result line in {out!r}")
    if "error" in res and "mode" not in res:
        sys.exit(f"loadgen {what}: {res['error']}")
    return res


def loadgen(lg, port, mode, *args):
    cmd = [lg, "--port", str(port), "--mode", mode, *map(str, args)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    return loadgen_json(out, mode)


def start_subscribers(lg, port, mode, *args, stdin=None):
    """A subscribing loadgen, returned once it printed READY (every subscription confirmed)."""
    proc = subprocess.Popen([lg, "--port", str(port), "--mode", mode, *map(str, args)],
                            stdin=stdin, stdout=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    if first.strip() != "READY":
        proc.wait(timeout=10)
        sys.exit(f"loadgen {mode}: {first.strip() or 'exited before READY'}")
    return proc


def finish_subscribers(proc, mode, timeout):
    out, _ = proc.communicate(timeout=timeout)
    return loadgen_json(out, mode)


def pubsub_run(lg, server, mode, subs, pipeline, opts, channel):
    """One row's run against one server: (ops/s, server CPU us per op, publisher result,
    subscriber result or None)."""
    proc, port = server
    sub = None
    if subs:
        # The duration is only a safety cap: the subscribers stop at the publisher's __stop__.
        sub = start_subscribers(lg, port, "subscribe-drain", "--clients", subs, "--channel", channel,
                                "--duration", opts.seconds + 30)
    before = cpu_seconds(proc.pid)
    res = loadgen(lg, port, mode, "--clients", opts.clients, "--pipeline", pipeline,
                  "--duration", opts.seconds, "--channel", channel, "--stop")
    sres = finish_subscribers(sub, "subscribe-drain", opts.seconds + 60) if sub else None
    cpu = cpu_seconds(proc.pid) - before
    return res["ops_per_sec"], cpu * 1e6 / max(res["ops"], 1), res, sres


def latency_run(lg, server, patterns, opts):
    """Single PUBLISH round trips while another client holds `patterns` pattern subscriptions:
    (publisher result, server CPU us per publish, pattern subscriber result or None)."""
    proc, port = server
    psub = None
    if patterns:
        psub = start_subscribers(lg, port, "psubscribe-many", "--patterns", patterns,
                                 "--duration", opts.seconds + 60, stdin=subprocess.PIPE)
    before = cpu_seconds(proc.pid)
    res = loadgen(lg, port, "publish-latency", "--channel", LATENCY_CHANNEL, "--duration", opts.seconds)
    cpu = cpu_seconds(proc.pid) - before
    pres = None
    if psub:
        # communicate() closes its stdin, which tells it to stop draining and report.
        pres = finish_subscribers(psub, "psubscribe-many", 30)
    return res, cpu * 1e6 / max(res["ops"], 1), pres


def pubsub_suite(servers, opts):
    env = dict(os.environ, CARGO_TARGET_DIR=target_dir())
    subprocess.run(["cargo", "build", "--release", "--example", "loadgen"], check=True, env=env)
    lg = os.path.join(target_dir(), "release", "examples", "loadgen")
    rows = [(label, mode, subs, p) for p in (1, 16) for label, mode, subs in PUBSUB]
    results, lat, problems = {}, {}, []
    for r in range(opts.rounds):
        order = ["ferrokv", "redis"] if r % 2 == 0 else ["redis", "ferrokv"]
        for i, (label, mode, subs, pipeline) in enumerate(rows):
            for kind in order:
                channel = f"bench:{r}:{i}:{kind}"
                rps, cpu, res, sres = pubsub_run(lg, servers[kind], mode, subs, pipeline, opts, channel)
                results.setdefault((i, kind), []).append((rps, cpu, res, sres))
                where = f"{kind} round {r + 1} {label} -P {pipeline}"
                if res["errors"]:
                    problems.append(f"{where}: {res['errors']} errors, first: {res['first_error']}")
                if mode == "publish" and res["receivers"] != res["ops"] * subs:
                    problems.append(f"{where}: PUBLISH replies summed to {res['receivers']}, "
                                    f"expected {res['ops']} x {subs}")
                if sres and (sres["min_per_subscriber"] != res["ops"] or sres["stopped"] != subs or sres["error"]):
                    problems.append(f"{where}: published {res['ops']}, subscribers got "
                                    f"{sres['min_per_subscriber']}..{sres['max_per_subscriber']}, "
                                    f"{sres['stopped']} stopped, {sres['closed']} closed by the server, "
                                    f"{sres['timed_out']} timed out, error: {sres['error']}")
        for patterns in LATENCY_PATTERNS:
            for kind in order:
                res, cpu, pres = latency_run(lg, servers[kind], patterns, opts)
                lat.setdefault((patterns, kind), []).append((res, cpu, pres))
                where = f"{kind} round {r + 1} latency with {patterns} patterns"
                want = 1 if patterns else 0
                if res["errors"] or res["receivers"] != res["ops"] * want:
                    problems.append(f"{where}: {res['errors']} errors ({res['first_error']}), receivers "
                                    f"{res['receivers']} for {res['ops']} publishes, expected {want} each")
                if pres and (pres["messages"] != res["ops"] or pres["error"]):
                    problems.append(f"{where}: pattern subscriber got {pres['messages']} of {res['ops']}, "
                                    f"error: {pres['error']}")
        print(f"round {r + 1}/{opts.rounds} done", file=sys.stderr)

    med = statistics.median
    print(f"\nloadgen -c {opts.clients}, {opts.seconds:g}s per run, {opts.rounds} rounds interleaved, medians"
          " (a transaction or a PUBLISH is one op)")
    print(f"{'test':<38} {'-P':>3} {'ferrokv rps':>12} {'redis rps':>12} {'ratio':>6} {'fk cpu us/op':>13} {'redis cpu us/op':>16}")
    for i, (label, mode, subs, pipeline) in enumerate(rows):
        fk, rd = results[(i, "ferrokv")], results[(i, "redis")]
        fk_rps, rd_rps = med(x[0] for x in fk), med(x[0] for x in rd)
        fk_cpu, rd_cpu = med(x[1] for x in fk), med(x[1] for x in rd)
        print(f"{label:<38} {pipeline:>3} {fk_rps:>12.0f} {rd_rps:>12.0f} {fk_rps / rd_rps:>6.2f} {fk_cpu:>13.2f} {rd_cpu:>16.2f}")

    print("\ndelivery: messages/s received over all subscribers (medians); 'got' is the fewest any one"
          " subscriber received, as a share of the messages published (worst round)")
    print(f"{'test':<38} {'-P':>3} {'ferrokv msg/s':>14} {'redis msg/s':>12} {'ratio':>6} {'fk got':>8} {'redis got':>10}")
    for i, (label, mode, subs, pipeline) in enumerate(rows):
        if not subs:
            continue
        fk, rd = results[(i, "ferrokv")], results[(i, "redis")]
        fk_m = med(x[3]["messages_per_sec"] for x in fk)
        rd_m = med(x[3]["messages_per_sec"] for x in rd)
        fk_got = min(x[3]["min_per_subscriber"] / max(x[2]["ops"], 1) for x in fk) * 100
        rd_got = min(x[3]["min_per_subscriber"] / max(x[2]["ops"], 1) for x in rd) * 100
        print(f"{label:<38} {pipeline:>3} {fk_m:>14.0f} {rd_m:>12.0f} {fk_m / rd_m:>6.2f} {fk_got:>7.2f}% {rd_got:>9.2f}%")

    print(f"\nPUBLISH round trip (one client, not pipelined, channel {LATENCY_CHANNEL}) while another client"
          " holds N patterns (user:{i}:* plus 8 *-prefixed); us, medians over rounds")
    print(f"{'server':<8} {'patterns':>9} {'p50':>8} {'p99':>8} {'max':>8} {'rps':>8} {'cpu us/op':>10}")
    for patterns in LATENCY_PATTERNS:
        for kind in ("ferrokv", "redis"):
            runs = lat[(patterns, kind)]
            p50, p99, mx = (med(x[0][k] for x in runs) for k in ("p50_us", "p99_us", "max_us"))
            rps, cpu = med(x[0]["ops_per_sec"] for x in runs), med(x[1] for x in runs)
            print(f"{kind:<8} {patterns:>9} {p50:>8.0f} {p99:>8.0f} {mx:>8.0f} {rps:>8.0f} {cpu:>10.2f}")

    if problems:
        print("\nproblems:")
        for p in problems:
            print(f"  {p}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-n", type=int, default=200_000, help="requests per run")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--keyspace", type=int, default=100_000)
    ap.add_argument("--expiry-keys", type=int, default=1_000_000)
    ap.add_argument("--binary", default=os.path.join(target_dir(), "release", "ferrokv"))
    ap.add_argument("--suite", choices=["strings", "collections", "pubsub", "data"], default="strings")
    ap.add_argument("--only", default="",
                    help="run only the rows whose command contains this text (or one of several, comma-separated)")
    ap.add_argument("--seconds", type=float, default=2.0, help="seconds per loadgen run (pubsub suite)")
    opts = ap.parse_args()
    tests = {"collections": COLLECTIONS, "data": DATA}.get(opts.suite, TESTS)
    if opts.suite in ("collections", "data"):
        opts.expiry_keys = 0

    def wanted(t):
        return any(o in t for o in opts.only.split(","))

    servers = {kind: start(kind, opts.binary) for kind in ("ferrokv", "redis")}
    results = {}
    try:
        if opts.suite == "pubsub":
            pubsub_suite(servers, opts)
            return
        if opts.suite == "data":
            # Every XREADGROUP run reads one new entry per request (-P 1 runs n, -P 16 runs 4n).
            queue_len = opts.n * 5 * opts.rounds if any("XREADGROUP" in t and wanted(t) for t in tests) else 1
            shas = [data_setup(port, queue_len) for _, port in servers.values()]
            assert shas[0] == shas[1], shas
            tests = [t.format(**shas[0]) for t in tests]
        tests = [t for t in tests if wanted(t)]
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
