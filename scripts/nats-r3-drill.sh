#!/usr/bin/env bash
# NATS leader-loss drill: the event stream with production settings (R3) on a three-node local cluster, its
# leader killed while events are published the way the relay publishes them: 0 lost, 0 duplicated, order kept.
set -euo pipefail
SCRIPT_NAME=nats-r3-drill
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/nats-r3-drill.sh [--events N] [--dry-run]

  Runs in a temporary folder on free ports (never touches the shared NATS): three nats-servers in one
  JetStream cluster, the event stream created from the catalog with the prod settings (3 replicas, the prod
  duplicate window), N events (default 600) over 10 aggregates published with Nats-Msg-Id = event id, each
  aggregate's next event only after the previous was acknowledged and a failed publish retried with the same
  id. After a third of them the stream leader gets SIGKILL. Prints JSON: stored, lost, duplicated, out of
  order, the old and new leader, retries, the longest wait for an acknowledgement.
  --dry-run  print the plan; run nothing
Needs nats-server (scripts/setup.sh installs it).
Exit: 0 nothing lost, duplicated or reordered; 1 otherwise or a step failed; 2 wrong usage.
TXT
}

for arg in "$@"; do [[ "$arg" == -h || "$arg" == --help ]] && { usage; exit 0; }; done
command -v nats-server >/dev/null || fail "nats-server is not installed: run scripts/setup.sh"
cd "$ROOT"
exec node --import tsx scripts/lib/recovery/nats-r3-drill.ts -- "$@"
