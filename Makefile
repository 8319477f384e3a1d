# Order Panel: `make demo` runs the panel with demo data (web app, worker, mail catcher);
# `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
FLASK = $(BIN)/flask --app wsgi
PORT ?= 5000
SMTP_PORT ?= 8025

.PHONY: demo install test system-packages bench translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,demo]'
	touch $@

install: $(VENV)/.installed

# Migrates, seeds 500 orders into an empty database, prints a login, then runs the web app,
# the worker (timeouts, conditions, the outbox) and a mail catcher on 127.0.0.1:$(SMTP_PORT)
# whose mail the panel shows under Caught mail; one Ctrl+C stops all three (flask demo run).
demo: install
	$(FLASK) demo run --port $(PORT) --smtp-port $(SMTP_PORT)

# The browser tests drive Debian's Chromium, the process graphs need Graphviz's dot, the PDFs
# Pango and the deployment tests run nginx; install them when missing and we may.
system-packages:
	@if [ ! -x /usr/bin/chromium ] || ! command -v dot >/dev/null || [ ! -x /usr/sbin/nginx ] \
	   || ! /sbin/ldconfig -p | grep -q libpangoft2-1.0.so.0; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium graphviz nginx-light libpango-1.0-0 libpangoft2-1.0-0; \
	  else \
	    echo "The tests need Debian's chromium, graphviz, nginx and Pango (PDFs): sudo apt-get install chromium graphviz nginx-light libpango-1.0-0 libpangoft2-1.0-0" >&2; \
	    exit 1; \
	  fi; \
	fi

# SQLite always; PostgreSQL too when PANEL_TEST_DATABASE_URL points at a database of its own.
# The heaviest tests (API fuzzing, gunicorn behind nginx, browser payloads, the load smoke
# test, marked once_per_run) run once: in the PostgreSQL pass when there is one, where they
# also meet PostgreSQL's stricter types; otherwise on SQLite.
# With PostgreSQL, the passes run side by side (each mostly keeps one core busy): the
# PostgreSQL pass in front; behind it the SQLite pass, then, when
# PANEL_TEST_HEAVY_DATABASE_URL names a second database of its own, the once_per_run tests
# on it (else they run in the PostgreSQL pass). The browser tests (e2e) then run in the
# PostgreSQL pass only, which keeps the two halves about as long. The background's output is
# printed at the end.
test: install system-packages
	@if [ -n "$$PANEL_TEST_DATABASE_URL" ]; then \
	  log=$$(mktemp); heavy="$$PANEL_TEST_HEAVY_DATABASE_URL"; \
	  if [ -n "$$heavy" ]; then sqlite_marks="not once_per_run and not e2e"; \
	  else sqlite_marks="not once_per_run"; fi; \
	  ( env -u PANEL_TEST_DATABASE_URL $(BIN)/python -m pytest -q -p no:cacheprovider \
	      -m "$$sqlite_marks" && \
	    if [ -n "$$heavy" ]; then \
	      echo "--- the once_per_run tests on $$heavy" && \
	      PANEL_TEST_DATABASE_URL="$$heavy" $(BIN)/python -m pytest -q -p no:cacheprovider \
	        -m once_per_run; \
	    fi ) >"$$log" 2>&1 & background=$$!; \
	  if [ -n "$$heavy" ]; then marks="not once_per_run"; else marks=""; fi; \
	  echo "--- on $$PANEL_TEST_DATABASE_URL$${heavy:+ (the once_per_run tests: behind SQLite)}"; \
	  $(BIN)/python -m pytest -q -p no:cacheprovider -m "$$marks"; postgres=$$?; \
	  wait $$background; background_status=$$?; \
	  echo "--- on SQLite: $$sqlite_marks"; cat "$$log"; rm -f "$$log"; \
	  [ $$postgres = 0 ] && [ $$background_status = 0 ]; \
	else \
	  $(BIN)/python -m pytest -q; \
	fi

# The million-order benchmark (README, Performance): builds or reuses the datasets, prints
# the table and writes bench-results/latest.json. BENCH_POSTGRES names a database of its own.
BENCH_SQLITE ?= instance/bench.sqlite3
BENCH_POSTGRES ?= postgresql+psycopg://postgres@127.0.0.1/panel_bench
bench: install
	$(BIN)/python -m tests.benchmark.run --sqlite $(BENCH_SQLITE) --postgres $(BENCH_POSTGRES)

# After marking text for translation: extract it, update the German catalog (new texts come
# in empty: translate them in panel/translations/de/LC_MESSAGES/messages.po), compile it.
translations: install
	$(FLASK) translations update
