#!/usr/bin/env bash
# Install the mypyc-compiled build of bulk-signals-core into the active environment (VIRTUAL_ENV,
# set by `hatch run`). hatch-mypyc compiles with `build_ext --inplace`, which leaves .so files
# in the source tree (and briefly renames pyproject.toml): build from a copy so that the pure
# build, installed in development mode from packages/bulk-signals-core, stays pure.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${HATCH_ENV_TYPE_VIRTUAL_UV_PATH:-$PWD/.venv/bin/uv}  # .venv is made by make bootstrap
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bulk-signals-core"
cp -r packages/bulk-signals-core/{pyproject.toml,README.md,CHANGELOG.md,src} "$work/bulk-signals-core/"
# --reinstall/--refresh-package: uv would otherwise reuse a wheel cached for an older source.
HATCH_BUILD_HOOK_ENABLE_MYPYC=1 "$UV" pip install --quiet --no-deps --reinstall \
  --refresh-package bulk-signals-core "$work/bulk-signals-core"
python -c "import bulk_signals_core as c, sys; print('bulk_signals_core compiled:', c.compiled); sys.exit(not c.compiled)"
