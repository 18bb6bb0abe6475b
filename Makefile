# Xuncha: `make run` to try it, `make test` to test it. Needs only Python 3.11+.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app app

.PHONY: run test install install-test translations extract-messages check-python clean

check-python:
	@test -n "$(PYTHON)" || { echo "Xuncha needs Python 3.11 or newer (python3.11, python3.12, python3.13)."; exit 1; }

$(VENV)/.installed: pyproject.toml | check-python
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed translations
install-test: $(VENV)/.installed-test translations

# Compiled catalogs (.mo) are built from the .po files in the repo, never committed.
translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d translations

# For developers: refresh the catalogs after changing visible strings.
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o translations/messages.pot --no-location --sort-output --omit-header .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

run: install
	$(FLASK) setup
	@echo "Xuncha is at http://127.0.0.1:$(PORT)  (Ctrl-C stops it)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# The browser tests need a Chromium: tests/e2e/find_chromium.py finds or fetches one, or stops
# here with one line saying what to install, before any test runs.
test: install-test
	@chromium="$$($(BIN)/python tests/e2e/find_chromium.py)" || exit 1; \
	echo "XUNCHA_CHROMIUM=$$chromium $(BIN)/python -m pytest $(PYTEST_ARGS)"; \
	XUNCHA_CHROMIUM="$$chromium" $(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
