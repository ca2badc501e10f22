#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, makes sure Postgres, NATS and Redis
# answer on their standard ports, then runs static checks, unit + integration tests (each run in fresh
# databases and streams), pgTAP, the browser tests and the monitoring checks. .ci/run calls exactly this.
set -euo pipefail

usage() {
  cat <<'TXT'
Usage: scripts/test.sh [--only STAGE[,STAGE...]] [--dry-run]
Stages, in order: setup services static unit pgtap browser monitoring
  --only     run just these stages (setup and services always run unless listed otherwise)
  --dry-run  print the stages and their commands, run nothing
Environment: TEST_PG_ADMIN_URL, TEST_NATS_URL, TEST_REDIS_URL point the suite at other servers.
TXT
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ONLY=""
DRY_RUN=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) ONLY="${2:?--only needs a stage list}"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "test: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

declare -a SUMMARY=()
run_stage() {
  local name="$1"; shift
  if [[ -n "$ONLY" && ",$ONLY," != *",$name,"* && "$name" != setup && "$name" != services ]]; then return 0; fi
  printf '\n=== %s: %s\n' "$name" "$*"
  [[ $DRY_RUN == 1 ]] && return 0
  local started=$SECONDS
  "$@"
  SUMMARY+=("$(printf '%-11s %4ss' "$name" $((SECONDS - started)))")
}

static_checks() {
  npm run --silent lint
  npm run --silent lint:migrations
  npm run --silent format:check
  npm run --silent typecheck
}

run_stage setup bash scripts/setup.sh --for test
export PATH="$ROOT/node_modules/.bin:$PATH"
run_stage services node --import tsx scripts/local-stack/ensure-test-services.ts
run_stage static static_checks
run_stage unit vitest run
run_stage pgtap node --import tsx tests/harness/run-pgtap.ts
run_stage browser playwright test
run_stage monitoring bash monitoring/check.sh

printf '\n=== all stages passed\n'
printf '  %s\n' "${SUMMARY[@]}"
