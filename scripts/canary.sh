#!/usr/bin/env bash
# The API's canary: the next release runs as the "api-canary" function beside "api"; the `api.canary` flag sends
# a stable share of users to it (the web client asks the flag which one to call); Prometheus compares the two
# releases' 5xx ratio and p99; the script promotes the release or rolls it back. docs/runbook.md has the order.
set -euo pipefail
SCRIPT_NAME=canary
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage:
  scripts/canary.sh deploy   --env ENV --release REL [--env-file FILE] [--project-ref REF] [--skip-smoke]
  scripts/canary.sh ramp     --env ENV --percent N [--env-file FILE] [--api-url URL]
  scripts/canary.sh check    --prometheus URL --stable REL --canary REL [--window 10m]
  scripts/canary.sh watch    --env ENV --prometheus URL --stable REL --canary REL [--api-url URL]
                             [--window 10m] [--interval 30s] [--timeout 30m] [--promote-after 3]
                             [--max-p99-ratio 1.5]
  scripts/canary.sh promote  --env ENV --release REL [--env-file FILE] [--project-ref REF]
  scripts/canary.sh rollback --env ENV [--env-file FILE] [--api-url URL]
Every command takes --dry-run (print the commands, change nothing); writes to prod need --yes-prod.

  deploy    supabase secrets set CANARY_RELEASE=REL; supabase functions deploy api-canary (this checkout);
            smoke check of https://REF.supabase.co/functions/v1/api-canary. Nobody is sent to it yet.
  ramp      the api.canary flag: N % of users (stable buckets: a user in at 5 % stays in at 25 %)
  check     one verdict from Prometheus (exit 0 promote, 3 roll back, 4 wait)
  watch     verdicts every --interval until one is final: rollback ramps the flag to 0 at once and exits 3;
            promote needs --promote-after verdicts in a row and exits 0 (then run `promote`); 4 at --timeout
  promote   supabase secrets set RELEASE=REL; supabase functions deploy api (the same checkout the canary ran);
            then the flag back to 0: everyone on "api", now the new release
  rollback  the flag to 0: everyone back on "api" (the old release); the canary function serves nobody

  --api-url  where the stable gateway's /api routes hang off (default https://REF.supabase.co/functions/v1;
             locally e.g. http://127.0.0.1:54321)
Flag changes go through the gateway as the operator: MICRODAO_OPERATOR_TOKEN is a platform admin's access token
(audited as them). deploy and promote need SUPABASE_ACCESS_TOKEN.
TXT
}

command="${1:-}"
[[ -z "$command" || "$command" == -h || "$command" == --help ]] && { usage; exit 0; }
shift
case "$command" in deploy|ramp|check|watch|promote|rollback) ;; *) usage_error "unknown command '$command': deploy, ramp, check, watch, promote or rollback" ;; esac
ENV_NAME=""; ENV_FILE=""; PROJECT_REF=""; API_URL=""; RELEASE_NAME=""; PERCENT=""; SKIP_SMOKE=0; YES_PROD=0
declare -a VERDICT_ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --project-ref) PROJECT_REF="${2:-}"; shift 2 || usage_error "--project-ref needs a value" ;;
    --api-url) API_URL="${2:-}"; shift 2 || usage_error "--api-url needs a value" ;;
    --release) RELEASE_NAME="${2:-}"; shift 2 || usage_error "--release needs a value" ;;
    --percent) PERCENT="${2:-}"; shift 2 || usage_error "--percent needs a value" ;;
    --skip-smoke) SKIP_SMOKE=1; shift ;;
    --prometheus|--stable|--canary|--window|--interval|--timeout|--promote-after|--max-p99-ratio)
      [[ $# -ge 2 ]] || usage_error "$1 needs a value"; VERDICT_ARGS+=("$1" "$2"); shift 2 ;;
    *) common_flag "$@"; shift "$FLAG_ARGS" ;;
  esac
done
cd "$ROOT"
control() { run node --import tsx scripts/lib/canary-control.ts "$@"; }

if [[ "$command" == check ]]; then
  status=0
  control check ${VERDICT_ARGS[@]+"${VERDICT_ARGS[@]}"} || status=$?
  exit $status
fi

require_env "$ENV_NAME" "local $ENVIRONMENTS"
[[ -z "$RELEASE_NAME" || "$RELEASE_NAME" =~ ^[A-Za-z0-9._-]{1,64}$ ]] || usage_error "--release must be 1-64 letters, digits, dots, dashes or underscores"
[[ -z "$PERCENT" || "$PERCENT" =~ ^([0-9]|[1-9][0-9]|100)$ ]] || usage_error "--percent must be a whole number from 0 to 100"
case "$command" in
  deploy|promote) [[ -n "$RELEASE_NAME" ]] || usage_error "$command needs --release (e.g. the commit: \$(git rev-parse --short HEAD))" ;;
  ramp) [[ -n "$PERCENT" ]] || usage_error "ramp needs --percent" ;;
esac
require_prod_confirmation "$ENV_NAME" "$YES_PROD" "$command the canary"
if [[ -z "$ENV_FILE" && -f ".env.$ENV_NAME" ]]; then ENV_FILE=".env.$ENV_NAME"; fi
ENV_FILE="$(absolute_path "$ENV_FILE")"
if [[ -z "$PROJECT_REF" && -n "$ENV_FILE" ]]; then
  require_file "$ENV_FILE" "$ENV_FILE does not exist; pass the $ENV_NAME configuration with --env-file (see .env.example)"
  PROJECT_REF="$(config_values "$ENV_FILE" SUPABASE_PROJECT_REF)"
fi
supabase_ref() { [[ -n "$PROJECT_REF" ]] || fail "no project ref: set SUPABASE_PROJECT_REF in the env file or pass --project-ref"; }
api_url() {
  if [[ -z "$API_URL" ]]; then supabase_ref; API_URL="https://$PROJECT_REF.supabase.co/functions/v1"; fi
  [[ $DRY_RUN == 1 || -n "${MICRODAO_OPERATOR_TOKEN:-}" ]] || fail "MICRODAO_OPERATOR_TOKEN is not set: a platform admin's access token (flag changes are audited as them)"
}
supabase_token() {
  [[ $DRY_RUN == 1 || -n "${SUPABASE_ACCESS_TOKEN:-}" ]] || fail "SUPABASE_ACCESS_TOKEN is not set; create one at https://supabase.com/dashboard/account/tokens and export it"
}
prod_flag=()
[[ "$ENV_NAME" != prod ]] || prod_flag=(--yes-prod)

case "$command" in
  deploy)
    supabase_ref; supabase_token
    say "1/3 the canary's release label: CANARY_RELEASE=$RELEASE_NAME on $PROJECT_REF"
    run node_modules/.bin/supabase secrets set "CANARY_RELEASE=$RELEASE_NAME" --project-ref "$PROJECT_REF"
    say "2/3 deploying this checkout as the api-canary function (api keeps serving everyone)"
    run node_modules/.bin/supabase functions deploy api-canary --project-ref "$PROJECT_REF" --use-api \
      || fail "supabase functions deploy failed (see above); nobody is sent to the canary"
    if [[ $SKIP_SMOKE == 1 ]]; then
      say "3/3 smoke check: skipped (--skip-smoke)"
    else
      say "3/3 smoke check of the canary"
      run scripts/smoke.sh --env "$ENV_NAME" ${ENV_FILE:+--env-file "$ENV_FILE"} --base-url "https://$PROJECT_REF.supabase.co/functions/v1/api-canary" \
        ${prod_flag[@]+"${prod_flag[@]}"} || fail "the canary failed its smoke check; nobody was sent to it (run rollback to be sure)"
    fi
    [[ $DRY_RUN == 1 ]] || say "deployed; send users to it with: scripts/canary.sh ramp --env $ENV_NAME --percent 5"
    ;;
  ramp)
    api_url
    control ramp --api "$API_URL" --percent "$PERCENT"
    ;;
  watch)
    api_url
    status=0
    control watch --api "$API_URL" ${VERDICT_ARGS[@]+"${VERDICT_ARGS[@]}"} || status=$?
    case $status in
      0) say "the canary is healthy: promote it with scripts/canary.sh promote --env $ENV_NAME --release <its release>" ;;
      3) say "the canary was rolled back: everyone is on the stable release again" ;;
      4) say "no verdict before the timeout (too little canary traffic?); the flag is unchanged" ;;
    esac
    exit $status
    ;;
  promote)
    supabase_ref; supabase_token; api_url
    say "1/3 the stable release label: RELEASE=$RELEASE_NAME on $PROJECT_REF"
    run node_modules/.bin/supabase secrets set "RELEASE=$RELEASE_NAME" --project-ref "$PROJECT_REF"
    say "2/3 deploying this checkout (the canary's code) as the api function"
    run node_modules/.bin/supabase functions deploy api --project-ref "$PROJECT_REF" --use-api \
      || fail "supabase functions deploy failed; the canary still serves its share, api the old release"
    say "3/3 everyone on api"
    control ramp --api "$API_URL" --percent 0
    ;;
  rollback)
    api_url
    control ramp --api "$API_URL" --percent 0
    ;;
esac
