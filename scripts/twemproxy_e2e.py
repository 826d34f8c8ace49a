#!/usr/bin/env python3
"""Three ferrokv shards behind twemproxy (nutcracker), end to end, through redis-py.

    twemproxy_e2e.py PATH/TO/ferrokv            # the check `just e2e-twemproxy` runs
    twemproxy_e2e.py --server redis             # the same checks against redis-server shards

Through the proxy: thousands of SET/GET, MGET/MSET/DEL across shards, INCR, EXPIRE/TTL,
every collection type, a hash-tagged group on one shard, EVAL over one hash tag, and error
replies forwarded as the shard sent them. Then, connecting to each shard directly: the keys
are spread over all three and every value reads back. Last, one shard is stopped with
SIGTERM (nutcracker ejects it and the other shards' keys stay readable through the proxy) and
restarted on its AOF (its keys come back, directly and through the proxy).
"""

import argparse
import sys
import time
import warnings

import redis

from cluster import RETRY_MS, Cluster

KEYS = 3000
# The shards require a password and nutcracker passes it on (`redis_auth`), as deployments do.
PASSWORD = "e2e-secret"


def client(port):
    # RESP2 and no CLIENT SETINFO on connect: twemproxy closes connections that send commands it
    # does not know (HELLO, CLIENT). redis-py 8 deprecates lib_name in favour of driver_info,
    # which redis-py 5 does not have; lib_name=None works in both.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    return redis.Redis(port=port, password=PASSWORD, protocol=2, lib_name=None, lib_version=None, socket_timeout=10)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"  ok  {what}")


def strings(r):
    pipe = r.pipeline(transaction=False)
    for i in range(KEYS):
        pipe.set(f"key:{i}", f"value:{i}")
    check(all(pipe.execute()), f"SET of {KEYS} keys through the proxy")
    pipe = r.pipeline(transaction=False)
    for i in range(KEYS):
        pipe.get(f"key:{i}")
    got = pipe.execute()
    check(got == [f"value:{i}".encode() for i in range(KEYS)], f"GET of {KEYS} keys reads them back")

    names = [f"key:{i}" for i in range(0, KEYS, 7)]
    check(r.mget(names) == [f"value:{i}".encode() for i in range(0, KEYS, 7)],
          f"MGET of {len(names)} keys across shards")
    check(r.mset({f"m:{i}": str(i * i) for i in range(200)}), "MSET of 200 keys across shards")
    check(r.mget([f"m:{i}" for i in range(200)]) == [str(i * i).encode() for i in range(200)],
          "MSET values read back with MGET")
    check(r.delete(*[f"m:{i}" for i in range(100)], "m:missing") == 100,
          "DEL of 101 keys across shards counts the 100 that existed")
    check(r.mget([f"m:{i}" for i in (0, 99, 100, 199)]) == [None, None, b"10000", b"39601"],
          "deleted keys read as missing, the others are still there")

    check([r.incr("counter") for _ in range(5)] == [1, 2, 3, 4, 5], "INCR")
    check(r.incrby("counter", 10) == 15, "INCRBY")
    r.set("ttl:k", "v")
    check(r.expire("ttl:k", 100) and 99 <= r.ttl("ttl:k") <= 100, "EXPIRE then TTL")
    check(r.ttl("key:1") == -1 and r.ttl("nokey") == -2, "TTL of a persistent and a missing key")
    check(r.ping(), "PING")


def collections(r):
    r.hset("h:user", mapping={"name": "ada", "visits": 1})
    check(r.hincrby("h:user", "visits", 41) == 42, "HINCRBY")
    check(r.hgetall("h:user") == {b"name": b"ada", b"visits": b"42"}, "HGETALL")
    check(r.rpush("l:queue", *range(10)) == 10 and r.lpop("l:queue") == b"0", "RPUSH and LPOP")
    check(r.lrange("l:queue", 0, 2) == [b"1", b"2", b"3"], "LRANGE")
    check(r.sadd("s:tags", "a", "b", "c", "a") == 3 and r.sismember("s:tags", "b"), "SADD and SISMEMBER")
    check(r.smembers("s:tags") == {b"a", b"b", b"c"}, "SMEMBERS")
    r.zadd("z:board", {"x": 3, "y": 1, "z": 2})
    check(r.zincrby("z:board", 10, "y") == 11.0, "ZINCRBY")
    check(r.zrange("z:board", 0, -1, withscores=True) == [(b"z", 2.0), (b"x", 3.0), (b"y", 11.0)],
          "ZRANGE WITHSCORES")

    # One hash tag: every key lands on one shard, so multi-key commands on them are allowed.
    r.sadd("{team}:a", 1, 2, 3)
    r.sadd("{team}:b", 2, 3, 4)
    check(r.sinter("{team}:a", "{team}:b") == {b"2", b"3"}, "SINTER over keys of one hash tag")
    check(r.sunionstore("{team}:all", "{team}:a", "{team}:b") == 4, "SUNIONSTORE over one hash tag")
    r.rpush("{team}:jobs", "j1", "j2")
    check(r.lmove("{team}:jobs", "{team}:done", "LEFT", "RIGHT") == b"j1", "LMOVE within one hash tag")

    try:
        r.incr("h:user")
        check(False, "INCR of a hash fails")
    except redis.ResponseError as e:
        check(str(e) == "WRONGTYPE Operation against a key holding the wrong kind of value",
              "a shard's WRONGTYPE error is forwarded as it was sent")


def scripting(r, cluster):
    script = ("redis.call('SET', KEYS[1], ARGV[1]) "
              "return {redis.call('INCR', KEYS[2]), redis.call('GET', KEYS[1])}")
    check(r.eval(script, 2, "{job:7}:state", "{job:7}:runs", "running") == [1, b"running"],
          "EVAL with two keys of one hash tag")
    # twemproxy refuses SCRIPT LOAD (it has no key to route by), so scripts are loaded on every
    # shard directly; until then EVALSHA gets the shard's NOSCRIPT error.
    body = "return redis.call('GET', KEYS[1])"
    try:
        r.evalsha("a42059b356c875f0717db19a51f6aaca9ae659ea", 1, "{job:7}:state")
        check(False, "EVALSHA of an unknown script fails")
    except redis.exceptions.NoScriptError as e:
        check(str(e) == "No matching script. Please use EVAL.",
              "EVALSHA of an unloaded script gets the shard's NOSCRIPT error")
    shas = {client(s.port).script_load(body) for s in cluster.shards}
    check(len(shas) == 1, "SCRIPT LOAD on each shard gives one SHA1")
    check(r.evalsha(shas.pop(), 1, "{job:7}:state") == b"running", "EVALSHA through the proxy")


def shard_contents(shards):
    """{shard index: {key: value}} for the string keys written by `strings`, read directly."""
    out = {}
    for i, s in enumerate(shards):
        d = client(s.port)
        names = [k for k in d.scan_iter(match="key:*", count=1000)]
        values = d.mget(names) if names else []
        out[i] = dict(zip(names, values))
    return out


def spread(cluster):
    contents = shard_contents(cluster.shards)
    sizes = [len(c) for c in contents.values()]
    check(all(n > KEYS // 10 for n in sizes), f"keys spread over all three shards {sizes}")
    merged = {}
    for c in contents.values():
        merged.update(c)
    check(len(merged) == sum(sizes), "no key is on two shards")
    expect = {f"key:{i}".encode(): f"value:{i}".encode() for i in range(KEYS)}
    check(merged == expect, f"every one of the {KEYS} values reads back from its shard directly")

    tagged = [i for i, s in enumerate(cluster.shards)
              if client(s.port).exists("{team}:a", "{team}:b", "{team}:all", "{team}:done") == 4]
    check(len(tagged) == 1, f"the hash-tagged keys all live on one shard (shard{tagged[0]})")
    return contents


def eject_and_restart(r, cluster, contents):
    victim = 1
    shard = cluster.shards[victim]
    lost = contents[victim]
    live = {k: v for i, c in contents.items() if i != victim for k, v in c.items()}
    # No wait for the once-a-second fsync: a server stopped with SIGTERM flushes its AOF first.
    shard.stop()
    print(f"  --  stopped shard{victim} (port {shard.port}) with SIGTERM")

    # The first request routed to the dead shard fails and ejects it; after that the ring has
    # two shards and the keys that were on them are where they were (ketama).
    deadline = time.time() + 10
    while True:
        try:
            got = dict(zip(live, r.mget(list(live))))
            break
        except redis.RedisError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    check(got == live, f"with shard{victim} ejected, all {len(live)} keys of the live shards read back "
                       "through the proxy")

    shard.start()
    d = client(shard.port)
    back = dict(zip(lost, d.mget(list(lost))))
    check(back == lost, f"shard{victim} restarted on its AOF has its {len(lost)} keys")

    # Once the retry timeout passes, nutcracker puts the shard back in the ring.
    deadline = time.time() + RETRY_MS / 1000 * 5 + 10
    while True:
        try:
            via = dict(zip(lost, r.mget(list(lost))))
            if via == lost:
                break
        except redis.RedisError:
            pass
        if time.time() > deadline:
            raise AssertionError(f"shard{victim}'s keys are not readable through the proxy again")
        time.sleep(0.5)
    check(True, f"after the retry timeout the proxy serves shard{victim}'s keys again")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", help="the ferrokv binary")
    ap.add_argument("--server", choices=["ferrokv", "redis"], default="ferrokv")
    opts = ap.parse_args()
    if opts.server == "ferrokv" and not opts.binary:
        sys.exit("usage: twemproxy_e2e.py PATH/TO/ferrokv  |  --server redis")
    with Cluster(opts.server, opts.binary, password=PASSWORD) as cluster:
        print(f"{opts.server} shards on {[s.port for s in cluster.shards]}, nutcracker on {cluster.port}")
        r = client(cluster.port)
        strings(r)
        collections(r)
        scripting(r, cluster)
        contents = spread(cluster)
        eject_and_restart(r, cluster, contents)
    print("twemproxy e2e: all checks passed")


if __name__ == "__main__":
    main()
