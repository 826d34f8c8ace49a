# ferrokv tasks. `just test` is what CI runs.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Serve on 127.0.0.1:6379 (pass options through: just run --port 7000).
run *ARGS:
    cargo run --release -- {{ARGS}}

# The whole conformance suite: format, lint, every cargo test, the Python smoke, spec-oracle.
test: fmt-check lint
    cargo test
    just smoke
    just metrics-e2e
    just redis-py-e2e
    just e2e-twemproxy
    just celery-e2e
    just rq-e2e
    just bullmq-e2e
    just spec-oracle

fmt:
    cargo fmt --all

fmt-check:
    cargo fmt --all -- --check

lint:
    cargo clippy --all-targets -- -D warnings

# Replay every spec scenario against a real redis-server and fail on any difference from
# the committed snapshots (ferrokv-only scenarios are left out and counted).
spec-oracle:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v redis-server >/dev/null; then
        echo "SKIPPED spec-oracle: redis-server not installed"
        exit 0
    fi
    echo "spec-oracle against $(redis-server --version)"
    SPEC_TARGET=redis INSTA_UPDATE=no cargo test --test spec -- --nocapture

# The original project's Python client against a fresh server.
smoke:
    cargo build
    scripts/smoke.sh target/debug/ferrokv

# /metrics through a strict OpenMetrics parser, a real Prometheus scrape, and
# prometheus-redis-exporter over the Redis protocol (tools not installed are reported SKIPPED).
metrics-e2e:
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build
    py=python3
    if ! python3 -c 'import prometheus_client' 2>/dev/null; then
        if [ ! -x target/py/bin/python ]; then
            python3 -m venv target/py && target/py/bin/pip install -q prometheus_client || true
        fi
        if [ -x target/py/bin/python ]; then py=target/py/bin/python; fi
    fi
    "$py" scripts/metrics_e2e.py target/debug/ferrokv

# Transactions (pipelines with MULTI/EXEC, WATCH retry loops from 8 threads), redis-py's Lock, a pub/sub listener
# thread and keyspace notifications through redis-py speaking RESP3. Extra options go to the
# script: `just redis-py-e2e --server redis` runs the same checks against a real redis-server.
redis-py-e2e *ARGS:
    cargo build
    "$(just py-redis)" scripts/redis_py_e2e.py "${CARGO_TARGET_DIR:-target}/debug/ferrokv" {{ARGS}}

# Prints a Python that has redis-py 5 or newer, made in target/py-redis when the system lacks one.
[private]
py-redis:
    #!/usr/bin/env bash
    set -euo pipefail
    if python3 -c 'import sys, redis; sys.exit(int(redis.__version__.split(".")[0]) < 5)' 2>/dev/null; then
        echo python3
        exit 0
    fi
    if ! target/py-redis/bin/python -c 'import redis' 2>/dev/null; then
        python3 -m venv target/py-redis >&2 && target/py-redis/bin/pip install -q 'redis>=5' >&2
    fi
    echo target/py-redis/bin/python

# A Celery worker with ferrokv as broker and result backend: a chord, a group, a retrying
# task and a failing one (Celery and redis-py in target/py-celery). `--server redis` for the
# same against redis-server.
celery-e2e *ARGS:
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build
    if ! target/py-celery/bin/python -c 'import celery, redis' 2>/dev/null; then
        python3 -m venv target/py-celery && target/py-celery/bin/pip install -q 'celery[redis]>=5.3'
    fi
    target/py-celery/bin/python scripts/celery_e2e.py "${CARGO_TARGET_DIR:-target}/debug/ferrokv" {{ARGS}}

# An RQ worker (SimpleWorker) against ferrokv: a job's result through the result stream
# (XADD/XREAD/XREVRANGE), a dependent job, a failing job and a retried one (RQ and redis-py
# in target/py-rq). `--server redis` for the same against redis-server.
rq-e2e *ARGS:
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build
    if ! target/py-rq/bin/python -c 'import rq, redis' 2>/dev/null; then
        python3 -m venv target/py-rq && target/py-rq/bin/pip install -q 'rq>=1.12'
    fi
    target/py-rq/bin/python scripts/rq_e2e.py "${CARGO_TARGET_DIR:-target}/debug/ferrokv" {{ARGS}}

# BullMQ, the Node.js job queue, against ferrokv: jobs, retries, delays, priorities, a flow,
# QueueEvents, the rate limiter, a job scheduler, pause/resume and clean (BullMQ pinned by
# scripts/bullmq_app/package-lock.json, installed in target/bullmq). `redis` instead of a path
# runs the same against redis-server. Reported SKIPPED where Node.js is not installed.
bullmq-e2e *ARGS:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        echo "SKIPPED bullmq-e2e: node and npm not installed"
        exit 0
    fi
    cargo build
    app=target/bullmq
    if ! cmp -s scripts/bullmq_app/package-lock.json "$app/package-lock.json" || [ ! -d "$app/node_modules/bullmq" ]; then
        mkdir -p "$app"
        cp scripts/bullmq_app/package.json scripts/bullmq_app/package-lock.json "$app/"
        (cd "$app" && npm ci --no-audit --no-fund --loglevel=error)
    fi
    NODE_PATH="$app/node_modules" node scripts/bullmq_app/e2e.js {{ if ARGS == "" { "${CARGO_TARGET_DIR:-target}/debug/ferrokv" } else { ARGS } }}

# Installs nutcracker (twemproxy) when it is missing and prints its path.
[private]
nutcracker:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v nutcracker >/dev/null && [ ! -x /usr/sbin/nutcracker ]; then
        sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
        DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nutcracker >/dev/null
    fi
    command -v nutcracker || echo /usr/sbin/nutcracker

# Three ferrokv shards (with AOFs and a password) behind twemproxy: strings, collections,
# hash tags and scripts through the proxy, the spread checked on each shard, then one shard
# stopped (ejected) and restarted on its AOF. `--server redis` runs it on redis-server shards.
e2e-twemproxy *ARGS:
    just nutcracker >/dev/null
    cargo build
    "$(just py-redis)" scripts/twemproxy_e2e.py "${CARGO_TARGET_DIR:-target}/debug/ferrokv" {{ARGS}}

# Three ferrokv shards behind nutcracker on free ports, for trying with `redis-cli -p PORT`.
cluster-demo:
    just nutcracker >/dev/null
    cargo build --release
    python3 scripts/cluster.py demo "${CARGO_TARGET_DIR:-target}/release/ferrokv"

# User-space instructions per request (valgrind callgrind), ferrokv against redis-server:
# repeatable where CPU time on a shared machine is not.
bench-instr *ARGS:
    cargo build --release
    python3 scripts/bench_instr.py {{ARGS}}

# SET throughput with the AOF on (always, everysec) and AOF restart time, against redis-server.
bench-aof *ARGS:
    cargo build --release
    python3 scripts/bench_aof.py {{ARGS}}

# Hit ratio and resident memory of a bounded cache (Zipf reads), against redis-server.
bench-evict *ARGS:
    cargo build --release
    python3 scripts/bench_evict.py {{ARGS}}

# Random command sequences against ferrokv and redis-server, replies compared byte for byte
# (HELP texts differ on purpose: ferrokv lists only the subcommands it implements).
difftest SEEDS="5" N="3000":
    cargo build --release
    for s in $(seq 1 {{SEEDS}}); do python3 scripts/difftest.py --ferrokv target/release/ferrokv --seed $s --commands {{N}} --quiet --skip 'HELP'; done

# Resident memory of 1M-element collections and 1M small hashes against redis-server.
bench-mem *ARGS:
    cargo build --release
    python3 scripts/bench_mem.py {{ARGS}}

# Load a million small keys and compare INFO used_memory growth with RSS growth.
memcheck N="1000000":
    cargo build --release
    scripts/memcheck.sh {{N}}

# Fuzz the RESP parser (nightly when rustup has it, else stable with RUSTC_BOOTSTRAP=1).
fuzz SECONDS="60":
    #!/usr/bin/env bash
    set -euo pipefail
    command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
    cd fuzz
    # New inputs go to a scratch folder; corpus/ holds only the committed seeds.
    mkdir -p target/corpus/resp_parser
    if rustup toolchain list 2>/dev/null | grep -q nightly; then
        cargo +nightly fuzz run resp_parser target/corpus/resp_parser corpus/resp_parser -- -max_total_time={{SECONDS}}
    else
        RUSTC_BOOTSTRAP=1 cargo fuzz run resp_parser target/corpus/resp_parser corpus/resp_parser -- -max_total_time={{SECONDS}}
    fi

# Throughput and CPU per operation against redis-server, interleaved (see scripts/bench.py;
# `just bench --suite collections` for the list, set, hash, sorted-set and BRPOP rows;
# `just bench --suite pubsub` for MULTI/EXEC, PUBLISH to 1 and 100 draining subscribers and
# PUBLISH latency beside 10k pattern subscriptions, driven by examples/loadgen.rs).
bench *ARGS:
    cargo build --release
    python3 scripts/bench.py {{ARGS}}

# redis-benchmark SET/GET (-P 1 and 16) through nutcracker: three ferrokv shards against three
# redis-server shards, alternating in one run.
bench-twemproxy *ARGS:
    just nutcracker >/dev/null
    cargo build --release
    python3 scripts/bench_twemproxy.py {{ARGS}}
