#!/usr/bin/env bash
# `make demo`: printed walkthroughs, no server needed.
set -eu
cd "$(dirname "$0")/.."
HATCH=.venv/bin/hatch

# Part 1: bulk-signals-core on its own (standard library only).
$HATCH run integration:python tests-integration/demo/core_walkthrough.py

# Part 2: the full stack (Django models, DRF endpoints, a Celery worker) -- added by the jobs
# walkthrough below this line.
$HATCH run integration:demo-jobs
