# Every target sets up its own venv first, so `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv lint typecheck format test demo bench client-cpu capacity hot-key clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: venv
	$(PY) -m mypy

format: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test: lint typecheck
	$(PY) -m pytest

demo: venv
	$(PY) -m ops demo

bench: venv
	$(PY) -m benchmarks.run

# The handler's client CPU table of make bench, alone (about 1 minute).
client-cpu: venv
	$(PY) -m benchmarks.client_cpu

capacity: venv
	$(PY) -m benchmarks.capacity

# One aggregate key under 1 to 64 batches in flight (about 3 minutes); in neither bench nor test.
hot-key: venv
	$(PY) -m benchmarks.hot_key

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist
