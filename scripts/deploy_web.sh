#!/usr/bin/env bash
# Ships a web app (city UI or admin console) to an environment, and takes it back.
#   vercel: vercel pull → vercel build → vercel deploy --prebuilt → promote; rollback to a named deployment.
#   static: each build in its own release folder, a `current` symlink switched atomically (rename(2)),
#           rollback to the previous release; for any web server that serves <releases-dir>/current.
set -euo pipefail
SCRIPT_NAME=deploy_web
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage:
  scripts/deploy_web.sh deploy   --env ENV --target vercel --app city|admin [--env-file FILE] [--no-promote]
  scripts/deploy_web.sh promote  --env ENV --target vercel --app city|admin --to DEPLOYMENT_URL
  scripts/deploy_web.sh rollback --env ENV --target vercel --app city|admin --to DEPLOYMENT_URL
  scripts/deploy_web.sh deploy   --env ENV --target static --build-dir DIR --releases-dir DIR [--keep N]
  scripts/deploy_web.sh rollback --env ENV --target static --releases-dir DIR [--to RELEASE]
  scripts/deploy_web.sh list     --target static --releases-dir DIR
Every command takes --dry-run (print the exact commands, change nothing) and, for prod, needs --yes-prod.

vercel (the pinned vercel@58.10.0 from node_modules; token in VERCEL_TOKEN, never on the command line):
  --app         which Vercel project: VERCEL_PROJECT_ID_CITY or VERCEL_PROJECT_ID_ADMIN, with VERCEL_ORG_ID,
                read from --env-file (default .env.<env> when it exists) or the environment
  environments  dev → preview, staging → the custom environment "staging", prod → production
                (--vercel-target NAME overrides, e.g. preview on a plan without custom environments)
  prod          deploys with --skip-domain, then promotes that deployment (--no-promote leaves it unpromoted;
                promote it later with `promote --to URL`)
  rollback      points production back at an earlier deployment (`vercel ls <project> --prod` lists them)
  --meta        KEY=VALUE on the deployment (repeatable), e.g. preview_branch=<name> for scripts/preview.sh
static:
  --build-dir     a finished build (must contain index.html), e.g. web/dist/city
  --releases-dir  where releases/<id>/ and the `current` link live, e.g. /srv/microdao/city
  --keep          releases to keep (default 5; the current and the previous one are never removed)
  --to            a release id from `list` (default for rollback: the release before the current one)
TXT
}

command="${1:-}"
[[ -z "$command" || "$command" == -h || "$command" == --help ]] && { usage; exit 0; }
shift
ENV_NAME=""; TARGET=""; APP=""; ENV_FILE=""; BUILD_DIR=""; RELEASES_DIR=""; KEEP=5; TO=""; YES_PROD=0; PROMOTE=1; VERCEL_TARGET_OVERRIDE=""
META=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --target) TARGET="${2:-}"; shift 2 || usage_error "--target needs a value" ;;
    --app) APP="${2:-}"; shift 2 || usage_error "--app needs a value" ;;
    --build-dir) BUILD_DIR="${2:-}"; shift 2 || usage_error "--build-dir needs a value" ;;
    --releases-dir) RELEASES_DIR="${2:-}"; shift 2 || usage_error "--releases-dir needs a value" ;;
    --keep) KEEP="${2:-}"; shift 2 || usage_error "--keep needs a number" ;;
    --to) TO="${2:-}"; shift 2 || usage_error "--to needs a value" ;;
    --vercel-target) VERCEL_TARGET_OVERRIDE="${2:-}"; shift 2 || usage_error "--vercel-target needs a value" ;;
    --no-promote) PROMOTE=0; shift ;;
    --meta) META+=("--meta" "${2:-}"); shift 2 || usage_error "--meta needs KEY=VALUE" ;;
    *) common_flag "$@"; shift "$FLAG_ARGS" ;;
  esac
done
case "$TARGET" in
  vercel|static) ;;
  "") usage_error "--target is required: vercel or static" ;;
  *) usage_error "--target must be vercel or static, not '$TARGET'" ;;
esac
case "$TARGET:$command" in
  vercel:deploy|vercel:promote|vercel:rollback|static:deploy|static:rollback|static:list) ;;
  *) usage_error "'$command' is not a $TARGET command (vercel: deploy, promote, rollback; static: deploy, rollback, list)" ;;
esac
[[ "$command" == list ]] || require_env "$ENV_NAME"
ENV_FILE="$(absolute_path "$ENV_FILE")"
[[ "$command" == list ]] || require_prod_confirmation "$ENV_NAME" "$YES_PROD" "$command the $TARGET web"

# --- static -------------------------------------------------------------------------------------------------
# Release ids are <sequence>-<UTC time>-<commit>, so name order is deploy order. A release taken back by a rollback is
# renamed <id>.rolled-back: kept for a look, never a rollback target again, pruned first.
release_dirs() {
  local dir
  for dir in "$RELEASES_DIR"/releases/*/; do
    dir="${dir%/}"
    if [[ -d "$dir" && "$dir" != *.partial ]]; then printf '%s\n' "${dir##*/}"; fi
  done | sort
}
release_ids() { release_dirs | grep -v '\.rolled-back$' || true; }
current_release() { local link; link="$(readlink "$RELEASES_DIR/current" 2>/dev/null)" || return 0; basename "$link"; }

# ln -s to a temporary name, then rename(2) over `current`: readers see the old or the new release, never none.
switch_current() {
  local id="$1"
  run ln -sfn "releases/$id" "$RELEASES_DIR/current.next"
  run mv -T "$RELEASES_DIR/current.next" "$RELEASES_DIR/current"
  [[ $DRY_RUN == 1 ]] || say "current → releases/$id"
}

static_deploy() {
  [[ -n "$BUILD_DIR" ]] || usage_error "--build-dir is required for a static deploy"
  [[ -d "$BUILD_DIR" ]] || fail "the build directory $BUILD_DIR does not exist; build first (scripts/build_web.sh --app <app>)"
  [[ -f "$BUILD_DIR/index.html" ]] || fail "$BUILD_DIR has no index.html; is it the output of a finished build?"
  [[ "$KEEP" =~ ^[0-9]+$ && "$KEEP" -ge 2 ]] || usage_error "--keep must be a number of releases, at least 2 (to keep one to roll back to)"
  local sha id last seq
  sha="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo nogit)"
  last="$(release_dirs | tail -n 1)"
  if [[ -n "$last" ]]; then seq=$((10#${last%%-*} + 1)); else seq=1; fi
  id="$(printf '%04d' "$seq")-$(date -u +%Y%m%dT%H%M%SZ)-$sha"
  say "deploying $BUILD_DIR as release $id in $RELEASES_DIR ($ENV_NAME)"
  run mkdir -p "$RELEASES_DIR/releases/$id.partial"
  run cp -R "$BUILD_DIR/." "$RELEASES_DIR/releases/$id.partial/"
  run mv -T "$RELEASES_DIR/releases/$id.partial" "$RELEASES_DIR/releases/$id"
  switch_current "$id"
  prune_releases "$id"
}

prune_releases() {
  local current="$1" previous="" id
  previous="$(release_ids | grep -Fxv -- "$current" | tail -n 1 || true)"
  local excess=$(($(release_dirs | wc -l) - KEEP))
  while IFS= read -r id && [[ $excess -gt 0 ]]; do
    [[ "$id" == "$current" || "$id" == "$previous" ]] && continue
    say "removing old release $id (keeping $KEEP)"
    run rm -rf "$RELEASES_DIR/releases/$id"
    excess=$((excess - 1))
  done < <(release_dirs | grep '\.rolled-back$' || true; release_ids)
}

static_rollback() {
  local current target
  current="$(current_release)"
  [[ -n "$current" ]] || fail "$RELEASES_DIR/current does not exist: nothing has been deployed there, so there is nothing to roll back"
  if [[ -n "$TO" ]]; then
    target="$TO"
    [[ -d "$RELEASES_DIR/releases/$target" ]] || fail "there is no release '$target' in $RELEASES_DIR (see: scripts/deploy_web.sh list --target static --releases-dir $RELEASES_DIR)"
  else
    target="$(release_ids | awk -v cur="$current" '$0 < cur' | tail -n 1)"
    [[ -n "$target" ]] || fail "release $current is the oldest one in $RELEASES_DIR; there is no earlier release to roll back to"
  fi
  [[ "$target" != "$current" ]] || fail "release $target is already current"
  say "rolling back $RELEASES_DIR ($ENV_NAME) from $current to $target"
  switch_current "$target"
  run mv -T "$RELEASES_DIR/releases/$current" "$RELEASES_DIR/releases/$current.rolled-back"
}

static_list() {
  local current id
  current="$(current_release)"
  while IFS= read -r id; do
    [[ -n "$id" ]] || continue
    if [[ "$id" == "$current" ]]; then printf '%s  (current)\n' "$id"; else printf '%s\n' "$id"; fi
  done < <(release_dirs)
}

# --- vercel -------------------------------------------------------------------------------------------------
VERCEL="node_modules/.bin/vercel"
VERCEL_PINNED=58.10.0

vercel_setup() {
  cd "$ROOT"
  case "$APP" in
    city|admin) ;;
    "") usage_error "--app is required for vercel: city or admin" ;;
    *) usage_error "--app must be city or admin, not '$APP'" ;;
  esac
  local version
  version="$(node -p "require('./node_modules/vercel/package.json').version" 2>/dev/null || true)"
  [[ "$version" == "$VERCEL_PINNED" ]] || fail "node_modules holds vercel ${version:-nothing}, not the pinned $VERCEL_PINNED; run 'npm ci'"
  [[ -n "$ENV_FILE" || ! -f ".env.$ENV_NAME" ]] || ENV_FILE="$ROOT/.env.$ENV_NAME"
  [[ -z "$ENV_FILE" ]] || require_file "$ENV_FILE" "$ENV_FILE does not exist; pass the $ENV_NAME env file"
  local project_var values
  project_var="VERCEL_PROJECT_ID_$(tr '[:lower:]' '[:upper:]' <<<"$APP")"
  values="$(config_values "$ENV_FILE" VERCEL_ORG_ID "$project_var")"
  VERCEL_ORG_ID="$(sed -n 1p <<<"$values")"
  VERCEL_PROJECT_ID="$(sed -n 2p <<<"$values")"
  [[ -n "$VERCEL_ORG_ID" ]] || fail "VERCEL_ORG_ID is not set (in ${ENV_FILE:-the environment}); copy it from the Vercel team settings"
  [[ -n "$VERCEL_PROJECT_ID" ]] || fail "$project_var is not set (in ${ENV_FILE:-the environment}); copy it from the $APP project's settings"
  export VERCEL_ORG_ID VERCEL_PROJECT_ID VERCEL_TELEMETRY_DISABLED=1
  if [[ $DRY_RUN == 0 && -z "${VERCEL_TOKEN:-}" ]]; then
    fail "VERCEL_TOKEN is not set; create a token at https://vercel.com/account/tokens and export it (the CLI reads it from the environment)"
  fi
  case "${VERCEL_TARGET_OVERRIDE:-$ENV_NAME}" in
    dev|preview) VERCEL_ENVIRONMENT=preview; TARGET_FLAGS=() ;;
    prod|production) VERCEL_ENVIRONMENT=production; TARGET_FLAGS=(--prod) ;;
    staging) VERCEL_ENVIRONMENT=staging; TARGET_FLAGS=(--target=staging) ;;
    *) VERCEL_ENVIRONMENT="$VERCEL_TARGET_OVERRIDE"; TARGET_FLAGS=(--target="$VERCEL_TARGET_OVERRIDE") ;;
  esac
  # vercel.json's buildCommand builds the app named by WEB_APP; set it here too, so a project that lacks the
  # variable still builds the app this command was asked for
  export WEB_APP="$APP"
  say "Vercel project $VERCEL_PROJECT_ID ($APP), environment $VERCEL_ENVIRONMENT"
}

vercel_deploy() {
  vercel_setup
  run "$VERCEL" pull --yes --environment="$VERCEL_ENVIRONMENT"
  run "$VERCEL" build "${TARGET_FLAGS[@]}"
  local -a deploy_flags=("${TARGET_FLAGS[@]}" ${META[@]+"${META[@]}"})
  [[ "$VERCEL_ENVIRONMENT" == production ]] && deploy_flags+=(--skip-domain)
  if [[ $DRY_RUN == 1 ]]; then
    run "$VERCEL" deploy --prebuilt "${deploy_flags[@]}"
    [[ "$VERCEL_ENVIRONMENT" == production && $PROMOTE == 1 ]] && run "$VERCEL" promote "<url printed by vercel deploy>" --yes
    return 0
  fi
  local url
  url="$(run "$VERCEL" deploy --prebuilt "${deploy_flags[@]}" | tail -n 1)" || fail "vercel deploy failed (its message is above); nothing was promoted"
  [[ "$url" == https://* ]] || fail "vercel deploy did not print a deployment URL (got '$url'); see its output above"
  say "deployed $url"
  if [[ "$VERCEL_ENVIRONMENT" == production ]]; then
    if [[ $PROMOTE == 1 ]]; then
      run "$VERCEL" promote "$url" --yes
      say "$url now serves production; to undo: scripts/deploy_web.sh rollback --env $ENV_NAME --target vercel --app $APP --to <previous deployment URL> --yes-prod"
    else
      say "not promoted; promote with: scripts/deploy_web.sh promote --env $ENV_NAME --target vercel --app $APP --to $url --yes-prod"
    fi
  fi
  printf '%s\n' "$url"
}

vercel_promote_or_rollback() {
  [[ -n "$TO" ]] || usage_error "--to DEPLOYMENT_URL is required (list deployments with: npx vercel ls <project> --prod)"
  vercel_setup
  run "$VERCEL" "$command" "$TO" --yes
}

case "$TARGET:$command" in
  static:deploy|static:rollback|static:list)
    [[ -n "$RELEASES_DIR" ]] || usage_error "--releases-dir is required for the static target"
    "static_$command"
    ;;
  vercel:deploy) vercel_deploy ;;
  vercel:promote|vercel:rollback) vercel_promote_or_rollback ;;
esac
