#!/usr/bin/env bash
# `make bench`: every benchmark, one after the other, each printing its own ratio table.
# The core benchmark always runs; the layer benchmarks run when their script exists.
# Extra arguments (e.g. --quick) are passed to every benchmark.
set -u
cd "$(dirname "$0")/.."
HATCH=.venv/bin/hatch
status=0

printf '\n==================== bench: bulk-signals-core ====================\n'
$HATCH run bench:core "$@" || status=1

for name in django drf jobs; do
  file="tests-integration/bench/${name}_bench.py"
  printf '\n==================== bench: %s ====================\n' "$name"
  if [ -f "$file" ]; then
    $HATCH run "bench:$name" "$@" || status=1
  else
    echo "skipped: $file does not exist yet"
  fi
done
exit $status
