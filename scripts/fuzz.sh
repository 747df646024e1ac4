#!/usr/bin/env bash
# Runs each libFuzzer target of .build/fuzz/release/palisade-fuzz (built by `make fuzz`) for a
# time budget, from its committed seeds (fuzz/corpus/<target>/) plus what earlier runs found
# (.build/fuzz/corpus/<target>/, where new inputs go). Crashes go to fuzz/artifacts/<target>/
# (ignored by git). Prints one line per target: executions, libFuzzer's coverage (edges, features)
# over the whole binary, the edges reached in the target's own source files, and crashes.
# Usage: scripts/fuzz.sh SECONDS TARGET...   (exit 1 when any target crashed)
set -u
seconds=$1
shift
binary=.build/fuzz/release/palisade-fuzz
summary=()
failed=0

# The source files each target is about, for the coverage figure (scripts/fuzz-coverage.py).
sources_of() {
  case $1 in
    http-head) echo Sources/PalisadeServer/HTTP/{HTTPTokenList,IPNetwork,OriginPolicy,TrustedProxies}.swift Sources/PalisadeGateway/HandshakeRequest.swift .build/fuzz/checkouts/swift-nio/Sources/NIOHTTP1/HTTPDecoder.swift .build/fuzz/checkouts/swift-nio/Sources/CNIOLLHTTP/ ;;
    websocket-frames) echo Sources/PalisadeServer/EngineIO/WebSocketFrameReader.swift Sources/PalisadeServer/EngineIO/WebSocketCloseFrame.swift ;;
    engineio) echo Sources/PalisadeProtocol/EngineIO/ Sources/PalisadeProtocol/Encoding/ ;;
    socketio) echo Sources/PalisadeProtocol/SocketIO/ ;;
    json) echo Sources/PalisadeJSON/ ;;
    yjs) echo Sources/PalisadeYjs/ ;;
    jwt) echo Sources/PalisadeJWT/ ;;
    lua-bridge) echo Sources/PalisadePolicy/Lua/LuaBridge.swift ;;
  esac
}
for target in "$@"; do
    found=.build/fuzz/corpus/$target
    artifacts=fuzz/artifacts/$target
    log=.build/fuzz/logs/$target.log
    mkdir -p "$found" "$artifacts" "$(dirname "$log")"
    echo "== fuzz $target for ${seconds}s"
    PALISADE_FUZZ_TARGET=$target "$binary" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$found" "fuzz/corpus/$target" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
    crashes=$(ls "$artifacts" | wc -l)
    # The corpus replayed once, to see which edges of the target's own files it reaches.
    PALISADE_FUZZ_TARGET=$target "$binary" -runs=0 -print_coverage=1 "$found" "fuzz/corpus/$target" >"$log.coverage" 2>&1
    # shellcheck disable=SC2046
    files=$(scripts/fuzz-coverage.py "$log.coverage" $(sources_of "$target"))
    if [ $rc -ne 0 ]; then
        failed=1
        grep -E 'ERROR|fuzz check failed|Fatal error|Test unit written' "$log" | head -5
    fi
    summary+=("$(printf '%-17s exit %-3s runs %-10s %-22s own files %-24s artifacts %s' "$target" "$rc" "${runs:-?}" \
      "${coverage:-?}" "$files" "$crashes")")
done
echo "== fuzz summary (${seconds}s per target; logs in .build/fuzz/logs/)"
printf '%s\n' "${summary[@]}"
exit $failed
