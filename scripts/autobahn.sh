#!/usr/bin/env bash
# Runs the Autobahn Testsuite's fuzzingclient (cases 1-10: 12 and 13 test permessage-deflate,
# which Palisade does not offer) against PalisadeTestServer's raw echo route /autobahn, which goes
# through the product's WebSocket handling; then writes the counts by outcome into AUTOBAHN.md.
# Needs .build/debug/PalisadeTestServer and scripts/install-autobahn.sh's .autobahn/venv.
# Fails unless every case is OK, NON-STRICT or INFORMATIONAL. The full reports stay in .autobahn/reports.
set -euo pipefail
cd "$(dirname "$0")/.."

run=.autobahn/run
rm -rf "$run" .autobahn/reports
mkdir -p "$run"
# 9.1.6 and 9.2.6 send 16 MiB messages: the limit is raised above them for this run.
.build/debug/PalisadeTestServer --port 0 --max-payload 20000000 --log-level error >"$run/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q '^listening on' "$run/server.log" && break
  sleep 0.1
done
address=$(sed -n 's/^listening on //p' "$run/server.log")
[[ -n $address ]] || { cat "$run/server.log"; exit 1; }

cat >"$run/fuzzingclient.json" <<JSON
{
  "outdir": "$PWD/.autobahn/reports",
  "servers": [{"agent": "Palisade", "url": "ws://$address/autobahn"}],
  "cases": ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "8.*", "9.*", "10.*"],
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
JSON
# shellcheck disable=SC1091
. .autobahn/env
(cd "$run" && ../venv/bin/wstest -m fuzzingclient -s fuzzingclient.json >wstest.log 2>&1)
python3 scripts/autobahn-summary.py .autobahn/reports/index.json AUTOBAHN.md
