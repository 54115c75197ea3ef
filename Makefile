# DocPortal. `make run` and `make test` install what they need on first use.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: install install-dev run reset test lint package bench deploy destroy clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: $(BIN)/python requirements.txt requirements-portal.txt requirements-lambda.txt requirements-api.txt \
		requirements-local.txt constraints.txt pyproject.toml
	$(PIP) -r requirements.txt -c constraints.txt
	$(PIP) --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt $(VENV)/checkov/.installed
	$(PIP) -r requirements-dev.txt -c constraints.txt
	touch $@

# checkov's own pins clash with ours, so it lives in a venv of its own.
$(VENV)/checkov/.installed: requirements-checkov.txt constraints-checkov.txt | $(BIN)/python
	$(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt -c constraints-checkov.txt
	touch $@

## install: create .venv with the pinned runtime requirements
install: $(VENV)/.runtime

install-dev: $(VENV)/.dev

## run: the whole system locally on moto server; Ctrl-C stops it (files, users and messages are kept)
run: install
	$(BIN)/python -m devstack run

## reset: forget what make run kept (files, items, users, messages); the next make run starts empty
reset: install
	$(BIN)/python -m devstack reset

## test: lint, then every test (unit, moto, end-to-end, browser)
test: install-dev lint
	$(BIN)/python -m pytest

## package: a Lambda zip in build/ (PART=extractor, the default, or api), for the template's runtime and architecture
## (override with ARCH=arm64|x86_64), with bytecode when that Python is installed (pyenv or PATH)
package: install
	$(BIN)/python -m devstack.package $(if $(ARCH),--arch $(ARCH)) $(if $(PART),--part $(PART))

## bench: benchmarks as ratios to baselines measured in the same run (build/bench.txt); installs exiftool to compare with
bench: install-dev
	@command -v exiftool >/dev/null || ! command -v apt-get >/dev/null || \
		apt-get install -y -q libimage-exiftool-perl >/dev/null || \
		echo "exiftool could not be installed: the bench skips its comparison"
	$(BIN)/python -m bench

## deploy: build the Lambda package, create or update the stack on AWS, print the portal's settings
## (DOCPORTAL_STACK, AWS_PROFILE, AWS_REGION and the DOCPORTAL_* parameters from the environment; docs/DEPLOY.md)
deploy: install
	$(BIN)/python -m devstack.deploy deploy

## destroy: delete the stack; the bucket, table and user pool are kept with their data
destroy: install
	$(BIN)/python -m devstack.deploy destroy

## lint: ruff, the type check (mypy: strict on common/ and every pure module) and the import rules
## (import-linter: layers, and no AWS SDK or Streamlit in pure logic)
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build .local .pytest_cache .ruff_cache .hypothesis *.egg-info
