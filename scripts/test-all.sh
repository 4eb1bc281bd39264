#!/usr/bin/env bash
# `make test`: every layer alone (only it and the layers below installed), then the integration
# suite; SQLite always, PostgreSQL too when it answers. Prints one summary at the end.
set -u
cd "$(dirname "$0")/.."
HATCH=.venv/bin/hatch
source scripts/services.sh

declare -a NAMES=() RESULTS=()
run() {  # run <label> <command...>
  local label=$1; shift
  printf '\n==================== %s ====================\n' "$label"
  local start=$SECONDS log status detail
  log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  # The pytest result line and, for the core, the coverage total, repeated in the summary.
  detail=$(grep -E '^=+ .*(passed|failed|error).* in [0-9.]+s' "$log" | tail -1 | sed -E 's/^=+ //; s/ in [0-9.]+s.*//')
  # The compat gate prints its own one-line result.
  [ -z "$detail" ] && detail=$(grep -E '^SUMMARY: ' "$log" | tail -1 | sed -E 's/^SUMMARY: //')
  # mypy's last line ("Success: no issues found in N source files", "Found N errors in ...").
  [ -z "$detail" ] && detail=$(grep -E '^(Success: no issues found|Found [0-9]+ errors?) ' "$log" | tail -1)
  # mkdocs's build time.
  [ -z "$detail" ] && detail=$(grep -oE 'Documentation built in [0-9.]+ seconds' "$log" | tail -1)
  cov=$(grep -E '^TOTAL ' "$log" | awk '{print $NF}')
  [ -n "$cov" ] && detail="$detail, coverage $cov"
  # The documentation tests count the code blocks they ran and the ones marked not runnable.
  blocks=$(grep -E '^docs: [0-9]+ code blocks' "$log" | tail -1 | sed -E 's/^docs: //')
  [ -n "$blocks" ] && detail="$detail; $blocks"
  rm -f "$log"
  if [ "$status" -eq 0 ]; then state=PASS; else state=FAIL; fi
  RESULTS+=("$state  $label ($((SECONDS - start))s)${detail:+: $detail}")
}

run "lint (ruff, import-linter)" $HATCH run lint:check
run "core: mypy --strict" $HATCH run core:typecheck
run "bulk-signals-django: mypy --strict (django-stubs)" $HATCH run types:django
run "bulk-drf: mypy --strict (django-stubs, djangorestframework-stubs)" $HATCH run types:drf
run "core: tests + coverage (Django absent)" $HATCH run core:test
run "core: tests + coverage, mypyc-compiled build" $HATCH run core-compiled:test
for dj in 4.2 5.2; do
  run "django $dj: bulk-signals-django on SQLite" env -u DATABASE_URL $HATCH run "django.$dj:test"
  run "django $dj: bulk-drf on SQLite" env -u DATABASE_URL $HATCH run "drf.$dj:test"
done
# Django's own ORM suites, vanilla vs every model a bulk-signals model (tests-compat/, docs/compat.md).
# Every mode on SQLite; on PostgreSQL vanilla/silent/listening for Django 5.2 and vanilla/listening for 4.2
# (its silent mode is Django's own code path). `make test-compat` runs every mode everywhere.
pg=$( [ -n "${DATABASE_URL:-}" ] && echo ' + PostgreSQL' )
run "compat 4.2: Django's ORM suites, vanilla/silent/listening on SQLite${pg:+, vanilla/listening on PostgreSQL}" \
  $HATCH run "compat.4.2:run" --postgresql-modes listening
run "compat 5.2: Django's ORM suites, vanilla/silent/listening/async on SQLite${pg:+, vanilla/silent/listening on PostgreSQL}" \
  $HATCH run "compat.5.2:run" --modes silent,listening,async --postgresql-modes silent,listening
if [ -n "${DATABASE_URL:-}" ]; then
  run "django 5.2: bulk-signals-django on PostgreSQL" $HATCH run "django.5.2:test"
  run "django 5.2: bulk-drf on PostgreSQL" $HATCH run "drf.5.2:test"
  run "django 4.2: bulk-drf on PostgreSQL" $HATCH run "drf.4.2:test"
fi
run "docs: every code block of README.md, docs/ and the package READMEs (~20 s)" $HATCH run integration:test-docs
# The documentation site with --strict: a broken link or anchor, or an API page that does not resolve (~15 s).
run "docs: mkdocs build --strict" $HATCH run docs:build
# The release workflow's checks for the three packages, and a Celery worker from bulk-drf[redis] installed from the
# built wheels in a fresh environment (45-80 s measured on the shared 2-core machine under load; the first run
# downloads from PyPI).
run "release check: build, twine --strict, metadata, fresh installs$( [ -n "${REDIS_URL:-}" ] && echo ', bulk-drf[redis] worker')" \
  bash scripts/release-check.sh
# The bulk-drf benchmarks, tiny (--quick, ~40 s): they still run to their end (no timing is checked).
if [ -n "${DATABASE_URL:-}" ]; then
  run "bench smoke: make bench's drf, jobs and export benchmarks with --quick" bash scripts/bench-smoke.sh
fi
run "integration (all layers$( [ -n "${REDIS_URL:-}" ] && echo ', real Celery worker on Redis, docs/tutorial.md followed from the built wheels'))" $HATCH run integration:test

printf '\n==================== summary ====================\n'
failed=0
for r in "${RESULTS[@]}"; do echo "$r"; [[ $r == FAIL* ]] && failed=1; done
if [ ${#SKIPPED[@]} -gt 0 ]; then printf 'SKIPPED:\n'; printf '  - %s\n' "${SKIPPED[@]}"; fi
[ $failed -eq 0 ] && echo "ALL GREEN" || echo "FAILED"
exit $failed
