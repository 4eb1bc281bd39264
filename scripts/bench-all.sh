#!/usr/bin/env bash
# `make bench`: every benchmark, one after the other, each printing its own ratio table.
# The core benchmark always runs; the layer benchmarks run when their script exists.
# Extra arguments (e.g. --quick) are passed to every benchmark.
set -u
cd "$(dirname "$0")/.."
HATCH=.venv/bin/hatch
status=0

# The core twice, pure (env bench) and mypyc-compiled (env bench-compiled), then side by side.
results=$(mktemp -d)
printf '\n==================== bench: bulk-signals-core (pure) ====================\n'
$HATCH run bench:core --json "$results/pure.json" --peers-instructions "$@" || status=1
printf '\n==================== bench: bulk-signals-core (mypyc-compiled) ====================\n'
$HATCH run bench-compiled:core --json "$results/compiled.json" "$@" || status=1
printf '\n==================== bench: bulk-signals-core, pure vs compiled ====================\n'
if [ -f "$results/pure.json" ] && [ -f "$results/compiled.json" ]; then
  $HATCH run bench:core --compare "$results/pure.json" "$results/compiled.json" || status=1
fi
rm -rf "$results"

for name in django drf jobs export; do
  file="tests-integration/bench/${name}_bench.py"
  printf '\n==================== bench: %s ====================\n' "$name"
  if [ -f "$file" ]; then
    $HATCH run "bench:$name" "$@" || status=1
  else
    echo "skipped: $file does not exist yet"
  fi
done
exit $status
