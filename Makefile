# survomics: two commands on a fresh machine (Python 3.11, pip, make).
#   make run   set up .venv from the pinned lock and run the workflow on the bundled cohort
#   make test  set up .venv (+ test tools) and run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all
SNAKEMAKE_ARGS ?=

.PHONY: run test lint format bench dry-run clean-results help system-deps

help:
	@echo "make run    - run the workflow on the bundled cohort (creates .venv if needed)"
	@echo "make test   - run the whole test suite (creates .venv + test tools if needed)"
	@echo "make lint   - ruff, snakefmt --check and snakemake --lint"
	@echo "make bench  - benchmarks under bench/ (not part of the tests)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: requirements/run.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/run.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.test-installed: requirements/test.txt $(VENV)/.run-installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/test.txt
	touch $@

run: $(VENV)/.run-installed
	$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)

dry-run: $(VENV)/.run-installed
	$(BIN)/snakemake --dry-run --cores $(CORES) $(SNAKEMAKE_ARGS)

system-deps:
	bash tests/system/install-deps.sh

test: $(VENV)/.test-installed system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/ruff format --check src tests scripts bench
	$(BIN)/snakefmt --check Snakefile workflow
	$(BIN)/snakemake --lint --cores 1

bench: $(VENV)/.test-installed
	$(BIN)/python bench/cox_screen.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/methylation.py
	$(BIN)/python bench/dag.py
	$(BIN)/python bench/end_to_end.py
	$(BIN)/python bench/scaling.py

clean-results:
	rm -rf results .snakemake
