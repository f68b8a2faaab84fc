#!/usr/bin/env bash
# Runs every check: format, lints, unit and integration tests on SQLite, then the integration
# tests again on a throw-away PostgreSQL that this script starts and stops itself.
# Installs what it needs on Debian 12 (apt: PostgreSQL server for the tests, xmllint, openssl s_client,
# DejaVu fonts for the L1 PDFs and poppler-utils to read them back, chromium for the headless
# browser test of the bokmål HTML view, and libxmlsec1 with libclang and pkg-config to build the
# XML signature code; a Python venv). tests/deb.sh installs cargo-deb from crates.io and dpkg-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
export NCPEH_SHARED="${NCPEH_SHARED:-$(cd .. && pwd)/shared}"
# chromium is installed below, so tests/pivot_html.rs fails instead of skipping without it.
export NCPEH_TEST_REQUIRE_CHROMIUM=1
export NCPEH_TEST_REQUIRE_ZEEP=1

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need_pkgs=()
for p in postgresql libxml2-utils libxmlsec1-dev libssl-dev libclang-dev pkg-config openssl poppler-utils fonts-dejavu-core chromium; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "== installing ${need_pkgs[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if [ ! -d "$NCPEH_SHARED" ]; then
  echo "NOTE: $NCPEH_SHARED is absent: schema validation and testkit-based checks will say SKIP."
fi

# Python with saxonche + lxml for the eHDSI schema/schematron checks of translated documents,
# prometheus_client to read /metrics as Prometheus would, and zeep to load the served WSDLs as a
# SOAP tool chain does (tests/wsdl_zeep.rs; required here, so a missing zeep fails that test).
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import saxonche, lxml, prometheus_client, zeep" 2>/dev/null; then
  echo "== creating .venv (saxonche, lxml, prometheus_client, zeep)"
  if ! python3 -m venv .venv 2>/dev/null; then
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv .venv
  fi
  .venv/bin/pip install -q --disable-pip-version-check saxonche lxml prometheus_client zeep
fi
export NCPEH_PYTHON="$PWD/.venv/bin/python"

echo "== cargo fmt --check"
cargo fmt --all -- --check
# cargo fmt does not reach the modules lib.rs declares through its node_modules! macro.
echo "== rustfmt --check on every tracked .rs file"
git ls-files -z '*.rs' | xargs -0 rustfmt --check --edition 2021
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== the wire and network layer builds without the node (the conformance runner links only it)"
cargo check -p ncpeh --no-default-features --lib --quiet
cargo build --workspace --bins --quiet

echo "== tests on SQLite (with tests/architecture.rs: no module cycles, no oversized files)"
cargo test --workspace --quiet 2>&1 | tee /tmp/ncpeh-test-sqlite.log

echo "== art-decor schematrons (2024-04-22) over every CDA document ncpeh writes (tests/artdecor.sh)"
./tests/artdecor.sh

echo "== the Debian package: cargo deb, dpkg -i, started as the ncpeh user, /health (tests/deb.sh)"
./tests/deb.sh

echo "== tests on PostgreSQL, which accepts TLS only (its certificate from a dev CA, verify-full)"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pg_dir=$(mktemp -d /tmp/ncpeh-pg.XXXXXX)
pg_port=${NCPEH_PG_PORT:-55432}
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
./target/debug/ncpeh pki init --out "$pg_dir/pki" >/dev/null
if [ "$(id -u)" = 0 ]; then chown -R postgres "$pg_dir"; fi
run_pg "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U ncpeh >/dev/null
# No "host" line: a connection without TLS finds no entry and is refused.
printf 'local all all trust\nhostssl all all 127.0.0.1/32 trust\n' | run_pg tee "$pg_dir/data/pg_hba.conf" >/dev/null
run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off \
      -c ssl=on -c ssl_cert_file=$pg_dir/pki/server.pem -c ssl_key_file=$pg_dir/pki/server.key" start >/dev/null
trap 'run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$pg_dir"' EXIT
# libpq in the node, the tests and psql: TLS, and the server's certificate checked against the CA.
export PGSSLMODE=verify-full PGSSLROOTCERT="$pg_dir/pki/ca.pem"
if "$pg_bin/psql" -q "host=127.0.0.1 port=$pg_port user=ncpeh dbname=postgres sslmode=disable" -c "select 1" >/dev/null 2>&1; then
  echo "PostgreSQL accepted a connection without TLS"; exit 1
fi
export NCPEH_TEST_PG_TLS_CA="$pg_dir/pki/ca.pem"
NCPEH_TEST_PG_URL="postgres://ncpeh@127.0.0.1:$pg_port/postgres" cargo test -p ncpeh --quiet --tests 2>&1 | tee /tmp/ncpeh-test-pg.log

collections="R.b,SQ.b,PR.b,Ret.b,rg(xca),rg,reg_mu,reg_rmu,rg(xca)_rmu,reg_catlifecycle,reg_catfolder,reg_rm,reg_rmd_rm,rep_rd"
echo "== NIST conformance ($collections) on SQLite"
./tests/conformance.sh "" -- --collections "$collections" --junit /tmp/ncpeh-conformance-sqlite.xml 2>&1 | tee /tmp/ncpeh-conf-sqlite.log | tail -n 3
mhd="rec(mhd)_docreciprespndr,rec(mhd)_xdsonfhir,rec(mhd)_mhddocrecip"
echo "== NIST conformance MHD ($mhd) on SQLite"
./tests/conformance.sh "" -- --collections "$mhd" --junit /tmp/ncpeh-conformance-mhd-sqlite.xml 2>&1 | tee /tmp/ncpeh-conf-mhd-sqlite.log | grep "passed, "
echo "== NIST conformance ig(xca)_ad: initiating gateway in front of two responding ncpeh nodes (SQLite)"
./tests/conformance-ig.sh -- --junit /tmp/ncpeh-conformance-ig.xml 2>&1 | tee /tmp/ncpeh-conf-ig.log | tail -n 3
echo "== NIST conformance XUA: reg_xua, rep_xua, rg(xca)_xua, ig(xca)_xua (SQLite)"
./tests/conformance-xua.sh 2>&1 | tee /tmp/ncpeh-conf-xua-sqlite.log | tail -n 1
echo "== NIST conformance ($collections) on PostgreSQL"
"$pg_bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U ncpeh -d postgres -c "CREATE DATABASE ncpeh_conformance"
# This one names TLS in its URL, as an operator's config would.
./tests/conformance.sh "postgres://ncpeh@127.0.0.1:$pg_port/ncpeh_conformance?sslmode=verify-full&sslrootcert=$pg_dir/pki/ca.pem" -- --collections "$collections" --junit /tmp/ncpeh-conformance-pg.xml 2>&1 | tee /tmp/ncpeh-conf-pg.log | tail -n 3
"$pg_bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U ncpeh -d postgres -c "CREATE DATABASE ncpeh_conformance_mhd"
echo "== NIST conformance MHD ($mhd) on PostgreSQL"
./tests/conformance.sh "postgres://ncpeh@127.0.0.1:$pg_port/ncpeh_conformance_mhd?sslmode=verify-full&sslrootcert=$pg_dir/pki/ca.pem" -- --collections "$mhd" --junit /tmp/ncpeh-conformance-mhd-pg.xml 2>&1 | tee /tmp/ncpeh-conf-mhd-pg.log | grep "passed, "
echo "== NIST conformance XUA on PostgreSQL (the gateway nodes on databases of their own)"
"$pg_bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U ncpeh -d postgres -c "CREATE DATABASE ncpeh_conformance_xua"
./tests/conformance-xua.sh "postgres://ncpeh@127.0.0.1:$pg_port/ncpeh_conformance_xua" 2>&1 | tee /tmp/ncpeh-conf-xua-pg.log | tail -n 1

# The XUA script prints one count line for its two runs (the tables above it have none).
logs="/tmp/ncpeh-test-sqlite.log /tmp/ncpeh-test-pg.log /tmp/ncpeh-conf-sqlite.log /tmp/ncpeh-conf-ig.log /tmp/ncpeh-conf-pg.log"
logs="$logs /tmp/ncpeh-conf-xua-sqlite.log /tmp/ncpeh-conf-xua-pg.log /tmp/ncpeh-conf-mhd-sqlite.log /tmp/ncpeh-conf-mhd-pg.log"
passed=$(cat $logs | grep -o '[0-9]* passed' | awk '{s+=$1} END {print s+0}')
failed=$(cat $logs | grep -o '[0-9]* failed' | awk '{s+=$1} END {print s+0}')
echo "checks: $passed passed, $failed failed"
[ "$failed" = 0 ]
