#!/usr/bin/env bash
# Starts a fresh node with plain `ncpeh serve` defaults in a temp folder (so that
# conformance/site-local.toml describes it), runs `ncpeh conformance` against it and stops it.
# Usage: tests/conformance.sh [DATABASE_URL] -- extra conformance arguments (collections, junit...)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/target/debug/ncpeh"
db_url="${1:-}"; shift || true
[ "${1:-}" = "--" ] && shift
testkit="${NCPEH_TESTKIT:-${NCPEH_SHARED:-$root/../shared}/conformance/nist-testkit}"
if [ ! -d "$testkit/testkit" ]; then
  echo "SKIP conformance: NIST testkit not found at $testkit (set NCPEH_TESTKIT or NCPEH_SHARED)"
  exit 0
fi
work=$(mktemp -d /tmp/ncpeh-conf.XXXXXX)
cd "$work"
if [ -n "$db_url" ]; then export NCPEH_DATABASE__URL="$db_url"; fi
NCPEH_LOG__LEVEL=warn "$bin" serve > serve.out 2> serve.err &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q "ncpeh listening" serve.out 2>/dev/null && break; sleep 0.1; done
grep -q "ncpeh listening" serve.out || { echo "node did not start:"; cat serve.err; exit 1; }
"$bin" conformance --testkit "$testkit" --site "$root/conformance/site-local.toml" "$@"
