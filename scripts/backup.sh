#!/usr/bin/env bash
# A logical backup of an environment's database with its manifest (what a restore must contain), read back
# before it counts, then retention; or --check-supabase: the project's own daily backups and PITR are healthy.
set -euo pipefail
SCRIPT_NAME=backup
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/backup.sh --env ENV [--env-file FILE] [--db-url URL] [--out-dir DIR] [--keep N]
                         [--max-age-days D] [--dry-run]
       scripts/backup.sh --env ENV --check-supabase [--project-ref REF] [--backups-json FILE]
                         [--max-backup-age-hours H] [--pitr-optional] [--dry-run]

Backup (default):
  pg_dump --format=custom of the database, taken from the same snapshot as its manifest
  (<env>-<UTC time>.manifest.json: migration version, row counts and checksums of every table in public,
  app, auth and supabase_migrations, tables with RLS, roles, size, sha256, duration); verified with
  pg_restore --list before it counts. The password goes to pg_dump in PGPASSWORD (or ~/.pgpass), never on
  the command line. Over a Supabase project use its direct connection (db.<ref>.supabase.co:5432) or the
  session pooler; the transaction pooler cannot hold the exported snapshot.
  --env           local | test | dev | staging | prod
  --env-file      read DB_* from FILE (default .env for local/test, .env.<env> otherwise)
  --db-url        the database URL (else DATABASE_URL, else DB_*)
  --out-dir       where dumps go (default .local/backups/<env>, mode 700)
  --keep          keep the newest N dumps (default 7)
  --max-age-days  delete dumps older than D days, except the newest (default 30)
  --dry-run       print the plan; connect to nothing, write nothing

--check-supabase: `supabase backups list -o json` (pinned CLI; needs SUPABASE_ACCESS_TOKEN) and fail when
  point-in-time recovery is off or the newest completed backup is older than --max-backup-age-hours
  (default 26). --backups-json reads a saved listing instead (tests, offline review); --pitr-optional for
  projects without the PITR add-on (dev).
Exit: 0 done; 1 failed (the sentence says why); 2 wrong usage.
TXT
}

for arg in "$@"; do [[ "$arg" == -h || "$arg" == --help ]] && { usage; exit 0; }; done
umask 077 # dumps and manifests hold every user's data
cd "$ROOT"
command -v pg_dump >/dev/null || fail "pg_dump is not installed; install the client matching the server (Debian: apt-get install postgresql-client-15)"
RECOVERY_CALLER_PWD="$CALLER_PWD" exec node --import tsx scripts/lib/recovery/backup.ts -- "$@"
