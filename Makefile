# Two commands: `make run` starts the whole product on its embedded defaults, `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint fuzz bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,postgres]'
	touch $(STAMP)

run: $(STAMP)
	./scripts/install-system-deps.sh
	$(BIN)/python -m controlplane.devstack

test: $(STAMP)
	./scripts/install-system-deps.sh --test
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/python -m ruff check .

# schemathesis against the served OpenAPI schema on a throwaway stack; fails on any 5xx (docs/api.md).
fuzz: $(STAMP)
	$(BIN)/python scripts/fuzz_api.py

clean:
	rm -rf $(VENV) var test-artifacts
