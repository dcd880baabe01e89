# knowdesk: `make run` serves the demo, `make test` runs the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export KNOWDESK_DATA ?= data

.PHONY: run test install lint typecheck bench browser-deps migration-initial clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/knowdesk demo load
	$(BIN)/knowdesk serve

# Debian's Chromium and a CJK font for the browser tests, installed when missing.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then \
		echo "installing chromium and fonts-wqy-microhei"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	fi

test: $(STAMP) browser-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 2  # two workers, each with its own database and server

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck:
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

# Rewrite the single initial migration from the models (only while nothing is deployed).
migration-initial: $(STAMP)
	rm -rf /tmp/knowdesk-migration && rm -f src/knowdesk/db/migrations/versions/0001_*.py
	KNOWDESK_DATA=/tmp/knowdesk-migration $(BIN)/knowdesk db revision -m "initial schema" --rev-id 0001
	$(BIN)/ruff format src/knowdesk/db/migrations/versions
	$(BIN)/ruff check --fix -q src/knowdesk/db/migrations/versions || true

clean:
	rm -rf $(VENV) data
