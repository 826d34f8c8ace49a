"""Tasks for the Celery end-to-end check (scripts/celery_e2e.py): a chord's parts and its
callback, and a task that fails twice before it succeeds. Broker and result backend URLs come
from the environment the check sets."""

import os

import redis
from celery import Celery

app = Celery("ferrokv_e2e", broker=os.environ["CELERY_BROKER"], backend=os.environ["CELERY_BACKEND"])
app.conf.update(
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    result_expires=600,
)


@app.task
def square(x):
    return x * x


@app.task
def total(values):
    return sum(values)


@app.task(bind=True, max_retries=5)
def flaky(self, key):
    """Fails until it has been tried three times, counting its tries in the data store."""
    tries = redis.Redis.from_url(os.environ["CELERY_BROKER"]).incr(key)
    if tries < 3:
        raise self.retry(exc=RuntimeError(f"try {tries} fails"), countdown=0.2)
    return f"succeeded on try {tries}"


@app.task
def boom():
    raise ValueError("this task always fails")
