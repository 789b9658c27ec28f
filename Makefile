# Two commands: `make run` starts the whole product on its embedded defaults, `make test` runs the suite.
# `make run-prod` is the production-shaped stack (PostgreSQL, uvicorn workers, DEBUG off); bench targets print figures.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run run-prod test lint fuzz bench load soak clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,postgres]'
	touch $(STAMP)

run: $(STAMP)
	./scripts/install-system-deps.sh
	$(BIN)/python -m controlplane.devstack

run-prod: $(STAMP)
	./scripts/install-system-deps.sh --postgres
	$(BIN)/python -m controlplane.prodstack

load: $(STAMP)
	$(BIN)/python bench/load.py $(LOAD_ARGS)

soak: $(STAMP)
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

test: $(STAMP)
	./scripts/install-system-deps.sh --test --postgres
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/python -m ruff check .

# schemathesis against the served OpenAPI schema on a throwaway stack; fails on any 5xx (docs/api.md).
fuzz: $(STAMP)
	$(BIN)/python scripts/fuzz_api.py

clean:
	rm -rf $(VENV) var var-postgres test-artifacts
