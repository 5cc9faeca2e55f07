# The two commands of the README: `make serve` (install + run, embedded default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve test install install-test services bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

serve: install
	$(BIN)/viewfinder serve

services:
	bash scripts/ensure-services.sh

test: install-test services
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: install-test services
	$(BIN)/python -m benchmarks
