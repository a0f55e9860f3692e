# The two commands a newcomer needs: `make demo` and `make test`.
# Each creates or refreshes .venv, installs confluens with the extras it needs, then runs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint unit services bench clean

$(STAMP): pyproject.toml Makefile
	@echo "== creating $(VENV) and installing confluens with its dev, postgres, redis, mqtt, nats, models, river and serve extras"
	@echo "   (duckdb, pyarrow, pandas, sqlalchemy, sqlglot, psycopg, redis, paho-mqtt, nats-py, pytest, ruff, mypy..."
	@echo "   from the package index; this happens once and takes a minute or two)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --progress-bar off -e '.[dev,postgres,redis,mqtt,nats,models,river,serve]'
	@echo "== installed: $$($(BIN)/python -m pip list 2>/dev/null | wc -l) packages in $(VENV);" \
	      "run 'source $(VENV)/bin/activate' to put confluens on PATH"
	touch $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

test: $(STAMP) services lint unit

services:
	bash scripts/services.sh postgres redis mosquitto nats

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) work .pytest_cache .mypy_cache .ruff_cache
