#!/usr/bin/env bash
# Runs fuzz targets one after another under libFuzzer with AddressSanitizer, one job each, with
# the limits of issue 10 (512 MB RSS, 1 s per input), and appends one line per target to
# fuzz/runs.tsv: when, target, wall seconds, executions, exec/s, corpus size, peak RSS, outcome.
#
# usage: fuzz/run-long.sh [SECONDS] [TARGET...]   (default: 3600 s, every target)
# FUZZ_TIMEOUT (default 1) is the per-input limit in seconds: on a machine that is busy with other
# work, a longer one keeps scheduling stalls from being reported as timeouts; the slowest input
# (libFuzzer's slowest_unit_time_sec) is recorded either way.
# New inputs land in fuzz/corpus/<target>/; run fuzz/seed.sh (or cargo fuzz cmin) before
# committing them. Crashes, timeouts and OOMs are left in fuzz/artifacts/<target>/.
set -uo pipefail
cd "$(dirname "$0")"
secs="${1:-3600}"
shift || true
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
logs="${FUZZ_LOGS:-/tmp/ncpeh-fuzz-logs}"
mkdir -p "$logs"
[ -f runs.tsv ] || printf 'date\ttarget\tseconds\texecutions\texec_per_sec\tcorpus\tpeak_rss_mb\toutcome\n' > runs.tsv

# Only the targets asked for: linking all of them under ASan takes minutes.
for t in "${targets[@]}"; do
  cargo +nightly fuzz build "$t" >/dev/null 2>>"$logs/build.log" || { cat "$logs/build.log"; exit 1; }
done

stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }

failed=0
for t in "${targets[@]}"; do
  log="$logs/$t.log"
  start=$(date +%s)
  cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=512 -timeout="${FUZZ_TIMEOUT:-1}" \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  if [ $rc -eq 0 ]; then
    outcome=ok
  elif grep -q "libFuzzer: timeout" "$log"; then
    outcome=timeout
  elif grep -q "libFuzzer: out-of-memory" "$log"; then
    outcome=oom
  elif grep -q "LeakSanitizer" "$log"; then
    outcome=leak
  else
    outcome=crash
  fi
  if [ "$outcome" != ok ]; then
    failed=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" | tail -n 1)
    outcome="$outcome ${artifact:-(see $log)}"
  fi
  outcome="$outcome (-timeout=${FUZZ_TIMEOUT:-1}; slowest input $(stat slowest_unit_time_sec "$log") s)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$took" \
    "$(stat number_of_executed_units "$log")" "$(stat average_exec_per_sec "$log")" \
    "$(ls "corpus/$t" | wc -l)" "$(stat peak_rss_mb "$log")" "$outcome" | tee -a runs.tsv
done
exit $failed
