# fairdun: `make demo` runs the main job, `make test` runs every check. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck contracts pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/fairdun demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy --strict src

contracts: $(VENV)/.installed-dev
	$(BIN)/lint-imports

# The report's browser test drives Debian's headless Chromium (never a browser downloaded at run time).
$(VENV)/.chromium: | $(BIN)/python
	@command -v chromium >/dev/null 2>&1 || (echo "installing Debian's chromium for the browser test" && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	touch $@

pytest: $(VENV)/.installed-dev $(VENV)/.chromium
	$(BIN)/pytest

test: lint typecheck contracts pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/gate.py
	$(BIN)/python bench/screen.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/cycle.py
	$(BIN)/python bench/demo.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build src/*.egg-info
