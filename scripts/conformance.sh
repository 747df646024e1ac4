#!/usr/bin/env bash
# Runs the official Engine.IO and Socket.IO conformance suites against PalisadeTestServer (local only).
# Usage: scripts/conformance.sh [DIR] [--no-server]
#   DIR (default $CONFORMANCE_DIR, else ../conformance beside the repo) holds copies of the
#   test-suite/ folders: DIR/engine.io-protocol/test-suite and DIR/socket.io-protocol/test-suite.
#   --no-server: use a server already listening on localhost:3000 instead of starting one.
#   TEST_SERVER=PATH runs another binary instead of .build/debug/PalisadeTestServer.
set -euo pipefail

start_server=1 dir=${CONFORMANCE_DIR:-}
for arg in "$@"; do
  case "$arg" in
    --no-server) start_server=0 ;;
    -*) echo "usage: $0 [DIR] [--no-server]" >&2; exit 2 ;;
    *) dir=$arg ;;
  esac
done
[[ -n $dir ]] && dir=$(realpath -m "$dir")
cd "$(dirname "$0")/.."
dir=${dir:-$(realpath -m ../conformance)}
server=${TEST_SERVER:-.build/debug/PalisadeTestServer}
suites=(engine.io-protocol socket.io-protocol)
expected=(24 32)

for s in "${suites[@]}"; do
  if [[ ! -f $dir/$s/test-suite/test-suite.js ]]; then
    echo "missing $dir/$s/test-suite. The suites are not part of this repo; get them with:" >&2
    echo "  git clone https://github.com/socketio/$s /tmp/$s && mkdir -p $dir/$s && cp -r /tmp/$s/test-suite $dir/$s/" >&2
    echo "(for both socketio/engine.io-protocol and socketio/socket.io-protocol), or set CONFORMANCE_DIR." >&2
    exit 1
  fi
done
if ! command -v mocha >/dev/null || [[ ! -d /usr/share/nodejs/chai || ! -d /usr/share/nodejs/ws ]]; then
  echo "mocha, chai and ws are missing: run scripts/install-deps.sh --conformance" >&2
  exit 1
fi
if ((start_server)) && [[ ! -x $server ]]; then
  echo "$server not built: run swift build --product PalisadeTestServer" >&2
  exit 1
fi

scratch=$(mktemp -d)
server_pid=
cleanup() {
  local rc=$?
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
  exit "$rc"
}
trap cleanup EXIT

# The suites' own node-imports.js needs npm packages; this shim loads Debian's chai and ws
# through a CommonJS require (which honours NODE_PATH) and stands in for chai-string.
for s in "${suites[@]}"; do
  cp -r "$dir/$s/test-suite" "$scratch/$s"
  cat > "$scratch/$s/node-imports.js" <<'JS'
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const chai = require("chai");
const { WebSocket } = require("ws");

// chai-string's startsWith, the only assertion the suites use from it.
chai.use((chai) => {
  chai.Assertion.addMethod("startsWith", function (prefix) {
    const s = this._obj;
    this.assert(typeof s === "string" && s.startsWith(prefix),
      "expected #{this} to start with #{exp}", "expected #{this} not to start with #{exp}", prefix);
  });
});

globalThis.WebSocket = WebSocket;
globalThis.chai = chai;
JS
done

if ((start_server)); then
  log=$scratch/server.log
  "$server" --port 3000 --ping-interval 300 --ping-timeout 200 --max-payload 1000000 \
    --connect-timeout 1000 >"$log" 2>&1 &
  server_pid=$!
  for ((i = 0; i < 300; i++)); do
    grep -q 'listening on 127.0.0.1:3000' "$log" && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "test server exited before listening:" >&2; cat "$log" >&2; server_pid=; exit 1
    fi
    sleep 0.1
  done
  grep -q 'listening on 127.0.0.1:3000' "$log" || { echo "test server not listening after 30 s:" >&2; cat "$log" >&2; exit 1; }
fi

summary=() ok=1
for i in "${!suites[@]}"; do
  s=${suites[$i]}
  echo "=== $s"
  (cd "$scratch/$s" && NODE_PATH=/usr/share/nodejs mocha --exit test-suite.js) 2>&1 | tee "$scratch/$s.out" || true
  passing=$(grep -Eo '[0-9]+ passing' "$scratch/$s.out" | grep -Eo '[0-9]+' || echo 0)
  failing=$(grep -Eo '[0-9]+ failing' "$scratch/$s.out" | grep -Eo '[0-9]+' || echo 0)
  summary+=("$s: $passing passing, $failing failing (expected ${expected[$i]} passing)")
  [[ $passing -ge ${expected[$i]} && $failing -eq 0 ]] || ok=0
done

((start_server)) && [[ -s $log ]] && { echo "=== server log (last 20 lines)"; tail -n 20 "$log"; }
echo "=== conformance summary"
printf '%s\n' "${summary[@]}"
((ok))
