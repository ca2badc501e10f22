# Shared by the operator scripts (migrate, deploy, secrets, smoke): messages, the dry-run aware command
# runner and the prod guard. The caller sets SCRIPT_NAME, then DRY_RUN=0|1 once its flags are parsed.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Paths given on the command line are relative to where the script was started, even after `cd "$ROOT"`.
CALLER_PWD="$PWD"
absolute_path() { if [[ -z "$1" || "$1" == /* ]]; then printf '%s' "$1"; else printf '%s/%s' "$CALLER_PWD" "$1"; fi; }
DRY_RUN=0
ENVIRONMENTS="dev staging prod"

# set -e stops at the first failing command; say which, so no script ever ends silently (-E: in functions too).
set -E
on_unexpected_error() {
  [[ $BASHPID == "$$" ]] || return 0 # report once, from the script itself rather than each subshell
  # shellcheck disable=SC2016 # the backquotes are literal
  printf '%s: error: `%s` failed (line %s of %s); the step above did not finish\n' "$SCRIPT_NAME" "$2" "$1" "${BASH_SOURCE[1]##*/}" >&2
}
trap 'on_unexpected_error "$LINENO" "$BASH_COMMAND"' ERR

say() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
fail() { printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2; exit 1; }
usage_error() { printf '%s: %s (see --help)\n' "$SCRIPT_NAME" "$*" >&2; exit 2; }

# A command as a person would type it, with any password inside a URL masked.
show_command() {
  local out
  out="$(printf '%q ' "$@")"
  out="${out% }"
  sed -E 's#(://[^/:@[:space:]]*:)[^@[:space:]]+@#\1***@#g' <<<"$out"
}

# Runs a command, printing it first; under --dry-run prints it (to stdout, as the plan) and runs nothing.
run() {
  if [[ $DRY_RUN == 1 ]]; then
    printf '$ %s\n' "$(show_command "$@")"
  else
    printf '%s: $ %s\n' "$SCRIPT_NAME" "$(show_command "$@")" >&2
    "$@"
  fi
}

# Dry-run only: a step that is not a single command (a loop, an atomic rename) described in words.
plan() { [[ $DRY_RUN == 1 ]] && printf '# %s\n' "$*"; return 0; }

# The flags every operator script takes (--env, --env-file, --dry-run, --yes-prod, -h/--help): the catch-all
# branch of a script's option loop calls `common_flag "$@"; shift "$FLAG_ARGS"`. It sets ENV_NAME, ENV_FILE,
# DRY_RUN or YES_PROD, and refuses any other argument.
common_flag() {
  FLAG_ARGS=1
  case "$1" in
    --env) [[ $# -ge 2 ]] || usage_error "--env needs a value"; ENV_NAME="$2"; FLAG_ARGS=2 ;;
    --env-file) [[ $# -ge 2 ]] || usage_error "--env-file needs a value"; ENV_FILE="$2"; FLAG_ARGS=2 ;;
    --dry-run) DRY_RUN=1 ;;
    --yes-prod) YES_PROD=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
}

require_env() {
  local env="$1" allowed="${2:-$ENVIRONMENTS}"
  [[ -n "$env" ]] || usage_error "--env is required: one of ${allowed// /, }"
  [[ " $allowed " == *" $env "* ]] || usage_error "--env must be one of ${allowed// /, }, not '$env'"
}

# Writes to prod need --yes-prod; a dry run never writes, so it may look at prod without it.
require_prod_confirmation() {
  local env="$1" confirmed="$2" action="$3"
  [[ "$env" != prod || "$confirmed" == 1 || $DRY_RUN == 1 ]] && return 0
  fail "refusing to $action in prod without --yes-prod. Review the plan with --dry-run, then re-run with --yes-prod."
}

# Values of configuration variables, one per line (empty when unset): from --env-file when given, else
# from this process's environment. Nothing is validated here; scripts/env-check does that.
config_values() {
  local env_file="$1"; shift
  ENV_FILE="$env_file" node --import tsx "$ROOT/scripts/lib/config-values.ts" "$@"
}

require_file() { [[ -f "$1" ]] || fail "$2"; }
