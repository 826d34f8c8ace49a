#!/usr/bin/env python3
"""End-to-end check of transactions and pub/sub through redis-py, the most used Python client,
speaking RESP3 (`redis.Redis(host, port, protocol=3)`).

1. A transactional pipeline (MULTI ... EXEC) returns every command's reply; a runtime error
   inside it (INCR on a list) is reported for that command only while the others run, and a
   queue-time error (unknown command) aborts the whole transaction with EXECABORT.
2. The classic WATCH retry loop, run from several threads at once, loses no increment; a WATCH
   invalidated by another connection makes `execute()` raise WatchError exactly once, and a
   write to an unwatched key does not.
3. A pub/sub listener thread (`run_in_thread`) with handlers gets every published message in
   order, with the right channel and pattern, and stops after unsubscribing.
4. Keyspace notifications (`notify-keyspace-events KEA`) arrive for SET, LPUSH, EXPIRE, DEL.
5. redis-py's `Lock` (its Lua scripts through EVALSHA): acquire, a second owner refused,
   extend and reacquire, release; a lock that timed out cannot be released by its old owner
   and is free for a new one; a blocking acquire waits for the holder; and six threads
   doing read-modify-write under the lock lose no update.

    scripts/redis_py_e2e.py [BIN]            # ferrokv binary, default target/debug/ferrokv
    scripts/redis_py_e2e.py --server redis   # the same checks against a real redis-server
    scripts/redis_py_e2e.py --io-threads 4   # the server started with --io-threads 4

The server listens on a free loopback port and is stopped by PID at the end. Any failure
prints a FAIL line and exits non-zero; a watchdog fails the run if it takes over 50 seconds.
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

try:
    import redis
    from redis.exceptions import ExecAbortError, LockNotOwnedError, ResponseError, WatchError
except ImportError:
    sys.exit("FAIL: the python package `redis` (redis-py >= 5) is not installed")

TIMEOUT = 50  # seconds for the whole run
server_proc = None
server_log = tempfile.TemporaryFile()  # the server's output, shown when a check fails


def show_server_log():
    server_log.seek(0)
    out = server_log.read().decode(errors="replace").strip()
    if out:
        print("--- server output ---\n" + out[-4000:] + "\n---", flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def stop_server():
    if server_proc is not None and server_proc.poll() is None:
        server_proc.terminate()
        try:
            server_proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server_proc.kill()


def watchdog():
    print(f"FAIL: redis-py e2e did not finish within {TIMEOUT}s", flush=True)
    stop_server()
    show_server_log()
    os._exit(2)


def start_server(kind, binary, extra):
    """Start the server on a free port (with extra options); return its port."""
    global server_proc
    for _ in range(10):
        port = free_port()
        if kind == "redis":
            cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--loglevel", "warning", "--daemonize", "no"]
        else:
            cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--loglevel", "warning"]
        cmd += extra
        server_proc = subprocess.Popen(cmd, stdout=server_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline and server_proc.poll() is None:
            try:
                c = redis.Redis("127.0.0.1", port, socket_timeout=2)
                pid = c.info("server")["process_id"]
                c.close()
                if pid == server_proc.pid:
                    return port
                break  # another process holds the port
            except redis.ConnectionError:
                time.sleep(0.05)
        stop_server()
    raise AssertionError(f"could not start {kind} ({' '.join(cmd)})")


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def eq(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: expected {want!r}, got {got!r}")


def wait_until(pred, what, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# --- 1. transactional pipelines -------------------------------------------------------------

def check_transaction_pipeline(r):
    r.delete("tx:counter", "tx:list", "tx:hash", "tx:str", "tx:n")
    pipe = r.pipeline(transaction=True)
    pipe.incr("tx:counter")
    pipe.incrby("tx:counter", 41)
    pipe.lpush("tx:list", "a", "b", "c")
    pipe.hset("tx:hash", mapping={"f1": "v1", "f2": "v2"})
    pipe.expire("tx:counter", 100)
    pipe.ttl("tx:counter")
    pipe.lrange("tx:list", 0, -1)
    pipe.hgetall("tx:hash")
    pipe.get("tx:counter")
    res = pipe.execute()
    eq(len(res), 9, "number of replies from EXEC")
    eq(res[0], 1, "INCR in MULTI")
    eq(res[1], 42, "INCRBY in MULTI")
    eq(res[2], 3, "LPUSH in MULTI")
    eq(res[3], 2, "HSET in MULTI")
    eq(res[4], True, "EXPIRE in MULTI")
    check(res[5] in (99, 100), f"TTL in MULTI: expected 99..100, got {res[5]!r}")
    eq(res[6], [b"c", b"b", b"a"], "LRANGE in MULTI")
    eq(res[7], {b"f1": b"v1", b"f2": b"v2"}, "HGETALL in MULTI")
    eq(res[8], b"42", "GET in MULTI")
    check(0 < r.ttl("tx:counter") <= 100, "EXPIRE from the transaction is in force")
    print("ok: transactional pipeline returned every command's reply (INCR, LPUSH, HSET, EXPIRE, ...)")

    # A runtime error is that command's reply only: the others run.
    pipe = r.pipeline(transaction=True)
    pipe.set("tx:str", "before")
    pipe.incr("tx:list")  # WRONGTYPE: tx:list is a list
    pipe.lpush("tx:list", "d")
    pipe.incr("tx:n")
    pipe.get("tx:str")
    res = pipe.execute(raise_on_error=False)
    eq(len(res), 5, "number of replies from EXEC with an error inside")
    eq(res[0], True, "SET before the failing command")
    check(isinstance(res[1], ResponseError) and str(res[1]).startswith("WRONGTYPE"),
          f"INCR on a list inside MULTI: expected a WRONGTYPE ResponseError, got {res[1]!r}")
    eq(res[2], 4, "LPUSH after the failing command")
    eq(res[3], 1, "INCR after the failing command")
    eq(res[4], b"before", "GET after the failing command")
    eq(r.llen("tx:list"), 4, "list length after the transaction")

    # With raise_on_error (the default) the error is raised, yet the other commands ran.
    pipe = r.pipeline(transaction=True)
    pipe.incr("tx:n")
    pipe.hincrby("tx:list", "f", 1)  # WRONGTYPE again
    pipe.incr("tx:n")
    try:
        pipe.execute()
    except ResponseError as e:
        check("WRONGTYPE" in str(e), f"raised error should be WRONGTYPE, got {e!r}")
    else:
        raise AssertionError("execute() should raise the WRONGTYPE error of HINCRBY")
    eq(r.get("tx:n"), b"3", "INCRs around a failing command all ran")

    # A queue-time error (unknown command) discards the whole transaction.
    pipe = r.pipeline(transaction=True)
    pipe.incr("tx:n")
    pipe.execute_command("NOSUCHCOMMAND", "x")
    pipe.incr("tx:n")
    try:
        pipe.execute()
    except (ExecAbortError, ResponseError) as e:
        check("unknown command" in str(e) or "EXECABORT" in str(e),
              f"queue-time error should mention the unknown command or EXECABORT, got {e!r}")
    else:
        raise AssertionError("execute() with an unknown command should raise")
    eq(r.get("tx:n"), b"3", "an aborted transaction ran nothing")
    eq(r.ping(), True, "connection usable after EXECABORT")
    print("ok: a runtime error is reported for that command only (raise_on_error=False) while the "
          "others run; a queue-time error aborts the whole transaction")


# --- 2. WATCH ------------------------------------------------------------------------------

def check_watch(r, port):
    threads_n, per_thread = 8, 200
    key = "watch:counter"
    r.set(key, 0)
    retries = [0] * threads_n
    errors = []
    start = threading.Barrier(threads_n)

    def worker(i):
        try:
            start.wait()
            with r.pipeline() as pipe:
                for _ in range(per_thread):
                    while True:
                        try:
                            pipe.watch(key)
                            v = int(pipe.get(key))
                            pipe.multi()
                            pipe.set(key, v + 1)
                            pipe.execute()
                            break
                        except WatchError:
                            retries[i] += 1
                            continue
        except Exception as e:  # reported by the main thread
            errors.append(f"thread {i}: {e!r}")

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads_n)]
    t0 = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=TIMEOUT)
    check(not any(t.is_alive() for t in ts), "WATCH worker threads did not finish")
    check(not errors, "WATCH workers failed: " + "; ".join(errors))
    eq(int(r.get(key)), threads_n * per_thread, "counter after concurrent WATCH/MULTI/EXEC increments")
    print(f"ok: {threads_n} threads x {per_thread} WATCH-retry increments -> exactly "
          f"{threads_n * per_thread} ({sum(retries)} WatchError retries, {time.time() - t0:.1f}s)")

    # A WATCH invalidated by another connection aborts EXEC once; the retry then succeeds.
    other = redis.Redis("127.0.0.1", port, protocol=3, socket_timeout=10)
    r.set("watch:k", "orig")
    aborted = 0
    attempts = 0
    with r.pipeline() as pipe:
        while True:
            attempts += 1
            try:
                pipe.watch("watch:k")
                v = pipe.get("watch:k")
                if attempts == 1:
                    eq(v, b"orig", "value read under WATCH")
                    eq(other.set("watch:k", "changed"), True, "SET from the other connection")
                pipe.multi()
                pipe.set("watch:k", v + b"+mine")
                res = pipe.execute()
                eq(res, [True], "EXEC result after the retry")
                break
            except WatchError:
                aborted += 1
                check(aborted == 1, "WatchError raised more than once")
                eq(r.get("watch:k"), b"changed", "value after the aborted EXEC (nothing ran)")
    eq(aborted, 1, "WatchError count")
    eq(attempts, 2, "attempts")
    eq(r.get("watch:k"), b"changed+mine", "value after the retry")

    # A write to a key that is not watched does not abort.
    with r.pipeline() as pipe:
        pipe.watch("watch:k")
        other.set("watch:unrelated", "x")
        pipe.multi()
        pipe.set("watch:k", "final")
        eq(pipe.execute(), [True], "EXEC after a write to an unwatched key")
    eq(r.get("watch:k"), b"final", "value after the unaffected transaction")
    other.close()
    print("ok: a WATCH invalidated by another connection raised WatchError once and the retry "
          "succeeded; a write to an unwatched key did not abort")


# --- 3. pub/sub listener thread --------------------------------------------------------------

def read_confirmations(p, n, what):
    """Read n (p)subscribe confirmations off pubsub p before its listener thread starts."""
    got = []
    deadline = time.time() + 10
    while len(got) < n and time.time() < deadline:
        m = p.get_message(timeout=1.0)
        if m is not None:
            got.append(m)
    eq([m["type"] for m in got], [t for t, _ in what], "subscription confirmations")
    eq([m["channel"] for m in got], [c for _, c in what], "confirmed channels")
    eq([m["data"] for m in got], list(range(1, n + 1)), "subscription counts")


def check_pubsub(r):
    received = []
    lock = threading.Lock()

    def handler(msg):
        with lock:
            received.append((msg["type"], msg["pattern"], msg["channel"], msg["data"]))

    p = r.pubsub()
    p.subscribe(**{"e2e:chat": handler, "e2e:news.local": handler})
    p.psubscribe(**{"e2e:news.*": handler})
    read_confirmations(p, 3, [("subscribe", b"e2e:chat"), ("subscribe", b"e2e:news.local"),
                              ("psubscribe", b"e2e:news.*")])
    errors = []
    thread = p.run_in_thread(sleep_time=0.01, daemon=True,
                             exception_handler=lambda e, ps, th: (errors.append(repr(e)), th.stop()))

    try:
        n = 300
        expected = []
        for i in range(n):
            data = f"msg-{i}".encode()
            if i % 3 == 0:
                eq(r.publish("e2e:chat", data), 1, "PUBLISH to a subscribed channel")
                expected.append(("message", None, b"e2e:chat", data))
            elif i % 3 == 1:
                eq(r.publish("e2e:news.sports", data), 1, "PUBLISH matching the pattern")
                expected.append(("pmessage", b"e2e:news.*", b"e2e:news.sports", data))
            else:
                # Matches the channel subscription and the pattern: two deliveries, channel first.
                eq(r.publish("e2e:news.local", data), 2, "PUBLISH matching channel and pattern")
                expected.append(("message", None, b"e2e:news.local", data))
                expected.append(("pmessage", b"e2e:news.*", b"e2e:news.local", data))
        eq(r.publish("e2e:other", b"nobody"), 0, "PUBLISH to a channel nobody listens to")

        def all_in():
            with lock:
                return len(received) >= len(expected) or bool(errors)

        wait_until(all_in, f"{len(expected)} pub/sub messages")
        check(not errors, "listener thread failed: " + "; ".join(errors))
        time.sleep(0.05)
        with lock:
            got = list(received)
        if got != expected:
            first = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
            raise AssertionError(f"pub/sub messages differ at #{first} (got {len(got)}, expected {len(expected)}): "
                                 f"got {got[first:first + 3]!r}, expected {expected[first:first + 3]!r}")
        eq(r.pubsub_numpat(), 1, "PUBSUB NUMPAT")

        p.unsubscribe()
        p.punsubscribe()
        # The listener thread reads the confirmations; the last one clears `subscribed`.
        wait_until(lambda: not p.subscribed and r.pubsub_numpat() == 0, "the unsubscribes to take effect")
        eq(r.publish("e2e:chat", b"late"), 0, "PUBLISH after UNSUBSCRIBE")
        eq(r.publish("e2e:news.local", b"late"), 0, "PUBLISH after PUNSUBSCRIBE")
        thread.stop()
        thread.join(timeout=5)
        check(not thread.is_alive(), "pub/sub listener thread did not stop")
        check(not errors, "listener thread failed: " + "; ".join(errors))
        eq(len(received), len(expected), "no message after unsubscribing")
    finally:
        thread.stop()
    print(f"ok: pub/sub listener thread got all {len(expected)} messages in order with the right "
          "channel/pattern, then unsubscribed and stopped")


def check_pubsub_numsub(r):
    """`PUBSUB NUMSUB` through redis-py: Redis 7.0 answers a flat array even in RESP3, which
    redis-py pairs up as [(channel, count), ...]."""
    p = r.pubsub()
    p.subscribe("e2e:numsub")
    read_confirmations(p, 1, [("subscribe", b"e2e:numsub")])
    try:
        eq(r.execute_command("PUBSUB", "NUMSUB", "e2e:numsub"), [b"e2e:numsub", 1],
           "raw PUBSUB NUMSUB reply (a flat array in Redis 7.0, also in RESP3)")
        eq(r.pubsub_numsub("e2e:numsub", "e2e:none"), [(b"e2e:numsub", 1), (b"e2e:none", 0)],
           "PUBSUB NUMSUB via redis-py")
    finally:
        p.close()
    print("ok: PUBSUB NUMSUB answers a flat array that redis-py pairs up")


# --- 4. keyspace notifications ---------------------------------------------------------------

def check_keyspace_notifications(r):
    old = r.config_get("notify-keyspace-events")["notify-keyspace-events"]
    eq(r.config_set("notify-keyspace-events", "KEA"), True, "CONFIG SET notify-keyspace-events KEA")
    try:
        got = r.config_get("notify-keyspace-events")["notify-keyspace-events"]
        check(set(got) == set("AKE"), f"notify-keyspace-events reads back as {got!r}")
        r.delete("ks:str", "ks:list")
        p = r.pubsub()
        p.psubscribe("__keyevent@0__:*")
        p.psubscribe("__keyspace@0__:ks:*")
        read_confirmations(p, 2, [("psubscribe", b"__keyevent@0__:*"), ("psubscribe", b"__keyspace@0__:ks:*")])
        r.set("ks:str", "v")
        r.lpush("ks:list", "a", "b")
        r.expire("ks:str", 100)
        r.delete("ks:list")
        expected = []
        for key, event in [(b"ks:str", b"set"), (b"ks:list", b"lpush"), (b"ks:str", b"expire"), (b"ks:list", b"del")]:
            expected.append((b"__keyspace@0__:ks:*", b"__keyspace@0__:" + key, event))
            expected.append((b"__keyevent@0__:*", b"__keyevent@0__:" + event, key))
        got = []
        deadline = time.time() + 10
        while len(got) < len(expected) and time.time() < deadline:
            m = p.get_message(timeout=1.0)
            if m is None:
                continue
            eq(m["type"], "pmessage", "notification message type")
            got.append((m["pattern"], m["channel"], m["data"]))
        eq(got, expected, "keyspace/keyevent notifications for SET, LPUSH, EXPIRE, DEL")
        check(p.get_message(timeout=0.2) is None, "no extra notification")
        p.close()
    finally:
        r.config_set("notify-keyspace-events", old)
    print("ok: keyspace notifications (KEA): set/lpush/expire/del events arrived on __keyevent@0__ "
          "and __keyspace@0__")


def check_lock(r, port):
    r.delete("lock:a", "lock:b", "lock:c", "lock:count")
    a = r.lock("lock:a", timeout=5)
    check(a.acquire(blocking=False), "Lock.acquire on a free lock")
    check(a.owned() and r.get("lock:a") == a.local.token, "the lock key holds the owner's token")
    other = r.lock("lock:a", timeout=5)
    check(not other.acquire(blocking_timeout=0.2), "a second owner is refused while it is held")
    check(a.extend(10), "Lock.extend")
    check(10_000 < r.pttl("lock:a") <= 15_000, f"extend added to the TTL ({r.pttl('lock:a')} ms)")
    check(a.reacquire() and 4_000 < r.pttl("lock:a") <= 5_000, "Lock.reacquire resets the TTL to the timeout")
    a.release()
    eq(r.exists("lock:a"), 0, "release deletes the lock key")

    b = r.lock("lock:b", timeout=0.2)
    check(b.acquire(blocking=False), "a lock with a 200 ms timeout")
    time.sleep(0.4)
    try:
        b.release()
        check(False, "releasing a lock that timed out raises LockNotOwnedError")
    except LockNotOwnedError:
        check(True, "releasing a lock that timed out raises LockNotOwnedError")
    check(r.lock("lock:b", timeout=5).acquire(blocking=False), "a timed-out lock is free again")

    # Released from a timer thread: the token must not be thread-local.
    holder = r.lock("lock:c", timeout=5, thread_local=False)
    check(holder.acquire(blocking=False), "the holder takes lock:c")
    threading.Timer(0.3, holder.release).start()
    t = time.time()
    waiter = redis.Redis("127.0.0.1", port, protocol=3, socket_timeout=10).lock(
        "lock:c", timeout=5, sleep=0.02)
    got = waiter.acquire(blocking=True, blocking_timeout=5)
    waited = time.time() - t
    check(got and 0.25 <= waited < 4, f"a blocking acquire got the lock when released ({waited:.2f} s)")
    waiter.release()

    errors = []

    def worker():
        c = redis.Redis("127.0.0.1", port, protocol=3, socket_timeout=10)
        try:
            for _ in range(25):
                with c.lock("lock:count:mutex", timeout=5, blocking_timeout=20, sleep=0.001):
                    v = int(c.get("lock:count") or 0)
                    c.set("lock:count", v + 1)
        except Exception as e:
            errors.append(repr(e))
        finally:
            c.close()

    ts = [threading.Thread(target=worker) for _ in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    check(not errors, "lock workers failed: " + "; ".join(errors))
    eq(int(r.get("lock:count")), 150, "six threads, 25 locked read-modify-writes each")
    print(f"ok: Lock: acquire, refused second owner, extend, reacquire, release; a timed-out lock "
          f"is not the old owner's; a blocking acquire waited {waited:.2f}s for the holder; "
          f"6 threads x 25 locked increments -> 150", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", nargs="?", default="target/debug/ferrokv", help="ferrokv binary")
    ap.add_argument("--server", choices=["ferrokv", "redis"], default="ferrokv",
                    help="run against ferrokv (default) or a real redis-server")
    ap.add_argument("--io-threads", type=int, help="start the server with --io-threads N")
    args = ap.parse_args()
    if args.server == "ferrokv" and not os.access(args.binary, os.X_OK):
        sys.exit(f"FAIL: ferrokv binary {args.binary} not found (build it first)")

    timer = threading.Timer(TIMEOUT, watchdog)
    timer.daemon = True
    timer.start()
    t0 = time.time()
    try:
        extra = ["--io-threads", str(args.io_threads)] if args.io_threads else []
        port = start_server(args.server, args.binary, extra)
        r = redis.Redis("127.0.0.1", port, protocol=3, socket_timeout=10)
        hello = r.execute_command("HELLO", "3")
        proto = hello.get(b"proto", hello.get("proto"))
        eq(proto, 3, "protocol negotiated by redis.Redis(protocol=3)")
        print(f"redis-py {redis.__version__} (RESP3) against {args.server}"
              f"{'' if args.server == 'redis' else ' ' + args.binary} on port {port}")
        r.close()
    except Exception as e:
        traceback.print_exc()
        print(f"FAIL: redis-py e2e against {args.server}: {e}", flush=True)
        stop_server()
        show_server_log()
        os._exit(1)
    # Every check runs even when an earlier one failed, each on a fresh client.
    failures = []
    for name, fn in [("transactional pipeline", lambda c: check_transaction_pipeline(c)),
                     ("WATCH", lambda c: check_watch(c, port)),
                     ("pub/sub listener thread", check_pubsub),
                     ("PUBSUB NUMSUB", check_pubsub_numsub),
                     ("keyspace notifications", check_keyspace_notifications),
                     ("Lock", lambda c: check_lock(c, port))]:
        c = redis.Redis("127.0.0.1", port, protocol=3, socket_timeout=10)
        try:
            fn(c)
        except Exception as e:
            traceback.print_exc()
            print(f"FAIL: {name}: {e}", flush=True)
            failures.append(name)
        finally:
            c.close()
    stop_server()
    timer.cancel()
    if failures:
        show_server_log()
        print(f"FAIL: redis-py e2e against {args.server}: {len(failures)} check(s) failed: "
              + ", ".join(failures), flush=True)
        sys.exit(1)
    print(f"redis-py e2e: all checks passed against {args.server} in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
