#!/usr/bin/env bash
# Deploys the API to an environment: checks its configuration, syncs its secrets to the Supabase project,
# deploys the `api` edge function — from a release built once for the commit (--release, required in prod,
# where it must carry staging's attestation) or from this checkout —, optionally builds and pushes the outbox
# relay's container image, and ends with the smoke check against the deployed function.
set -euo pipefail
SCRIPT_NAME=deploy_api
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/deploy_api.sh --env dev|staging|prod --env-file FILE [--project-ref REF] [--release DIR]
                             [--relay-image IMAGE:TAG] [--skip-secrets] [--skip-smoke] [--dry-run] [--yes-prod]

Steps, in order (each printed as it runs):
  1. scripts/env-check --env ENV --env-file FILE             refuse an invalid configuration
  2. scripts/sync_secrets.sh (supabase secrets set)           unless --skip-secrets
  3. supabase functions deploy api --project-ref REF --use-api (bundled server-side: no Docker needed;
                                                                 supabase/config.toml sets verify_jwt = false,
                                                                 the gateway verifies tokens itself)
     with --release DIR: npm run release -- verify (digests; in prod also staging's attestation of this
     commit), then the deploy from DIR/api-function.tar unpacked (--workdir), not from this checkout
  4. docker build + docker push of workers/outbox-relay        only with --relay-image
  5. scripts/smoke.sh against https://REF.supabase.co/functions/v1/api   unless --skip-smoke

  --env-file     the environment's configuration (e.g. .env.staging; never committed)
  --project-ref  Supabase project ref (default: SUPABASE_PROJECT_REF from FILE)
  --release      a release folder (npm run build:api + npm run release -- manifest; CI's release artifact):
                 deploy exactly its function bundle. Required in prod.
  --relay-image  also build the relay image from workers/outbox-relay/Dockerfile and push it under this name
                 (the container host then rolls it out; see README "Deploying")
  --dry-run      print every command; run nothing that changes anything (env-check still runs: it only reads)
  --yes-prod     required to deploy to prod
Needs SUPABASE_ACCESS_TOKEN in the environment (and a `docker login` to the registry for --relay-image).
TXT
}

ENV_NAME=""; ENV_FILE=""; PROJECT_REF=""; RELAY_IMAGE=""; RELEASE_DIR=""; SKIP_SECRETS=0; SKIP_SMOKE=0; YES_PROD=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --project-ref) PROJECT_REF="${2:-}"; shift 2 || usage_error "--project-ref needs a value" ;;
    --relay-image) RELAY_IMAGE="${2:-}"; shift 2 || usage_error "--relay-image needs a value" ;;
    --release) RELEASE_DIR="${2:-}"; shift 2 || usage_error "--release needs a folder" ;;
    --skip-secrets) SKIP_SECRETS=1; shift ;;
    --skip-smoke) SKIP_SMOKE=1; shift ;;
    *) common_flag "$@"; shift "$FLAG_ARGS" ;;
  esac
done
require_env "$ENV_NAME"
[[ -n "$ENV_FILE" ]] || ENV_FILE=".env.$ENV_NAME"
ENV_FILE="$(absolute_path "$ENV_FILE")"
require_file "$ENV_FILE" "$ENV_FILE does not exist; pass the $ENV_NAME configuration with --env-file (see .env.example)"
[[ -z "$RELAY_IMAGE" || "$RELAY_IMAGE" == *:* ]] || usage_error "--relay-image needs an explicit tag, e.g. ghcr.io/org/microdao-outbox-relay:\$(git rev-parse --short HEAD)"
require_prod_confirmation "$ENV_NAME" "$YES_PROD" "deploy the API"
if [[ "$ENV_NAME" == prod && -z "$RELEASE_DIR" ]]; then
  usage_error "prod deploys only a release that passed staging: pass --release DIR (the commit's release artifact with its staging attestation)"
fi
[[ -z "$RELEASE_DIR" || -z "$RELAY_IMAGE" ]] || usage_error "--relay-image builds from this checkout; a --release carries its images by digest in its manifest"
RELEASE_DIR="$(absolute_path "$RELEASE_DIR")"
cd "$ROOT"

prod_flag=()
[[ "$ENV_NAME" != prod ]] || prod_flag=(--yes-prod)
# A sub-script: under --dry-run, its command and then its own plan (it takes --dry-run too), indented.
run_script() {
  if [[ $DRY_RUN == 1 ]]; then
    printf '$ %s\n' "$(show_command "$@")"
    "$@" --dry-run 2>&1 | sed 's/^/    /'
  else
    run "$@"
  fi
}

say "1/5 checking the $ENV_NAME configuration in $ENV_FILE"
scripts/env-check --env "$ENV_NAME" --env-file "$ENV_FILE" >&2 || fail "$ENV_FILE is not a valid $ENV_NAME configuration (see above); nothing was deployed"
[[ -n "$PROJECT_REF" ]] || PROJECT_REF="$(config_values "$ENV_FILE" SUPABASE_PROJECT_REF)"
[[ -n "$PROJECT_REF" ]] || fail "no project ref: set SUPABASE_PROJECT_REF in $ENV_FILE or pass --project-ref"
if [[ $DRY_RUN == 0 && -z "${SUPABASE_ACCESS_TOKEN:-}" ]]; then
  fail "SUPABASE_ACCESS_TOKEN is not set; create one at https://supabase.com/dashboard/account/tokens and export it"
fi

if [[ $SKIP_SECRETS == 1 ]]; then
  say "2/5 secrets: skipped (--skip-secrets)"
else
  say "2/5 syncing secrets to $PROJECT_REF"
  run_script scripts/sync_secrets.sh --env "$ENV_NAME" --env-file "$ENV_FILE" --project-ref "$PROJECT_REF" ${prod_flag[@]+"${prod_flag[@]}"}
fi

say "3/5 deploying the api function to $PROJECT_REF"
workdir=()
if [[ -n "$RELEASE_DIR" ]]; then
  passed=()
  [[ "$ENV_NAME" != prod ]] || passed=(--passed staging)
  # only reads: it runs under --dry-run too, so a plan for a release that may not go out fails like the real run
  node --import tsx scripts/release.ts verify --dir "$RELEASE_DIR" --commit "$(git rev-parse HEAD)" ${passed[@]+"${passed[@]}"} >&2 \
    || fail "the release in $RELEASE_DIR may not be deployed to $ENV_NAME (see above); nothing was deployed"
  bundle_dir="$(mktemp -d)"
  trap 'rm -rf "$bundle_dir"' EXIT
  run tar --extract --file "$RELEASE_DIR/api-function.tar" --directory "$bundle_dir"
  workdir=(--workdir "$bundle_dir")
fi
run node_modules/.bin/supabase functions deploy api --project-ref "$PROJECT_REF" --use-api ${workdir[@]+"${workdir[@]}"} \
  || fail "supabase functions deploy failed (see above); the previously deployed version keeps serving"

if [[ -n "$RELAY_IMAGE" ]]; then
  say "4/5 building and pushing the outbox relay image $RELAY_IMAGE"
  [[ $DRY_RUN == 1 ]] || command -v docker >/dev/null || fail "docker is not installed; build the relay image on a machine (or CI runner) with Docker"
  run docker build --file workers/outbox-relay/Dockerfile --tag "$RELAY_IMAGE" --label "org.opencontainers.image.revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)" .
  run docker push "$RELAY_IMAGE"
  [[ $DRY_RUN == 1 ]] || say "pushed $RELAY_IMAGE; roll it out on the $ENV_NAME container host (README: Deploying → the outbox relay)"
else
  say "4/5 relay image: skipped (no --relay-image)"
fi

if [[ $SKIP_SMOKE == 1 ]]; then
  say "5/5 smoke check: skipped (--skip-smoke)"
else
  say "5/5 smoke check of https://$PROJECT_REF.supabase.co/functions/v1/api"
  run_script scripts/smoke.sh --env "$ENV_NAME" --env-file "$ENV_FILE" --base-url "https://$PROJECT_REF.supabase.co/functions/v1/api" \
    ${prod_flag[@]+"${prod_flag[@]}"} || fail "the deployed API failed its smoke check (see above); roll back with the runbook (docs/runbook.md)"
fi
[[ $DRY_RUN == 1 ]] || say "the API is deployed to $ENV_NAME ($PROJECT_REF)"
