#!/usr/bin/env bash
# The NIST XUA collections: reg_xua, rep_xua and rg(xca)_xua against a plain node
# (tests/conformance.sh, site-local.toml), then ig(xca)_xua against an initiating gateway in
# front of two responding nodes (tests/conformance-ig.sh, site-ig.toml). The runner signs the
# assertions with the dev PKI's Norwegian test issuer, which the nodes trust. Prints both tables
# and one closing `N passed, M failed` line; exits non-zero unless every row passed.
# Usage: tests/conformance-xua.sh [POSTGRES_URL] [-- extra conformance args]
# With postgres://.../NAME the plain node uses NAME, the gateway nodes NAME_ig, NAME_rg1, NAME_rg2.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
db_url=""
if [ -n "${1:-}" ] && [ "$1" != "--" ]; then db_url=$1; shift; fi
[ "${1:-}" = "--" ] && shift
out=$(mktemp -d /tmp/ncpeh-xua.XXXXXX)
trap 'rm -rf "$out"' EXIT
# The two runs share nothing (own ports, folders, databases), so they run side by side.
"$here/conformance.sh" "$db_url" -- --collections 'reg_xua,rep_xua,rg(xca)_xua' "$@" > "$out/local" 2>&1 &
"$here/conformance-ig.sh" ${db_url:+"$db_url"} -- --collections 'ig(xca)_xua' "$@" > "$out/ig" 2>&1 &
wait
passed=0; failed=0; status=0
count='^([0-9]+) passed, ([0-9]+) failed$'
for run in local ig; do
  line=$(grep -E "$count" "$out/$run" | tail -n 1)
  grep -Ev "$count" "$out/$run"
  if [[ $line =~ $count ]]; then
    passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
  elif grep -q '^SKIP' "$out/$run"; then
    :
  else
    echo "the $run run ended without a result"; status=1
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$status" = 0 ]
