# The two commands a newcomer needs: `make run` and `make test`. Everything else is here too.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install browser wrk run test reliability lint bench docs clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed (set PYTHON=...)"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)  ## virtualenv in .venv with the pinned stack; the `hub` command at .venv/bin/hub

run: install  ## build the simulated district, serve its 物业 API, ingest, resolve, publish; then Airflow standalone (pipeline triggered once) and the webhook delivery worker beside the hub API
	$(BIN)/hub demo --airflow

browser:  ## headless Chromium and CJK fonts (Debian packages) for the test that renders the quality report
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; } || echo "chromium not installed: the report's browser test is skipped"

test: install browser  ## the whole suite (SQLite, PostgreSQL and MariaDB on 127.0.0.1), ending with the reliability table
	$(BIN)/python -m pytest --durations=30 --reliability-report=var/reliability.md

reliability: install  ## the reliability figures and findings only, long fault-injection trials included (docs/reliability.md)
	$(BIN)/python -m pytest -m reliability --reliability-long --reliability-report=var/reliability.md

lint: install  ## ruff and mypy
	$(BIN)/ruff check hub connectors schemas tests bench dags
	$(BIN)/mypy

BENCH_CACHE  ?= $(or $(HUB_BENCH_CACHE),$(HOME)/.cache/community-hub-bench)
SPLINK_PYTHON := $(BENCH_CACHE)/splink-venv/bin/python

$(SPLINK_PYTHON):  ## Splink 5 in a virtualenv of its own (its pyarrow would change pandas' string storage in ours)
	$(PYTHON) -m venv $(BENCH_CACHE)/splink-venv
	$(SPLINK_PYTHON) -m pip install --quiet splink==5.0.0 pandas

wrk:  ## wrk (Debian's package): the API benchmark's closed-loop load, a C generator that leaves the cores to the server
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq wrk >/dev/null; } || echo "wrk not installed: the API benchmark loads with its Python generator"

bench: install wrk $(SPLINK_PYTHON)  ## ingest 1,000,000 records; matching vs Splink, and increments through the store, at 100,000 residents; suggest accuracy; the API under load
	$(BIN)/python -m bench.ingest
	HUB_BENCH_CACHE=$(BENCH_CACHE) $(BIN)/python -m bench.resolve --residents 100000 --runs 3 --splink-python $(SPLINK_PYTHON)
	HUB_BENCH_CACHE=$(BENCH_CACHE) $(BIN)/python -m bench.resolve.store_increment --residents 100000 --runs 3
	$(BIN)/python -m bench.onboarding
	$(BIN)/python -m tests.hub.onboard.unseen --vocabulary held_out_e
	HUB_BENCH_CACHE=$(BENCH_CACHE) $(BIN)/python -m bench.api --residents 100000 --runs 3

docs: install  ## regenerate docs/data-model.md and the mapping JSON Schema from the models
	$(BIN)/python -m schemas.docs > docs/data-model.md
	$(BIN)/python -m hub.mapping.schema > schemas/mapping.schema.json

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
