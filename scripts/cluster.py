#!/usr/bin/env python3
"""Three servers behind twemproxy (nutcracker) on free loopback ports.

Used by the twemproxy end-to-end check, its benchmark and `just cluster-demo`:

    python3 scripts/cluster.py demo target/release/ferrokv   # runs until Ctrl-C

Each shard is a server with its own working directory (and AOF, for ferrokv) under one
temporary folder; nutcracker gets a `redis: true` pool with ketama distribution, `{}` hash
tags and `auto_eject_hosts`, so a shard that stops answering is taken out of the ring after
`server_failure_limit` failures and tried again after `server_retry_timeout`.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# Ejection settings: one failure ejects a shard, which is retried every 2 s. Twemproxy's own
# defaults (2 failures, 30 s) are meant for production; these keep the checks short.
FAILURE_LIMIT = 1
RETRY_MS = 2000
# Per-request timeout in the proxy: a dead shard answers with an error within this time.
TIMEOUT_MS = 1000


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def nutcracker_binary():
    """nutcracker from PATH or /usr/sbin (where Debian puts it), or None."""
    found = shutil.which("nutcracker")
    if found:
        return found
    if os.access("/usr/sbin/nutcracker", os.X_OK):
        return "/usr/sbin/nutcracker"
    return None


class Shard:
    def __init__(self, kind, binary, workdir, name, aof, password):
        self.kind, self.binary, self.name, self.aof = kind, binary, name, aof
        self.password = password
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.proc = None

    def start(self):
        opts = ["--appendonly", "yes" if self.aof else "no", "--appendfsync", "everysec"]
        if self.password:
            opts += ["--requirepass", self.password]
        if self.kind == "ferrokv":
            cmd = [self.binary, "--port", str(self.port), "--dir", self.dir, *opts,
                   "--loglevel", os.environ.get("SHARD_LOGLEVEL", "warning")]
        else:
            cmd = ["redis-server", "--port", str(self.port), "--dir", self.dir, "--save", "",
                   *opts, "--loglevel", os.environ.get("SHARD_LOGLEVEL", "warning")]
        log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        wait_port(self.port)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc is None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


class Cluster:
    """`shards` servers of one kind ("ferrokv" or "redis") behind one nutcracker, each with an
    AOF (fsync every second) when `aof` is set. With a `password`, the shards require it and
    nutcracker authenticates to them (`redis_auth`) and asks it of its own clients."""

    def __init__(self, kind="ferrokv", binary=None, shards=3, workdir=None, aof=True,
                 password=None):
        self.nutcracker = nutcracker_binary()
        if self.nutcracker is None:
            raise RuntimeError("nutcracker is not installed (apt-get install nutcracker)")
        self.own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix=f"cluster-{kind}-")
        self.shards = [Shard(kind, binary, self.dir, f"shard{i}", aof, password) for i in range(shards)]
        self.port = free_port()
        self.stats_port = free_port()
        self.proxy = None
        self.password = password

    def config(self):
        lines = [
            "ferrokv:",
            f"  listen: 127.0.0.1:{self.port}",
            "  hash: fnv1a_64",
            '  hash_tag: "{}"',
            "  distribution: ketama",
            "  redis: true",
            "  preconnect: true",
            "  auto_eject_hosts: true",
            f"  server_failure_limit: {FAILURE_LIMIT}",
            f"  server_retry_timeout: {RETRY_MS}",
            f"  timeout: {TIMEOUT_MS}",
        ]
        if self.password:
            lines.append(f"  redis_auth: {self.password}")
        lines.append("  servers:")
        lines += [f"    - 127.0.0.1:{s.port}:1 {s.name}" for s in self.shards]
        return "\n".join(lines) + "\n"

    def start(self):
        for s in self.shards:
            s.start()
        conf = os.path.join(self.dir, "nutcracker.yml")
        with open(conf, "w") as f:
            f.write(self.config())
        check = subprocess.run([self.nutcracker, "-t", "-c", conf], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nutcracker rejects {conf}: {check.stderr.strip()}")
        self.proxy = subprocess.Popen(
            [self.nutcracker, "-c", conf, "-s", str(self.stats_port), "-a", "127.0.0.1",
             "-o", os.path.join(self.dir, "nutcracker.log"),
             "-v", os.environ.get("NUTCRACKER_VERBOSITY", "5")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        return self

    def stop(self):
        if self.proxy is not None:
            self.proxy.terminate()
            self.proxy.wait(10)
            self.proxy = None
        for s in self.shards:
            s.stop()
        if self.own_dir and os.environ.get("KEEP_CLUSTER_DIR") is None:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()


def demo(binary):
    with Cluster("ferrokv", binary) as c:
        print(f"three ferrokv shards: {', '.join(str(s.port) for s in c.shards)} "
              f"(data under {c.dir})")
        print(f"nutcracker on 127.0.0.1:{c.port} (stats on {c.stats_port})")
        print(f"try:  redis-cli -p {c.port}")
        print("Ctrl-C stops everything.")
        # SIGTERM too, so `kill PID` of this script does not leave the servers running.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "demo":
        sys.exit("usage: cluster.py demo PATH/TO/ferrokv")
    demo(sys.argv[2])
