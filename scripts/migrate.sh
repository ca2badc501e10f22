#!/usr/bin/env bash
# Applies, inspects and rolls back the database schema with the real Supabase CLI, so local, CI and the
# Supabase projects share one ledger (supabase_migrations.schema_migrations). In prod it backs up first.
set -euo pipefail
SCRIPT_NAME=migrate
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/migrate.sh <command> [--env ENV] [--env-file FILE] [--db-url URL] [--backup-dir DIR] [--backup]
                          [--dry-run] [--yes-prod]

Commands:
  up        apply pending migrations in supabase/migrations (each in its own transaction)
  status    list migrations applied locally vs on the database
  dry-run   print the migrations `up` would apply, change nothing
  down      roll back the newest applied migration with supabase/rollbacks/<same file name>
            (script and ledger row in one transaction); repeat to go further back
  seed      load supabase/seed.sql (demo data; refused unless the environment is local or test)
  backup    pg_dump the database (custom format) into the backup directory and verify the archive

Options:
  --env         local | test | dev | staging | prod (default: APP_ENV, else local). In prod, `up` and `down`
                take a backup first and need --yes-prod.
  --env-file    read the DB_* variables from FILE (default: .env for local/test, .env.<env> otherwise,
                when it exists; else the environment). The file must be valid for --env (scripts/env-check).
  --db-url      target database URL (else DATABASE_URL, else the DB_* variables)
  --backup-dir  where backups go (default: .local/backups); one <env>-<UTC time>.dump per backup
  --backup      back up before `up`/`down` in any environment (always done in prod, where a backup of the
                same database taken by `backup` in the last 30 minutes counts; --backup forces a new one)
  --dry-run     print the exact commands `up`/`down`/`seed`/`backup` would run (credentials masked) and the
                pending migrations; change nothing
  --yes-prod    confirm that `up`, `down` or `backup` may touch prod

On a plain PostgreSQL (no supabase_admin role) the compat bootstrap supabase/bootstrap/plain-postgres.sql
is applied first; it is never applied to a Supabase project.
TXT
}

SUPABASE="node_modules/.bin/supabase"

command="${1:-}"
[[ -z "$command" || "$command" == "--help" || "$command" == "-h" ]] && { usage; exit 0; }
shift
DB_URL="${DATABASE_URL:-}"
ENV_NAME="${APP_ENV:-local}"
ENV_FILE=""
BACKUP_DIR="$ROOT/.local/backups"
FORCE_BACKUP=0
YES_PROD=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --db-url) DB_URL="${2:?--db-url needs a value}"; shift 2 ;;
    --env) ENV_NAME="${2:?--env needs a value}"; shift 2 ;;
    --env-file) ENV_FILE="${2:?--env-file needs a value}"; shift 2 ;;
    --backup-dir) BACKUP_DIR="${2:?--backup-dir needs a value}"; shift 2 ;;
    --backup) FORCE_BACKUP=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --yes-prod) YES_PROD=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done
require_env "$ENV_NAME" "local test $ENVIRONMENTS"
ENV_FILE="$(absolute_path "$ENV_FILE")"
BACKUP_DIR="$(absolute_path "$BACKUP_DIR")"

case "$command" in
  up|down|backup) require_prod_confirmation "$ENV_NAME" "$YES_PROD" "run '$command'" ;;
  status|dry-run|seed) ;;
  *) fail "unknown command '$command' (see --help)" ;;
esac

cd "$ROOT"
[[ -x "$SUPABASE" ]] || fail "the Supabase CLI is not installed; run 'npm ci' in $ROOT first"
command -v psql >/dev/null || fail "psql is not installed; install it (Debian: apt-get install postgresql-client-15; Homebrew: brew install libpq)"
if [[ -z "$DB_URL" ]]; then
  if [[ -z "$ENV_FILE" ]]; then
    if [[ "$ENV_NAME" == local || "$ENV_NAME" == test ]]; then ENV_FILE=.env; else ENV_FILE=".env.$ENV_NAME"; fi
  else
    require_file "$ENV_FILE" "$ENV_FILE does not exist; pass the $ENV_NAME env file, or --db-url"
  fi
  DB_URL="$(APP_ENV="$ENV_NAME" ENV_FILE="$ENV_FILE" node --import tsx scripts/lib/print-db-url.ts)" \
    || fail "the $ENV_NAME configuration is not valid (see above); fix it or pass --db-url"
fi
# The URL carries credentials: show only host, port and database.
DB_LABEL="$(sed -E 's#^[a-z]+://([^@/]*@)?([^/?]*)/?([^?]*).*#\2/\3#' <<<"$DB_URL")"
# Keep the password off every command line (any user of the host sees arguments in ps): psql, pg_dump and the
# Supabase CLI (pgx) read PGPASSWORD. The URL is handed to node through the environment, not as an argument.
if [[ "$DB_URL" =~ ^[a-z]+://[^@/]*:[^@/]*@ ]]; then
  split="$(DB_URL="$DB_URL" node -e '
    const url = new URL(process.env.DB_URL);
    const password = decodeURIComponent(url.password);
    url.password = "";
    process.stdout.write(url.toString() + "\n" + password);')"
  DB_URL="${split%%$'\n'*}"
  export PGPASSWORD="${split#*$'\n'}"
  unset split
fi

psql_db() { PGOPTIONS="-c client_min_messages=warning" psql "$DB_URL" -X -q -v ON_ERROR_STOP=1 "$@"; }

check_reachable() {
  local out
  if ! out="$(PGCONNECT_TIMEOUT=5 psql "$DB_URL" -X -tAc 'select 1' 2>&1)"; then
    fail "cannot reach the database at $DB_LABEL: ${out//$'\n'/ }. Is Postgres running and are the DB_* settings (or --db-url) right?"
  fi
}

is_supabase_project() {
  [[ "$(psql_db -tAc "select count(*) from pg_roles where rolname = 'supabase_admin'")" != "0" ]]
}

apply_bootstrap_if_plain() {
  if is_supabase_project; then
    say "target is a Supabase project: compat bootstrap skipped"
  else
    say "target is plain PostgreSQL: applying the compat bootstrap"
    run env PGOPTIONS="-c client_min_messages=warning" psql "$DB_URL" -X -q -v ON_ERROR_STOP=1 -1 -f supabase/bootstrap/plain-postgres.sql -o /dev/null
  fi
}

# The CLI rejects URLs without an explicit sslmode on servers without TLS; keep the caller's if given.
with_sslmode() { [[ "$DB_URL" == *sslmode=* ]] && echo "$DB_URL" || { [[ "$DB_URL" == *\?* ]] && echo "$DB_URL&sslmode=disable" || echo "$DB_URL?sslmode=disable"; }; }

newest_applied_version() {
  psql_db -tAc "select coalesce(max(version), '') from supabase_migrations.schema_migrations" 2>/dev/null || true
}

# pg_dump of the whole database into BACKUP_DIR, verified by listing the archive (seed §5.4 step 2).
take_backup() {
  local file
  umask 077 # the dump holds every user's data
  file="$BACKUP_DIR/$ENV_NAME-$(date -u +%Y%m%dT%H%M%SZ).dump"
  command -v pg_dump >/dev/null || fail "pg_dump is not installed; install the client matching the server (Debian: apt-get install postgresql-client-15)"
  say "backing up $DB_LABEL to $file"
  run mkdir -p "$BACKUP_DIR"
  run pg_dump --format=custom --no-owner --file "$file" "$DB_URL" || {
    rm -f "$file"
    fail "the backup failed (pg_dump's message is above), so nothing was changed. If it says 'server version mismatch', install the postgresql-client of the server's major version."
  }
  run pg_restore --list "$file" -f /dev/null || fail "the backup $file cannot be read back, so nothing was changed"
  [[ $DRY_RUN == 1 ]] && return 0
  chmod 600 "$file"
  printf '%s\t%s\t%s\n' "$(date +%s)" "$DB_LABEL" "$file" >"$BACKUP_DIR/.last-$ENV_NAME"
  say "backup written: $file ($(du -h "$file" | cut -f1))"
}

# `backup` then `up` (as the deploy workflow runs them) dumps once: a backup of the same database taken
# in the last BACKUP_REUSE_MINUTES by this script counts as the one `up` takes first.
BACKUP_REUSE_MINUTES=30
fresh_backup() {
  local marker="$BACKUP_DIR/.last-$ENV_NAME" taken label file
  [[ $FORCE_BACKUP == 0 && -f "$marker" ]] || return 1
  IFS=$'\t' read -r taken label file <"$marker" || return 1
  [[ "$label" == "$DB_LABEL" && -f "$file" && $(($(date +%s) - taken)) -lt $((BACKUP_REUSE_MINUTES * 60)) ]] || return 1
  say "using the backup taken $((($(date +%s) - taken) / 60)) min ago: $file"
}

back_up_first() {
  [[ "$ENV_NAME" == prod || $FORCE_BACKUP == 1 ]] || return 0
  fresh_backup || take_backup
}

case "$command" in
  up)
    check_reachable
    back_up_first
    apply_bootstrap_if_plain
    if [[ $DRY_RUN == 1 ]]; then
      say "dry run against $DB_LABEL ($ENV_NAME); pending migrations:"
      "$SUPABASE" db push --dry-run --db-url "$(with_sslmode)" --yes
      run "$SUPABASE" db push --db-url "$(with_sslmode)" --yes
      exit 0
    fi
    say "applying pending migrations to $DB_LABEL ($ENV_NAME)"
    run "$SUPABASE" db push --db-url "$(with_sslmode)" --yes || fail "a migration failed (see above); that migration was rolled back and the ledger does not record it"
    say "schema is at version $(newest_applied_version)"
    ;;
  dry-run)
    check_reachable
    DRY_RUN=1 apply_bootstrap_if_plain
    "$SUPABASE" db push --dry-run --db-url "$(with_sslmode)" --yes
    ;;
  status)
    check_reachable
    "$SUPABASE" migration list --db-url "$(with_sslmode)"
    ;;
  down)
    check_reachable
    version="$(newest_applied_version)"
    [[ -n "$version" ]] || fail "no applied migration to roll back on $DB_LABEL"
    shopt -s nullglob
    rollbacks=(supabase/rollbacks/"${version}"_*.sql)
    [[ ${#rollbacks[@]} -eq 1 ]] || fail "no rollback script supabase/rollbacks/${version}_*.sql for applied migration $version"
    back_up_first
    say "rolling back $version with ${rollbacks[0]}"
    run env PGOPTIONS="-c client_min_messages=warning" psql "$DB_URL" -X -q -v ON_ERROR_STOP=1 -1 -f "${rollbacks[0]}" \
      -c "delete from supabase_migrations.schema_migrations where version = '$version'" -o /dev/null \
      || fail "rollback of $version failed (see above); nothing was changed"
    [[ $DRY_RUN == 1 ]] || say "schema is at version $(newest_applied_version || echo none)"
    ;;
  seed)
    [[ "$ENV_NAME" == local || "$ENV_NAME" == test ]] || fail "refusing to load demo data into the $ENV_NAME environment (local and test only)"
    check_reachable
    say "loading demo data into $DB_LABEL"
    run env PGOPTIONS="-c client_min_messages=warning" psql "$DB_URL" -X -q -v ON_ERROR_STOP=1 -1 -f supabase/seed.sql -o /dev/null
    ;;
  backup)
    check_reachable
    take_backup
    ;;
esac
