"""Jobs for the RQ end-to-end check (scripts/rq_e2e.py): a value-returning job, a slow one
another job depends on, a job that always fails, and one that fails twice before it succeeds.
The server URL comes from the environment the check sets (RQ_E2E_URL)."""

import os
import time

import redis
from rq import get_current_job


def square(x):
    return x * x


def slow_add(x, y, delay=0.5):
    time.sleep(delay)
    return x + y


def double_dependency():
    """Doubles the return value of the job this one depends on, as the worker sees it."""
    dep = get_current_job().dependency
    return 2 * dep.return_value()


def boom():
    raise ValueError("this job always fails")


def flaky(key):
    """Fails until it has been tried three times, counting its tries on the server."""
    tries = redis.Redis.from_url(os.environ["RQ_E2E_URL"]).incr(key)
    if tries < 3:
        raise RuntimeError(f"try {tries} fails")
    return f"succeeded on try {tries}"
