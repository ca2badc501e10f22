#!/usr/bin/env bash
# Builds and pushes every worker image (workers/images.ts; Dockerfiles from `npm run images:write`) once per
# commit and prints, for the release manifest, one `--image NAME=REF@sha256:…` per image: later deploys pull by
# digest, so staging and prod run the very bytes built here. Needs Docker with buildx and a registry login.
set -euo pipefail
SCRIPT_NAME=build_images
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/build_images.sh --registry REGISTRY/OWNER [--tag TAG] [--dry-run]
  --registry  e.g. ghcr.io/<owner>: images are pushed as REGISTRY/microdao-<name>:TAG
  --tag       default: the commit (git rev-parse HEAD)
Prints --image arguments for `npm run release -- manifest` on stdout.
TXT
}
REGISTRY=""; TAG=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --registry) REGISTRY="${2:-}"; shift 2 || usage_error "--registry needs a value" ;;
    --tag) TAG="${2:-}"; shift 2 || usage_error "--tag needs a value" ;;
    *) common_flag "$@"; shift "$FLAG_ARGS" ;;
  esac
done
[[ "$REGISTRY" =~ ^[a-z0-9.:-]+(/[a-z0-9._-]+)*$ ]] || usage_error "--registry must be a lower-case registry path such as ghcr.io/owner"
cd "$ROOT"
[[ -n "$TAG" ]] || TAG="$(git rev-parse HEAD)"
[[ $DRY_RUN == 1 ]] || command -v docker >/dev/null || fail "docker is not installed; build the images on a machine (or CI runner) with Docker"
mapfile -t names < <(node --import tsx -e "import('./workers/images.ts').then((m) => m.WORKER_IMAGES.forEach((i) => console.log(i.name)))")
metadata="$(mktemp)"
trap 'rm -f "$metadata"' EXIT
for name in "${names[@]}"; do
  image="$REGISTRY/microdao-$name"
  run docker buildx build --file "workers/$name/Dockerfile" --tag "$image:$TAG" --label "org.opencontainers.image.revision=$TAG" \
    --push --metadata-file "$metadata" .
  if [[ $DRY_RUN == 1 ]]; then
    printf -- '--image %s=%s@sha256:<digest>\n' "$name" "$image"
  else
    digest="$(node -e "console.log(JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'))['containerimage.digest'])" "$metadata")"
    [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "docker buildx reported no digest for $image"
    printf -- '--image %s=%s@%s\n' "$name" "$image" "$digest"
  fi
done
