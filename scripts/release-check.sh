#!/usr/bin/env bash
# `make release-check` (a stage of `make test`; the release workflow runs it for the tagged package): the
# release's build and checks, without uploading anything.
#   1. build each package's sdist and wheel (uv build: the wheel is built from the unpacked sdist, so a file the
#      sdist leaves out fails here);
#   2. twine check --strict;
#   3. scripts/release_check.py: version = newest CHANGELOG release (= the tag), LICENSE in wheel and sdist,
#      Project-URLs, classifiers, absolute links in the long description, no caches in the sdist;
#   4. each wheel installed alone in a fresh virtual environment and imported (scripts/release_smoke/import_check.py);
#   5. bulk-drf[redis] installed from the wheels in a fresh environment starts a Celery worker on Redis (broker db
#      BULK_REDIS_BROKER_DB, default 10) that answers a ping and runs a task (scripts/release_smoke/worker_check.py).
# Our packages come from the wheels just built, everything else from PyPI.
#
# Usage: scripts/release-check.sh [--tag TAG] [--dist DIR] [--deps-from-pypi] [--no-worker] [PACKAGE...]
#   --tag TAG         check one package for its release tag (bulk-signals-core-v0.2.0, ...): builds that package
#   --dist DIR        keep the built files in DIR (default: a temporary folder, removed at the end)
#   --deps-from-pypi  install our other packages from PyPI instead of the local builds (what a user gets)
#   --no-worker       skip step 5
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
HATCH=${HATCH:-$ROOT/.venv/bin/hatch}
UV=${UV:-$ROOT/.venv/bin/uv}
export HATCH_ENV_TYPE_VIRTUAL_UV_PATH=$UV

ALL=(bulk-signals-core bulk-signals-django bulk-drf)
TAG="" DIST="" PYPI_DEPS=0 WORKER=1 PACKAGES=()
while [ $# -gt 0 ]; do
  case $1 in
    --tag) TAG=$2; shift 2 ;;
    --dist) DIST=$2; shift 2 ;;
    --deps-from-pypi) PYPI_DEPS=1; shift ;;
    --no-worker) WORKER=0; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) PACKAGES+=("$1"); shift ;;
  esac
done
if [ -n "$TAG" ]; then PACKAGES=("${TAG%-v*}"); fi
[ ${#PACKAGES[@]} -eq 0 ] && PACKAGES=("${ALL[@]}")
for p in "${PACKAGES[@]}"; do
  [ -d "packages/$p" ] || { echo "no package $p (tag $TAG?)" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/release-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
DIST=${DIST:-$WORK/dist}
mkdir -p "$DIST"
DIST=$(cd "$DIST" && pwd)
PY=$(command -v python3)
start=$SECONDS
step() { printf '\n--- [%ss] %s\n' "$((SECONDS - start))" "$*"; }

module() { echo "${1//-/_}"; }
version() { sed -nE 's/^__version__ = "([^"]+)"/\1/p' "packages/$1/src/$(module "$1")/__init__.py"; }
wheel() { echo "$DIST/$(module "$1")-$(version "$1")-py3-none-any.whl"; }
# The wheels to install for a package: its own, and (unless --deps-from-pypi) the local builds of the packages
# it depends on; `name[extra] @ file://...` keeps the resolver on these files for our names.
requirements() {  # requirements <package> [extra]
  local pkg=$1 extra=${2:-} deps=()
  case $pkg in
    bulk-signals-django) deps=(bulk-signals-core) ;;
    bulk-drf) deps=(bulk-signals-core bulk-signals-django) ;;
  esac
  echo "$pkg${extra:+[$extra]} @ file://$(wheel "$pkg")"
  if [ $PYPI_DEPS -eq 0 ]; then for d in "${deps[@]}"; do echo "$d @ file://$(wheel "$d")"; done; fi
}
fresh_venv() {  # fresh_venv <dir> <requirement...>
  local dir=$1; shift
  "$UV" venv -q --python "$PY" "$dir"
  "$UV" pip install -q --python "$dir/bin/python" "$@"
}

# Local dry runs build every package (a sibling's wheel is needed to install the others), a tagged run its own.
BUILD=("${PACKAGES[@]}")
if [ $PYPI_DEPS -eq 0 ]; then BUILD=("${ALL[@]}"); fi
step "build: ${BUILD[*]}"
for p in "${BUILD[@]}"; do
  "$UV" build -q --out-dir "$DIST" "packages/$p"
done
FILES=()
for p in "${PACKAGES[@]}"; do FILES+=("$(wheel "$p")" "$DIST/$(module "$p")-$(version "$p").tar.gz"); done
ls -l "${FILES[@]}" | awk '{print "  " $5 "\t" $NF}'

step "twine check --strict"
$HATCH run release:twine check --strict "${FILES[@]}"

step "distribution checks (scripts/release_check.py)"
$HATCH run release:python scripts/release_check.py ${TAG:+--tag "$TAG"} "$DIST" "${PACKAGES[@]}" | tee "$WORK/checks.log"

for p in "${PACKAGES[@]}"; do
  step "$p: the wheel alone in a fresh environment, imported"
  mapfile -t reqs < <(requirements "$p")
  fresh_venv "$WORK/venv-$p" "${reqs[@]}"
  "$WORK/venv-$p/bin/python" scripts/release_smoke/import_check.py "$p" "$(version "$p")"
done

if [ $WORKER -eq 1 ] && [[ " ${PACKAGES[*]} " == *" bulk-drf "* ]]; then
  step "bulk-drf[redis]: a fresh environment from the wheels, a Celery worker on Redis"
  export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
  if ! "$PY" - "$REDIS_URL" <<'PY' 2>/dev/null; then
import socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1]); s = socket.create_connection((u.hostname, u.port or 6379), timeout=2)
s.sendall(b"PING\r\n"); assert s.recv(16).startswith(b"+PONG")
PY
    # Under CI=true a missing service is a failure, never a skip.
    [ "${CI:-}" = "true" ] && { echo "FAIL CI=true and nothing answers at $REDIS_URL (the worker check needs Redis)"; exit 1; }
    echo "  --  SKIPPED: nothing answers at $REDIS_URL (the worker check needs Redis)"
    unset REDIS_URL
  else
    mapfile -t reqs < <(requirements bulk-drf redis)
    fresh_venv "$WORK/venv-redis" "${reqs[@]}"
    "$WORK/venv-redis/bin/python" -c "import celery, kombu, redis; print('  ok  celery', celery.__version__, '/ kombu', kombu.__version__, '/ redis', redis.__version__)"
    mkdir -p "$WORK/worker"
    "$WORK/venv-redis/bin/python" scripts/release_smoke/worker_check.py "$WORK/worker"
  fi
fi

worker=""
if [ $WORKER -eq 1 ] && [[ " ${PACKAGES[*]} " == *" bulk-drf "* ]] && [ -n "${REDIS_URL:-}" ]; then
  worker=", a bulk-drf[redis] worker ran a task"
fi
printf '\nSUMMARY: %s: twine --strict, %s, each installed alone and imported%s (%ss)\n' \
  "${PACKAGES[*]}" "$(sed -nE 's/^release check: ([0-9]+) passed.*/\1 distribution checks/p' "$WORK/checks.log")" "$worker" \
  "$((SECONDS - start))"
