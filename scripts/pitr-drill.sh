#!/usr/bin/env bash
# Point-in-time recovery proven locally with pgBackRest: WAL archiving on a private cluster, a full backup,
# marker rows around a target time, a NEW cluster restored to that time holding the first marker only.
set -euo pipefail
SCRIPT_NAME=pitr-drill
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/pitr-drill.sh [--keep-dir] [--dry-run]

  Runs entirely in a temporary folder on free ports (never touches the shared Postgres): initdb a private
  cluster with archive_mode=on and archive_command = pgbackrest archive-push, stanza-create, a full backup,
  marker rows before and after a target time, then pgbackrest restore --type=time into a new cluster, which
  must hold the row written before the target and not the one after. Prints the result as JSON.
  --keep-dir  keep the folder (clusters stopped, repository and logs kept) for a look afterwards
  --dry-run   print the plan; run nothing
Needs pgBackRest (scripts/setup.sh --for test installs it; Debian: apt-get install pgbackrest) and the
PostgreSQL 15 server binaries; as root, the clusters and pgBackRest run as the postgres user.
For a Supabase project the same cut is `supabase backups restore --timestamp` (see docs/recovery.md).
Exit: 0 the cut held; 1 it did not, or a step failed; 2 wrong usage.
TXT
}

for arg in "$@"; do [[ "$arg" == -h || "$arg" == --help ]] && { usage; exit 0; }; done
command -v pgbackrest >/dev/null || fail "pgBackRest is not installed: run scripts/setup.sh --for test (Debian: apt-get install pgbackrest)"
cd "$ROOT"
exec node --import tsx scripts/lib/recovery/pitr-drill.ts -- "$@"
