#!/usr/bin/env bash
# npm run dev: installs what a fresh clone lacks (scripts/setup.sh --for dev), then starts the local platform
# with the launcher in scripts/local-stack/ (see its --help). Arguments go to the launcher.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LAUNCHER=(node --import tsx scripts/local-stack/main.ts)

case " $* " in
  *" -h "* | *" --help "* | *" --status "* | *" --stop "*)
    [[ -x node_modules/.bin/tsx ]] || { echo "dev: npm packages are missing: run 'npm ci' (or bash scripts/setup.sh) first" >&2; exit 1; }
    exec "${LAUNCHER[@]}" "$@" ;;
  *" --dry-run "*)
    bash scripts/setup.sh --for dev --dry-run
    [[ -x node_modules/.bin/tsx ]] || { echo "dev: npm packages are missing: run 'npm ci' first to see the plan" >&2; exit 1; }
    exec "${LAUNCHER[@]}" "$@" ;;
esac

if ! bash scripts/setup.sh --for dev; then
  # without the npm packages nothing runs; a missing server package is for the launcher to judge (it may
  # find a running server, or Docker) and name precisely
  [[ -x node_modules/.bin/tsx ]] || { echo "dev: setup failed (see above) and the npm packages are missing" >&2; exit 1; }
  echo "dev: setup could not install everything (see above); starting anyway" >&2
fi
exec "${LAUNCHER[@]}" "$@"
