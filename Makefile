# Two commands on a fresh machine: `make run` (set up and serve) and `make test` (every test).
# The interpreter the venv is made from (`make PYTHON=/path/to/python3 ...` to choose). By default
# the distribution's python3.11 where it can make a venv: Debian builds it with PGO and LTO, as the
# Dockerfile's python:3.11-slim is built; pyenv's default build has neither, and on it
# bench/journey.py's server CPU per journey was about 11% higher (three alternating runs each,
# issue 19). Else python3 on PATH. Only a new .venv: an existing one keeps its interpreter.
SYSTEM_PYTHON := $(shell /usr/bin/python3.11 -c "import ensurepip" 2>/dev/null && echo /usr/bin/python3.11)
PYTHON ?= $(or $(SYSTEM_PYTHON),python3)
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
export FLASK_APP := wsgi.py
# `make run PORT=5050`, or PORT=5050 in the environment. Served on 127.0.0.1 only: the debugger
# that `make run` turns on must never face a network.
PORT ?= 5000

.PHONY: run test worker lint setup setup-dev

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: $(VENV)/bin/activate requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

setup: $(VENV)/.runtime
setup-dev: $(VENV)/.dev

## Set up, migrate, load demo data into an empty database, and serve on http://127.0.0.1:$(PORT)
run: $(VENV)/.runtime
	$(FLASK) db upgrade heads
	$(FLASK) demo load
	@$(PY) -c "from app.cli import banner; banner($(PORT))"
	$(FLASK) run --host 127.0.0.1 --port $(PORT) --debug

## Every test: on SQLite with inline jobs, and on PostgreSQL + Redis beside it when
## TEST_DATABASE_URL / REDIS_URL are set (scripts/test-all.sh)
test: $(VENV)/.dev
	scripts/ensure-chromium.sh
	scripts/test-all.sh

## The RQ worker with the scheduler and the outbox sweep (needs REDIS_URL)
worker: $(VENV)/.runtime
	$(FLASK) worker

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check app tests bench
