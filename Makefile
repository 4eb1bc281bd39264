# Entry points for newcomers and CI. Every target bootstraps what it needs from python3 alone:
# a virtual environment in .venv with hatch (+ uv), then hatch's per-layer environments (in hatch's data
# directory: `.venv/bin/hatch env find core` prints where; `make clean` removes them).
.DEFAULT_GOAL := help
.PHONY: help bootstrap test test-core test-django test-drf test-integration test-docs test-compat test-next fuzz coverage lint typecheck bench demo serve docs docs-build release-check clean

PYTHON ?= python3
VENV := .venv
HATCH := $(VENV)/bin/hatch
export HATCH_ENV_TYPE_VIRTUAL_UV_PATH := $(CURDIR)/$(VENV)/bin/uv

help: ## show the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(HATCH):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet "hatch>=1.16" "uv>=0.4"

bootstrap: $(HATCH) ## create .venv with hatch (done automatically by every target)

test: $(HATCH) ## run every package's tests and the integration suite, then print one summary
	@bash scripts/test-all.sh

test-core: $(HATCH) ## bulk-signals-core alone (Django absent), with coverage
	$(HATCH) run core:test

test-django: $(HATCH) ## bulk-signals-django (+ core), Django 4.2 and 5.2
	$(HATCH) run django:test

test-drf: $(HATCH) ## bulk-drf (+ the layers below), Django 4.2 and 5.2
	$(HATCH) run drf:test

test-integration: $(HATCH) ## the cross-layer suite (real worker, Redis, PostgreSQL when reachable)
	$(HATCH) run integration:test

test-docs: $(HATCH) ## every code block of README.md, docs/ and the package READMEs, run (tests-docs/)
	$(HATCH) run integration:test-docs

test-compat: $(HATCH) ## Django's own ORM test suites: vanilla vs every model signalling (ARGS="--backends sqlite")
	@bash scripts/test-compat.sh $(ARGS)
fuzz: $(HATCH) ## schemathesis against the example API, 160 examples per operation (over 5,000 requests a run)
	@bash scripts/fuzz.sh

test-next: ## best effort: every suite on Django 6.x with this machine's Python (see the script)
	@bash scripts/test-django-next-here.sh

coverage: test-core ## core coverage (also printed by make test)

lint: $(HATCH) ## ruff over the repository, and the layer rule (import-linter, .importlinter)
	$(HATCH) run lint:check

typecheck: $(HATCH) ## mypy --strict on the three packages (django-stubs, djangorestframework-stubs)
	$(HATCH) run core:typecheck
	$(HATCH) run types:django
	$(HATCH) run types:drf

bench: $(HATCH) ## benchmarks against vanilla Django and the peer libraries (prints ratio tables)
	@bash scripts/bench-all.sh

demo: $(HATCH) ## a walkthrough of the whole stack that prints what happens (ARGS="core sync jobs": some parts)
	@bash scripts/demo.sh $(ARGS)

serve: $(HATCH) ## run the example project (http://127.0.0.1:8000/api/)
	$(HATCH) run integration:serve

docs: $(HATCH) ## serve the documentation site with live reload (http://127.0.0.1:8000/bulk-signals/; mkdocs.yml)
	$(HATCH) run docs:serve

docs-build: $(HATCH) ## build the documentation site into site/ with --strict (a stage of make test)
	$(HATCH) run docs:build

release-check: $(HATCH) ## build, twine check --strict, install alone and import each package; bulk-drf[redis] worker
	@bash scripts/release-check.sh $(ARGS)

clean: ## remove the virtual environments (.venv and hatch's per-layer ones) and caches
	if [ -x $(HATCH) ]; then $(HATCH) env prune; fi
	rm -rf $(VENV) .venv-next .pytest_cache .mypy_cache .ruff_cache site
