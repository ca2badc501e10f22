#!/usr/bin/env bash
# Installs what a fresh clone on a fresh machine lacks: the npm packages (npm ci) and, for the test suite,
# the Debian packages it drives (pgTAP, Chromium, Prometheus, ...). Safe to run again: it only installs
# what is missing.
set -euo pipefail

usage() {
  cat <<'TXT'
Usage: scripts/setup.sh [--for dev|test] [--dry-run]
  --for dev    npm packages, and the servers the local platform starts if none is running (default)
  --for test   everything the test suite needs as well (pgTAP, pg_prove, Chromium, Prometheus, pgBackRest)
  --dry-run    print what would be installed, install nothing
Debian packages are installed with apt-get when running as root; otherwise the missing ones are named.
TXT
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PURPOSE=dev
DRY_RUN=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --for) PURPOSE="${2:?--for needs dev or test}"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "setup: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$PURPOSE" == dev || "$PURPOSE" == test ]] || { echo "setup: --for takes dev or test, not '$PURPOSE'" >&2; exit 2; }
say() { printf 'setup: %s\n' "$*" >&2; }

# --- npm packages -------------------------------------------------------------------------------------------
command -v node >/dev/null || { say "Node.js 20+ is not installed (Debian: apt-get install nodejs; Homebrew: brew install node@20)"; exit 1; }
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  if [[ $DRY_RUN == 1 ]]; then say "would run: npm ci"; else
    say "installing npm packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi

# --- Debian packages ----------------------------------------------------------------------------------------
packages=(postgresql-15 postgresql-client-15 nats-server redis-server)
if [[ "$PURPOSE" == test ]]; then
  packages+=(postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl chromium prometheus pgbackrest prometheus-postgres-exporter)
fi
command -v dpkg-query >/dev/null || { say "not a Debian system: make sure these are installed: ${packages[*]}"; exit 0; }
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $DRY_RUN == 1 ]]; then say "would run: apt-get install -y ${missing[*]}"; exit 0; fi
  if [[ $(id -u) -ne 0 ]]; then
    say "missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
say "ready for $PURPOSE"
