# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run once demo test bench eval check clean browser dovecot

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mention-monitor needs Python 3.11+")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)  ## start the daemon with the shipped config (alerts print to the terminal without SLACK_BOT_TOKEN)
	$(VENV)/bin/monitor run

demo: $(STAMP)  ## a first look offline: a bundled sample feed on 127.0.0.1, alerts printed in this terminal
	$(VENV)/bin/monitor demo

once: $(STAMP)  ## one pass, as cron would run it
	$(VENV)/bin/monitor run --once

test: $(STAMP) browser dovecot  ## the whole suite
	$(PY) -m pytest -q

browser:  ## Debian's chromium + chromium-driver for the dashboard's browser tests (idempotent; needs root and apt)
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "browser tests will be skipped: install chromium and chromium-driver (apt) as root"; fi

dovecot:  ## the real IMAP server tests/test_imap.py runs (Debian's dovecot-imapd), installed once when root
	@test -x /usr/sbin/dovecot || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		dovecot-imapd >/dev/null; } ; } || echo "dovecot-imapd not installed: the IMAP tests will say why they skip"

bench: $(STAMP)  ## benchmarks against local servers; prints ratios and peak memory
	$(PY) -m tests.bench

eval: $(STAMP)  ## sentiment precision/recall/F1 on the dev set, beside plain VADER (THIRD_PARTY=DIR: the third-party sets too)
	$(PY) -m monitor.analyse.sentiment.evaluate
	$(if $(THIRD_PARTY),$(PY) -m monitor.analyse.sentiment.external --manifest docs/third-party-sets.yaml --dir "$(THIRD_PARTY)")

check: $(STAMP)  ## lint and type check
	$(VENV)/bin/ruff check monitor tests
	$(VENV)/bin/mypy monitor

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
