#!/usr/bin/env bash
# Builds the API's deployable once per commit: the exact files `supabase functions deploy api` uploads (the
# function's code, the import map and lock, supabase/config.toml and the migrations it bundles as static files)
# as one reproducible tar — same commit, same bytes, same sha256 — that staging and then prod deploy unchanged
# (scripts/deploy_api.sh --release). `npm run build:api`.
set -euo pipefail
SCRIPT_NAME=build_api
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/build_api.sh [--out DIR] [--dry-run]
  --out      where api-function.tar goes (default dist/release); its sha256 is printed on the last line
  --dry-run  print the commands, run nothing
TXT
}
OUT="dist/release"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT="${2:-}"; shift 2 || usage_error "--out needs a directory" ;;
    *) common_flag "$@"; shift "$FLAG_ARGS" ;;
  esac
done
OUT="$(absolute_path "$OUT")"
cd "$ROOT"
git rev-parse --git-dir >/dev/null 2>&1 || fail "not a git checkout: a release is built from a commit"
COMMIT="$(git rev-parse HEAD)"
[[ -z "$(git status --porcelain -- functions supabase deno.json deno.lock)" ]] \
  || say "note: uncommitted changes under functions/ or supabase/ are not in the bundle (it is built from $COMMIT)"
run mkdir -p "$OUT"
# from the commit, not the working tree: the same commit gives the same bytes (git archive stamps the commit's time)
run git archive --format=tar --output "$OUT/api-function.tar" "$COMMIT" -- functions supabase/config.toml supabase/migrations deno.json deno.lock
if [[ $DRY_RUN == 1 ]]; then exit 0; fi
sha256sum "$OUT/api-function.tar"
