# The two commands a newcomer needs: `make run` and `make test`. Everything else is here too.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint bench docs clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed (set PYTHON=...)"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)  ## virtualenv in .venv with the pinned stack; the `hub` command at .venv/bin/hub

run: install  ## build the simulated district, serve its 物业 API, ingest all departments, show status
	$(BIN)/hub demo

test: install  ## the whole suite (SQLite, PostgreSQL and MariaDB on 127.0.0.1)
	$(BIN)/python -m pytest

lint: install  ## ruff and mypy
	$(BIN)/ruff check hub connectors schemas tests bench
	$(BIN)/mypy

bench: install  ## ingest 1,000,000 source records; suggest accuracy per department (medians, tables in bench/results)
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.onboarding

docs: install  ## regenerate docs/data-model.md and the mapping JSON Schema from the models
	$(BIN)/python -m schemas.docs > docs/data-model.md
	$(BIN)/python -m hub.mapping.schema > schemas/mapping.schema.json

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
