#!/usr/bin/env python3
"""End-to-end check of ferrokv's observability with the tools operators run for Redis.

1. ferrokv serves `/metrics` (--metrics-addr): the content type is OpenMetrics and the text
   passes the strict OpenMetrics parser of the `prometheus_client` package.
2. A real Prometheus server (Debian package `prometheus`) scrapes it and answers a query for a
   `redis_*` series.
3. `prometheus-redis-exporter` (Debian package) scraping ferrokv over the Redis protocol
   reports `redis_up 1` and real values from INFO.

Steps whose tool is not installed print a SKIPPED line. Everything listens on loopback free
ports and is stopped by PID at the end.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/debug/ferrokv"
procs = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_http(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.headers, r.read().decode()
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"FAIL: {url} did not answer within {timeout}s")


def send(port, *cmds):
    with socket.create_connection(("127.0.0.1", port)) as s:
        for c in cmds:
            s.sendall(b"*%d\r\n" % len(c) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in c))
            s.recv(65536)


def start(cmd, **kw):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    procs.append(p)
    return p


def main():
    port, mport = free_port(), free_port()
    start([BIN, "--port", str(port), "--metrics-addr", f"127.0.0.1:{mport}", "--loglevel", "warning"])
    headers, text = wait_http(f"http://127.0.0.1:{mport}/metrics")
    send(port, [b"SET", b"k", b"v"], [b"GET", b"k"], [b"GET", b"missing"], [b"INCR", b"k"], [b"NOSUCHCMD"])
    headers, text = wait_http(f"http://127.0.0.1:{mport}/metrics")
    ctype = headers.get("Content-Type", "")
    assert ctype.startswith("application/openmetrics-text"), ctype
    for needle in ['redis_commands_total{cmd="set"} 1', 'redis_errors_total{err="ERR"}', 'redis_commands_total{cmd="unknown"} 1',
                   "redis_keyspace_misses_total 1", 'redis_db_keys{db="db0"} 1', "# EOF"]:
        assert needle in text, f"missing {needle!r} in:\n{text}"
    try:
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
    except ImportError:
        print("SKIPPED OpenMetrics parser check: python package prometheus_client not installed")
    else:
        families = list(text_string_to_metric_families(text))
        print(f"ok: strict OpenMetrics parser accepted {len(families)} metric families")

    if shutil.which("prometheus"):
        tmp = tempfile.mkdtemp(prefix="ferrokv-prom-")
        pport = free_port()
        with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: ferrokv\n"
                    f"    static_configs:\n      - targets: ['127.0.0.1:{mport}']\n")
        start(["prometheus", f"--config.file={tmp}/prometheus.yml", f"--storage.tsdb.path={tmp}/data",
               f"--web.listen-address=127.0.0.1:{pport}"])
        query = f"http://127.0.0.1:{pport}/api/v1/query?query=redis_commands_total"
        deadline = time.time() + 60
        result = []
        while time.time() < deadline and not result:
            try:
                with urllib.request.urlopen(query, timeout=2) as r:
                    result = json.load(r)["data"]["result"]
            except OSError:
                pass
            time.sleep(0.5)
        assert result, "Prometheus never returned redis_commands_total"
        with urllib.request.urlopen(f"http://127.0.0.1:{pport}/api/v1/query?query=up", timeout=5) as r:
            up = json.load(r)["data"]["result"]
        assert up and up[0]["value"][1] == "1", up
        print(f"ok: Prometheus scraped ferrokv (up=1) and returned {len(result)} redis_commands_total series")
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print("SKIPPED Prometheus scrape: prometheus not installed")

    exporter = shutil.which("prometheus-redis-exporter")
    if exporter:
        eport = free_port()
        start([exporter, f"--redis.addr=redis://127.0.0.1:{port}", f"--web.listen-address=127.0.0.1:{eport}"])
        _, etext = wait_http(f"http://127.0.0.1:{eport}/metrics")
        lines = etext.splitlines()
        assert "redis_up 1" in lines, "exporter reports redis_up != 1"
        def value(name):
            for l in lines:
                if l.startswith(name + " ") or l.startswith(name + "{"):
                    return float(l.rsplit(" ", 1)[1])
            raise AssertionError(f"exporter lacks {name}")
        assert value("redis_commands_processed_total") > 0
        assert value("redis_connected_clients") >= 1
        assert value('redis_db_keys{db="db0"}') == 1
        print("ok: prometheus-redis-exporter reports redis_up 1 with real values "
              f"(commands_processed={value('redis_commands_processed_total'):.0f})")
    else:
        print("SKIPPED redis exporter check: prometheus-redis-exporter not installed")


try:
    main()
finally:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
