# Xuncha: `make run` to try it, `make test` to test it. Needs only Python 3.11+.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# The suite runs on every core (pytest-xdist); PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= auto
XDIST := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadgroup)
FLASK := $(BIN)/flask --app app

.PHONY: run test test-dates install install-test translations extract-messages check-python clean

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
	echo "XUNCHA_CHROMIUM=$$chromium $(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)"; \
	XUNCHA_CHROMIUM="$$chromium" $(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# The suite without the browser tests (Chromium keeps its own clock) with the clock moved to each
# date (10:00 in Asia/Shanghai, the demo estate's zone; or a time with its offset): weekdays
# (Mon 7, Tue 8, Thu 10, Sun 13 December 2026), month ends, the year's end on both sides of
# Shanghai's midnight, a leap day; then in time zones whose date is not Shanghai's (ZONE@DATE).
# TEST_DATES="2027-03-01" TEST_ZONES= make test-dates runs others.
TEST_DATES ?= 2026-12-07 2026-12-08 2026-12-10 2026-12-13 2026-11-30 2027-02-28 2026-12-31 2026-12-31T20:00Z 2028-02-29
TEST_ZONES ?= Pacific/Kiritimati@2026-12-07T12:00Z America/Los_Angeles@2027-01-01
test-dates: install-test
	@failed=""; \
	for run in $(TEST_DATES) $(TEST_ZONES); do \
	  case $$run in *@*) zone=$${run%@*}; day=$${run#*@};; *) zone=; day=$$run;; esac; \
	  echo "== XUNCHA_TEST_DATE=$$day$${zone:+ TZ=$$zone}"; \
	  ( if [ -n "$$zone" ]; then export TZ="$$zone"; fi; \
	    XUNCHA_TEST_DATE=$$day $(BIN)/python -m pytest $(XDIST) -m 'not e2e' -q $(PYTEST_ARGS) ) \
	    || failed="$$failed $$run"; \
	done; \
	test -z "$$failed" || { echo "test-dates failed on:$$failed"; exit 1; }

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
