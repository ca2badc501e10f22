#!/usr/bin/env bash
# Static checks of monitoring/: the Prometheus configuration and its rule files parse (promtool check
# config), and every alert fires on the signal it watches and stays quiet on a healthy one (promtool test
# rules). The live check against a running Prometheus is tests/monitoring/live-stack.test.ts.
set -euo pipefail

usage() {
  cat <<'TXT'
Usage: monitoring/check.sh [--dry-run]
  Runs promtool check config (configuration and rule files) and promtool test rules on monitoring/.
  --dry-run  print the commands, run nothing
Needs promtool (Debian: apt-get install prometheus; scripts/setup.sh --for test installs it).
TXT
}

DRY_RUN=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "monitoring/check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "${BASH_SOURCE[0]}")"
if ! command -v promtool >/dev/null; then
  echo "monitoring/check: promtool is not installed; install Prometheus (Debian: apt-get install prometheus)" >&2
  exit 1
fi

run() {
  printf 'monitoring/check: %s\n' "$*"
  [[ $DRY_RUN == 1 ]] || "$@"
}
run promtool check config prometheus.yml
run promtool test rules tests/*.test.yml
