# The two commands a new user needs: `make demo` and `make test`. Both install what they
# need first, pinned by requirements.lock, into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-12)
UV_VERSION := 0.13.9

.PHONY: install demo test test-fast lint lock browser axe clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## Generate the synthetic demo portfolio and run the whole chain on it (out/demo/)
demo: install
	@$(MAKE) --no-print-directory browser || echo "no chromium: the demo runs, without PNG images of the charts"
	$(BIN)/mes-eval demo

## Headless Chromium for the tests that open the report in a real browser (Debian package)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)) ; \
	  else echo "chromium is missing: install Debian's 'chromium' package (needs root)"; exit 1; fi; }

## axe-core for the accessibility tests, at the version package-lock.json pins (node + npm)
axe: node_modules/axe-core

node_modules/axe-core: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -qq npm >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq npm >/dev/null)) ; \
	  else echo "npm is missing: install Debian's 'npm' package (needs root)"; exit 1; fi; }
	npm ci --no-audit --no-fund
	touch $@

## Every test, end-to-end ones included
test: install browser axe
	$(BIN)/pytest

## The fast tests only (no Prefect start-up, no browser)
test-fast: install
	$(BIN)/pytest -m "not e2e"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Re-pin every dependency after editing pyproject.toml
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf out .mes-eval .pytest_cache .mypy_cache .ruff_cache
