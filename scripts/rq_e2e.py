#!/usr/bin/env python3
"""An RQ (python-rq) worker against ferrokv, end to end.

    rq_e2e.py PATH/TO/ferrokv            # the check `just rq-e2e` runs
    rq_e2e.py --server redis             # the same against a real redis-server

Starts a server on a free port and an `rq worker` (SimpleWorker, no forking) on it, then runs a
job whose result comes back through RQ's result stream (XADD, XREAD BLOCK, XREVRANGE), a job
that depends on a slower one, a job that fails, and one that RQ retries twice before it
succeeds, checking statuses, results and registries through RQ's own API. Ends with the
commands RQ sent and a check that none of them failed.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

from cluster import free_port, wait_port

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(HERE, "rq_app")


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"  ok  {what}")


def wait_status(job, statuses, timeout=20):
    """Polls the job's status (HGET on its hash) until it is one of `statuses`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = job.get_status()
        if status in statuses:
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job.func_name} still {job.get_status()!r} after {timeout}s, wanted {statuses}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?")
    ap.add_argument("--server", choices=["ferrokv", "redis"], default="ferrokv")
    opts = ap.parse_args()
    if opts.server == "ferrokv" and not opts.binary:
        ap.error("the path of the ferrokv binary is required (or --server redis)")
    port = free_port()
    url = f"redis://127.0.0.1:{port}"
    work = tempfile.mkdtemp(prefix="rq-e2e-")
    if opts.server == "ferrokv":
        cmd = [opts.binary, "--port", str(port), "--dir", work, "--loglevel", "warning"]
    else:
        cmd = ["redis-server", "--port", str(port), "--dir", work, "--save", "", "--loglevel", "warning"]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    log = os.path.join(work, "worker.log")
    try:
        wait_port(port)
        env = dict(os.environ, RQ_E2E_URL=url, PYTHONPATH=APP)
        os.environ["RQ_E2E_URL"] = url
        sys.path.insert(0, APP)

        import redis
        import rq
        from rq import Queue, Retry, Worker
        from rq.job import JobStatus
        from rq.registry import DeferredJobRegistry, FailedJobRegistry, FinishedJobRegistry
        from rq.results import Result

        import tasks

        print(f"  --  rq {rq.__version__}, redis-py {redis.__version__}, server {opts.server}")
        conn = redis.Redis.from_url(url)
        q = Queue("e2e", connection=conn)

        # Enqueued before any worker runs, so the dependent job is certainly deferred at first.
        a = q.enqueue(tasks.slow_add, 20, 1, delay=0.5)
        b = q.enqueue(tasks.double_dependency, depends_on=a)
        check(a.get_status() == JobStatus.QUEUED and b.get_status() == JobStatus.DEFERRED
              and b.id in DeferredJobRegistry(queue=q).get_job_ids() and q.job_ids == [a.id],
              "a job that depends on a queued one is deferred, not queued")

        worker = subprocess.Popen(
            [sys.executable, "-m", "rq.cli", "worker", "--url", url,
             "--worker-class", "rq.worker.SimpleWorker", "--name", f"e2e{port}",
             "--logging_level", "INFO", "e2e"],
            env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)

        # 1. A job that returns a value: the result comes back through the result stream.
        wait_status(b, {JobStatus.FINISHED, JobStatus.FAILED})  # the worker is up and idle now
        job = q.enqueue(tasks.square, 7)
        res = job.latest_result(timeout=20)  # XREAD BLOCK on rq:results:<id>
        check(res is not None and res.type == Result.Type.SUCCESSFUL and res.return_value == 49,
              "a job enqueued on an idle worker runs, its result arrives (XREAD BLOCK)")
        check(job.return_value() == 49 and job.get_status() == JobStatus.FINISHED,
              "job.return_value() (XREVRANGE) is 49 and the status is 'finished'")
        check(job.id in FinishedJobRegistry(queue=q).get_job_ids(), "the job is in the FinishedJobRegistry")

        # 2. The dependency: B ran only after A finished, on A's result.
        check(a.get_status() == JobStatus.FINISHED and a.return_value() == 21, "job A finished with 21")
        a.refresh()
        b.refresh()
        check(b.get_status() == JobStatus.FINISHED and b.return_value() == 42,
              "job B (depends_on=A) finished with twice A's result")
        check(b.started_at is not None and a.ended_at is not None and b.started_at >= a.ended_at,
              f"B started ({b.started_at:%H:%M:%S.%f}) after A ended ({a.ended_at:%H:%M:%S.%f})")
        check(b.id not in DeferredJobRegistry(queue=q).get_job_ids(), "B left the DeferredJobRegistry")

        # 3. A failing job.
        bad = q.enqueue(tasks.boom)
        check(wait_status(bad, {JobStatus.FINISHED, JobStatus.FAILED}) == JobStatus.FAILED,
              "a job that raises ends 'failed'")
        latest = bad.latest_result()
        check(latest is not None and latest.type == Result.Type.FAILED
              and "ValueError: this job always fails" in latest.exc_string,
              "its latest result is FAILED and exc_string has the exception")
        check(bad.return_value() is None, "a failed job has no return value")
        check(bad.id in FailedJobRegistry(queue=q).get_job_ids(), "the job is in the FailedJobRegistry")

        # 4. Retries: fails twice (tries counted with INCR on the server), then succeeds.
        key = f"rq-e2e:flaky:{port}"
        flaky = q.enqueue(tasks.flaky, key, retry=Retry(max=2))
        check(wait_status(flaky, {JobStatus.FINISHED, JobStatus.FAILED}) == JobStatus.FINISHED,
              "a job with Retry(max=2) that fails twice ends 'finished'")
        check(flaky.return_value(refresh=True) == "succeeded on try 3" and conn.get(key) == b"3",
              "it succeeded on its third try (INCR counter is 3)")
        # Failed tries re-enqueued by Retry(max=...) leave no result; only the success is there.
        types = [r.type.name for r in flaky.results()]  # XREVRANGE, newest first
        check(types == ["SUCCESSFUL"], f"its result stream holds {types}")
        flaky.refresh()
        check(flaky.retries_left == 0, "retries_left went down to 0")

        # The worker registered itself and is still alive.
        names = [w.name for w in Worker.all(connection=conn)]
        check(f"e2e{port}" in names and worker.poll() is None, "the worker is registered and running")

        # A warm shutdown: SIGTERM, the worker leaves cleanly.
        worker.send_signal(signal.SIGTERM)
        rc = worker.wait(20)
        check(rc == 0, f"the worker stops on SIGTERM with status {rc}")
        check(f"e2e{port}" not in [w.name for w in Worker.all(connection=conn)], "and unregisters itself")

        stats = conn.info("commandstats")
        used = sorted(k.removeprefix("cmdstat_") for k, v in stats.items() if v.get("calls"))
        print(f"  --  commands RQ sent: {' '.join(used)}")
        bad_calls = {k.removeprefix("cmdstat_"): {f: v[f] for f in ("failed_calls", "rejected_calls") if v.get(f)}
                     for k, v in stats.items() if v.get("failed_calls") or v.get("rejected_calls")}
        check(not bad_calls, f"no command RQ sent failed or was rejected {bad_calls}")
        print(f"rq e2e: all checks passed against {opts.server}")
    except BaseException:
        if worker is not None and os.path.exists(log):
            print("---- worker log (last 40 lines) ----")
            print("".join(open(log).readlines()[-40:]))
        raise
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
