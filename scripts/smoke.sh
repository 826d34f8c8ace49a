#!/usr/bin/env bash
# Start ferrokv on a free loopback port, run examples/test_client.py against it, stop it.
set -euo pipefail
bin=${1:-target/debug/ferrokv}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" --port "$port" --loglevel warning &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port)).close()" 2>/dev/null && break
    sleep 0.05
done
python3 examples/test_client.py --port "$port"
echo "smoke: ok"
