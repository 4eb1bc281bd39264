#!/usr/bin/env bash
# A stage of `make test`: every benchmark of `make bench` run to its end with --quick (a few hundred rows), so a
# change that breaks a benchmark (a new table its reset must empty, a renamed function it wraps) fails here and not
# the next time someone measures. No timing is checked: a benchmark that misses a goal on a tiny run still passes;
# one that stops with a Python traceback fails.
set -u
cd "$(dirname "$0")/.."
log=$(mktemp)
# --no-instructions: the core benchmark's valgrind counts take minutes; the smoke run only proves the script runs.
BULK_BENCH_JOBS_DB=bulk_smoke_jobs BULK_BENCH_EXPORT_DB=bulk_smoke_export bash scripts/bench-all.sh --quick 2>&1 | tee "$log"
if grep -q "Traceback (most recent call last)" "$log"; then
  echo "SUMMARY: a benchmark stopped with a traceback (above)"
  rm -f "$log"
  exit 1
fi
ran=$(grep -c '^==================== bench: ' "$log")
rm -f "$log"
echo "SUMMARY: $ran benchmark runs to their end (--quick; timings not checked)"
