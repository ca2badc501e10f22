#!/usr/bin/env bash
# The restore drill: a backup restored into a fresh temporary cluster, verified against its manifest, served by
# the gateway passing the smoke check, reported (Markdown + JSON) with the measured RTO and RPO, torn down.
set -euo pipefail
SCRIPT_NAME=restore-drill
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/restore-drill.sh [--env ENV] [--backup FILE.dump | --backup-dir DIR] [--target-url URL]
                                [--report-dir DIR] [--skip-smoke] [--dry-run]

  --env         whose backup to restore (default local); picks the newest <env>-*.dump in --backup-dir
  --backup      a dump written by scripts/backup.sh (its .manifest.json must sit beside it)
  --backup-dir  where to look for the newest backup (default .local/backups/<env>)
  --target-url  restore into this EMPTY database instead of a temporary cluster (the runbook's "new
                cluster" path); refused when it holds any table. Without it: initdb on a free port as the
                postgres user, removed at the end.
  --report-dir  where the report goes (default .local/drills): restore-drill-<env>-<time>.md and .json
  --skip-smoke  verify the data only; do not start a gateway (the report then has no service RTO)
  --dry-run     print the plan; create nothing

Before anything is created the backup is checked: manifest present, sha256 equal (a corrupt or truncated dump
fails here), readable by pg_restore --list, and not from a newer schema than this checkout. pg_restore runs
in one transaction, so a failed restore leaves the target as it was. The gateway runs under Deno with
APP_ENV=test and throwaway secrets against the restored database; NATS_URL and REDIS_URL default to the local
servers. Needs the PostgreSQL 15 server binaries (initdb) and, as root, the postgres user.
Exit: 0 the drill passed; 1 it failed (the report says where); 2 wrong usage.
TXT
}

for arg in "$@"; do [[ "$arg" == -h || "$arg" == --help ]] && { usage; exit 0; }; done
cd "$ROOT"
command -v pg_restore >/dev/null || fail "pg_restore is not installed (Debian: apt-get install postgresql-client-15)"
RECOVERY_CALLER_PWD="$CALLER_PWD" exec node --import tsx scripts/lib/recovery/restore-drill.ts -- "$@"
