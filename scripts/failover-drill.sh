#!/usr/bin/env bash
# Failover drill: a streaming replica (pg_basebackup -R) promoted after its primary is killed mid-write;
# measures acknowledged commits lost (the RPO of asynchronous replication; 0 with --sync) and the RTO.
set -euo pipefail
SCRIPT_NAME=failover-drill
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/failover-drill.sh [--sync] [--write-ms MS] [--dry-run]

  Runs in a temporary folder on free ports (never touches the shared Postgres): a private primary, a streaming
  replica made with pg_basebackup -R -X stream, one writer committing inserts for --write-ms (default 1500),
  the primary stopped with -m immediate (a crash), the replica promoted. Prints JSON: commits the primary
  acknowledged, how many the promoted replica holds, lost, and the RTO (kill → first write accepted).
  --sync     synchronous replication (synchronous_standby_names): lost must be 0, else the drill fails
  --dry-run  print the plan; run nothing
Needs the PostgreSQL 15 server binaries; as root, the clusters run as the postgres user.
Exit: 0 passed; 1 failed (the sentence says why); 2 wrong usage.
TXT
}

for arg in "$@"; do [[ "$arg" == -h || "$arg" == --help ]] && { usage; exit 0; }; done
cd "$ROOT"
exec node --import tsx scripts/lib/recovery/failover-drill.ts -- "$@"
