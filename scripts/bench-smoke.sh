#!/usr/bin/env bash
# A stage of `make test`: the bulk-drf benchmarks of `make bench` (drf, jobs, export) run to their end with --quick
# (a few hundred rows, ~40 s), so a change that breaks one (a new table its reset must empty, a renamed function it
# wraps) fails here and not the next time someone measures. No timing is checked: a benchmark that misses a goal
# on a tiny run still passes; one that stops with a Python traceback fails. (The core and bulk-signals-django
# benchmarks take minutes even with --quick: `make bench` runs them.)
set -u
cd "$(dirname "$0")/.."
HATCH=.venv/bin/hatch
export BULK_BENCH_JOBS_DB=bulk_smoke_jobs BULK_BENCH_EXPORT_DB=bulk_smoke_export
status=0
ran=0
for name in drf jobs export; do
  log=$(mktemp)
  printf '\n-------------------- bench: %s --quick --------------------\n' "$name"
  $HATCH run "bench:$name" --quick 2>&1 | tee "$log"
  if grep -q "Traceback (most recent call last)" "$log"; then
    echo "bench $name stopped with a traceback (above)"
    status=1
  else
    ran=$((ran + 1))
  fi
  rm -f "$log"
done
echo "SUMMARY: $ran of 3 bulk-drf benchmarks ran to their end (--quick; timings not checked)"
exit $status
