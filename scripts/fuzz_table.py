#!/usr/bin/env python3
"""Renders .fuzz/runs.tsv (one line per scripts/fuzz run) as the Markdown table of docs/FUZZING.md:
the latest run of each target at least MIN_SECONDS long (default 600).
usage: python3 scripts/fuzz_table.py [RUNS_TSV] [MIN_SECONDS]"""
import sys

path = sys.argv[1] if len(sys.argv) > 1 else ".fuzz/runs.tsv"
minimum = int(sys.argv[2]) if len(sys.argv) > 2 else 600
latest = {}
for line in open(path):
    date, target, seconds, execs, rate, files, size, cov, rss, findings, rc = line.rstrip("\n").split("\t")
    if int(seconds) >= minimum:
        latest[target] = (date, seconds, execs, rate, files, size, cov, rss, findings, rc)
print("| target | finished (UTC) | seconds | executions | exec/s | corpus files | corpus KB | cov / features | peak RSS MB | findings |")
print("|---|---|---|---|---|---|---|---|---|---|")
for target, (date, seconds, execs, rate, files, size, cov, rss, findings, rc) in latest.items():
    print(f"| {target} | {date[:16].replace('T', ' ')} | {seconds} | {int(execs):,} | {rate} | {files} | {int(size) // 1024:,} | {cov} | {rss} | {findings} (exit {rc}) |")
