# solarb — every install step lives here or in pyproject.toml (CI runs a fresh clone).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The install stamp is keyed on pyproject.toml's hash: a second run installs nothing.
STAMP := $(VENV)/.stamp-$(shell $(PY) -c "import hashlib,sys;print(hashlib.sha256(open('pyproject.toml','rb').read()).hexdigest()[:16])")
CLANG_VERSION := 1:16.0.6-15~deb12u1
ORACLES := tools/oracles

.PHONY: run test bench lint programs toolchain oracles postgres install clean-venv

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.stamp-*
	$(BIN)/python -m bot.warm || true
	touch $@

install: $(STAMP)

keys/localnet.json:
	install -D -m 600 keys.example/localnet-throwaway.json $@

run: $(STAMP) keys/localnet.json
	$(BIN)/solarb run -c config.toml

test: $(STAMP) toolchain oracles postgres
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/solarb bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy strategies rpc bot
	$(BIN)/lint-imports --no-cache

# Debian's clang-16 / lld-16 at a pinned version (needs root + apt when missing).
toolchain:
	@if ! command -v clang-16 >/dev/null || ! command -v ld.lld-16 >/dev/null; then \
		echo "installing clang-16/lld-16 $(CLANG_VERSION) from apt"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			clang-16=$(CLANG_VERSION) lld-16=$(CLANG_VERSION) llvm-16=$(CLANG_VERSION) >/dev/null; \
	fi

# Debian's PostgreSQL server for the ledger tests, which start a throwaway cluster of their own
# (tests/ledger/conftest.py); needs root + apt when missing.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing postgresql-15 from apt"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; \
	fi

programs: $(STAMP) toolchain
	$(BIN)/python -m localnet.sbf.build

# Official JS SDKs used as offline test oracles (npm registry; pinned in package-lock).
oracles:
	@if command -v npm >/dev/null && [ -f $(ORACLES)/package.json ]; then \
		stamp=$(ORACLES)/node_modules/.stamp-$$(sha256sum $(ORACLES)/package-lock.json | cut -c1-16); \
		if [ ! -f $$stamp ]; then (cd $(ORACLES) && npm ci --silent --no-audit --no-fund) && touch $$stamp; fi; \
	fi

clean-venv:
	rm -rf $(VENV)
