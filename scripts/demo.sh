#!/usr/bin/env bash
# `make demo`: printed walkthroughs, no server needed (tests-integration/demo/__main__.py):
# 1. bulk-signals-core alone; 2. synchronous bulk requests and their signals; 3. a background job on a real
# Celery worker. `make demo ARGS=sync` (or core, jobs, several) runs only those parts.
set -eu
cd "$(dirname "$0")/.."
exec .venv/bin/hatch run integration:demo "$@"
