#!/usr/bin/env python3
"""Capture Redis 7.0's `COMMAND DOCS` reply (RESP3, raw bytes) into src/command/docs.resp,
which `COMMAND DOCS` serves for the commands ferrokv implements. The text is Redis's command
documentation (BSD-3-Clause, Redis Ltd.), as redis-server 7.0.15 reports it.

usage: python3 scripts/gen_command_docs.py PORT > src/command/docs.resp
"""
import socket, sys


def frame_end(buf, i):
    """Index just past the RESP3 frame starting at buf[i] (raises IndexError if incomplete)."""
    j = buf.index(b"\r\n", i)
    t, v = buf[i:i + 1], buf[i + 1:j]
    i = j + 2
    if t in b"+-:_,#(":
        return i
    if t in b"$=!":
        n = int(v)
        if n < 0:
            return i
        if len(buf) < i + n + 2:
            raise IndexError
        return i + n + 2
    if t in b"*~>":
        for _ in range(max(int(v), 0)):
            i = frame_end(buf, i)
        return i
    if t == b"%":
        for _ in range(2 * int(v)):
            i = frame_end(buf, i)
        return i
    raise SystemExit(f"unexpected type {t!r}")


def call(s, buf, *args):
    a = [x.encode() for x in args]
    s.sendall(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a))
    while True:
        try:
            end = frame_end(buf, 0)
            out = bytes(buf[:end])
            del buf[:end]
            return out
        except (IndexError, ValueError):
            chunk = s.recv(1 << 20)
            if not chunk:
                raise SystemExit("connection closed")
            buf += chunk


s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
buf = bytearray()
call(s, buf, "HELLO", "3")
sys.stdout.buffer.write(call(s, buf, "COMMAND", "DOCS"))
