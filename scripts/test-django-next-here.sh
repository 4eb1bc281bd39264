#!/usr/bin/env bash
# `make test-next`: the newest Django (6.x) on this machine's Python, before the GitHub workflow's
# Python 3.12 leg sees it. Django 6 declares Requires-Python >= 3.12, so this installs it with
# pip's --ignore-requires-python into .venv-next; it works for as long as Django's code still
# runs on the local Python (6.0.x does on 3.11; 6.1 needs 3.12). Best effort, not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
VENV=.venv-next
PY=$VENV/bin/python
[ -x $PY ] || python3 -m venv $VENV
$PY -m pip install --quiet --upgrade pip
$PY -m pip install --quiet --ignore-requires-python "django>=6.0,<6.1" \
  -e packages/bulk-signals-core -e packages/bulk-signals-django -e packages/bulk-drf \
  "pytest>=8" "pytest-django>=4.8" "pytest-asyncio>=0.23" "factory-boy>=3.3" "psycopg[binary]>=3.1" \
  "redis>=5" "celery[redis]>=5.4" "tqdm>=4.66" "drf-spectacular>=0.27" "tblib>=3" "hypothesis>=6"
echo "Django $($PY -c 'import django; print(django.get_version())') on $($PY -V)"
status=0
suite() { echo "== $1"; shift; "$@" || status=1; }
suite "bulk-signals-django, SQLite" env -u DATABASE_URL -C packages/bulk-signals-django ../../$PY -m pytest -q -p no:cacheprovider
suite "bulk-drf, SQLite" env -u DATABASE_URL -C packages/bulk-drf ../../$PY -m pytest -q -p no:cacheprovider -p no:asyncio
if [ -n "${DATABASE_URL:-}" ]; then
  suite "bulk-signals-django, PostgreSQL" env -C packages/bulk-signals-django ../../$PY -m pytest -q -p no:cacheprovider
  suite "bulk-drf, PostgreSQL" env -C packages/bulk-drf ../../$PY -m pytest -q -p no:cacheprovider -p no:asyncio
fi
suite "integration" env -C tests-integration ../$PY -m pytest -q -p no:cacheprovider -p no:asyncio
suite "compat gate (Django's own ORM suites, docs/compat.md)" env COMPAT_PIP="$PY -m pip" $PY tests-compat/run_compat.py
exit $status
