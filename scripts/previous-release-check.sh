#!/usr/bin/env bash
# Expand → migrate → contract, checked: while a canary or a blue-green handover runs, the previous release's
# gateway serves on the new schema. This runs the previous release's own gateway tests (its code, its tests, its
# seed) against a database migrated with THIS checkout's migrations. A migration that drops or renames what the
# previous release still uses fails here, before it ships.
set -euo pipefail
SCRIPT_NAME=previous-release-check
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/previous-release-check.sh [--release REF] [--tests PATH...] [--dry-run]
  --release  the release running beside this one (default: the newest v* tag; without tags, the commit before
             the newest one that added a migration — the code that runs while that migration is applied)
  --tests    which of its test files to run (default: its whole tests/api); repeatable
Uses the test servers like npm test (TEST_PG_ADMIN_URL, TEST_NATS_URL, TEST_REDIS_URL) and this checkout's
node_modules.
TXT
}
RELEASE_REF=""
declare -a TESTS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --release) RELEASE_REF="${2:-}"; shift 2 || usage_error "--release needs a git ref" ;;
    --tests) TESTS+=("${2:-}"); shift 2 || usage_error "--tests needs a path" ;;
    *) common_flag "$@"; shift "$FLAG_ARGS" ;;
  esac
done
cd "$ROOT"
if [[ -z "$RELEASE_REF" ]]; then
  RELEASE_REF="$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null || true)"
fi
if [[ -z "$RELEASE_REF" ]]; then
  newest="$(git log -1 --first-parent --format=%H --diff-filter=A -- supabase/migrations)"
  [[ -n "$newest" ]] || fail "no commit added a migration and there is no v* tag: nothing to compare with"
  RELEASE_REF="$newest^"
fi
commit="$(git rev-parse --verify --quiet "$RELEASE_REF^{commit}")" || usage_error "--release $RELEASE_REF is not a commit of this repository"
[[ ${#TESTS[@]} -gt 0 ]] || TESTS=(tests/api)

work="$(mktemp -d)"
[[ $DRY_RUN == 1 ]] || trap 'rm -rf "$work"' EXIT
say "the release $(git log -1 --format='%h %s' "$commit" | cut -c1-80)"
plan "unpack $commit into a temporary folder"
[[ $DRY_RUN == 1 ]] || git archive --format=tar "$commit" | tar -x -C "$work"
say "its schema replaced by this checkout's migrations ($(ls supabase/migrations | wc -l) files)"
run rm -rf "$work/supabase/migrations"
run cp -R supabase/migrations "$work/supabase/migrations"
run ln -s "$ROOT/node_modules" "$work/node_modules"
say "its tests: ${TESTS[*]}"
cd "$work"
run "$ROOT/node_modules/.bin/vitest" run "${TESTS[@]}"
