#!/usr/bin/env bash
# Per-branch previews: a Supabase preview branch of the staging project (migrated, seeded, the api function
# deployed to it) and Vercel preview deployments of both web apps built against it. `up` is idempotent (a
# second push to the branch redeploys), `down` removes both sides, `list` shows what exists.
set -euo pipefail
SCRIPT_NAME=preview
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/preview.sh up|down|list --branch GIT_BRANCH --env-file FILE [--summary-file FILE] [--dry-run]

  up    1. supabase branches create preview-<branch> (if missing), attached to the git branch
        2. wait until the branch database answers; read its URLs and keys (supabase branches get -o env)
        3. scripts/migrate.sh up + seed against the branch database (password as PGPASSWORD only)
        4. scripts/deploy_api.sh --env dev --project-ref <branch ref>: secrets, the api function, smoke check
        5. scripts/deploy_web.sh deploy --vercel-target preview for city and admin, built with
           VITE_API_BASE_URL = the branch's function URL, tagged --meta preview_branch=<name>
        6. prints the URLs (and writes them to $GITHUB_STEP_SUMMARY when set)
  down  deletes the Supabase preview branch and the branch's Vercel preview deployments
  list  lists the Supabase preview branches and the Vercel preview deployments

  --branch    the git branch (preview names are preview-<branch, lowercased, [a-z0-9-], at most 40 characters>)
  --env-file  the staging configuration (SUPABASE_PROJECT_REF, VERCEL_ORG_ID, VERCEL_PROJECT_ID_CITY/_ADMIN and
              the settings a preview shares with staging); never committed
  --summary-file  up: also write the URLs (Markdown) to FILE, e.g. for a pull request comment
  --dry-run   print every command; change nothing
Needs SUPABASE_ACCESS_TOKEN and VERCEL_TOKEN in the environment.
TXT
}

command="${1:-}"
[[ -z "$command" || "$command" == -h || "$command" == --help ]] && { usage; exit 0; }
shift
case "$command" in up|down|list) ;; *) usage_error "unknown command '$command': up, down or list" ;; esac
GIT_BRANCH=""; ENV_FILE=""; SUMMARY_FILE=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --branch) GIT_BRANCH="${2:-}"; shift 2 || usage_error "--branch needs a value" ;;
    --summary-file) SUMMARY_FILE="$(absolute_path "${2:-}")"; shift 2 || usage_error "--summary-file needs a value" ;;
    *) common_flag "$@"; shift "$FLAG_ARGS" ;;
  esac
done
cd "$ROOT"
ENV_FILE="$(absolute_path "$ENV_FILE")"
[[ -n "$ENV_FILE" ]] || usage_error "--env-file is required: the staging configuration the previews derive from"
require_file "$ENV_FILE" "$ENV_FILE does not exist; pass the staging env file (see .env.example)"
if [[ "$command" != list ]]; then
  [[ -n "$GIT_BRANCH" ]] || usage_error "--branch is required for $command"
  case "$GIT_BRANCH" in main|master|develop) usage_error "$GIT_BRANCH deploys through the pipeline, not as a preview" ;; esac
fi
# a Supabase branch and a Vercel meta value both take this: lowercase letters, digits and dashes
NAME="preview-$(tr '[:upper:]' '[:lower:]' <<<"$GIT_BRANCH" | sed -E 's/[^a-z0-9]+/-/g; s/^-+|-+$//g' | cut -c1-40 | sed -E 's/-+$//')"
[[ "$command" == list || "$NAME" != preview- ]] || usage_error "--branch '$GIT_BRANCH' has no letters or digits to name a preview after"

SUPABASE=node_modules/.bin/supabase
VERCEL=node_modules/.bin/vercel
PROJECT_REF="$(config_values "$ENV_FILE" SUPABASE_PROJECT_REF)"
[[ -n "$PROJECT_REF" ]] || fail "SUPABASE_PROJECT_REF is not set in $ENV_FILE"
if [[ $DRY_RUN == 0 ]]; then
  [[ -n "${SUPABASE_ACCESS_TOKEN:-}" ]] || fail "SUPABASE_ACCESS_TOKEN is not set; create one at https://supabase.com/dashboard/account/tokens"
  [[ -n "${VERCEL_TOKEN:-}" ]] || fail "VERCEL_TOKEN is not set; create one at https://vercel.com/account/tokens"
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
chmod 700 "$WORK"

# The branch's settings (`supabase branches get -o env`: POSTGRES_URL_NON_POOLING, SUPABASE_URL,
# SUPABASE_ANON_KEY, …) into $WORK/branch.env, retried until the branch is up (a new one takes minutes).
read_branch() {
  if [[ $DRY_RUN == 1 ]]; then
    run "$SUPABASE" branches get "$NAME" --project-ref "$PROJECT_REF" -o env
    printf 'POSTGRES_URL_NON_POOLING=<branch database URL>\nSUPABASE_URL=https://<branch ref>.supabase.co\nSUPABASE_ANON_KEY=<branch anon key>\n' >"$WORK/branch.env"
    return 0
  fi
  local attempt
  for attempt in $(seq 1 60); do
    if "$SUPABASE" branches get "$NAME" --project-ref "$PROJECT_REF" -o env >"$WORK/branch.env" 2>"$WORK/get.err" \
      && grep -q '^POSTGRES_URL' "$WORK/branch.env"; then
      return 0
    fi
    say "waiting for the branch database ($attempt/60)"
    sleep 10
  done
  fail "preview branch $NAME did not come up in 10 minutes: $(tail -n 3 "$WORK/get.err")"
}
branch_value() { sed -n "s/^$1=//p" "$WORK/branch.env" | head -n 1 | sed -E 's/^"(.*)"$/\1/'; }

up() {
  say "1/6 Supabase preview branch $NAME of $PROJECT_REF"
  if [[ $DRY_RUN == 1 ]] || ! "$SUPABASE" branches get "$NAME" --project-ref "$PROJECT_REF" >/dev/null 2>&1; then
    run "$SUPABASE" branches create "$NAME" --project-ref "$PROJECT_REF" --git-branch "$GIT_BRANCH"
  fi
  say "2/6 reading the branch's settings"
  read_branch
  local db_url supabase_url anon_key branch_ref api_url
  db_url="$(branch_value POSTGRES_URL_NON_POOLING)"
  [[ -n "$db_url" ]] || db_url="$(branch_value POSTGRES_URL)"
  supabase_url="$(branch_value SUPABASE_URL)"
  anon_key="$(branch_value SUPABASE_ANON_KEY)"
  branch_ref="$(sed -E 's#^https://([^.]+)\..*#\1#' <<<"$supabase_url")"
  api_url="$supabase_url/functions/v1/api"

  say "3/6 migrating and seeding the branch database"
  # the URL (with its password) goes through the environment: migrate.sh turns it into PGPASSWORD
  plan "DATABASE_URL=<branch database URL> scripts/migrate.sh up --env dev, then seed"
  if [[ $DRY_RUN == 0 ]]; then
    DATABASE_URL="$db_url" scripts/migrate.sh up --env dev
    DATABASE_URL="$db_url" scripts/migrate.sh seed --env dev
  fi

  say "4/6 deploying the API to the branch ($branch_ref)"
  # staging's settings, pointed at the branch: its database, its auth, its origins
  [[ $DRY_RUN == 1 ]] || node --import tsx scripts/lib/preview-env.ts "$ENV_FILE" "$WORK/branch.env" >"$WORK/preview.env"
  if [[ $DRY_RUN == 1 ]]; then
    printf '$ %s --dry-run\n' "$(show_command scripts/deploy_api.sh --env dev --env-file "<preview env>" --project-ref "$branch_ref")"
  else
    run scripts/deploy_api.sh --env dev --env-file "$WORK/preview.env" --project-ref "$branch_ref"
  fi

  say "5/6 Vercel previews of city and admin against $api_url"
  local app urls=()
  for app in city admin; do
    local -a deploy=(scripts/deploy_web.sh deploy --env dev --target vercel --vercel-target preview --app "$app"
      --env-file "$ENV_FILE" --meta "preview_branch=$NAME")
    if [[ $DRY_RUN == 1 ]]; then
      printf '$ VITE_API_BASE_URL=%s %s --dry-run\n' "$api_url" "$(show_command "${deploy[@]}")"
      "${deploy[@]}" --dry-run 2>&1 | sed 's/^/    /'
      urls+=("$app=<$app preview URL>")
      continue
    fi
    local url
    # the build reads the VITE_* settings from its environment: the preview web talks to the preview API
    url="$(VITE_API_BASE_URL="$api_url" VITE_SUPABASE_URL="$supabase_url" VITE_SUPABASE_ANON_KEY="$anon_key" "${deploy[@]}" | tail -n 1)"
    urls+=("$app=$url")
  done

  say "6/6 preview $NAME is up"
  local summary
  summary="$(printf '### Preview of `%s`\n\n| what | URL |\n|---|---|\n| API | %s |\n' "$GIT_BRANCH" "$api_url"; for app in "${urls[@]}"; do printf '| %s | %s |\n' "${app%%=*}" "${app#*=}"; done)"
  printf '%s\n' "$summary"
  [[ -z "${GITHUB_STEP_SUMMARY:-}" || $DRY_RUN == 1 ]] || printf '%s\n' "$summary" >>"$GITHUB_STEP_SUMMARY"
  [[ -z "$SUMMARY_FILE" ]] || printf '%s\n' "$summary" >"$SUMMARY_FILE"
}

vercel_env() {
  local values
  values="$(config_values "$ENV_FILE" VERCEL_ORG_ID "VERCEL_PROJECT_ID_$1")"
  export VERCEL_ORG_ID="$(sed -n 1p <<<"$values")" VERCEL_PROJECT_ID="$(sed -n 2p <<<"$values")" VERCEL_TELEMETRY_DISABLED=1
}

down() {
  say "deleting the Supabase preview branch $NAME"
  run "$SUPABASE" branches delete "$NAME" --project-ref "$PROJECT_REF" --yes
  local app
  for app in CITY ADMIN; do
    vercel_env "$app"
    say "removing the ${app,,} preview deployments of $NAME"
    if [[ $DRY_RUN == 1 ]]; then
      run "$VERCEL" ls --meta "preview_branch=$NAME"
      run "$VERCEL" remove "<each deployment listed>" --yes
      continue
    fi
    local deployments
    deployments="$("$VERCEL" ls --meta "preview_branch=$NAME" 2>&1 | grep -oE 'https://[a-z0-9.-]+\.vercel\.app' | sort -u || true)"
    if [[ -z "$deployments" ]]; then say "none"; continue; fi
    # shellcheck disable=SC2086 # one URL per word
    run "$VERCEL" remove $deployments --yes
  done
}

list() {
  run "$SUPABASE" branches list --project-ref "$PROJECT_REF"
  local app
  for app in CITY ADMIN; do
    vercel_env "$app"
    run "$VERCEL" ls --environment preview
  done
}

"$command"
