#!/usr/bin/env bash
# Starts an XCA initiating gateway and two responding gateways (three ncpeh nodes, one dev PKI)
# on the ports conformance/site-ig.toml names, runs the ig(xca)_ad collection against the
# initiating gateway, and stops them. Usage: tests/conformance-ig.sh [-- extra conformance args]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/target/debug/ncpeh"
[ "${1:-}" = "--" ] && shift
testkit="${NCPEH_TESTKIT:-${NCPEH_SHARED:-$root/../shared}/conformance/nist-testkit}"
if [ ! -d "$testkit/testkit" ]; then
  echo "SKIP ig conformance: NIST testkit not found at $testkit (set NCPEH_TESTKIT or NCPEH_SHARED)"
  exit 0
fi
work=$(mktemp -d /tmp/ncpeh-ig.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" pki init --out "$work/pki" >/dev/null
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
${7:-}
EOT
  "$bin" serve --config "$work/$1.toml" > "$work/$1.out" 2> "$work/$1.err" &
  pids+=($!)
}
node rg1 18444 18081 12576 urn:oid:2.16.578.1.12.4.5.10.101 2.16.578.1.12.4.5.10.101.1
node rg2 18445 18082 12577 urn:oid:2.16.578.1.12.4.5.10.102 2.16.578.1.12.4.5.10.102.1
node ig 18443 18080 12575 urn:oid:2.16.578.1.12.4.5.10.100 2.16.578.1.12.4.5.10.100.1 "$(printf '%s\n' \
  '[gateway]' 'peer_timeout_secs = 10' \
  '[[peers]]' 'home_community_id = "urn:oid:2.16.578.1.12.4.5.10.101"' 'xca_url = "https://127.0.0.1:18444/xca"' \
  '[[peers]]' 'home_community_id = "urn:oid:2.16.578.1.12.4.5.10.102"' 'xca_url = "https://127.0.0.1:18445/xca"')"
for n in rg1 rg2 ig; do
  for _ in $(seq 1 100); do grep -q "ncpeh listening" "$work/$n.out" 2>/dev/null && break; sleep 0.1; done
  grep -q "ncpeh listening" "$work/$n.out" || { echo "node $n did not start:"; cat "$work/$n.err"; exit 1; }
done
"$bin" conformance --testkit "$testkit" --site "$root/conformance/site-ig.toml" --pki "$work/pki" \
  --collections 'ig(xca)_ad' "$@"
