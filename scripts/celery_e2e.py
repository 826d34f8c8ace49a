#!/usr/bin/env python3
"""A Celery worker with ferrokv as its broker and result backend, end to end.

    celery_e2e.py PATH/TO/ferrokv            # the check `just celery-e2e` runs
    celery_e2e.py --server redis             # the same against a real redis-server

Starts a server on a free port and a worker (solo pool) on it, then runs a chord of ten tasks
with a callback, a task that retries twice before it succeeds, a task that fails, and a group,
checking every result the client gets back.
"""

import argparse
import os
import subprocess
import sys
import tempfile

from cluster import free_port, wait_port

HERE = os.path.dirname(os.path.abspath(__file__))


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"  ok  {what}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?")
    ap.add_argument("--server", choices=["ferrokv", "redis"], default="ferrokv")
    opts = ap.parse_args()
    port = free_port()
    work = tempfile.mkdtemp(prefix="celery-e2e-")
    if opts.server == "ferrokv":
        cmd = [opts.binary, "--port", str(port), "--dir", work, "--loglevel", "warning"]
    else:
        cmd = ["redis-server", "--port", str(port), "--dir", work, "--save", "", "--loglevel", "warning"]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    log = os.path.join(work, "worker.log")
    try:
        wait_port(port)
        env = dict(os.environ,
                   CELERY_BROKER=f"redis://127.0.0.1:{port}/0",
                   CELERY_BACKEND=f"redis://127.0.0.1:{port}/1",
                   PYTHONPATH=os.path.join(HERE, "celery_app"))
        os.environ.update(env)
        sys.path.insert(0, os.path.join(HERE, "celery_app"))
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--pool=solo",
             "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"e2e{port}@localhost"],
            env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)

        from celery import chord, group
        import tasks

        ping = tasks.square.delay(7)
        check(ping.get(timeout=60) == 49, "a task runs on the worker and its result comes back")

        result = chord(tasks.square.s(i) for i in range(10))(tasks.total.s())
        check(result.get(timeout=60) == sum(i * i for i in range(10)), "a chord of ten tasks and its callback")

        g = group(tasks.square.s(i) for i in range(5))().get(timeout=60)
        check(g == [0, 1, 4, 9, 16], "a group's results arrive in order")

        r = tasks.flaky.delay(f"flaky:{port}")
        check(r.get(timeout=60) == "succeeded on try 3", "a task that retries twice, then succeeds")

        bad = tasks.boom.delay()
        try:
            bad.get(timeout=60)
            check(False, "a failing task raises in the client")
        except ValueError as e:
            check(str(e) == "this task always fails" and bad.state == "FAILURE",
                  "a failing task's exception and FAILURE state come back")
        import redis
        stats = redis.Redis(port=port).info("commandstats")
        used = sorted(k.removeprefix("cmdstat_") for k in stats)
        print(f"  --  commands Celery sent: {' '.join(used)}")
        # kombu sends EVALSHA first and loads the script on NOSCRIPT: those failures are expected.
        failed = {k for k, v in stats.items() if v.get("failed_calls")} - {"cmdstat_evalsha"}
        check(not failed, f"no other command Celery sent failed {sorted(failed)}")
        print(f"celery e2e: all checks passed against {opts.server}")
    except BaseException:
        if worker is not None and os.path.exists(log):
            print("---- worker log (last 40 lines) ----")
            print("".join(open(log).readlines()[-40:]))
        raise
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
