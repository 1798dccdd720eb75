# Xiangyin: the two commands are `make run` and `make test` (each sets up what it needs first).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast setup system-deps rasa-env lint bench clean

run: setup rasa-env
	$(BIN)/xiangyin demo-data
	$(BIN)/xiangyin run

test: setup rasa-env
	bash scripts/test.sh

# The fast tier: the domain and adapter tests that need neither Rasa nor PostgreSQL nor
# Chromium nor `xiangyin` subprocesses (markers in pyproject.toml; tests/conftest.py sets rasa
# and postgres from the fixtures a test uses), one test file per worker process (pytest-xdist).
# `make test` stays the whole suite and CI's command; `make lint` is the linter alone.
FAST := not rasa and not postgres and not browser and not slow
WORKERS ?= 2

test-fast: setup
	$(BIN)/pytest -q -n $(WORKERS) --dist loadfile -m "$(FAST)"

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Xiangyin needs Python >= 3.11)"; exit 1; }
	bash scripts/install_system_deps.sh
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

rasa-env:
	bash scripts/setup_rasa.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	$(BIN)/python benchmarks/orders_lifecycle.py

clean:
	rm -rf $(VENV) var/*.db var/*.db-* .pytest_cache
