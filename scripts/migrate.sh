#!/usr/bin/env bash
# Applies, inspects and rolls back the database schema with the real Supabase CLI, so local, CI and the
# Supabase projects share one ledger (supabase_migrations.schema_migrations).
set -euo pipefail

usage() {
  cat <<'TXT'
Usage: scripts/migrate.sh <command> [--db-url URL] [--dry-run]

Commands:
  up        apply pending migrations in supabase/migrations (each in its own transaction)
  status    list migrations applied locally vs on the database
  dry-run   print the migrations `up` would apply, change nothing
  down      roll back the newest applied migration with supabase/rollbacks/<same file name>
            (script and ledger row in one transaction); repeat to go further back
  seed      load supabase/seed.sql (demo data; refused unless APP_ENV is local or test)

Target: --db-url, else DATABASE_URL, else the DB_* variables (environment or .env).
On a plain PostgreSQL (no supabase_admin role) the compat bootstrap supabase/bootstrap/plain-postgres.sql
is applied first; it is never applied to a Supabase project.
  --dry-run   print what would run and change nothing (for up, same as the dry-run command)
TXT
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SUPABASE="$ROOT/node_modules/.bin/supabase"

say() { printf 'migrate: %s\n' "$*" >&2; }
fail() { printf 'migrate: error: %s\n' "$*" >&2; exit 1; }

command="${1:-}"
[[ -z "$command" || "$command" == "--help" || "$command" == "-h" ]] && { usage; exit 0; }
shift
DB_URL="${DATABASE_URL:-}"
DRY_RUN=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --db-url) DB_URL="${2:?--db-url needs a value}"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done

[[ -x "$SUPABASE" ]] || fail "the Supabase CLI is not installed; run 'npm ci' in $ROOT first"
command -v psql >/dev/null || fail "psql is not installed; install it (Debian: apt-get install postgresql-client-15; Homebrew: brew install libpq)"
[[ -n "$DB_URL" ]] || DB_URL="$(node --import tsx scripts/lib/print-db-url.ts)"
# The URL carries credentials: show only host, port and database.
DB_LABEL="$(sed -E 's#^[a-z]+://([^@/]*@)?([^/?]*)/?([^?]*).*#\2/\3#' <<<"$DB_URL")"

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
  elif [[ $DRY_RUN == 1 ]]; then
    say "would apply the compat bootstrap (plain PostgreSQL)"
  else
    say "target is plain PostgreSQL: applying compat bootstrap"
    psql_db -1 -f supabase/bootstrap/plain-postgres.sql >/dev/null
  fi
}

# The CLI rejects URLs without an explicit sslmode on servers without TLS; keep the caller's if given.
with_sslmode() { [[ "$DB_URL" == *sslmode=* ]] && echo "$DB_URL" || { [[ "$DB_URL" == *\?* ]] && echo "$DB_URL&sslmode=disable" || echo "$DB_URL?sslmode=disable"; }; }

newest_applied_version() {
  psql_db -tAc "select coalesce(max(version), '') from supabase_migrations.schema_migrations" 2>/dev/null || true
}

case "$command" in
  up)
    check_reachable
    if [[ $DRY_RUN == 1 ]]; then
      apply_bootstrap_if_plain
      say "dry run against $DB_LABEL"
      "$SUPABASE" db push --dry-run --db-url "$(with_sslmode)" --yes
      exit 0
    fi
    apply_bootstrap_if_plain
    say "applying pending migrations to $DB_LABEL"
    "$SUPABASE" db push --db-url "$(with_sslmode)" --yes || fail "a migration failed (see above); that migration was rolled back and the ledger does not record it"
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
    if [[ $DRY_RUN == 1 ]]; then say "would run ${rollbacks[0]} and remove $version from the ledger"; exit 0; fi
    say "rolling back $version with ${rollbacks[0]}"
    psql_db -1 -f "${rollbacks[0]}" \
      -c "delete from supabase_migrations.schema_migrations where version = '$version'" >/dev/null \
      || fail "rollback of $version failed (see above); nothing was changed"
    say "schema is at version $(newest_applied_version || echo none)"
    ;;
  seed)
    app_env="${APP_ENV:-local}"
    [[ "$app_env" == local || "$app_env" == test ]] || fail "refusing to load demo data into APP_ENV=$app_env"
    check_reachable
    if [[ $DRY_RUN == 1 ]]; then say "would load supabase/seed.sql into $DB_LABEL"; exit 0; fi
    say "loading demo data into $DB_LABEL"
    psql_db -1 -f supabase/seed.sql >/dev/null
    ;;
  *) fail "unknown command '$command' (see --help)" ;;
esac
