#!/usr/bin/env bash
# Installs what the end-to-end suite (`make e2e`) needs: Debian's nginx, chromium, chromium-driver and
# redis-server, and a virtualenv .venv-e2e/ with open-webui==0.12.4 (large: several GB, installed once
# and reused), selenium and pytest. Idempotent: does nothing when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

OPEN_WEBUI_VERSION=0.12.4
VENV=.venv-e2e
packages=(nginx chromium chromium-driver redis-server)

# shellcheck source=scripts/debian-packages.sh
source scripts/debian-packages.sh
if install_debian_packages --no-recommends "${packages[@]}"; then
  # Debian starts nginx as a service on port 80 when installed; the suite runs its own.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
fi

stamp=$VENV/.e2e-installed
want="open-webui==$OPEN_WEBUI_VERSION selenium pytest pytest-timeout"
if ! $VENV/bin/python -c '' 2>/dev/null; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
fi
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "installing into $VENV: $want (first time: several GB, takes a while)"
  $VENV/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  # shellcheck disable=SC2086
  $VENV/bin/python -m pip install -q --disable-pip-version-check $want
  echo "$want" > "$stamp"
fi
