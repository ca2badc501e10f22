#!/usr/bin/env bash
# Pushes an environment's secrets to its Supabase project (`supabase secrets set`), where the edge functions
# read them, from a secrets file that is never committed. Prints names only, never values.
set -euo pipefail
SCRIPT_NAME=sync_secrets
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/sync_secrets.sh --env dev|staging|prod --env-file FILE [--project-ref REF] [--dry-run] [--yes-prod]

Validates FILE with scripts/env-check, then runs `supabase secrets set --env-file` for the environment's
Supabase project with every variable the functions read. Left out, and said so: empty values, SUPABASE_*
(Supabase provides them; its CLI refuses them), WALLET_PRIVATE_KEY (secret manager only), *_FILE mounts
and deploy-only variables (VERCEL_*, SMOKE_*).

  --env          target environment
  --env-file     the environment's secrets file, e.g. .env.staging (git-ignored; refused if tracked by git)
  --project-ref  Supabase project ref (default: SUPABASE_PROJECT_REF from FILE)
  --dry-run      print the names that would be set and the exact command; set nothing
  --yes-prod     required to change prod's secrets
Needs SUPABASE_ACCESS_TOKEN (a personal or CI access token) in the environment.
TXT
}

ENV_NAME=""; ENV_FILE=""; PROJECT_REF=""; YES_PROD=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --project-ref) PROJECT_REF="${2:-}"; shift 2 || usage_error "--project-ref needs a value" ;;
    *) common_flag "$@"; shift "$FLAG_ARGS" ;;
  esac
done
require_env "$ENV_NAME"
ENV_FILE="$(absolute_path "$ENV_FILE")"
[[ -n "$ENV_FILE" ]] || usage_error "--env-file is required: the $ENV_NAME secrets file (e.g. .env.$ENV_NAME)"
require_file "$ENV_FILE" "$ENV_FILE does not exist; create it from .env.example with the $ENV_NAME values (it stays out of git)"
cd "$ROOT"
if git ls-files --error-unmatch -- "$ENV_FILE" >/dev/null 2>&1; then
  fail "$ENV_FILE is tracked by git; secrets must never be committed. Run 'git rm --cached $ENV_FILE', then rotate every secret in it."
fi
require_prod_confirmation "$ENV_NAME" "$YES_PROD" "change the secrets"

say "checking $ENV_FILE against the $ENV_NAME rules"
scripts/env-check --env "$ENV_NAME" --env-file "$ENV_FILE" >&2 || fail "$ENV_FILE is not a valid $ENV_NAME configuration (see above); fix it before syncing"
[[ -n "$PROJECT_REF" ]] || PROJECT_REF="$(config_values "$ENV_FILE" SUPABASE_PROJECT_REF)"
[[ -n "$PROJECT_REF" ]] || fail "no project ref: set SUPABASE_PROJECT_REF in $ENV_FILE or pass --project-ref"

SELECTED="$(mktemp)"
trap 'rm -f "$SELECTED"' EXIT
chmod 600 "$SELECTED"
if [[ $DRY_RUN == 1 ]]; then
  names="$(node --import tsx scripts/lib/secrets-file.ts "$ENV_FILE" --app-env "$ENV_NAME")"
else
  names="$(node --import tsx scripts/lib/secrets-file.ts "$ENV_FILE" --app-env "$ENV_NAME" --out "$SELECTED")"
fi
[[ -n "$names" ]] || fail "$ENV_FILE holds nothing to sync"
say "secrets for $ENV_NAME (project $PROJECT_REF), names only:"
# shellcheck disable=SC2001
sed 's/^/  /' <<<"$names" >&2
if [[ $DRY_RUN == 0 && -z "${SUPABASE_ACCESS_TOKEN:-}" ]]; then
  fail "SUPABASE_ACCESS_TOKEN is not set; create one at https://supabase.com/dashboard/account/tokens and export it"
fi
[[ $DRY_RUN == 1 ]] && plan "the file passed to --env-file is a temporary copy (mode 600, deleted on exit) holding only the names above"
run node_modules/.bin/supabase secrets set --project-ref "$PROJECT_REF" --env-file "$SELECTED"
[[ $DRY_RUN == 1 ]] || say "$(wc -l <<<"$names" | tr -d ' ') secrets set on $PROJECT_REF"
