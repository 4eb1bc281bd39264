#!/usr/bin/env bash
# `make fuzz`: schemathesis against the example API (tests-integration/tests/test_fuzz.py) with many more
# examples than `make test` runs, drawn anew each time: on PostgreSQL when it answers, then on SQLite.
# BULK_FUZZ_EXAMPLES (default 160, over 5,000 requests a run) sets the examples per operation.
set -u
cd "$(dirname "$0")/.."
HATCH=.venv/bin/hatch
source scripts/services.sh
export BULK_FUZZ_EXAMPLES="${BULK_FUZZ_EXAMPLES:-160}"
status=0
if [ -n "${DATABASE_URL:-}" ]; then
  printf '\n==================== fuzz: PostgreSQL ====================\n'
  $HATCH run integration:test -p no:cacheprovider tests/test_fuzz.py || status=1
fi
printf '\n==================== fuzz: SQLite ====================\n'
env -u DATABASE_URL $HATCH run integration:test -p no:cacheprovider tests/test_fuzz.py || status=1
exit $status
