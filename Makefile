# Two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
SANDBOX_PORT ?= 8790
PAYFLOW_SANDBOX_PORT ?= 8791
INSTANCE := instance
FLASK := $(BIN)/flask --app app

.PHONY: run test bench bench-pages install install-test install-bench migrate demo clean catalogs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --editable '.[bench]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-bench: $(VENV)/.installed-bench

# Translations: each portal/translations/<lang>/LC_MESSAGES/messages.po is the committed source.
# The template (.pot) and the compiled catalogs (.mo) are generated here and git-ignored; new
# strings appear untranslated (never fuzzy-guessed) in the .po, and tests/i18n names them.
TRANSLATIONS := portal/translations
catalogs: install
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext -k _l --no-location \
		--project=portal --version=0.1.0 -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel -q update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) \
		--no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS)

# Generated once and kept: sessions survive restarts of `make run`.
$(INSTANCE)/secret_key:
	mkdir -p $(INSTANCE)
	umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_hex(32))' > $@

migrate: install $(INSTANCE)/secret_key
	PORTAL_SECRET_KEY=$$(cat $(INSTANCE)/secret_key) $(FLASK) db upgrade

demo: migrate
	PORTAL_SECRET_KEY=$$(cat $(INSTANCE)/secret_key) PORTAL_DEMO=true $(FLASK) portal load-demo

# The portal, with the offline payment sandboxes (Braintree, and Payflow Pro for
# PORTAL_PAYMENT_GATEWAY=payflow) beside it on loopback ports.
run: demo catalogs
	@echo "Serving http://127.0.0.1:$(PORT)  (demo password: $${PORTAL_DEMO_PASSWORD:-portal-demo})"
	export PORTAL_SECRET_KEY=$$(cat $(INSTANCE)/secret_key) PORTAL_DEMO=true \
		PORTAL_PAYMENTS_SANDBOX_URL=http://127.0.0.1:$(SANDBOX_PORT) PORTAL_BASE_URL=http://127.0.0.1:$(PORT) \
		PORTAL_PAYFLOW_SANDBOX_URL=http://127.0.0.1:$(PAYFLOW_SANDBOX_PORT); \
	$(FLASK) portal payments-sandbox --host 127.0.0.1 --port $(SANDBOX_PORT) \
		--data $(INSTANCE)/payments-sandbox.db & sandbox=$$!; \
	$(FLASK) portal payflow-sandbox --host 127.0.0.1 --port $(PAYFLOW_SANDBOX_PORT) \
		--data $(INSTANCE)/payflow-sandbox.db & payflow=$$!; \
	trap 'kill $$sandbox $$payflow 2>/dev/null' EXIT INT TERM; \
	PORTAL_RUN_JOBS=true $(FLASK) run --host 127.0.0.1 --port $(PORT) --no-reload --with-threads

test: install-test catalogs
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks: gunicorn on loopback driven by Locust, on SQLite then PostgreSQL (BENCH_ARGS="--scale full").
bench: install-bench
	$(BIN)/python -m bench.run --database sqlite $(BENCH_ARGS)
	$(BIN)/python -m bench.run --database postgresql $(BENCH_ARGS)

# Organizer and admin pages with the full data set (1,000,000 registrations): time and queries each.
bench-pages: install-bench
	$(BIN)/python -m bench.pages --scale full

clean:
	rm -rf $(VENV) *.egg-info
