# What benchmarks/run-bench.sh and benchmarks/redis-fanout.sh share; sourced from the repository
# root: the binaries, the python peer's virtualenv, the connection caps switched off, the
# descriptor limit, and the clients' tokens.

BIN=.build/release
PYTHON=.venv/bin/python
PEER_VENV=benchmarks/.venv-peer
SECRET=bench-secret-0123456789abcdef0123456789abcdef

# Every client of the benchmark comes from one address as a handful of users: the connection
# caps (limits.max_connections*) would refuse most of them, so they are off here.
NO_CAPS="env PALISADE_LIMITS_MAX_CONNECTIONS=0 PALISADE_LIMITS_MAX_CONNECTIONS_PER_IP=0 PALISADE_LIMITS_MAX_CONNECTIONS_PER_USER=0"
# Descriptors for 10 000+ connections on each side (the benchmark's limit, not the product's).
ulimit -n "$(ulimit -Hn)"

# The peer's own virtualenv with its pinned requirements, made again when one is missing.
ensure_peer_venv() {
    if ! "$PEER_VENV/bin/python" -c 'import jwt, pycrdt, redis, socketio, uvicorn' 2>/dev/null; then
        python3 -m venv "$PEER_VENV"
        "$PEER_VENV/bin/pip" install -q -r benchmarks/python-peer/requirements.txt
    fi
}

# 200 tokens minted by `palisade token` (users bench-user-1…200), one a line, into $1.
write_tokens() {
    for i in $(seq 1 200); do
        PALISADE_JWT_SECRET=$SECRET $BIN/palisade token --sub "bench-user-$i" --ttl 86400
    done >"$1"
}
