#!/usr/bin/env bash
# A newcomer's first hour, replayed: the code blocks of the README's "Use" section, verbatim and in
# order, in one bash session, on a machine that looks fresh (an empty HOME, a PATH of only the
# system and Node), from a clone of this repository. The blocks themselves install `syft`, switch
# between the three people of the tour and `cd` into their folders, all outside the clone.
#
# It fails on the first command that fails, and afterwards when the tour left a file in the clone
# (every path the user typed must resolve against the folder they typed it in).
#
#   scripts/newcomer.sh          # reuses this machine's npm and Deno download caches
#   scripts/newcomer.sh --cold   # downloads Deno and the npm packages again, as a fresh machine does
#   scripts/newcomer.sh --print  # prints the script it would run, and stops
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cold=0
print=0
for arg in "$@"; do
  case "$arg" in
    --cold) cold=1 ;;
    --print) print=1 ;;
    *)
      echo "error: unknown argument $arg" >&2
      echo "hint: scripts/newcomer.sh [--cold] [--print]" >&2
      exit 2
      ;;
  esac
done

# The "## Use" section ends at the next "## " heading; its ```sh blocks are the tour.
tour="$(awk '
  /^## / { in_use = ($0 == "## Use") ; next }
  in_use && /^```sh/ { in_block = 1; next }
  in_use && in_block && /^```/ { in_block = 0; print ""; next }
  in_use && in_block { print }
' "$repo/README.md")"
if [ -z "$tour" ]; then
  echo "error: README.md has no \`\`\`sh blocks under \"## Use\"" >&2
  exit 1
fi
if [ "$print" = 1 ]; then
  printf '%s\n' "$tour"
  exit 0
fi

base="$(mktemp -d "${TMPDIR:-/tmp}/syft-newcomer-XXXXXX")"
cleanup() { rm -rf "$base"; }
trap cleanup EXIT

# What the machine's own user has cached, before HOME changes under us.
npm_cache="$(npm config get cache 2>/dev/null || echo "$HOME/.npm")"
deno_dir="${DENO_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/deno}"

before="$(git -C "$repo" status --porcelain --untracked-files=all 2>/dev/null || true)"

env_args=(
  "HOME=$base/home"
  "PATH=/usr/bin:/bin:$(dirname "$(command -v node)")"
  "TMPDIR=$base/tmp"
  "LANG=C.UTF-8"
)
# How this machine reaches the npm registry (a proxy, its own CA) is the machine's, not the user's.
for var in SSL_CERT_FILE SSL_CERT_DIR NODE_EXTRA_CA_CERTS DENO_CERT HTTPS_PROXY HTTP_PROXY NO_PROXY \
  https_proxy http_proxy no_proxy; do
  if [ -n "${!var:-}" ]; then env_args+=("$var=${!var}"); fi
done
if [ "$cold" = 0 ]; then
  env_args+=("npm_config_cache=$npm_cache" "DENO_DIR=$deno_dir")
fi
mkdir -p "$base/home" "$base/tmp"

echo "newcomer: replaying README.md \"Use\" with HOME=$base/home"
# -x prints each command as the tour runs it; -e stops at the first failure.
(cd "$repo" && env -i "${env_args[@]}" bash -euxo pipefail -c "$tour")

after="$(git -C "$repo" status --porcelain --untracked-files=all 2>/dev/null || true)"
if [ "$before" != "$after" ]; then
  echo "error: the tour changed files in the clone:" >&2
  diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") >&2 || true
  exit 1
fi
echo "newcomer: the README's \"Use\" section works as written"
