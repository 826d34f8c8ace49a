#!/usr/bin/env python3
"""The original project's client: raw sockets, standard library only.

Sends SET, GET, EXPIRE, TTL, PERSIST, DEL and METRICS to a ferrokv server and prints the
replies. Exits non-zero when a reply is not what Redis would send.
"""
import argparse
import socket
import sys


def encode(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=5)
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return Exception(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ValueError("unexpected reply %r" % line)

    def call(self, *args):
        self.sock.sendall(encode(*args))
        return self.reply()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=6379)
    opts = ap.parse_args()
    c = Conn(opts.host, opts.port)
    checks = [
        (("SET", "smoke:key", "hello"), "OK"),
        (("GET", "smoke:key"), b"hello"),
        (("EXPIRE", "smoke:key", 100), 1),
        (("TTL", "smoke:key"), 100),
        (("PERSIST", "smoke:key"), 1),
        (("TTL", "smoke:key"), -1),
        (("DEL", "smoke:key"), 1),
        (("GET", "smoke:key"), None),
    ]
    failed = 0
    for args, want in checks:
        got = c.call(*args)
        ok = got == want
        failed += not ok
        print("%-32s -> %r%s" % (" ".join(map(str, args)), got, "" if ok else "   (expected %r)" % (want,)))
    metrics = c.call("METRICS")
    text = metrics.decode() if isinstance(metrics, bytes) else ""
    has = 'redis_commands_total{cmd="set"}' in text and text.rstrip().endswith("# EOF")
    failed += not has
    print("METRICS -> %d bytes of OpenMetrics text%s" % (len(text), "" if has else " (missing expected series)"))
    if failed:
        print("%d check(s) failed" % failed)
        sys.exit(1)


if __name__ == "__main__":
    main()
