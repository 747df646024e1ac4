#!/usr/bin/env bash
# Events/s with acks, measured side by side in one run (server on core 0, client on core 1):
#   swift-only   PalisadeTestServer: a Swift handler, allow-all policy, no Lua
#   lua-handler  palisade serve with one module that admits everyone and acks (no policy chain)
#   stock        palisade serve with the stock policies and plugins (JWT auth, validate, rate limit)
# Needs release builds of palisade and PalisadeTestServer, node and Debian's node-ws.
set -euo pipefail
cd "$(dirname "$0")/.."
C=${C:-50} W=${W:-20} D=${D:-10}
export NODE_PATH=/usr/share/nodejs
data=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$data"' EXIT

wait_port() { for _ in $(seq 100); do curl -s "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.1; done; echo "server on $1 did not start" >&2; exit 1; }
load() { taskset -c 1 node benchmarks/event-load.js "$@" "$C" "$W" "$D"; }

taskset -c 0 .build/release/PalisadeTestServer --port 18101 >/dev/null 2>&1 &
wait_port 18101
echo "swift-only: $(load ws://127.0.0.1:18101 message-with-ack '{}')"
kill $! ; wait $! 2>/dev/null || true

PALISADE_LOG_LEVEL=error taskset -c 0 .build/release/palisade serve --port 18102 --policies benchmarks/lua-handler-only \
  --plugins "$data/none" --data-dir "$data/a" 2>/dev/null &
wait_port 18102
echo "lua-handler: $(load ws://127.0.0.1:18102 hb '{}')"
kill $! ; wait $! 2>/dev/null || true

export PALISADE_JWT_SECRET=bench-secret-bench-secret-bench-secret
# Rate limits raised so the benchmark measures the chain, not the refusals.
printf 'policy:\n  ratelimit:\n    events: {limit: 100000000, ip_limit: 100000000, window_s: 10}\n' > "$data/bench.yaml"
PALISADE_LOG_LEVEL=error taskset -c 0 .build/release/palisade serve --port 18103 --policies policies --plugins plugins \
  --data-dir "$data/b" --config "$data/bench.yaml" 2>/dev/null &
wait_port 18103
token=$(.build/release/palisade token --sub bench-user --data-dir "$data/b")
echo "stock: $(TOKEN=$token load ws://127.0.0.1:18103 heartbeat '{}')"
