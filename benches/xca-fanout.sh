#!/usr/bin/env bash
# W5 and W6 on one machine: three responding ncpeh peers and one node in front of them, all on
# 127.0.0.1 with one dev CA, each peer loaded with the same patients. The front node is also the
# one W6 asks as Sweden's contact point (the dev PKI's foreign-se certificate and SE issuer).
#
# usage: benches/xca-fanout.sh [PATIENTS] [DURATION] [CONNECTIONS]    (default 1000 10s 8)
# Needs the release binary (cargo build --release). Work files go to ${WORK:-/tmp/ncpeh-w5}.
set -euo pipefail
patients="${1:-1000}"
duration="${2:-10s}"
conns="${3:-8}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${NCPEH_BIN:-$root/target/release/ncpeh}"
work="${WORK:-/tmp/ncpeh-w5}"
rm -rf "$work"
mkdir -p "$work"
"$bin" pki init --out "$work/pki" >/dev/null
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

config() { # dir soap-port admin-port feed-port extra
  cat >"$1/ncpeh.toml" <<EOF
data_dir = "$1"
[server]
listen = "127.0.0.1:$2"
admin_listen = "127.0.0.1:$3"
caller_max_requests_per_sec = 1000000
[tls]
ca = "$work/pki/ca.pem"
cert = "$work/pki/server.pem"
key = "$work/pki/server.key"
[feed]
mllp_listen = "127.0.0.1:$4"
[log]
level = "warn"
$5
EOF
}

start() { # dir admin-port
  "$bin" migrate --config "$1/ncpeh.toml" >/dev/null
  "$bin" serve --config "$1/ncpeh.toml" >"$1/serve.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$2/health" >/dev/null && return 0
    sleep 0.1
  done
  echo "node in $1 did not start" >&2
  exit 1
}

peers=""
for n in 1 2 3; do
  d="$work/peer$n"
  mkdir -p "$d"
  config "$d" $((19440 + n)) $((19480 + n)) $((19470 + n)) \
    "[node]
home_community_id = \"urn:oid:1.2.3.$n\"
[repository]
unique_id = \"1.2.3.$n.1\""
  start "$d" $((19480 + n))
  "$bin" bench load --config "$d/ncpeh.toml" --patients "$patients" >/dev/null
  peers+="[[peers]]
home_community_id = \"urn:oid:1.2.3.$n\"
xca_url = \"https://127.0.0.1:$((19440 + n))/xca\"
"
done

d="$work/front"
mkdir -p "$d"
config "$d" 19440 19480 19470 "[xua]
national_issuers = \"$work/pki/issuer-no.pem\"
$peers[[peers]]
home_community_id = \"urn:oid:2.16.752.1.2.4.5.10.1\"
country = \"SE\"
xua_issuers = \"$work/pki/issuer-se.pem\""
start "$d" 19480
"$bin" bench load --config "$d/ncpeh.toml" --patients "$patients" >/dev/null

echo "== W5: FindDocuments through /xca/initiating to 3 peers ($patients patients each)"
"$bin" bench run --config "$d/ncpeh.toml" --pki "$work/pki" --workload w5 --patients "$patients" \
  --connections "$conns" --duration "$duration"
echo "== W6: eHDSI PS query on /xca as SE (IPS translated on every query)"
"$bin" bench run --config "$d/ncpeh.toml" --pki "$work/pki" --workload w6 --patients "$patients" \
  --connections "$conns" --duration "$duration"
if [ -n "${HOLD:-}" ]; then
  echo "nodes kept running (front: https://127.0.0.1:19440, config $d/ncpeh.toml); stop this script to stop them"
  wait
fi
