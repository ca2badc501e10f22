#!/usr/bin/env bash
# Point-in-time restore of a Supabase project with the pinned CLI (`supabase backups restore --timestamp`),
# behind guards: the project's ref typed twice, a timestamp inside the PITR window and not in the future,
# --yes-prod in prod, and --dry-run to review. It restores the project IN PLACE: take a logical backup first.
set -euo pipefail
SCRIPT_NAME=supabase-pitr-restore
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/supabase-pitr-restore.sh --env ENV --project-ref REF --confirm-project REF --timestamp TIME
                                        [--max-days N] [--dry-run] [--yes-prod]

  --env              dev | staging | prod
  --project-ref      the project to restore (also SUPABASE_PROJECT_REF)
  --confirm-project  the same ref again, typed by the person running it (guards against the wrong project)
  --timestamp        the recovery target: UTC ISO time (2026-12-04T10:15:00Z) or seconds since the epoch
  --max-days         refuse targets older than N days (default 7, the shortest PITR window)
  --dry-run          print the command; restore nothing
  --yes-prod         required in prod (unless --dry-run)
The restore replaces the project's database with its state at TIME: every write after it is lost. First
take a logical backup (scripts/backup.sh --env ENV); see docs/recovery.md. Needs SUPABASE_ACCESS_TOKEN.
Exit: 0 restore requested (or planned); 1 refused or failed; 2 wrong usage.
TXT
}

ENV_NAME=""; REF="${SUPABASE_PROJECT_REF:-}"; CONFIRM=""; TIMESTAMP=""; MAX_DAYS=7; YES_PROD=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --env) ENV_NAME="${2:-}"; shift 2 || usage_error "--env needs a value" ;;
    --project-ref) REF="${2:-}"; shift 2 || usage_error "--project-ref needs a value" ;;
    --confirm-project) CONFIRM="${2:-}"; shift 2 || usage_error "--confirm-project needs a value" ;;
    --timestamp) TIMESTAMP="${2:-}"; shift 2 || usage_error "--timestamp needs a value" ;;
    --max-days) MAX_DAYS="${2:-}"; shift 2 || usage_error "--max-days needs a value" ;;
    --dry-run) DRY_RUN=1; shift ;;
    --yes-prod) YES_PROD=1; shift ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done
require_env "$ENV_NAME"
[[ "$REF" =~ ^[a-z]{20}$ ]] || usage_error "--project-ref must be the project's 20-letter ref"
[[ "$CONFIRM" == "$REF" ]] || fail "--confirm-project does not match --project-ref ($REF): type the ref of the project you mean to restore"
[[ "$MAX_DAYS" =~ ^[0-9]+$ ]] || usage_error "--max-days must be a whole number"
if [[ "$TIMESTAMP" =~ ^[0-9]+$ ]]; then epoch="$TIMESTAMP"
else epoch="$(date -u -d "$TIMESTAMP" +%s 2>/dev/null)" || usage_error "--timestamp '$TIMESTAMP' is neither an ISO time nor seconds since the epoch"
fi
now="$(date -u +%s)"
(( epoch <= now )) || fail "the target $(date -u -d "@$epoch" +%FT%TZ) is in the future"
(( now - epoch <= MAX_DAYS * 86400 )) || fail "the target $(date -u -d "@$epoch" +%FT%TZ) is older than $MAX_DAYS days, outside the PITR window; restore a logical backup instead (docs/recovery.md)"
require_prod_confirmation "$ENV_NAME" "$YES_PROD" "restore the $ENV_NAME database to $(date -u -d "@$epoch" +%FT%TZ)"
cd "$ROOT"
say "restoring project $REF ($ENV_NAME) to $(date -u -d "@$epoch" +%FT%TZ): every write after it is lost"
[[ $DRY_RUN == 1 ]] || [[ -n "${SUPABASE_ACCESS_TOKEN:-}" ]] || fail "SUPABASE_ACCESS_TOKEN is not set: the Supabase CLI needs a personal access token"
run node_modules/.bin/supabase backups restore --project-ref "$REF" --timestamp "$epoch" --yes
