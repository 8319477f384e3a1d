# Order Panel: `make demo` runs the panel with demo data; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
FLASK = $(BIN)/flask --app wsgi
PORT ?= 5000

.PHONY: demo install test browser clean-demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(FLASK) db upgrade
	$(FLASK) demo setup --orders 500
	@echo "Order Panel: http://127.0.0.1:$(PORT)/"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# The browser tests drive Debian's Chromium; install it when it is missing and we may.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "The browser tests need Debian's Chromium: sudo apt-get install chromium" >&2; exit 1; \
	  fi; \
	fi

# SQLite always; PostgreSQL too when PANEL_TEST_DATABASE_URL points at a database of its own.
test: install browser
	env -u PANEL_TEST_DATABASE_URL $(BIN)/python -m pytest -q
	@if [ -n "$$PANEL_TEST_DATABASE_URL" ]; then \
	  echo "--- again on $$PANEL_TEST_DATABASE_URL"; \
	  $(BIN)/python -m pytest -q; \
	fi
