#!/usr/bin/env bash
# The Debian package, as an operator meets it: build it with cargo-deb, install it with dpkg -i,
# check what it put where (binary, unit, /etc/ncpeh/ncpeh.toml, the ncpeh user, /var/lib/ncpeh),
# check the config as the ncpeh user, start the node as that user (through systemd when systemd
# runs this machine, else directly with runuser), ask /health and the console, stop it with
# SIGTERM (exit 0), and purge the package.
# Packs the binary tests/run.sh built (target/debug, NCPEH_TEST_DEB_PROFILE=release for a release
# one); installs cargo-deb from crates.io when it is missing. Needs root (or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
fail() { echo "deb: FAIL: $*" >&2; exit 1; }

CARGO_DEB_VERSION=3.8.0
profile="${NCPEH_TEST_DEB_PROFILE:-dev}"

if dpkg -s ncpeh >/dev/null 2>&1; then
  echo "deb: SKIP: a package ncpeh is already installed on this machine; this test would replace it"
  exit 0
fi
if ! cargo deb --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
  echo "deb: installing cargo-deb $CARGO_DEB_VERSION"
  cargo install -q --locked cargo-deb --version "$CARGO_DEB_VERSION"
fi
need=()
for p in dpkg-dev adduser curl; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ "$profile" = release ]; then cargo build -q --release --bin ncpeh; else cargo build -q --bin ncpeh; fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo deb --no-build --profile "$profile" --output "$out/ncpeh.deb" -p ncpeh >/dev/null
deb="$out/ncpeh.deb"
echo "deb: built $(du -h "$deb" | cut -f1) $(dpkg-deb -f "$deb" Package Version Architecture | tr '\n' ' ')"
echo "deb: depends: $(dpkg-deb -f "$deb" Depends)"

contents="$(dpkg-deb --contents "$deb")"
for f in ./usr/bin/ncpeh ./etc/ncpeh/ncpeh.toml ./usr/share/doc/ncpeh/README.md; do
  grep -q " $f\$" <<<"$contents" || fail "$f is not in the package"
done
grep -Eq " \./(usr/)?lib/systemd/system/ncpeh\.service\$" <<<"$contents" || fail "no systemd unit in the package"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/ncpeh/ncpeh.toml \
  || fail "/etc/ncpeh/ncpeh.toml is not a conffile"

as_root dpkg -i "$deb" >/dev/null
cleanup() {
  [ -n "${node_pid:-}" ] && as_root kill -9 "$node_pid" 2>/dev/null || true
  as_root dpkg --purge ncpeh >/dev/null 2>&1 || true
  # A test install leaves no data behind (a real purge keeps /var/lib/ncpeh on purpose).
  as_root rm -rf /var/lib/ncpeh
  rm -rf "$out"
}
trap cleanup EXIT

[ "$(dpkg-query -W -f '${Status}' ncpeh)" = "install ok installed" ] || fail "dpkg does not list ncpeh as installed"
getent passwd ncpeh >/dev/null || fail "no ncpeh user"
[ "$(getent passwd ncpeh | cut -d: -f7)" = /usr/sbin/nologin ] || echo "deb: NOTE: the ncpeh user's shell is $(getent passwd ncpeh | cut -d: -f7)"
[ "$(stat -c '%U:%G %a' /var/lib/ncpeh)" = "ncpeh:ncpeh 750" ] || fail "/var/lib/ncpeh is $(stat -c '%U:%G %a' /var/lib/ncpeh)"
[ "$(stat -c '%U:%G %a' /etc/ncpeh/ncpeh.toml)" = "root:ncpeh 640" ] || fail "/etc/ncpeh/ncpeh.toml is $(stat -c '%U:%G %a' /etc/ncpeh/ncpeh.toml)"
unit="$(ls /lib/systemd/system/ncpeh.service /usr/lib/systemd/system/ncpeh.service 2>/dev/null | head -1)"
for opt in User=ncpeh NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=/var/lib/ncpeh; do
  grep -qx "$opt" "$unit" || fail "the unit lacks $opt"
done
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify "$unit" 2>&1 | grep -v "^$" | sed 's/^/deb: systemd-analyze: /' || true
fi

cd /
as_root runuser -u ncpeh -- /usr/bin/ncpeh config check --config /etc/ncpeh/ncpeh.toml >/dev/null \
  || fail "ncpeh config check refuses the packaged config"

if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
  echo "deb: starting the unit with systemctl"
  as_root systemctl start ncpeh
  admin="http://127.0.0.1:8080"
  for _ in $(seq 1 100); do curl -fs "$admin/health" >/dev/null && break; sleep 0.2; done
  node_pid="$(systemctl show -p MainPID --value ncpeh)"
else
  echo "deb: NOTE: systemd is not PID 1 here ($(cat /proc/1/comm 2>/dev/null)); starting /usr/bin/ncpeh as the ncpeh user with runuser (what the unit's User= does)"
  log="$(mktemp)"
  chmod 644 "$log"
  as_root runuser -u ncpeh -- env NCPEH_SERVER__LISTEN=127.0.0.1:0 NCPEH_SERVER__ADMIN_LISTEN=127.0.0.1:0 \
    NCPEH_FEED__MLLP_LISTEN=127.0.0.1:0 /usr/bin/ncpeh serve --config /etc/ncpeh/ncpeh.toml >"$log" 2>&1 &
  runner=$!
  for _ in $(seq 1 300); do grep -q "^ncpeh listening" "$log" && break; sleep 0.1; done
  grep -q "^ncpeh listening" "$log" || { cat "$log"; fail "the node did not start"; }
  admin="$(grep -o 'admin=[^ ]*' "$log" | head -1 | cut -d= -f2)"
  node_pid="$(pgrep -u ncpeh -f '/usr/bin/ncpeh serve' | head -1)"
fi
[ -n "$node_pid" ] && [ "$node_pid" != 0 ] || fail "no node process"
[ "$(ps -o user= -p "$node_pid" | tr -d ' ')" = ncpeh ] || fail "the node runs as $(ps -o user= -p "$node_pid")"
health="$(curl -fs "$admin/health")" || fail "/health did not answer"
grep -q '"status":"ok"' <<<"$health" || fail "/health: $health"
curl -fs "$admin/" | grep -q "operator console" || fail "the console did not answer"
[ "$(stat -c %U /var/lib/ncpeh/ncpeh.db)" = ncpeh ] || fail "the database is not the ncpeh user's"
[ -f /var/lib/ncpeh/pki/server.pem ] || fail "no development PKI under /var/lib/ncpeh/pki"
echo "deb: /health $health as user ncpeh (pid $node_pid)"

if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
  as_root systemctl stop ncpeh
  [ "$(systemctl show -p ExecMainStatus --value ncpeh)" = 0 ] || fail "the unit did not stop with 0"
else
  as_root kill -TERM "$node_pid"
  rc=0
  wait "$runner" || rc=$?
  [ "$rc" = 0 ] || fail "the node exited with $rc on SIGTERM"
fi
node_pid=""
echo "deb: ok (built, installed, started as ncpeh, /health ok, stopped)"
