# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test bench venv clean-instance

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

## make run: create keys and database on first run, load the demo county, serve it.
run: $(VENV)/.installed
	$(FLASK) init
	$(FLASK) demo --if-empty
	@echo
	@echo "ssj 已启动: http://$(HOST):$(PORT)   (Ctrl-C 停止)"
	$(VENV)/bin/gunicorn --workers 2 --threads 4 --bind $(HOST):$(PORT) app:app

## make test: the whole suite, browser tests included.
test: $(VENV)/.installed
	$(PY) -m pytest

## make bench: the benchmarks under bench/ (not part of the test suite).
bench: $(VENV)/.installed
	$(PY) -m bench.run_all
