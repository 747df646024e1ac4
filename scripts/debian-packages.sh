# Sourced by the install scripts: `install_debian_packages [--no-recommends] NAME...` installs the
# Debian packages that are missing (as root), or says how to and exits 1 (not root). Returns 0
# when it installed something, 1 when everything was already there.
install_debian_packages() {
  local flags=()
  if [[ ${1:-} == --no-recommends ]]; then flags+=(--no-install-recommends); shift; fi
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 1
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing Debian packages; install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q "${flags[@]}" "${missing[@]}" </dev/null
}
