# Sourced by the conformance scripts: where the testkit is, free ports, nodes awaited.

testkit="${NCPEH_TESTKIT:-${NCPEH_SHARED:-$root/../shared}/conformance/nist-testkit}"
# The MHD (FHIR) plans, kept apart; given as a second --testkit when present (rec(mhd)_*).
mhd_testkit="${NCPEH_MHD_TESTKIT:-${NCPEH_SHARED:-$root/../shared}/conformance/nist-mhd}"

# free_port VAR: sets VAR to a port on 127.0.0.1 that nothing listens on and that this script
# has not handed out yet, so that runs beside other builders' nodes do not collide. Below the
# ephemeral range, so that no outgoing connection holds it either.
_ports_given=" "
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    case "$_ports_given" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      _ports_given+="$p "
      printf -v "$1" '%s' "$p"
      return
    fi
  done
}

# await_node NAME STDOUT STDERR: waits for the node's "ncpeh listening" line.
await_node() {
  for _ in $(seq 1 300); do
    grep -q "ncpeh listening" "$2" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "node $1 did not start:"
  cat "$3"
  return 1
}

# site_on_ports SRC DST OLD=NEW...: a copy of a site file with its ports replaced.
site_on_ports() {
  local src=$1 dst=$2 expr=()
  shift 2
  for m in "$@"; do expr+=(-e "s/127\.0\.0\.1:${m%%=*}\([^0-9]\)/127.0.0.1:${m#*=}\1/g"); done
  sed "${expr[@]}" "$src" > "$dst"
}
