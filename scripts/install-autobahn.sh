#!/usr/bin/env bash
# Installs the Autobahn Testsuite (PyPI's autobahntestsuite, which runs on Python 2.7 only) into
# .autobahn/venv, for `make autobahn`. Python 2.7 is, in this order: $PYTHON27, a python2.7 on the
# PATH or under pyenv, or (or with PYTHON27=debian) Debian 11's python2.7 packages unpacked under .autobahn/debian (not
# installed system-wide; Debian 12 has no Python 2). The virtualenv is made by virtualenv < 20.22,
# the last that can still make Python 2.7 environments, from a Python 3 venv of its own.
# Idempotent. Prints the line to source before running wstest (`. .autobahn/env`).
set -euo pipefail
cd "$(dirname "$0")/.."

SUITE=autobahntestsuite==25.10.1
mkdir -p .autobahn

is_python27() { [[ -n ${1:-} ]] && "$1" -c 'import sys; assert sys.version_info[:2] == (2, 7)' 2>/dev/null; }

# Debian 11's python2.7 and the two libraries it needs that Debian 12 no longer has (OpenSSL 1.1,
# libffi 7), fetched with apt from the mirror this machine's apt already uses. Sets `python27` and
# the library and header paths (not in a subshell: they must reach pip and wstest).
debian_python27() {
  local root=$PWD/.autobahn/debian state=$PWD/.autobahn/apt
  if [[ ! -x $root/usr/bin/python2.7 ]]; then
    local uri
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    [[ -n $uri ]] || uri=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list)
    mkdir -p "$state/lists/partial" "$state/archives/partial" "$state/debs" "$root"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bullseye main" > "$state/sources.list"
    local apt=(-o Dir::Etc::SourceList="$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state" -o Debug::NoLocking=1)
    apt-get "${apt[@]}" update -q >&2
    (cd "$state/debs" && apt-get "${apt[@]}" download python2.7 python2.7-minimal libpython2.7-minimal \
      libpython2.7-stdlib libpython2.7 libpython2.7-dev python2.7-dev libssl1.1 libffi7 >&2)
    for deb in "$state"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
  fi
  export LD_LIBRARY_PATH=$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export CPATH=$root/usr/include:$root/usr/include/python2.7:$root/usr/include/x86_64-linux-gnu/python2.7
  python27=$root/usr/bin/python2.7
}

if [[ ! -x .autobahn/venv/bin/wstest ]]; then
  python27=${PYTHON27:-}
  if [[ $python27 == debian ]]; then
    debian_python27
  elif ! is_python27 "$python27"; then
    python27=""
    for candidate in "$(command -v python2.7 || true)" "$(pyenv root 2>/dev/null || true)"/versions/2.7*/bin/python2.7; do
      if is_python27 "$candidate"; then python27=$candidate; break; fi
    done
  fi
  [[ -n $python27 ]] || debian_python27
  is_python27 "$python27" || { echo "no working Python 2.7 (tried $python27)" >&2; exit 1; }
  echo "Python 2.7: $python27"
  if [[ ! -x .autobahn/tools/bin/virtualenv ]]; then
    python3 -m venv .autobahn/tools
    .autobahn/tools/bin/pip install -q --disable-pip-version-check 'virtualenv<20.22'
  fi
  rm -rf .autobahn/venv
  .autobahn/tools/bin/virtualenv -q -p "$python27" .autobahn/venv
  .autobahn/venv/bin/pip install -q --disable-pip-version-check --no-warn-script-location "$SUITE"
  echo "export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}" > .autobahn/env
fi
