#!/usr/bin/env bash
# Load N small keys into a fresh ferrokv and compare the growth of INFO used_memory with the
# growth of the process's resident memory. Usage: scripts/memcheck.sh [N] [binary]
set -euo pipefail
n=${1:-1000000}
bin=${2:-target/release/ferrokv}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" --port "$port" --loglevel warning &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done
used() { redis-cli -p "$port" info memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r'; }
rss() { awk '/VmRSS/ {print $2 * 1024}' "/proc/$pid/status"; }
u0=$(used); r0=$(rss)
python3 - "$n" <<'PY' | redis-cli -p "$port" --pipe >/dev/null
import sys
out = sys.stdout.buffer
for i in range(int(sys.argv[1])):
    k = b"key:%d" % i
    v = b"val:%d" % i
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
PY
u1=$(used); r1=$(rss)
python3 -c "
du, dr = $u1 - $u0, $r1 - $r0
print(f'keys: $n  used_memory growth: {du}  RSS growth: {dr}  accounted/real: {du / dr:.3f}')"
