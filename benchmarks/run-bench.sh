#!/usr/bin/env bash
# The figures of BENCHMARKS.md, measured side by side in one run (`make bench`).
#
# Three servers, each pinned to core 0 with one event loop, driven by palisade-bench pinned
# to core 1: the python-socketio + uvicorn peer (benchmarks/python-peer), Palisade with the
# empty policy set (benchmarks/policies-minimal) and Palisade with the stock policies and
# plugins. Both Palisade runs add benchmarks/plugins (echo, join, broadcast, as the peer has).
# Every palisade-bench result goes to benchmarks/results/<time>.jsonl as `label<TAB>json`;
# benchmarks/report.py turns the file into the tables of BENCHMARKS.md.
#
# Sizes can be changed from the environment (BENCH_CONNECTIONS, BENCH_DURATION, …).
set -euo pipefail
cd "$(dirname "$0")/.."

source benchmarks/bench-common.sh
CONNECTIONS=${BENCH_CONNECTIONS:-10000}
DURATION=${BENCH_DURATION:-8}
JOIN_UPDATES_RATE=${BENCH_JOIN_RATE:-2000}     # updates/s offered while building the big document
JOIN_SECONDS=${BENCH_JOIN_SECONDS:-50}          # ~100 000 updates at 2 000/s
SERVERS=${BENCH_SERVERS:-"peer empty stock"}
ROUNDS=${BENCH_ROUNDS:-3}                       # interleaved connect + echo rounds (see the end)
SERVER_CORE=0
CLIENT_CORE=1

mkdir -p benchmarks/results
OUT=benchmarks/results/$(date -u +%Y%m%dT%H%M%SZ).jsonl
WORK=$(mktemp -d /tmp/palisade-bench.XXXXXX)
trap 'stop_server; rm -rf "$WORK"' EXIT

ensure_peer_venv
write_tokens "$WORK/tokens.txt"

mkdir -p "$WORK/stock-plugins"
cp plugins/*.lua benchmarks/plugins/*.lua "$WORK/stock-plugins/"

SERVER_PID=
PORT=18300

start_server() { # name
    PORT=$((PORT + 1))
    local log="$WORK/$1.log"
    case $1 in
        peer)
            PALISADE_JWT_SECRET=$SECRET taskset -c $SERVER_CORE "$PEER_VENV/bin/python" benchmarks/python-peer/server.py \
                --port $PORT >"$log" 2>&1 &
            ;;
        empty)
            $NO_CAPS PALISADE_JWT_SECRET=$SECRET PALISADE_LOG_LEVEL=error PALISADE_SERVER_THREADS=1 taskset -c $SERVER_CORE \
                $BIN/palisade serve --port $PORT --policies benchmarks/policies-minimal --plugins benchmarks/plugins \
                --data-dir "$WORK/data-empty-$PORT" >"$log" 2>&1 &
            ;;
        stock)
            $NO_CAPS PALISADE_JWT_SECRET=$SECRET PALISADE_LOG_LEVEL=error PALISADE_SERVER_THREADS=1 taskset -c $SERVER_CORE \
                $BIN/palisade serve --port $PORT --policies policies --plugins "$WORK/stock-plugins" \
                --config benchmarks/bench-config.json --data-dir "$WORK/data-stock-$PORT" >"$log" 2>&1 &
            ;;
    esac
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null "http://127.0.0.1:$PORT/ws/socket.io/?EIO=4&transport=polling"; then return 0; fi
        sleep 0.1
    done
    echo "server $1 did not start:" >&2
    cat "$log" >&2
    exit 1
}

stop_server() {
    if [ -n "${SERVER_PID:-}" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}

# Echo runs on a fresh server after a connect run: the python peer can take longer to close
# 10 000 connections than a handshake may wait, and the echo run would find no connection open.
restart_server() { # name
    stop_server
    start_server "$1"
}

bench() { # label mode args…
    local label=$1
    shift
    local line
    line=$(taskset -c $CLIENT_CORE $BIN/palisade-bench "$@" --url "http://127.0.0.1:$PORT/ws/socket.io/" \
        --token-file "$WORK/tokens.txt" --server-pid "$SERVER_PID")
    printf '%s\t%s\n' "$label" "$line" >>"$OUT"
}

for server in $SERVERS; do
    echo "== $server" >&2
    start_server "$server"
    bench "$server connect" connect --connections "$CONNECTIONS" --hold 5
    restart_server "$server"
    bench "$server echo" echo --connections 50 --inflight 20 --duration "$DURATION"
    bench "$server echo-more-work" echo --connections 100 --inflight 40 --duration "$DURATION"
    bench "$server fanout" fanout --rooms 10 --members 50 --rate 1000 --duration "$DURATION"
    bench "$server yjs-10" yjs --editors 10 --documents 1 --rate 1000 --duration "$DURATION"
    bench "$server yjs-100" yjs --editors 100 --documents 1 --rate 10 --duration "$DURATION"
    # A document of ~100 000 one-character updates, then the time one join takes (a holder
    # stays joined meanwhile: the peer, like Open WebUI, drops a document nobody edits).
    taskset -c $CLIENT_CORE $PYTHON benchmarks/yjs-join-time.py "http://127.0.0.1:$PORT/ws/socket.io/" \
        "$(tail -1 "$WORK/tokens.txt")" "bench:7-0" --hold $((JOIN_SECONDS + 30)) &
    holder=$!
    sleep 1
    bench "$server yjs-build" yjs --editors 10 --documents 1 --rate $((JOIN_UPDATES_RATE / 10)) \
        --duration "$JOIN_SECONDS" --warmup 0 --run-id 7
    join=$(taskset -c $CLIENT_CORE $PYTHON benchmarks/yjs-join-time.py "http://127.0.0.1:$PORT/ws/socket.io/" \
        "$(head -1 "$WORK/tokens.txt")" "bench:7-0")
    printf '%s\t%s\n' "$server yjs-join" "$join" >>"$OUT"
    kill $holder 2>/dev/null || true
    wait $holder 2>/dev/null || true
    stop_server
done

# The headline ratios again, in interleaved rounds: each round runs connect and echo on every
# server in turn, so a burst of load on this shared host hits all three about alike. The
# report takes each server's median over the rounds for the targets.
for round in $(seq 1 "$ROUNDS"); do
    for server in $SERVERS; do
        echo "== round $round: $server" >&2
        start_server "$server"
        bench "$server connect-round-$round" connect --connections "$CONNECTIONS" --hold 1
        restart_server "$server"
        bench "$server echo-round-$round" echo --connections 50 --inflight 20 --duration "$DURATION"
        stop_server
    done
done

# The server's instructions per echo event under callgrind, empty and stock: the policies' cost
# in a figure that the host's other load barely moves, unlike wall-clock figures. A failure
# here is reported and leaves the rest of the run's report intact.
if command -v valgrind >/dev/null; then
    echo "== instructions per echo event (callgrind)" >&2
    benchmarks/server-instructions.sh | while IFS= read -r line; do
        case $line in
            '{'*) printf '%s instructions\t%s\n' "$(echo "$line" | grep -o '"set":"[a-z]*"' | cut -d'"' -f4)" "$line" >>"$OUT" ;;
            *) echo "$line" >&2 ;;
        esac
    done || echo "instruction count failed: the report goes without it" >&2
fi

echo "results: $OUT" >&2
$PYTHON benchmarks/report.py "$OUT"
