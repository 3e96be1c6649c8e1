# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test bench venv clean-instance

# requirements.txt (the application) and requirements-test.txt (it, plus tests and checks) pin every
# package by version and hash; they are compiled from requirements*.in with pip-tools (see their heads).
$(VENV)/.installed: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements-test.txt
	touch $@

venv: $(VENV)/.installed

## make run: create keys and database on first run, load the demo county, serve it.
run: $(VENV)/.installed
	$(FLASK) init
	$(FLASK) demo --if-empty
	@echo
	@echo "ssj 已启动: http://$(HOST):$(PORT)   (Ctrl-C 停止)"
	$(VENV)/bin/gunicorn --workers 2 --threads 4 --bind $(HOST):$(PORT) app:app

# The PostgreSQL pass runs the whole suite again on a throw-away PostgreSQL cluster
# (tests/postgres_support.py), so no code path relies on SQLite-only behaviour.
# Browser tests are left out (they drive the same routes through a live server);
# tests marked sqlite_only (they read or edit the SQLite file) skip themselves
# there, each next to a postgres_only variant checking the same property.

# The 商用密码 pass builds the test instance with `init --crypto sm` (SM4-GCM, SM3/HMAC-SM3;
# SSJ_TEST_CRYPTO, read by tests/conftest.py) and runs the tests that touch the crypto:
# sealing, keys and custody, the access log, the draw ceremony's secrecy, order and bundle,
# publication's unseal, public bundle and exports. tests/draws is left out: the draw
# algorithm is SHA-256 in both suites. Measured: 2 min 42 s CPU (user+sys of `time`,
# 147 tests, on the shared 2-core machine at load 9).
SM_TESTS := tests/sealing tests/audit \
	tests/ceremony/test_secrecy.py tests/ceremony/test_order.py tests/ceremony/test_recusal_and_bundle.py \
	tests/publication/test_unseal.py tests/publication/test_public.py tests/publication/test_exports_and_archive.py

## make test: lint (ruff) and types (mypy strict on the pure modules), then the whole suite on
## SQLite, browser tests included; the crypto-bearing part again on the SM suite; then again on PostgreSQL.
test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest
	@echo "== 商用密码 pass (SSJ_TEST_CRYPTO=sm): $(SM_TESTS) =="
	SSJ_TEST_CRYPTO=sm $(PY) -m pytest -q -m "not browser" $(SM_TESTS)
	@if $(PY) -c "import sys, tests.postgres_support as p; sys.exit(p.pg_bin() is None)"; then \
		echo "== PostgreSQL pass: the whole suite except browser tests =="; \
		SSJ_TEST_DATABASE=postgres $(PY) -m pytest -q -m "not browser"; \
	elif [ "$$SSJ_REQUIRE_POSTGRES" = 1 ]; then \
		echo "SSJ_REQUIRE_POSTGRES=1 but PostgreSQL is not installed" >&2; exit 1; \
	else \
		echo "!!! PostgreSQL not found: SKIPPING the PostgreSQL pass (apt-get install -y postgresql)"; \
	fi

## make bench: the benchmarks under bench/ (not part of the test suite).
bench: $(VENV)/.installed
	$(PY) -m bench.run_all
