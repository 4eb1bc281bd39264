#!/usr/bin/env bash
# `make test-compat`: the compat gate (tests-compat/, docs/compat.md). Django's own ORM test suites,
# vanilla and with every model a bulk-signals model (silent, listening, async), for each Django
# version; SQLite always, PostgreSQL too when it answers. Extra arguments go to
# tests-compat/run_compat.py (e.g. --backends sqlite, --apps basic,update, --candidates /tmp/c.txt).
set -u
cd "$(dirname "$0")/.."
HATCH=.venv/bin/hatch
export HATCH_ENV_TYPE_VIRTUAL_UV_PATH="${HATCH_ENV_TYPE_VIRTUAL_UV_PATH:-$PWD/.venv/bin/uv}"
source scripts/services.sh
status=0
for dj in ${COMPAT_DJANGO:-4.2 5.2}; do
  printf '\n---- compat gate, Django %s ----\n' "$dj"
  $HATCH run "compat.$dj:run" --modes silent,listening,async "$@" || status=1
done
exit $status
