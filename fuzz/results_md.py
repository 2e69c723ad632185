#!/usr/bin/env python3
"""Print fuzz/results.tsv as the Markdown table in docs/fuzzing.md (numbers with thousands
separators; a CPU figure of "-" was not recorded)."""
import csv
import sys
from pathlib import Path

path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("results.tsv"))
print("| target | wall s | CPU s | executions | corpus | result | date |")
print("|---|---:|---:|---:|---:|---|---|")
for row in csv.reader(path.open(), delimiter="\t"):
    if len(row) < 7:
        continue
    target, wall, cpu, execs, corpus, result, date = row[:7]
    num = lambda v: f"{int(v):,}" if v.isdigit() else "not recorded"
    print(f"| `{target}` | {num(wall)} | {num(cpu)} | {num(execs)} | {num(corpus)} | {result} | {date} |")
