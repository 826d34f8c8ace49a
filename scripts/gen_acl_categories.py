"""Regenerate `src/engine/acl/categories.txt`: every command's ACL categories as Redis 7.0
reports them in `COMMAND` (one line per command or subcommand: its full name, then its
categories). Run against a redis-server 7.0 on PORT:

    target/py-redis/bin/python scripts/gen_acl_categories.py PORT > src/engine/acl/categories.txt
"""
import sys

import redis

r = redis.Redis(port=int(sys.argv[1]), decode_responses=True)
r.response_callbacks.pop("COMMAND", None)
lines = []


def walk(info):
    cats = sorted(c.lstrip("@") for c in info[6])
    lines.append(" ".join([info[0].lower()] + cats))
    for sub in info[9]:
        walk(sub)


for info in r.execute_command("COMMAND"):
    walk(info)
print("\n".join(sorted(lines)))
