#!/usr/bin/env bash
# Installs what Palisade builds and tests with: Debian packages, and with --python the .venv for the interop tests.
# Usage: scripts/install-deps.sh [--python] [--conformance] [--bench]   (idempotent: does nothing when all is present)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(pkg-config liblua5.4-dev libhiredis-dev libssl-dev libsqlite3-dev redis-server)
python=0
for arg in "$@"; do
  case "$arg" in
    --python) python=1 ;;
    --conformance) packages+=(mocha chai node-ws) ;;
    --bench) packages+=(valgrind) ;;  # counts the server's instructions per event (benchmarks/server-instructions.sh)
    *) echo "usage: $0 [--python] [--conformance] [--bench]" >&2; exit 2 ;;
  esac
done

# shellcheck source=scripts/debian-packages.sh
source scripts/debian-packages.sh
install_debian_packages "${packages[@]}" || true

if ((python)); then
  req=Tests/interop/requirements.txt
  stamp=.venv/.requirements.sha256
  # A .venv copied from elsewhere or left by an old Python is rebuilt.
  if ! .venv/bin/python -c '' 2>/dev/null; then
    rm -rf .venv
    python3 -m venv .venv
  fi
  hash=$(sha256sum "$req" | cut -d' ' -f1)
  if [[ ! -f $stamp || $(cat "$stamp") != "$hash" ]]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
    echo "$hash" > "$stamp"
  fi
fi
