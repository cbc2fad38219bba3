# Two commands for a fresh machine (see README.md):
#   make run   install everything, migrate, first admin + demo, serve http://localhost:3000
#              (make run PORT=8080, or PORT in the environment, serves on another port)
#   make test  install the same plus test tools, run the whole suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BUN_VERSION := 1.4.5
BUN := .tools/node_modules/.bin/bun
PORT ?= 3000
# Links printed by bootstrap and in messages follow the port unless the public URL is set.
export STATUSAPP_PUBLIC_URL ?= http://localhost:$(PORT)

# Reflex here: use the bun from the npm registry, never download one; no telemetry/version probes.
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export NPM_CONFIG_REGISTRY := https://registry.npmjs.org
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false
export REFLEX_HTTP_CLIENT_BIND_ADDRESS := 0.0.0.0

.PHONY: run test install install-test frontend-tools chromium bootstrap clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

$(BUN):
	npm install --prefix .tools --no-save --no-audit --no-fund bun@$(BUN_VERSION)
	$(BUN) --version

install: $(VENV)/.installed frontend-tools
frontend-tools: $(BUN)

install-test: install $(VENV)/.installed-test chromium

# Playwright drives Debian's Chromium (it cannot download its own browser here).
chromium:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

bootstrap: install
	$(VENV)/bin/statusapp bootstrap

run: bootstrap
	$(VENV)/bin/statusapp serve --port $(PORT)

test: install-test
	$(VENV)/bin/python -m pytest

clean:
	rm -rf .web .states
