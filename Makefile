# Quick start: `make serve` runs the gateway, `make test` runs lint, types and the whole suite.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: install serve test test-tools js-clients lint unit bench clean

$(STAMP): pyproject.toml scripts/install.sh
	bash scripts/install.sh
	touch $@

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/lfm2-serve $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check server tool_parser tests bench
	$(BIN)/mypy

test-tools: $(STAMP)
	bash scripts/install-test-tools.sh

js-clients:
	bash tests/clients/js/install.sh

test: lint test-tools js-clients
	$(BIN)/python -m pytest -q -p no:cacheprovider

unit: $(STAMP)
	$(BIN)/python -m pytest -q -m "not engine"

bench: $(STAMP)
	$(BIN)/python bench/tool_parser_bench.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
