#!/usr/bin/env bash
# Starts an XCA initiating gateway and two responding gateways (three ncpeh nodes, one dev PKI)
# on free ports, runs the ig(xca)_ad collection (or the --collections/--tests given) against the
# initiating gateway with conformance/site-ig.toml (its ports replaced), and stops them.
# The nodes trust the dev PKI's Norwegian assertion issuer, and the responding gateways accept
# assertions made out to the initiating community, which the gateway forwards unchanged.
# Usage: tests/conformance-ig.sh [POSTGRES_URL] [-- extra conformance args]
# With postgres://.../NAME the nodes use the databases NAME_ig, NAME_rg1 and NAME_rg2 (created
# with psql when absent); without, SQLite files in the temp folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/target/debug/ncpeh"
db_url=""
if [ -n "${1:-}" ] && [ "$1" != "--" ]; then db_url=$1; shift; fi
[ "${1:-}" = "--" ] && shift
. "$root/tests/conformance-lib.sh"
if [ ! -d "$testkit/testkit" ]; then
  echo "SKIP ig conformance: NIST testkit not found at $testkit (set NCPEH_TESTKIT or NCPEH_SHARED)"
  exit 0
fi
collections=(--collections 'ig(xca)_ad')
case " $* " in *" --collections "* | *" --tests "*) collections=() ;; esac
work=$(mktemp -d /tmp/ncpeh-ig.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" pki init --out "$work/pki" >/dev/null
ig_home=urn:oid:2.16.578.1.12.4.5.10.100
database() { # name: the node's [database] url line, creating the PostgreSQL database
  [ -n "$db_url" ] || return 0
  local psql
  psql=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)
  "$psql" -q "${db_url%/*}/postgres" -c "CREATE DATABASE ${db_url##*/}_$1" 2>/dev/null || true
  echo "url = \"${db_url}_$1\""
}
node() { # name soap-port admin-port feed-port home repo-uid [extra toml]
  cat > "$work/$1.toml" <<EOT
data_dir = "$work/$1"
[server]
listen = "127.0.0.1:$2"
admin_listen = "127.0.0.1:$3"
[feed]
mllp_listen = "127.0.0.1:$4"
[tls]
ca = "$work/pki/ca.pem"
cert = "$work/pki/server.pem"
key = "$work/pki/server.key"
[log]
level = "warn"
[node]
home_community_id = "$5"
[repository]
unique_id = "$6"
[database]
$(database "$1")
[xua]
national_issuers = "$work/pki/issuer-no.pem"
audiences = ["$ig_home"]
${7:-}
EOT
  "$bin" serve --config "$work/$1.toml" > "$work/$1.out" 2> "$work/$1.err" &
  pids+=($!)
}
for v in ig ig_admin ig_feed rg1 rg1_admin rg1_feed rg2 rg2_admin rg2_feed; do free_port "$v"; done
node rg1 "$rg1" "$rg1_admin" "$rg1_feed" urn:oid:2.16.578.1.12.4.5.10.101 2.16.578.1.12.4.5.10.101.1
node rg2 "$rg2" "$rg2_admin" "$rg2_feed" urn:oid:2.16.578.1.12.4.5.10.102 2.16.578.1.12.4.5.10.102.1
node ig "$ig" "$ig_admin" "$ig_feed" "$ig_home" 2.16.578.1.12.4.5.10.100.1 "$(printf '%s\n' \
  '[gateway]' 'peer_timeout_secs = 10' \
  '[[peers]]' 'home_community_id = "urn:oid:2.16.578.1.12.4.5.10.101"' "xca_url = \"https://127.0.0.1:$rg1/xca\"" \
  '[[peers]]' 'home_community_id = "urn:oid:2.16.578.1.12.4.5.10.102"' "xca_url = \"https://127.0.0.1:$rg2/xca\"")"
for n in rg1 rg2 ig; do await_node "$n" "$work/$n.out" "$work/$n.err"; done
site_on_ports "$root/conformance/site-ig.toml" "$work/site.toml" \
  18443="$ig" 18444="$rg1" 18445="$rg2" 12576="$rg1_feed" 12577="$rg2_feed"
"$bin" conformance --testkit "$testkit" --site "$work/site.toml" --pki "$work/pki" \
  "${collections[@]}" "$@"
