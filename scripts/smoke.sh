#!/usr/bin/env bash
# Smoke check of a deployed (or local) API: health, readiness, then sign in → create a channel → send a
# message → see it listed → archive the channel. --checklist adds the post-deploy checklist (seed §5.4 step 6).
set -euo pipefail
SCRIPT_NAME=smoke
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/smoke.sh --env local|test|dev|staging|prod [--base-url URL] [--env-file FILE] [--checklist]
                        [--read-only] [--strict] [--timeout SECONDS] [--dry-run] [--yes-prod]

  --base-url   the API base, e.g. http://127.0.0.1:54321/api or https://<ref>.supabase.co/functions/v1/api
               (default: API_HOST/API_PORT locally, SUPABASE_URL + /functions/v1/api in the cloud)
  --env-file   read SUPABASE_URL, SUPABASE_ANON_KEY, SMOKE_USER_EMAIL/PASSWORD from FILE (default: the environment)
  --checklist  also the post-deploy checklist: login/chat, agent run, test payout, Embassy test call; items whose
               feature is not deployed yet report NOT AVAILABLE YET (never PASS)
  --read-only  only health and readiness (writes nothing; no sign-in)
  --strict     exit non-zero unless every step passed (NOT AVAILABLE YET counts against it)
  --timeout    seconds per request (default 10)
  --dry-run    print the requests it would make; send nothing
  --yes-prod   required in prod unless --read-only: the check writes (a channel in the smoke user's team)
Sign-in: local/test use the dev login (SMOKE_USER_EMAIL or smoke@microdao.test); dev/staging/prod sign in
through Supabase Auth as SMOKE_USER_EMAIL with SMOKE_USER_PASSWORD.
Exit: 0 all steps passed (or not available yet); 1 a step failed; 2 wrong usage.
TXT
}

ENV_NAME=""; YES_PROD=0; READ_ONLY=0
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --env) ENV_NAME="${2:-}"; args+=("$1" "${2:-}"); shift 2 || usage_error "--env needs a value" ;;
    --yes-prod) YES_PROD=1; shift ;;
    --dry-run) DRY_RUN=1; args+=("$1"); shift ;; # lets require_prod_confirmation pass a dry run
    --read-only) READ_ONLY=1; args+=("$1"); shift ;;
    --checklist|--strict) args+=("$1"); shift ;;
    --env-file) args+=("$1" "$(absolute_path "${2:-}")"); shift 2 || usage_error "$1 needs a value" ;;
    --base-url|--timeout) args+=("$1" "${2:-}"); shift 2 || usage_error "$1 needs a value" ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done
require_env "$ENV_NAME" "local test $ENVIRONMENTS"
[[ $READ_ONLY == 1 ]] || require_prod_confirmation "$ENV_NAME" "$YES_PROD" "run the smoke check (it creates a channel and a message)"
cd "$ROOT"
# `--`: Node 20 would otherwise take --env-file for its own option, wherever it stands.
exec node --import tsx scripts/lib/smoke-check.ts -- "${args[@]}"
