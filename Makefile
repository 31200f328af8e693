# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run once test bench eval check clean dovecot

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mention-monitor needs Python 3.11+")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)  ## start the daemon with the shipped config (alerts print to the terminal without SLACK_BOT_TOKEN)
	$(VENV)/bin/monitor run

once: $(STAMP)  ## one pass, as cron would run it
	$(VENV)/bin/monitor run --once

test: $(STAMP) dovecot  ## the whole suite
	$(PY) -m pytest -q

dovecot:  ## the real IMAP server tests/test_imap.py runs (Debian's dovecot-imapd), installed once when root
	@test -x /usr/sbin/dovecot || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		dovecot-imapd >/dev/null; } ; } || echo "dovecot-imapd not installed: the IMAP tests will say why they skip"

bench: $(STAMP)  ## benchmarks against local servers; prints ratios and peak memory
	$(PY) -m tests.bench

eval: $(STAMP)  ## sentiment precision/recall/F1 on the dev set, beside plain VADER
	$(PY) -m monitor.analyse.sentiment.evaluate

check: $(STAMP)  ## lint and type check
	$(VENV)/bin/ruff check monitor tests
	$(VENV)/bin/mypy monitor

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
