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

# System packages the tests need, when missing: a Java runtime (Spark), chromium (browser
# tests), PostgreSQL and its test user (only when no server answers on 5432).
system-deps:
	bash scripts/system-deps.sh

demo: install
	OPENSCORE_ENVIRONMENT=development $(PY) -m openscore --data-dir demo-data demo

# lint: ruff (rules and formatting) and mypy (strict on domain, model, scoring, registry;
# config in pyproject.toml). test: lint, then every test.
lint: install
	$(VENV)/bin/ruff check src tests benchmarks clients
	$(VENV)/bin/ruff format --check src tests benchmarks clients
	$(VENV)/bin/mypy

test: lint system-deps
	HYPOTHESIS_PROFILE=ci $(VENV)/bin/pytest -n auto --maxprocesses 4 --dist loadfile

bench: install
	@echo "benchmarks are run one by one: see docs/benchmarks.md"

clean:
	rm -rf $(VENV) demo-data .pytest_cache .ruff_cache .hypothesis
