#!/usr/bin/env bash
# Two instances on one Redis: cross-instance room fanout, side by side in one run
# (`make bench-redis`; `make bench` runs it after benchmarks/run-bench.sh).
#
# Each stack is two server processes on one redis-server that this script starts on a free
# port, both pinned to core 0 (one event loop each); Redis and palisade-bench share core 1.
#   peer      two python-socketio + uvicorn peers (benchmarks/python-peer) with python-socketio's
#             stock AsyncRedisManager (PEER_REDIS_URL): every emit goes out on the `socketio` channel
#   empty     two `palisade serve` with the empty policy set and benchmarks/plugins, with
#             WEBSOCKET_REDIS_ROOM_CHANNELS=false: the same wire as the peers (one channel)
#   empty-rc  the same with room channels on (Open WebUI 0.12.4's default: a channel per room)
# palisade-bench fanout: ROOMS rooms × MEMBERS members; member 0 of each room (the sender) and the
# other even members connect to instance A, the odd members to instance B. The sender's
# `broadcast` event makes the server emit to the room (sender skipped), so every event is
# relayed through Redis to B: B's deliveries (`second_*`) all crossed between the instances.
# The payload carries the send time; receivers take the latency from it.
# Over the measured window the client also reads both servers' and Redis's CPU and Redis's
# INFO counters (commands by name, bytes in and out), divided by the events sent.
#
# Two loads per stack, each on a fresh pair of servers: `light` (RATE_LIGHT events/s per room,
# which every stack carries: latency at equal load) and `full` (RATE_FULL per room, more than
# any stack carries: deliveries/s at saturation). ROUNDS rounds, each running every stack in
# turn, so a burst of load from the host's other tenants hits them about alike.
# Results: benchmarks/results/redis-<time>.jsonl (`label<TAB>json`), then
# benchmarks/redis-report.py prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."

source benchmarks/bench-common.sh
ROOMS=${BENCH_REDIS_ROOMS:-10}
MEMBERS=${BENCH_REDIS_MEMBERS:-50}
RATE_LIGHT=${BENCH_REDIS_RATE_LIGHT:-10}    # events/s per room's sender
RATE_FULL=${BENCH_REDIS_RATE_FULL:-1000}
DURATION=${BENCH_REDIS_DURATION:-8}
ROUNDS=${BENCH_REDIS_ROUNDS:-3}
STACKS=${BENCH_REDIS_STACKS:-"peer empty empty-rc"}
SERVER_CORE=0
CLIENT_CORE=1

mkdir -p benchmarks/results
OUT=benchmarks/results/redis-$(date -u +%Y%m%dT%H%M%SZ).jsonl
SERVER_LOGS=${OUT%.jsonl}.log    # the servers' warnings and errors, by run
WORK=$(mktemp -d /tmp/palisade-bench-redis.XXXXXX)
PIDS=()
REDIS_PID=
trap 'stop_servers; stop_redis; rm -rf "$WORK"' EXIT

ensure_peer_venv    # redis, for AsyncRedisManager, is in its requirements
write_tokens "$WORK/tokens.txt"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

REDIS_PORT=$(free_port)
REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
taskset -c $CLIENT_CORE redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$WORK" >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 1 50); do
    if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then break; fi
    sleep 0.1
done
redis-cli -p "$REDIS_PORT" ping >/dev/null

stop_redis() {
    if [ -n "${REDIS_PID:-}" ]; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
        REDIS_PID=
    fi
}

start_instance() { # stack port name → appends the pid to PIDS
    local log="$WORK/$3-$2.log"
    case $1 in
        peer)
            PEER_REDIS_URL=$REDIS_URL PALISADE_JWT_SECRET=$SECRET taskset -c $SERVER_CORE \
                "$PEER_VENV/bin/python" benchmarks/python-peer/server.py --port "$2" >"$log" 2>&1 &
            ;;
        empty | empty-rc)
            local channels=false
            [ "$1" = empty-rc ] && channels=true
            $NO_CAPS PALISADE_REDIS_URL=$REDIS_URL WEBSOCKET_REDIS_ROOM_CHANNELS=$channels PALISADE_JWT_SECRET=$SECRET \
                PALISADE_LOG_LEVEL=warning PALISADE_SERVER_THREADS=1 taskset -c $SERVER_CORE \
                $BIN/palisade serve --port "$2" --policies benchmarks/policies-minimal --plugins benchmarks/plugins \
                --data-dir "$WORK/data-$3-$2" >"$log" 2>&1 &
            ;;
    esac
    PIDS+=($!)
    for _ in $(seq 1 100); do
        # A Palisade instance is ready once its /healthz says Redis is up; a peer once it answers.
        case $1 in
            peer) curl -s -m 2 -o /dev/null "http://127.0.0.1:$2/ws/socket.io/?EIO=4&transport=polling" && return 0 ;;
            *) curl -s -m 2 "http://127.0.0.1:$2/healthz" | grep -q '"redis" *: *"up"' && return 0 ;;
        esac
        sleep 0.1
    done
    echo "$1 on port $2 did not start:" >&2
    cat "$log" >&2
    exit 1
}

# SIGTERM, then SIGKILL for a server still there 5 s later: `palisade serve` with redis.url set
# does not exit on SIGTERM at the time of writing (its listener closes, the process stays).
stop_servers() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}

run() { # stack load rate round
    local port_a port_b
    port_a=$(free_port)
    port_b=$(free_port)
    start_instance "$1" "$port_a" a
    start_instance "$1" "$port_b" b
    local line
    line=$(taskset -c $CLIENT_CORE $BIN/palisade-bench fanout --url "http://127.0.0.1:$port_a/ws/socket.io/" \
        --second-url "http://127.0.0.1:$port_b/ws/socket.io/" --token-file "$WORK/tokens.txt" \
        --rooms "$ROOMS" --members "$MEMBERS" --rate "$3" --duration "$DURATION" \
        --server-pid "${PIDS[0]}" --second-server-pid "${PIDS[1]}" --redis-url "$REDIS_URL" --redis-pid "$REDIS_PID")
    printf '%s\t%s\n' "$1 $2-round-$4" "$line" >>"$OUT"
    stop_servers
    for instance in "a-$port_a" "b-$port_b"; do
        echo "== $1 $2-round-$4 $instance" >>"$SERVER_LOGS"
        # Without SwiftNIO's complaint at shutdown (see stop_servers).
        grep -v 'Cannot schedule tasks on an EventLoop that has already shut down' "$WORK/$instance.log" >>"$SERVER_LOGS" || true
    done
}

for round in $(seq 1 "$ROUNDS"); do
    for stack in $STACKS; do
        echo "== redis fanout, round $round: $stack" >&2
        run "$stack" light "$RATE_LIGHT" "$round"
        run "$stack" full "$RATE_FULL" "$round"
    done
done

echo "results: $OUT (server logs: $SERVER_LOGS)" >&2
$PYTHON benchmarks/redis-report.py "$OUT"
