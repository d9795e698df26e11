# Every target installs what it needs into .venv first (made here when missing).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help install test reproduce bench bench-data clean

help:  ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)  ## make .venv and install the package with its test tools

test: $(STAMP)  ## run the test suite
	$(BIN)/python -m pytest -n 2

reproduce: $(STAMP)  ## run the whole study (not yet: the experiments are still to come)
	@echo "make reproduce: not yet; the experiments are still to come. See README.md." && exit 1

bench-data: $(STAMP)  ## how many encoded examples/s each data path delivers
	$(BIN)/python -m data_gen bench

bench: bench-data  ## every benchmark

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache src/*.egg-info
