#!/usr/bin/env bash
# Rolls the workers out on Kubernetes, blue-green: each Deployment (deploy/k8s) starts the new version's pods
# beside the old ones (maxSurge 100 %, maxUnavailable 0), waits until they are ready (/readyz: NATS and
# Postgres connected), then the old pods get SIGTERM and hand their lanes and messages over. Lanes (relay) and
# durable consumers (NATS) make the overlap safe: tests/relay/handover.test.ts proves nothing is lost or
# duplicated. A rollout that does not become ready in time is undone.
set -euo pipefail
SCRIPT_NAME=rollout-workers
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/rollout-workers.sh deploy --env ENV --registry REGISTRY --tag TAG [--timeout 10m] [--dry-run] [--yes-prod]
       scripts/rollout-workers.sh undo   --env ENV [--dry-run] [--yes-prod]
       scripts/rollout-workers.sh status --env ENV

  deploy   kubectl set image deployment/<worker> <worker>=REGISTRY/microdao-<worker>:TAG (TAG may be @sha256:<digest>)
           for every worker of workers/images.ts in namespace microdao-ENV, then kubectl rollout status each;
           if one does not become ready within --timeout, every worker changed so far is rolled back (undo)
  undo     kubectl rollout undo for every worker (back to the previous version, blue-green again)
  status   kubectl rollout status and the images running
Needs kubectl with a context for the cluster (KUBECONFIG).
TXT
}

command="${1:-}"
[[ -z "$command" || "$command" == -h || "$command" == --help ]] && { usage; exit 0; }
shift
case "$command" in deploy|undo|status) ;; *) usage_error "unknown command '$command': deploy, undo or status" ;; esac
ENV_NAME=""; REGISTRY=""; TAG=""; TIMEOUT=10m; YES_PROD=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --registry) REGISTRY="${2:-}"; shift 2 || usage_error "--registry needs a value" ;;
    --tag) TAG="${2:-}"; shift 2 || usage_error "--tag needs a value" ;;
    --timeout) TIMEOUT="${2:-}"; shift 2 || usage_error "--timeout needs a value" ;;
    *) common_flag "$@"; shift "$FLAG_ARGS" ;;
  esac
done
require_env "$ENV_NAME"
[[ "$command" == status ]] || require_prod_confirmation "$ENV_NAME" "$YES_PROD" "roll the workers out"
if [[ "$command" == deploy ]]; then
  [[ -n "$REGISTRY" ]] || usage_error "--registry is required, e.g. ghcr.io/<owner>"
  [[ "$TAG" =~ ^(@sha256:[0-9a-f]{64}|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$ ]] || usage_error "--tag must be an image tag or @sha256:<64 hex digits>, not '$TAG'"
  [[ "$TIMEOUT" =~ ^[0-9]+[smh]$ ]] || usage_error "--timeout must look like 90s, 10m or 1h"
fi
[[ $DRY_RUN == 1 ]] || command -v kubectl >/dev/null || fail "kubectl is not installed; install it and point KUBECONFIG at the cluster"
cd "$ROOT"
NAMESPACE="microdao-$ENV_NAME"
mapfile -t WORKERS < <(node --import tsx -e "import('./workers/images.ts').then((m) => m.WORKER_IMAGES.forEach((i) => console.log(i.name)))")
[[ ${#WORKERS[@]} -gt 0 ]] || fail "workers/images.ts lists no workers"

image_of() { if [[ "$TAG" == @* ]]; then printf '%s/microdao-%s%s' "$REGISTRY" "$1" "$TAG"; else printf '%s/microdao-%s:%s' "$REGISTRY" "$1" "$TAG"; fi; }

undo_all() {
  local worker
  for worker in "$@"; do run kubectl -n "$NAMESPACE" rollout undo "deployment/$worker"; done
}

case "$command" in
  deploy)
    changed=()
    for worker in "${WORKERS[@]}"; do
      say "$worker → $(image_of "$worker")"
      run kubectl -n "$NAMESPACE" set image "deployment/$worker" "$worker=$(image_of "$worker")"
      changed+=("$worker")
    done
    for worker in "${WORKERS[@]}"; do
      if ! run kubectl -n "$NAMESPACE" rollout status "deployment/$worker" --timeout="$TIMEOUT"; then
        say "$worker did not become ready within $TIMEOUT: rolling every worker back"
        undo_all "${changed[@]}"
        fail "rollout of $TAG failed at $worker and was undone; see kubectl -n $NAMESPACE describe deployment/$worker"
      fi
    done
    [[ $DRY_RUN == 1 ]] || say "every worker runs $TAG in $NAMESPACE"
    ;;
  undo) undo_all "${WORKERS[@]}" ;;
  status)
    for worker in "${WORKERS[@]}"; do run kubectl -n "$NAMESPACE" rollout status "deployment/$worker" --timeout=5s || true; done
    run kubectl -n "$NAMESPACE" get deployments -o wide
    ;;
esac
