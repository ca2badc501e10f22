#!/usr/bin/env bash
# Builds the web apps (city UI and admin console, one Vite codebase) and scans the output for secrets.
# The API base URL and the Supabase Auth project come from VITE_* variables of the environment or .env.
set -euo pipefail

usage() {
  cat <<'TXT'
Usage: scripts/build_web.sh [--app city|admin|all] [--out DIR] [--dry-run]
  --app      which app to build (default: all = city and admin)
  --out      output directory for a single app (default: web/dist/<app>); Vercel uses web/dist/vercel
  --dry-run  print the commands, run nothing
Build-time variables (public, compiled into the bundle):
  VITE_API_BASE_URL       where the gateway's /api routes hang off (default http://127.0.0.1:54321;
                          required on Vercel), e.g. https://<ref>.supabase.co/functions/v1
  VITE_SUPABASE_URL       Supabase project URL: sign-in by email code through Supabase Auth (else dev login)
  VITE_SUPABASE_ANON_KEY  the project's anon (publishable) key, required with VITE_SUPABASE_URL
TXT
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
APP=all
OUT=""
DRY_RUN=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --app) APP="${2-}"; shift 2 ;;
    --out) OUT="${2:?--out needs a directory}"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build_web: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$APP" in
  city|admin) apps=("$APP") ;;
  all) apps=(city admin) ;;
  "") echo "build_web: --app is empty; on Vercel set the project's WEB_APP variable to city or admin" >&2; exit 2 ;;
  *) echo "build_web: --app takes city, admin or all, not '$APP'" >&2; exit 2 ;;
esac
if [[ -n "$OUT" && ${#apps[@]} -ne 1 ]]; then echo "build_web: --out needs a single --app" >&2; exit 2; fi

run() {
  printf 'build_web: %s\n' "$*" >&2
  [[ $DRY_RUN == 1 ]] || "$@"
}

export PATH="$ROOT/node_modules/.bin:$PATH"
outputs=()
for app in "${apps[@]}"; do
  out="${OUT:-web/dist/$app}"
  run vite build --logLevel warn --config "web/$app/vite.config.ts" --outDir "$ROOT/$out"
  outputs+=("$out")
done
run node --import tsx scripts/lib/scan-web-bundle.ts "${outputs[@]}"
