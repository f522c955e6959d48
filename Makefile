# `make run` and `make test` work on a fresh machine: they create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run install test lint services clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) run.py

services:
	bash scripts/install-services.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy server protocol handlers schemas storage run.py
	$(VENV)/bin/lint-imports  # the import contracts of pyproject.toml: imports point down only

test: install services lint
	bash scripts/run-tests.sh

clean:
	rm -rf $(VENV) data .pytest_cache
