#!/usr/bin/env python3
"""Fuzzing time and executions per target, summed over fuzz/runs.tsv, as a Markdown table.

A row may carry a ninth column: the seconds that count when the wall time does not (a run that
was paused). Issue 10 asks for an hour per target; the last column says what is still owed.

usage: fuzz/totals.py [runs.tsv]
"""
import collections
import pathlib
import sys

HOUR = 3600
path = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).with_name("runs.tsv"))
targets = sorted(
    l.split('"')[1]
    for l in path.with_name("Cargo.toml").read_text().splitlines()
    if l.startswith("name = ") and l.split('"')[1] != "ncpeh-fuzz"
)
secs, execs, runs, last = (collections.Counter(), collections.Counter(), collections.Counter(), {})
for line in path.read_text().splitlines()[1:]:
    cols = line.split("\t")
    if len(cols) < 8:
        continue
    t = cols[1]
    secs[t] += int(cols[8]) if len(cols) > 8 and cols[8].strip() else int(cols[2])
    execs[t] += int(cols[3] or 0)
    runs[t] += 1
    last[t] = cols[0][:10]
print("| target | runs | minutes | executions | last run | owed (minutes) |")
print("|---|---:|---:|---:|---|---:|")
for t in targets:
    owed = max(0, HOUR - secs[t] + 59) // 60
    print(f"| `{t}` | {runs[t]} | {secs[t] // 60} | {execs[t]:,} | {last.get(t, '-')} | {owed} |")
total_owed = sum(max(0, HOUR - secs[t]) for t in targets)
print(f"\n{sum(secs.values()) / HOUR:.1f} hours in all, {sum(execs.values()):,} executions; "
      f"{total_owed / HOUR:.1f} hours still owed.")
