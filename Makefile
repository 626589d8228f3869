# openscore: `make demo` sets up and runs the demo; `make test` sets up and runs every test.
# Both create .venv and install from requirements.lock (pinned); nothing is installed by hand.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml clients/python/pyproject.toml | sha256sum | cut -c1-12)

.PHONY: install system-deps demo test lint bench clean

$(STAMP): pyproject.toml requirements.lock clients/python/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "openscore needs Python 3.11"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev,spark]' -e ./clients/python
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

# Debian packages the tests need (chromium; PostgreSQL only when no server answers).
system-deps:
	bash scripts/system-deps.sh

demo: install
	$(PY) -m openscore --data-dir demo-data demo

test: install system-deps
	$(VENV)/bin/ruff check src tests benchmarks clients
	HYPOTHESIS_PROFILE=ci $(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check src tests benchmarks clients
	$(VENV)/bin/ruff format --check src tests benchmarks

bench: install
	@echo "benchmarks are run one by one: see docs/benchmarks.md"

clean:
	rm -rf $(VENV) demo-data .pytest_cache .ruff_cache .hypothesis
