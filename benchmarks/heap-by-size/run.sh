#!/usr/bin/env bash
# What an idle connection holds, by heap block size: runs a release server (core 0) under
# heapcount.so, connects N sockets with palisade-bench (core 1), and prints the live heap
# blocks per connection by size class (the difference of a dump before and a dump after).
#
#   benchmarks/heap-by-size/run.sh [empty|stock] [connections]
#   HEAPCOUNT_SIZE=544 benchmarks/heap-by-size/run.sh stock 3000   # and where those blocks come from
#
# Needs gcc and a release build (`swift build -c release --product palisade --product palisade-bench`).
set -euo pipefail
cd "$(dirname "$0")/../.."
SET=${1:-stock}
N=${2:-10000}
SECRET=bench-secret-0123456789abcdef0123456789abcdef
WORK=$(mktemp -d /tmp/palisade-heap.XXXXXX)
PORT=18399
gcc -O2 -shared -fPIC -o "$WORK/heapcount.so" benchmarks/heap-by-size/heapcount.c
mkdir -p "$WORK/plugins"
cp plugins/*.lua benchmarks/plugins/*.lua "$WORK/plugins/"
for i in $(seq 1 200); do PALISADE_JWT_SECRET=$SECRET .build/release/palisade token --sub "bench-user-$i" --ttl 86400; done >"$WORK/tokens.txt"
ulimit -n "$(ulimit -Hn)"
case $SET in
    stock) ARGS=(--policies policies --plugins "$WORK/plugins" --config benchmarks/bench-config.json) ;;
    empty) ARGS=(--policies benchmarks/policies-minimal --plugins benchmarks/plugins) ;;
    *) echo "usage: $0 [empty|stock] [connections]" >&2; exit 2 ;;
esac
# The idle connections come from one address: the connection caps are off.
HEAPCOUNT_DIR=$WORK LD_PRELOAD=$WORK/heapcount.so PALISADE_JWT_SECRET=$SECRET PALISADE_LOG_LEVEL=error \
    PALISADE_LIMITS_MAX_CONNECTIONS=0 PALISADE_LIMITS_MAX_CONNECTIONS_PER_IP=0 PALISADE_LIMITS_MAX_CONNECTIONS_PER_USER=0 \
    PALISADE_SERVER_THREADS=1 taskset -c 0 .build/release/palisade serve --port $PORT "${ARGS[@]}" \
    --data-dir "$WORK/data" >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
URL=http://127.0.0.1:$PORT/ws/socket.io/
sleep 1.5
# A first small round warms up what is made once (loops, Lua states, caches).
taskset -c 1 .build/release/palisade-bench connect --connections 200 --hold 1 --url $URL --token-file "$WORK/tokens.txt" >/dev/null
sleep 1
kill -USR2 $SERVER
sleep 0.5
taskset -c 1 .build/release/palisade-bench connect --connections "$N" --hold 12 --url $URL --token-file "$WORK/tokens.txt" \
    --server-pid $SERVER >"$WORK/bench.out" &
BENCH=$!
while [ "$(ls /proc/$SERVER/fd | wc -l)" -lt "$N" ]; do sleep 0.5; done
sleep 3
kill -USR2 $SERVER
wait $BENCH
tail -1 "$WORK/bench.out"
python3 - "$WORK" "$N" <<'PY'
import glob, sys
work, n = sys.argv[1], int(sys.argv[2])
dumps = sorted(glob.glob(f"{work}/dump.*"), key=lambda path: int(path.rsplit(".", 1)[1]))
def read(path):
    return {int(size): (int(blocks), int(size_bytes)) for size, blocks, size_bytes in (line.split() for line in open(path))}
before, after = read(dumps[0]), read(dumps[1])
rows = []
for size in set(before) | set(after):
    blocks = after.get(size, (0, 0))[0] - before.get(size, (0, 0))[0]
    size_bytes = after.get(size, (0, 0))[1] - before.get(size, (0, 0))[1]
    rows.append((size_bytes, blocks, size))
rows.sort(reverse=True)
print(f"live heap per connection: {sum(row[0] for row in rows) / n:.0f} B")
for size_bytes, blocks, size in rows[:20]:
    print(f"  blocks of {size:6d} B: {blocks / n:6.2f} per connection, {size_bytes / n:7.0f} B")
PY
[ -f "$WORK/stacks.txt" ] || exit 0
# The most common allocation stacks of the sampled live blocks, each frame named after the nearest
# symbol of the binary (approximate for functions without a symbol of their own).
nm --defined-only .build/release/palisade >"$WORK/symbols.txt"
python3 - "$WORK" <<'PY'
import bisect, collections, re, subprocess, sys
work = sys.argv[1]
symbols = []
for line in open(f"{work}/symbols.txt"):
    parts = line.split()
    if len(parts) == 3 and parts[1] in "tTwW":
        symbols.append((int(parts[0], 16), parts[2]))
symbols.sort()
starts = [address for address, _ in symbols]
def name(offset):
    index = bisect.bisect_right(starts, offset) - 1
    return symbols[index][1] if index >= 0 else hex(offset)
stacks = collections.Counter()
for block in open(f"{work}/stacks.txt").read().split("--\n"):
    frames = [name(int(m.group(1), 16)) for m in re.finditer(r"palisade\(\+0x([0-9a-f]+)\)", block)]
    if frames:
        stacks[tuple(frames[:6])] += 1
names = sorted({frame for stack in stacks for frame in stack})
readable = dict(zip(names, subprocess.run(["swift", "demangle", "--simplified", "--compact"], input="\n".join(names),
                                          capture_output=True, text=True).stdout.split("\n")))
for stack, count in stacks.most_common(6):
    print(count, "sampled blocks from:")
    for frame in stack:
        print("   ", readable.get(frame, frame)[:160])
PY
