#!/usr/bin/env bash
# Starts a fresh node with plain `ncpeh serve` defaults in a temp folder (so that
# conformance/site-local.toml describes it), runs `ncpeh conformance` against it and stops it.
# The node listens on free ports instead of 8443/8080/2575, and the site file is given the same.
# Usage: tests/conformance.sh [DATABASE_URL] -- extra conformance arguments (collections, junit...)
# The MHD plans (nist-mhd) go in as a second testkit when present, so that the rec(mhd)_*
# collections can be named too; the site's `fhir` endpoint gets the same port.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/target/debug/ncpeh"
db_url="${1:-}"; shift || true
[ "${1:-}" = "--" ] && shift
. "$root/tests/conformance-lib.sh"
if [ ! -d "$testkit/testkit" ]; then
  echo "SKIP conformance: NIST testkit not found at $testkit (set NCPEH_TESTKIT or NCPEH_SHARED)"
  exit 0
fi
work=$(mktemp -d /tmp/ncpeh-conf.XXXXXX)
cd "$work"
if [ -n "$db_url" ]; then export NCPEH_DATABASE__URL="$db_url"; fi
free_port soap; free_port admin; free_port feed
site_on_ports "$root/conformance/site-local.toml" site.toml 8443="$soap" 2575="$feed"
NCPEH_LOG__LEVEL=warn NCPEH_SERVER__LISTEN="127.0.0.1:$soap" NCPEH_SERVER__ADMIN_LISTEN="127.0.0.1:$admin" \
  NCPEH_FEED__MLLP_LISTEN="127.0.0.1:$feed" "$bin" serve > serve.out 2> serve.err &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
await_node local serve.out serve.err
more=()
if [ -d "$mhd_testkit/testkit" ]; then more=(--testkit "$mhd_testkit"); fi
"$bin" conformance --testkit "$testkit" ${more[@]+"${more[@]}"} --site site.toml "$@"
