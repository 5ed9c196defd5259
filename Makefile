# Quick start: `make run` (UI + daemon on http://127.0.0.1:3000, project pages on :3001, example project
# dropped in) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export PIPELINE_DATA_DIR ?= $(CURDIR)/var
export DAGSTER_HOME ?= $(PIPELINE_DATA_DIR)/dagster_home
PG_BIN := /usr/lib/postgresql/15/bin

.PHONY: run test install install-test lint check benchmarks clean dagster-home example

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,infra]'
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run
install-test: $(VENV)/.installed-test node_modules/.installed system-packages

# Prism (GitHub/Netlify contract checks) comes from npm, pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# PostgreSQL server binaries for the production-profile tests (a private cluster per test run), and
# Chromium for the project page's rendering test.
.PHONY: system-packages
system-packages:
	@if [ ! -x $(PG_BIN)/initdb ]; then \
		echo "installing PostgreSQL server binaries"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi
	@if ! command -v chromium >/dev/null; then \
		echo "installing Chromium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

dagster-home:
	mkdir -p "$(DAGSTER_HOME)"
	@[ -f "$(DAGSTER_HOME)/dagster.yaml" ] || cp infra/dagster/embedded.yaml "$(DAGSTER_HOME)/dagster.yaml"

example: install
	$(VENV)/bin/ai-pipeline drop examples/acme-tasks --project acme-tasks

# `dg dev` (the UI and the daemon) loads the code location named in pyproject.toml's [tool.dg];
# `ai-pipeline page` serves the project pages beside it and stops with it.
run: install dagster-home example
	$(VENV)/bin/ai-pipeline page & PAGE=$$!; trap 'kill $$PAGE 2>/dev/null' EXIT; \
		$(VENV)/bin/dg dev -h 127.0.0.1 -p 3000

# The code location loads (definitions, resources, checks), as Dagster's own loader sees it.
check: install
	$(VENV)/bin/dg check defs

test: install-test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: install-test
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

benchmarks: install-test
	$(PY) -m benchmarks.intake
	$(PY) -m benchmarks.sensor --sizes 10000,100000
	$(PY) -m benchmarks.noop_rerun
	$(PY) -m benchmarks.story_builds
	$(PY) -m benchmarks.projects_scaling --projects 1,4,16
	$(PY) -m benchmarks.offline_quality
	$(PY) -m benchmarks.faults
	$(PY) -m benchmarks.review_round_trip

clean:
	rm -rf var
