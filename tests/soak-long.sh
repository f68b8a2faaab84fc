#!/usr/bin/env bash
# The long soak: one hour (or NCPEH_SOAK_SECS) of mixed load at 80 % of the measured peak,
# built in release, writing docs/soak.svg and docs/soak.csv. SQLite unless NCPEH_TEST_PG_URL
# names a PostgreSQL server (as tests/run.sh sets it). The figures are printed at the end and
# kept in /tmp/ncpeh-soak.log.
#
# An hour leaves about 6.5 GB in the node's database (an audit record per request, the
# entries of every ITI-42), so the node's directory goes to SOAK_TMPDIR, by default the
# RAM-backed /dev/shm, rather than a shared disk.
set -euo pipefail
cd "$(dirname "$0")/.."
export NCPEH_SOAK_SECS="${NCPEH_SOAK_SECS:-3600}"
export NCPEH_SOAK_OUT="${NCPEH_SOAK_OUT:-$PWD/docs}"
mkdir -p "$NCPEH_SOAK_OUT"
cargo test --release --test soak --no-run
echo "== soak for $NCPEH_SOAK_SECS s, started $(date -u +%H:%M) UTC, node data in ${SOAK_TMPDIR:-/dev/shm}"
TMPDIR="${SOAK_TMPDIR:-/dev/shm}" cargo test --release --test soak -- --nocapture 2>&1 | tee /tmp/ncpeh-soak.log
