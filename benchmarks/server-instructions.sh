#!/usr/bin/env bash
# The server's instructions per echo event, counted by callgrind: Palisade with the empty policy
# set and with the stock policies. Unlike wall-clock figures on a shared host, these repeat
# closely from run to run (BENCHMARKS.md says how closely).
# Each set is served twice (palisade-serverbench under callgrind) and driven by palisade-bench echo
# for a short and a long time; the difference of the two runs' instructions over the difference
# of their events leaves out start-up, connecting and shutting down. One connection with one event
# in flight, so every event is read, decided and answered on its own (with more in flight, how
# many events one read brings depends on timing and moves the figure), and Swift's hashing is
# made deterministic (its per-process seed changes how long table probes take). The client
# counts every event it sends (no warm-up): events served but not counted, as many as the
# speed of the moment allows, would not cancel between the two runs.
#
#   benchmarks/server-instructions.sh [SHORT_S LONG_S]     (defaults 5 and 20; run from the repository root)
#   WORKLOAD=connect benchmarks/server-instructions.sh [FEW MANY]
#       instructions per connect + authenticate instead (defaults 100 and 600 connections, 10
#       handshakes in flight, served for 40 s); not part of make bench.
#
# Needs the release builds of palisade (for tokens), palisade-bench and palisade-serverbench, and valgrind.
set -euo pipefail
SHORT=${1:-5}
LONG=${2:-20}
SECRET=bench-secret-0123456789abcdef0123456789abcdef
WORK=$(mktemp -d /tmp/palisade-instr.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
for i in $(seq 1 10); do PALISADE_JWT_SECRET=$SECRET .build/release/palisade token --sub "u$i" --ttl 86400; done > "$WORK/tokens.txt"
# valgrind cannot read Swift 6.3's debug info; a copy without it runs.
cp .build/release/palisade-serverbench "$WORK/server" && strip --strip-debug "$WORK/server"

WORKLOAD=${WORKLOAD:-echo}
[ "$WORKLOAD" = connect ] && { SHORT=${1:-100}; LONG=${2:-600}; }

# run SET SIZE (seconds of echo, or connections) → "instructions events"
run() {
    local set=$1 size=$2 port=$((20000 + RANDOM % 2000)) serve_s
    serve_s=$([ "$WORKLOAD" = connect ] && echo 40 || echo $((size + 6)))
    PALISADE_JWT_SECRET=$SECRET SWIFT_DETERMINISTIC_HASHING=1 valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" \
        "$WORK/server" "$port" "$serve_s" "$set" > "$WORK/server.log" 2> "$WORK/valgrind.log" &
    local pid=$!
    for _ in $(seq 1 300); do grep -q listening "$WORK/server.log" 2>/dev/null && break; sleep 0.2; done
    local url="http://127.0.0.1:$port/ws/socket.io/"
    if [ "$WORKLOAD" = connect ]; then
        .build/release/palisade-bench connect --connections "$size" --concurrency 10 --hold 0 \
            --url "$url" --token-file "$WORK/tokens.txt" > "$WORK/bench.out" 2>&1
    else
        .build/release/palisade-bench echo --connections 1 --inflight 1 --duration "$size" --warmup 0 \
            --url "$url" --token-file "$WORK/tokens.txt" > "$WORK/bench.out" 2>&1
    fi
    wait "$pid"
    local instructions events
    instructions=$(grep -o 'Collected : [0-9]*' "$WORK/valgrind.log" | awk '{print $3}')
    if [ "$WORKLOAD" = connect ]; then
        events=$(grep -o '"connected":[0-9]*' "$WORK/bench.out" | head -1 | cut -d: -f2)
    else
        events=$(grep -o '"events":[0-9]*' "$WORK/bench.out" | head -1 | cut -d: -f2)
    fi
    echo "$instructions $events"
}

declare -A per_event
for set in empty stock; do
    read -r i1 e1 < <(run "$set" "$SHORT")
    read -r i2 e2 < <(run "$set" "$LONG")
    per_event[$set]=$(( (i2 - i1) / (e2 - e1) ))
    echo "{\"bench\":\"server_instructions_per_${WORKLOAD}_event\",\"set\":\"$set\",\"events\":[$e1,$e2],\"instructions\":[$i1,$i2],\"per_event\":${per_event[$set]}}"
done
awk -v e="${per_event[empty]}" -v s="${per_event[stock]}" \
    -v w="$WORKLOAD" 'BEGIN { printf "server instructions per %s: empty %d, stock %d; stock costs %.1f %% of its throughput (1 - empty/stock)\n", (w == "connect" ? "connect" : "echo event"), e, s, 100 * (1 - e / s) }'
